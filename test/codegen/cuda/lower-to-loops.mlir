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

// -----

// A sum over 64 contiguous elements per output stays for the warp
// reduction kernel; a window reduction (its input indexed by a sum of
// loops) becomes loops.
// CHECK-LABEL: func.func @reductions
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction"]
// CHECK-NOT: linalg.generic
// CHECK: scf.parallel
#rows = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (i)>
#window = affine_map<(i, j) -> (i + j)>
#taps = affine_map<(i, j) -> (j)>
func.func @reductions(%x: memref<8x64xf32>, %sum: memref<8xf32>, %y: memref<128xf32>, %shape: memref<64xf32>, %pooled: memref<8xf32>) {
  linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<8x64xf32>) outs(%sum : memref<8xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %e = math.exp %in : f32
    %s = arith.addf %e, %acc : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#window, #taps, #row], iterator_types = ["parallel", "reduction"]}
      ins(%y, %shape : memref<128xf32>, memref<64xf32>) outs(%pooled : memref<8xf32>) {
  ^bb0(%in: f32, %tap: f32, %acc: f32):
    %m = arith.maximumf %in, %acc : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// A reduction over the outer dimension (a mean over tokens): the parallel
// loop moves outermost so that each output element gets a thread, with the
// reduction inside it, not one thread for the whole nest.
// CHECK-LABEL: func.func @outer_reduction
// CHECK: scf.parallel (%[[J:.*]]) =
// CHECK-NEXT: scf.for %[[I:.*]] =
// CHECK-NEXT: %[[ROW:.*]] = affine.apply #{{.*}}(%[[I]])
// CHECK-NEXT: %[[COLUMN:.*]] = affine.apply #{{.*}}(%[[J]])
// CHECK-NEXT: memref.load %{{.*}}[%[[ROW]], %[[COLUMN]]] : memref<16x4xf32>
#by_token = affine_map<(i, j) -> (i, j)>
#feature = affine_map<(i, j) -> (j)>
func.func @outer_reduction(%x: memref<16x4xf32>, %sum: memref<4xf32>) {
  linalg.generic {indexing_maps = [#by_token, #feature], iterator_types = ["reduction", "parallel"]}
      ins(%x : memref<16x4xf32>) outs(%sum : memref<4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %in, %acc : f32
    linalg.yield %s : f32
  }
  return
}
