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

// -----

// Expand over symbolic sizes: each taken from the input where it has the
// axis (and it is not a static 1), else from the shape operand; the unit
// axis broadcasts.
// CHECK-LABEL: func.func @expand_symbolic
// CHECK-DAG: %[[D0:.*]] = tensor.dim %arg0, %c0
// CHECK-DAG: %[[D3:.*]] = tensor.dim %arg0, %c3
// CHECK: %[[E:.*]] = tensor.empty(%[[D0]], %[[D3]]) : tensor<?x2x3x?x16xf32>
// CHECK: linalg.generic {indexing_maps = [#[[IN:.*]], #{{.*}}], {{.*}} ins(%arg0 : tensor<?x2x1x?x16xf32>) outs(%[[E]]
func.func @expand_symbolic(%x: tensor<?x2x1x?x16xf32>, %s: tensor<5xi64>) -> tensor<?x2x3x?x16xf32> {
  %0 = "onnx.Expand"(%x, %s) : (tensor<?x2x1x?x16xf32>, tensor<5xi64>) -> tensor<?x2x3x?x16xf32>
  return %0 : tensor<?x2x3x?x16xf32>
}

// -----

// A new leading axis whose size is symbolic comes from the shape operand.
// CHECK-LABEL: func.func @expand_new_axis
// CHECK: %[[V:.*]] = tensor.extract %arg1[%c0{{.*}}] : tensor<2xi64>
// CHECK: %[[N:.*]] = arith.index_cast %[[V]] : i64 to index
// CHECK: tensor.empty(%[[N]]) : tensor<?x8xf32>
func.func @expand_new_axis(%x: tensor<8xf32>, %s: tensor<2xi64>) -> tensor<?x8xf32> {
  %0 = "onnx.Expand"(%x, %s) : (tensor<8xf32>, tensor<2xi64>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}
