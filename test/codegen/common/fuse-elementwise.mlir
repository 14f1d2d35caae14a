// RUN: kiln-opt %s -kiln-fuse-elementwise | FileCheck %s

// The add fuses into the elementwise mul; the mul, which feeds a
// reduction, stays a separate generic (fused, it would be recomputed for
// every step of the reduction).
// CHECK-LABEL: func.func @chain
// CHECK: %[[F:.*]] = linalg.generic {{.*}} iterator_types = ["parallel"]
// CHECK: arith.addf
// CHECK: arith.mulf
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction"]{{.*}} ins(%[[F]]
// CHECK-NOT: linalg.generic
#id = affine_map<(i) -> (i)>
#scalar = affine_map<(i) -> ()>
func.func @chain(%x: tensor<64xf32>, %y: tensor<64xf32>) -> tensor<f32> {
  %e = tensor.empty() : tensor<64xf32>
  %sum = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]}
      ins(%x, %y : tensor<64xf32>, tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<64xf32>
  %product = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%sum : tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%a: f32, %o: f32):
    %p = arith.mulf %a, %a : f32
    linalg.yield %p : f32
  } -> tensor<64xf32>
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<f32>
  %filled = linalg.fill ins(%zero : f32) outs(%init : tensor<f32>) -> tensor<f32>
  %total = linalg.generic {indexing_maps = [#id, #scalar], iterator_types = ["reduction"]}
      ins(%product : tensor<64xf32>) outs(%filled : tensor<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %t = arith.addf %a, %acc : f32
    linalg.yield %t : f32
  } -> tensor<f32>
  return %total : tensor<f32>
}

// -----

// With fuse-moves, a transpose feeding a reduction (a key cache transposed
// for Q.K^T) fuses into it as a change of indexing: the transposed tensor is
// never written. Without, it stays.
// RUN: kiln-opt %s -split-input-file -kiln-fuse-elementwise=fuse-moves=true | FileCheck %s --check-prefix=MOVES
// RUN: kiln-opt %s -split-input-file -kiln-fuse-elementwise | FileCheck %s --check-prefix=KEEP
// MOVES-LABEL: func.func @scores
// MOVES-NOT: linalg.transpose
// MOVES: linalg.generic
// MOVES-SAME: ins(%arg0, %arg1 : tensor<4x8xf32>, tensor<6x8xf32>)
// KEEP-LABEL: func.func @scores
// CHECK-LABEL: func.func @scores
// KEEP: linalg.transpose
func.func @scores(%q: tensor<4x8xf32>, %k: tensor<6x8xf32>) -> tensor<4x6xf32> {
  %empty = tensor.empty() : tensor<8x6xf32>
  %kt = linalg.transpose ins(%k : tensor<6x8xf32>) outs(%empty : tensor<8x6xf32>) permutation = [1, 0]
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<4x6xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<4x6xf32>) -> tensor<4x6xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%q, %kt : tensor<4x8xf32>, tensor<8x6xf32>) outs(%acc : tensor<4x6xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %t = arith.addf %c, %p : f32
    linalg.yield %t : f32
  } -> tensor<4x6xf32>
  return %s : tensor<4x6xf32>
}
