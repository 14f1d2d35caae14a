// RUN: kiln-opt %s -split-input-file -kiln-lower-onnx-to-linalg | FileCheck %s

// ArgMax: one generic reducing the axis into (best value, index); a
// non-strict comparison keeps the last of equal values; keepdims expands.
// CHECK-LABEL: func.func @argmax_keepdims
// CHECK: %[[R:.*]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: arith.cmpf oge
// CHECK: linalg.index 1
// CHECK: tensor.expand_shape %[[R]]#1 {{\[}}[0, 1]] output_shape [2, 1] : tensor<2xi64> into tensor<2x1xi64>
func.func @argmax_keepdims(%arg0: tensor<2x3xf32>) -> (tensor<2x1xi64>) {
  %0 = "onnx.ArgMax"(%arg0) <{axis = 1 : i64, keepdims = 1 : i64, select_last_index = 1 : i64}> : (tensor<2x3xf32>) -> tensor<2x1xi64>
  return %0 : tensor<2x1xi64>
}

// -----

// ArgMin on integers with a strict comparison (the first of equal values).
// CHECK-LABEL: func.func @argmin_int
// CHECK: arith.constant 2147483647 : i32
// CHECK: arith.cmpi slt
func.func @argmin_int(%arg0: tensor<4xi32>) -> (tensor<i64>) {
  %0 = "onnx.ArgMin"(%arg0) <{axis = 0 : i64, keepdims = 0 : i64, select_last_index = 0 : i64}> : (tensor<4xi32>) -> tensor<i64>
  return %0 : tensor<i64>
}

// -----

// Hardmax: the ArgMax index, then 1 where the position matches.
// CHECK-LABEL: func.func @hardmax
// CHECK: %[[R:.*]]:2 = linalg.generic
// CHECK: linalg.generic {{.*}} ins(%[[R]]#1 : tensor<2xi64>)
// CHECK: arith.cmpi eq
// CHECK: arith.select
func.func @hardmax(%arg0: tensor<2x3xf32>) -> (tensor<2x3xf32>) {
  %0 = "onnx.Hardmax"(%arg0) <{axis = 1 : i64}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
