// RUN: kiln-opt %s -split-input-file -kiln-cpu-order-loops | FileCheck %s

// Matmul (i, j, k) becomes (i, k, j): the output's contiguous j innermost.
// CHECK-DAG: #[[$A:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[$B:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[$C:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-LABEL: func.func @matmul
// CHECK: linalg.generic {indexing_maps = [#[[$A]], #[[$B]], #[[$C]]], iterator_types = ["parallel", "reduction", "parallel"]}
#a = affine_map<(i, j, k) -> (i, k)>
#b = affine_map<(i, j, k) -> (k, j)>
#c = affine_map<(i, j, k) -> (i, j)>
func.func @matmul(%a: memref<4x8xf32>, %b: memref<8x16xf32>, %c: memref<4x16xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x8xf32>, memref<8x16xf32>) outs(%c : memref<4x16xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// An elementwise op over whole buffers becomes one loop over all their
// elements (a channels-last innermost dimension may be only 16 wide).
// CHECK-LABEL: func.func @elementwise
// CHECK: %[[A:.*]] = memref.collapse_shape %arg0 {{\[\[}}0, 1]] : memref<4x8xf32> into memref<32xf32>
// CHECK: %[[B:.*]] = memref.collapse_shape %arg1 {{\[\[}}0, 1]] : memref<4x8xf32> into memref<32xf32>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel"]} ins(%[[A]] : memref<32xf32>) outs(%[[B]] : memref<32xf32>)
#id = affine_map<(i, j) -> (i, j)>
func.func @elementwise(%a: memref<4x8xf32>, %b: memref<4x8xf32>) {
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x8xf32>) outs(%b : memref<4x8xf32>) {
  ^bb0(%x: f32, %y: f32):
    linalg.yield %x : f32
  }
  return
}

// -----

// Without reductions, and not elementwise over whole buffers (a
// transpose), the order stays.
// CHECK-LABEL: func.func @transpose
// CHECK: iterator_types = ["parallel", "parallel"]
#t = affine_map<(i, j) -> (j, i)>
#o = affine_map<(i, j) -> (i, j)>
func.func @transpose(%a: memref<8x4xf32>, %b: memref<4x8xf32>) {
  linalg.generic {indexing_maps = [#t, #o], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<8x4xf32>) outs(%b : memref<4x8xf32>) {
  ^bb0(%x: f32, %y: f32):
    linalg.yield %x : f32
  }
  return
}
