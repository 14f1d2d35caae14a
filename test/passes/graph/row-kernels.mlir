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
