// RUN: kiln-opt %s -split-input-file -kiln-graph-row-kernels | FileCheck %s

// LayerNormalization and Softmax over the last axis become Kiln kernels; a
// missing bias is zeros.
// CHECK-LABEL: func.func @last_axis
// CHECK: %[[B:.*]] = "onnx.Constant"() <{value = dense_resource<{{.*}}> : tensor<6xf32>}>
// CHECK: %[[N:.*]] = kiln.layer_norm %arg0, %arg1, %[[B]] into %{{.*}} {epsilon = 1.000000e-03 : f32} : tensor<2x3x6xf32>, tensor<6xf32>, tensor<6xf32> into tensor<2x3x6xf32> -> tensor<2x3x6xf32>
// CHECK: kiln.softmax %[[N]] into %{{.*}} : tensor<2x3x6xf32> into tensor<2x3x6xf32> -> tensor<2x3x6xf32>
func.func @last_axis(%x: tensor<2x3x6xf32>, %s: tensor<6xf32>) -> tensor<2x3x6xf32> {
  %n = "onnx.LayerNormalization"(%x, %s) {epsilon = 1.0e-3 : f32, operandSegmentSizes = array<i32: 1, 1, 0>, resultSegmentSizes = array<i32: 1, 0, 0>} : (tensor<2x3x6xf32>, tensor<6xf32>) -> tensor<2x3x6xf32>
  %y = "onnx.Softmax"(%n) : (tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %y : tensor<2x3x6xf32>
}

// -----

// Other axes, and a LayerNormalization whose statistics are used, stay.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: kiln.
// CHECK: onnx.LayerNormalization
// CHECK: onnx.Softmax
func.func @kept(%x: tensor<2x3x6xf32>, %s: tensor<3x6xf32>) -> (tensor<2x3x6xf32>, tensor<2x1x1xf32>, tensor<2x3x6xf32>) {
  %n, %mean = "onnx.LayerNormalization"(%x, %s) {axis = 1 : i64, operandSegmentSizes = array<i32: 1, 1, 0>, resultSegmentSizes = array<i32: 1, 1, 0>} : (tensor<2x3x6xf32>, tensor<3x6xf32>) -> (tensor<2x3x6xf32>, tensor<2x1x1xf32>)
  %y = "onnx.Softmax"(%x) {axis = 1 : i64} : (tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %n, %mean, %y : tensor<2x3x6xf32>, tensor<2x1x1xf32>, tensor<2x3x6xf32>
}

// -----

// The rows' largest magnitudes (per-row quantization's scales):
// ReduceMax(Abs(x)) over the last axis, kept, becomes kiln.row_abs_max,
// over symbolic rows too.
// CHECK-LABEL: func.func @row_abs_max
// CHECK: %[[ROWS:.*]] = tensor.dim %arg0, %c0
// CHECK: %[[INIT:.*]] = tensor.empty(%[[ROWS]]) : tensor<?x1xf32>
// CHECK: %[[M:.*]] = kiln.row_abs_max %arg0 into %[[INIT]] : tensor<?x64xf32> into tensor<?x1xf32> -> tensor<?x1xf32>
// CHECK: return %[[M]]
func.func @row_abs_max(%x: tensor<?x64xf32>) -> tensor<?x1xf32> {
  %axes = "onnx.Constant"() {value = dense<[-1]> : tensor<1xi64>} : () -> tensor<1xi64>
  %a = "onnx.Abs"(%x) : (tensor<?x64xf32>) -> tensor<?x64xf32>
  %m = "onnx.ReduceMax"(%a, %axes) {keepdims = 1 : i64} : (tensor<?x64xf32>, tensor<1xi64>) -> tensor<?x1xf32>
  return %m : tensor<?x1xf32>
}

// -----

// Another axis, a maximum without the magnitudes, or the axis dropped,
// stay ReduceMax.
// CHECK-LABEL: func.func @not_row_abs_max
// CHECK-NOT: kiln.row_abs_max
func.func @not_row_abs_max(%x: tensor<4x64xf32>) -> (tensor<1x64xf32>, tensor<4x1xf32>, tensor<4xf32>) {
  %first = "onnx.Constant"() {value = dense<[0]> : tensor<1xi64>} : () -> tensor<1xi64>
  %last = "onnx.Constant"() {value = dense<[1]> : tensor<1xi64>} : () -> tensor<1xi64>
  %a = "onnx.Abs"(%x) : (tensor<4x64xf32>) -> tensor<4x64xf32>
  %columns = "onnx.ReduceMax"(%a, %first) {keepdims = 1 : i64} : (tensor<4x64xf32>, tensor<1xi64>) -> tensor<1x64xf32>
  %plain = "onnx.ReduceMax"(%x, %last) {keepdims = 1 : i64} : (tensor<4x64xf32>, tensor<1xi64>) -> tensor<4x1xf32>
  %dropped = "onnx.ReduceMax"(%a, %last) {keepdims = 0 : i64} : (tensor<4x64xf32>, tensor<1xi64>) -> tensor<4xf32>
  return %columns, %plain, %dropped : tensor<1x64xf32>, tensor<4x1xf32>, tensor<4xf32>
}
