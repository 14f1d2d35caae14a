// RUN: kiln-opt %s -split-input-file -kiln-lower-attention-to-linalg=fused-depth=64 | FileCheck %s

// With a fused kernel on the target (CUDA's): f32 keys and values of a head
// size up to the kernel's stay one kiln.attention; a bf16 cache and a
// larger head are lowered to the products and the softmax.
// CHECK-LABEL: func.func @f32_rows
// CHECK: kiln.attention
// CHECK-NOT: linalg.generic
func.func @f32_rows(%q: tensor<2x3x64xf32>, %k: tensor<2x?x64xf32>, %v: tensor<2x?x64xf32>, %o: tensor<2x3x64xf32>) -> tensor<2x3x64xf32> {
  %r = kiln.attention %q, %k, %v into %o {scale = 0.125 : f32, key_rows} : tensor<2x3x64xf32>, tensor<2x?x64xf32>, tensor<2x?x64xf32> into tensor<2x3x64xf32> -> tensor<2x3x64xf32>
  return %r : tensor<2x3x64xf32>
}

// -----

// CHECK-LABEL: func.func @bf16_rows
// CHECK-NOT: kiln.attention
// CHECK: linalg.generic
func.func @bf16_rows(%q: tensor<2x3x64xf32>, %k: tensor<2x?x64xbf16>, %v: tensor<2x?x64xbf16>, %o: tensor<2x3x64xf32>) -> tensor<2x3x64xf32> {
  %r = kiln.attention %q, %k, %v into %o {scale = 0.125 : f32, key_rows} : tensor<2x3x64xf32>, tensor<2x?x64xbf16>, tensor<2x?x64xbf16> into tensor<2x3x64xf32> -> tensor<2x3x64xf32>
  return %r : tensor<2x3x64xf32>
}

// -----

// CHECK-LABEL: func.func @deeper_heads
// CHECK-NOT: kiln.attention
// CHECK: linalg.generic
func.func @deeper_heads(%q: tensor<2x3x80xf32>, %k: tensor<2x80x7xf32>, %v: tensor<2x7x80xf32>, %o: tensor<2x3x80xf32>) -> tensor<2x3x80xf32> {
  %r = kiln.attention %q, %k, %v into %o {scale = 0.125 : f32} : tensor<2x3x80xf32>, tensor<2x80x7xf32>, tensor<2x7x80xf32> into tensor<2x3x80xf32> -> tensor<2x3x80xf32>
  return %r : tensor<2x3x80xf32>
}
