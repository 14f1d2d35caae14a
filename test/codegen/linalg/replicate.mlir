// RUN: kiln-opt %s -split-input-file -kiln-lower-onnx-to-linalg | FileCheck %s

// Expand reads its input through the broadcast map.
// CHECK-DAG: #[[$IN:.*]] = affine_map<(d0, d1, d2) -> (d1, 0)>
// CHECK-LABEL: func.func @expand
// CHECK: linalg.generic {indexing_maps = [#[[$IN]], #{{.*}}]
func.func @expand(%arg0: tensor<3x1xf32>) -> (tensor<2x3x4xf32>) {
  %0 = "onnx.Constant"() <{value = dense<[2, 3, 4]> : tensor<3xi64>}> : () -> tensor<3xi64>
  %1 = "onnx.Expand"(%arg0, %0) : (tensor<3x1xf32>, tensor<3xi64>) -> tensor<2x3x4xf32>
  return %1 : tensor<2x3x4xf32>
}

// -----

// Tile reads input[i mod extent].
// CHECK-LABEL: func.func @tile
// CHECK: linalg.generic
// CHECK: arith.remui
// CHECK: tensor.extract %{{.*}} : tensor<2x3xf32>
func.func @tile(%arg0: tensor<2x3xf32>) -> (tensor<4x3xf32>) {
  %0 = "onnx.Constant"() <{value = dense<[2, 1]> : tensor<2xi64>}> : () -> tensor<2xi64>
  %1 = "onnx.Tile"(%arg0, %0) : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<4x3xf32>
  return %1 : tensor<4x3xf32>
}
