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
