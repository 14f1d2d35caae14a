// RUN: kiln-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// Quest's steps on a session key cache of 3 heads, 256 tokens of D = 64
// (16 pages of 16), and the attention over the pages they choose.
// CHECK-LABEL: func.func @decode_step
// CHECK: %[[BOUNDS:.*]] = kiln.page_bounds %arg0 rows %arg3 to %arg4 into %arg2 {page_size = 16 : i64} : tensor<3x256x64xf32> into tensor<3x32x64xf32> -> tensor<3x32x64xf32>
// CHECK: %[[SCORES:.*]] = kiln.page_scores %arg1, %[[BOUNDS]] pages %arg5 into %{{.*}} : tensor<3x?x64xf32>, tensor<3x32x64xf32> into tensor<3x16xf32> -> tensor<3x16xf32>
// CHECK: %[[TABLE:.*]] = kiln.select_pages %[[SCORES]] candidates %arg5 into %{{.*}} : tensor<3x16xf32> into tensor<3x4xi32> -> tensor<3x4xi32>
// CHECK: kiln.attention %arg1, %arg6, %arg6 pages %[[TABLE]] into %arg7 {key_rows, page_size = 16 : i64, scale = 1.250000e-01 : f32} : tensor<3x?x64xf32>, tensor<3x?x64xf32>, tensor<3x?x64xf32> pages tensor<3x4xi32> into tensor<3x?x64xf32> -> tensor<3x?x64xf32>
func.func @decode_step(%cache: tensor<3x256x64xf32>, %q: tensor<3x?x64xf32>, %bounds: tensor<3x32x64xf32>, %from: index, %to: index, %candidates: index, %keys: tensor<3x?x64xf32>, %out: tensor<3x?x64xf32>) -> tensor<3x?x64xf32> {
  %b = kiln.page_bounds %cache rows %from to %to into %bounds {page_size = 16 : i64} : tensor<3x256x64xf32> into tensor<3x32x64xf32> -> tensor<3x32x64xf32>
  %e = tensor.empty() : tensor<3x16xf32>
  %s = kiln.page_scores %q, %b pages %candidates into %e : tensor<3x?x64xf32>, tensor<3x32x64xf32> into tensor<3x16xf32> -> tensor<3x16xf32>
  %t0 = tensor.empty() : tensor<3x4xi32>
  %t = kiln.select_pages %s candidates %candidates into %t0 : tensor<3x16xf32> into tensor<3x4xi32> -> tensor<3x4xi32>
  %y = kiln.attention %q, %keys, %keys pages %t into %out {key_rows, page_size = 16 : i64, scale = 0.125 : f32} : tensor<3x?x64xf32>, tensor<3x?x64xf32>, tensor<3x?x64xf32> pages tensor<3x4xi32> into tensor<3x?x64xf32> -> tensor<3x?x64xf32>
  return %y : tensor<3x?x64xf32>
}

// -----

// Bounds of bf16 keys and of 4-bit rows (D = 64: 36 bytes a row), on
// buffers.
// CHECK-LABEL: func.func @buffers
// CHECK: kiln.page_bounds %arg0 rows %arg3 to %arg4 into %arg2 {page_size = 32 : i64} : memref<2x128x64xbf16> into memref<2x8x64xf32>
// CHECK: kiln.page_bounds %arg1 rows %arg3 to %arg4 into %arg2 {page_size = 32 : i64} : memref<2x128x36xi8> into memref<2x8x64xf32>
func.func @buffers(%keys: memref<2x128x64xbf16>, %packed: memref<2x128x36xi8>, %bounds: memref<2x8x64xf32>, %from: index, %to: index) {
  kiln.page_bounds %keys rows %from to %to into %bounds {page_size = 32 : i64} : memref<2x128x64xbf16> into memref<2x8x64xf32>
  kiln.page_bounds %packed rows %from to %to into %bounds {page_size = 32 : i64} : memref<2x128x36xi8> into memref<2x8x64xf32>
  return
}
