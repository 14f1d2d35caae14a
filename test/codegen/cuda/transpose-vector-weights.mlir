// RUN: kiln-opt %s --kiln-cuda-transpose-vector-weights --split-input-file | FileCheck %s

// A decoder's projection: rows known only at run time, the weight [K, N]
// indexed (k, n). It is stored [N, K] and indexed (n, k).
#x = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#w = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
#y = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK: #[[$WT:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK-LABEL: func.func @projection
// CHECK: %[[T:.*]] = arith.constant dense_resource<transposed_weight> : tensor<2x3xf32>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[$WT]], #{{.*}}]
// CHECK-SAME: ins(%{{.*}}, %[[T]] : tensor<?x?x3xf32>, tensor<2x3xf32>)
// The values 1, 3, 5, 2, 4, 6 (little-endian f32 after the alignment word).
// CHECK: transposed_weight: "0x40000000{{0*}}803F000040400000A04000000040000080400000C040"
func.func @projection(%x: tensor<?x?x3xf32>, %init: tensor<?x?x2xf32>) -> tensor<?x?x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
  %y = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : tensor<?x?x3xf32>, tensor<3x2xf32>) outs(%init : tensor<?x?x2xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x?x2xf32>
  return %y : tensor<?x?x2xf32>
}

// -----

// Rows enough for the tiled GEMM kernels: the weight stays as it is.
#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d2, d1)>
#y = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @wide
// CHECK: arith.constant dense<{{.*}}> : tensor<3x2xf32>
// CHECK-NOT: tensor<2x3xf32>
func.func @wide(%x: tensor<64x3xf32>, %init: tensor<64x2xf32>) -> tensor<64x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
  %y = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : tensor<64x3xf32>, tensor<3x2xf32>) outs(%init : tensor<64x2xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<64x2xf32>
  return %y : tensor<64x2xf32>
}
