// RUN: kiln-opt %s -split-input-file -kiln-lower-onnx-to-linalg | FileCheck %s

// Gather: a generic over the result reading the indices, extracting from
// the data with negative indices wrapped.
// CHECK-DAG: #[[$IDX:.*]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-LABEL: func.func @gather
// CHECK-SAME: (%[[D:.*]]: tensor<3x4x5xf32>, %[[I:.*]]: tensor<2xi64>)
// CHECK: linalg.generic {indexing_maps = [#[[$IDX]], #{{.*}}]{{.*}} ins(%[[I]] : tensor<2xi64>)
// CHECK: arith.index_cast
// CHECK: arith.select
// CHECK: %[[A:.*]] = linalg.index 0 : index
// CHECK: %[[C:.*]] = linalg.index 2 : index
// CHECK: tensor.extract %[[D]][%[[A]], %{{.*}}, %[[C]]] : tensor<3x4x5xf32>
func.func @gather(%d: tensor<3x4x5xf32>, %i: tensor<2xi64>) -> tensor<3x2x5xf32> {
  %0 = "onnx.Gather"(%d, %i) <{axis = 1 : i64}> : (tensor<3x4x5xf32>, tensor<2xi64>) -> tensor<3x2x5xf32>
  return %0 : tensor<3x2x5xf32>
}

// -----

// One constant index (negative wraps): a slice, a view once bufferized;
// a scalar index drops the axis, a one-element list keeps it (here with
// the axis counted from the end).
// CHECK-LABEL: func.func @gather_constant
// CHECK: tensor.extract_slice %arg0[0, 3, 0] [3, 1, 5] [1, 1, 1] : tensor<3x4x5xf32> to tensor<3x5xf32>
// CHECK: tensor.extract_slice %arg0[0, 0, 0] [3, 1, 5] [1, 1, 1] : tensor<3x4x5xf32> to tensor<3x1x5xf32>
// CHECK-NOT: linalg.generic
func.func @gather_constant(%d: tensor<3x4x5xf32>) -> (tensor<3x5xf32>, tensor<3x1x5xf32>) {
  %i = "onnx.Constant"() <{value = dense<-1> : tensor<i64>}> : () -> tensor<i64>
  %j = "onnx.Constant"() <{value = dense<[0]> : tensor<1xi64>}> : () -> tensor<1xi64>
  %0 = "onnx.Gather"(%d, %i) <{axis = 1 : i64}> : (tensor<3x4x5xf32>, tensor<i64>) -> tensor<3x5xf32>
  %1 = "onnx.Gather"(%d, %j) <{axis = -2 : i64}> : (tensor<3x4x5xf32>, tensor<1xi64>) -> tensor<3x1x5xf32>
  return %0, %1 : tensor<3x5xf32>, tensor<3x1x5xf32>
}

// -----

// Slice with constant bounds: one extract_slice, ends clamped.
// CHECK-LABEL: func.func @slice
// CHECK: tensor.extract_slice %{{.*}}[0, 1] [4, 2] [1, 3] : tensor<4x6xf32> to tensor<4x2xf32>
func.func @slice(%x: tensor<4x6xf32>) -> tensor<4x2xf32> {
  %s = "onnx.Constant"() <{value = dense<[1]> : tensor<1xi64>}> : () -> tensor<1xi64>
  %e = "onnx.Constant"() <{value = dense<[100]> : tensor<1xi64>}> : () -> tensor<1xi64>
  %a = "onnx.Constant"() <{value = dense<[-1]> : tensor<1xi64>}> : () -> tensor<1xi64>
  %t = "onnx.Constant"() <{value = dense<[3]> : tensor<1xi64>}> : () -> tensor<1xi64>
  %0 = "onnx.Slice"(%x, %s, %e, %a, %t) <{operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>}> : (tensor<4x6xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

// GatherElements replaces the axis index by the (wrapped) index read.
// CHECK-LABEL: func.func @gather_elements
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<2x4xi64>)
// CHECK: arith.cmpi slt
// CHECK: tensor.extract %{{.*}} : tensor<3x4xf32>
func.func @gather_elements(%arg0: tensor<3x4xf32>, %arg1: tensor<2x4xi64>) -> (tensor<2x4xf32>) {
  %0 = "onnx.GatherElements"(%arg0, %arg1) <{axis = 0 : i64}> : (tensor<3x4xf32>, tensor<2x4xi64>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// Trilu (lower) keeps column - row <= k, k read at run time.
// CHECK-LABEL: func.func @trilu
// CHECK: %[[K:.*]] = tensor.extract %{{.*}}[] : tensor<i64>
// CHECK: linalg.generic
// CHECK: arith.cmpi sle, %{{.*}}, %[[K]]
func.func @trilu(%arg0: tensor<3x4xf32>, %arg1: tensor<i64>) -> (tensor<3x4xf32>) {
  %0 = "onnx.Trilu"(%arg0, %arg1) <{upper = 0 : i64}> : (tensor<3x4xf32>, tensor<i64>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

// Slice with run-time bounds: clamped at run time, then read with strides.
// CHECK-LABEL: func.func @slice_runtime
// CHECK: arith.ceildivsi
// CHECK: %[[E:.*]] = tensor.empty(%{{.*}}) : tensor<?x4xf32>
// CHECK: linalg.generic {{.*}} outs(%[[E]] : tensor<?x4xf32>)
// CHECK: arith.muli
func.func @slice_runtime(%arg0: tensor<5x4xf32>, %arg1: tensor<1xi64>, %arg2: tensor<1xi64>, %arg3: tensor<1xi64>, %arg4: tensor<1xi64>) -> (tensor<?x4xf32>) {
  %0 = "onnx.Slice"(%arg0, %arg1, %arg2, %arg3, %arg4) <{operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>}> : (tensor<5x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}
