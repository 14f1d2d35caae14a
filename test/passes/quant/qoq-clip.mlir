// RUN: kiln-opt %s -kiln-quant-qoq="group-size=4 grid=1" | FileCheck %s

// The clipping search on the level-1 integers (grid 1: no scales), as
// kiln-quant-awq's @attention case: channel 3 never fires, so its outlier
// weight 10 (W8 [12, 1, 2, 119], s1 = 10 / 119) only widens the group's
// range. Values are clipped: a range of (1 - 4/20) 119 = 95.2 gives s2 =
// round(94.2 / 15) = 6, z = 0, q [2, 0, 0, 15], W8' [12, 0, 0, 90], the
// active channels' error 12 -> 12, 1 -> 0, 2 -> 0 instead of 12 -> 16.
// Queries and keys are not (their scores, not their own outputs, are what
// matters): s2 = round(118 / 15) = 8, z = 0, q [2, 0, 0, 15] (1.5 to
// even), W8' [16, 0, 0, 120].
// CHECK-LABEL: func.func @attention
// CHECK: %[[SQ:.*]] = "onnx.Constant"() <{value = dense<8.000000e+00> : tensor<1x1xf16>}>
// CHECK: kiln.dequantize %{{.*}} scale %[[SQ]]
// CHECK: %[[SK:.*]] = "onnx.Constant"() <{value = dense<8.000000e+00> : tensor<1x1xf16>}>
// CHECK: kiln.dequantize %{{.*}} scale %[[SK]]
// CHECK: %[[SV:.*]] = "onnx.Constant"() <{value = dense<6.000000e+00> : tensor<1x1xf16>}>
// CHECK: kiln.dequantize %{{.*}} scale %[[SV]]
func.func @attention(%x: tensor<4x4xf32>) -> tensor<4x1xf32> {
  %wq = "onnx.Constant"() {value = dense<[[1.0], [0.1], [0.2], [10.0]]> : tensor<4x1xf32>} : () -> tensor<4x1xf32>
  %wk = "onnx.Constant"() {value = dense<[[1.0], [0.1], [0.2], [10.0]]> : tensor<4x1xf32>} : () -> tensor<4x1xf32>
  %wv = "onnx.Constant"() {value = dense<[[1.0], [0.1], [0.2], [10.0]]> : tensor<4x1xf32>} : () -> tensor<4x1xf32>
  %q = "onnx.MatMul"(%x, %wq) {kiln.activation_stats = {abs_max = dense<[1.0, 1.0, 1.0, 0.0]> : tensor<4xf32>, abs_mean = dense<[1.0, 1.0, 1.0, 0.0]> : tensor<4xf32>, samples = dense<[[1.0, 1.0, -1.0, 0.0], [-1.0, 1.0, 1.0, 0.0], [1.0, -1.0, 1.0, 0.0], [-1.0, -1.0, -1.0, 0.0]]> : tensor<4x4xf32>}} : (tensor<4x4xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  %k = "onnx.MatMul"(%x, %wk) {kiln.activation_stats = {abs_max = dense<[1.0, 1.0, 1.0, 0.0]> : tensor<4xf32>, abs_mean = dense<[1.0, 1.0, 1.0, 0.0]> : tensor<4xf32>, samples = dense<[[1.0, 1.0, -1.0, 0.0], [-1.0, 1.0, 1.0, 0.0], [1.0, -1.0, 1.0, 0.0], [-1.0, -1.0, -1.0, 0.0]]> : tensor<4x4xf32>}} : (tensor<4x4xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  %v = "onnx.MatMul"(%x, %wv) {kiln.activation_stats = {abs_max = dense<[1.0, 1.0, 1.0, 0.0]> : tensor<4xf32>, abs_mean = dense<[1.0, 1.0, 1.0, 0.0]> : tensor<4xf32>, samples = dense<[[1.0, 1.0, -1.0, 0.0], [-1.0, 1.0, 1.0, 0.0], [1.0, -1.0, 1.0, 0.0], [-1.0, -1.0, -1.0, 0.0]]> : tensor<4x4xf32>}} : (tensor<4x4xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  %kt = "onnx.Transpose"(%k) {perm = [1, 0]} : (tensor<4x1xf32>) -> tensor<1x4xf32>
  %scores = "onnx.MatMul"(%q, %kt) : (tensor<4x1xf32>, tensor<1x4xf32>) -> tensor<4x4xf32>
  %p = "onnx.Softmax"(%scores) {axis = -1 : i64} : (tensor<4x4xf32>) -> tensor<4x4xf32>
  %y = "onnx.MatMul"(%p, %v) : (tensor<4x4xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  return %y : tensor<4x1xf32>
}
