// RUN: kiln-opt %s -split-input-file --kiln-cuda-lower-to-loops | FileCheck %s

// A contraction big enough for the tiled GEMM kernel stays a linalg op;
// the fill before it becomes a parallel loop.
// CHECK-LABEL: func.func @gemm
// CHECK: scf.parallel
// CHECK: linalg.matmul
func.func @gemm(%a: memref<64x32xf32>, %b: memref<32x48xf32>, %c: memref<64x48xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<64x48xf32>)
  linalg.matmul ins(%a, %b : memref<64x32xf32>, memref<32x48xf32>) outs(%c : memref<64x48xf32>)
  return
}

// -----

// Too small to tile: one thread per output element, k sequential inside.
// CHECK-LABEL: func.func @small
// CHECK-NOT: linalg.
// CHECK: scf.parallel
// CHECK: scf.for
func.func @small(%a: memref<4x8xf32>, %b: memref<8x4xf32>, %c: memref<4x4xf32>) {
  linalg.matmul ins(%a, %b : memref<4x8xf32>, memref<8x4xf32>) outs(%c : memref<4x4xf32>)
  return
}

// -----

// Integer products are not GEMM-kernel material (yet): loops.
// CHECK-LABEL: func.func @integers
// CHECK-NOT: linalg.
// CHECK: scf.parallel
func.func @integers(%a: memref<64x64xi32>, %b: memref<64x64xi32>, %c: memref<64x64xi32>) {
  linalg.matmul ins(%a, %b : memref<64x64xi32>, memref<64x64xi32>) outs(%c : memref<64x64xi32>)
  return
}
