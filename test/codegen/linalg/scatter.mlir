// RUN: kiln-opt %s -split-input-file -kiln-lower-onnx-to-linalg | FileCheck %s

// ScatterElements with add: scf.for over the updates carries the output;
// each step reads the target index, combines and inserts.
// CHECK-LABEL: func.func @scatter_elements_add
// CHECK: scf.for {{.*}} iter_args(%[[OUT:.*]] = %{{.*}}) -> (tensor<3x3xf32>)
// CHECK: scf.for {{.*}} iter_args(%[[IN:.*]] = %[[OUT]]) -> (tensor<3x3xf32>)
// CHECK: tensor.extract %{{.*}} : tensor<2x3xi64>
// CHECK: arith.minsi
// CHECK: arith.addf
// CHECK: tensor.insert %{{.*}} into %[[IN]]
func.func @scatter_elements_add(%d: tensor<3x3xf32>, %i: tensor<2x3xi64>, %u: tensor<2x3xf32>) -> tensor<3x3xf32> {
  %0 = "onnx.ScatterElements"(%d, %i, %u) <{axis = 0 : i64, reduction = "add"}> : (tensor<3x3xf32>, tensor<2x3xi64>, tensor<2x3xf32>) -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}

// -----

// ScatterND writes whole rows: the target is the index tuple, then the
// update's trailing positions.
// CHECK-LABEL: func.func @scatter_nd
// CHECK: scf.for
// CHECK: scf.for
// CHECK: tensor.extract %{{.*}} : tensor<2x1xi64>
// CHECK: tensor.insert
func.func @scatter_nd(%d: tensor<4x4xf32>, %i: tensor<2x1xi64>, %u: tensor<2x4xf32>) -> tensor<4x4xf32> {
  %0 = "onnx.ScatterND"(%d, %i, %u) <{reduction = "none"}> : (tensor<4x4xf32>, tensor<2x1xi64>, tensor<2x4xf32>) -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

// GatherND reads data at the index tuple, then the trailing positions.
// CHECK-LABEL: func.func @gather_nd
// CHECK: linalg.generic
// CHECK: tensor.extract %{{.*}} : tensor<2x1xi64>
// CHECK: tensor.extract %{{.*}} : tensor<3x4xf32>
func.func @gather_nd(%d: tensor<3x4xf32>, %i: tensor<2x1xi64>) -> tensor<2x4xf32> {
  %0 = "onnx.GatherND"(%d, %i) <{batch_dims = 0 : i64}> : (tensor<3x4xf32>, tensor<2x1xi64>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// OneHot: `on` where the position along the axis is the (wrapped) index.
// CHECK-LABEL: func.func @one_hot
// CHECK: linalg.generic
// CHECK: arith.cmpi slt
// CHECK: linalg.index 1
// CHECK: arith.cmpi eq
// CHECK: arith.select
func.func @one_hot(%i: tensor<3xi64>, %depth: tensor<i64>, %v: tensor<2xf32>) -> tensor<3x5xf32> {
  %0 = "onnx.OneHot"(%i, %depth, %v) <{axis = -1 : i64}> : (tensor<3xi64>, tensor<i64>, tensor<2xf32>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}
