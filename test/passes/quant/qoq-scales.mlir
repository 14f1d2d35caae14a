// RUN: kiln-opt %s -kiln-quant-qoq="group-size=4 grid=2" | FileCheck %s

// The scale search (grid 2: exponents 0 and 1/2) with both levels and the
// rows' 8-bit quantization in its loss, by hand (as kiln-quant-awq's
// @norm case): channel 0's mean |x| is 4, the others' 1, so a = 1/2 gives
// s = [1.41421, 0.707107, 0.707107, 0.707107]. As it is (a = 0), s1 =
// 0.5 / 119, W8 [31, 119, -74, 55], s2 = 13, z = 6, so channel 0's 31
// dequantizes to (8 - 6) 13 = 26, and the error of the four rows' outputs
// is 0.0320; scaled, s1 = 0.353553 / 119 = 0.00297104, W8 [62, 119, -74,
// 55], q [11, 15, 0, 10], channel 0 to 65, and the error 0.00287: a = 1/2
// wins. The normalization's scale 2 becomes 2 / s.
// CHECK-LABEL: func.func @scaled
// CHECK: %[[G:.*]] = "onnx.Constant"() <{value = dense<[1.41421354, 2.82842708, 2.82842708, 2.82842708]> : tensor<4xf32>}>
// CHECK: "onnx.Mul"(%arg0, %[[G]])
// CHECK-DAG: "onnx.Constant"() <{value = dense<{{\[\[}}11], [15], [0], [10]]> : tensor<4x1xui4>}>
// CHECK-DAG: "onnx.Constant"() <{value = dense<1.300000e+01> : tensor<1x1xf16>}>
// CHECK: dense<0.00297103683> : tensor<1xf32>
// CHECK-NOT: kiln.activation_stats
func.func @scaled(%x: tensor<4x4xf32>) -> tensor<4x1xf32> {
  %g = "onnx.Constant"() {value = dense<[2.0, 2.0, 2.0, 2.0]> : tensor<4xf32>} : () -> tensor<4xf32>
  %n = "onnx.Mul"(%x, %g) : (tensor<4x4xf32>, tensor<4xf32>) -> tensor<4x4xf32>
  %w = "onnx.Constant"() {value = dense<[[0.13], [0.5], [-0.31], [0.23]]> : tensor<4x1xf32>} : () -> tensor<4x1xf32>
  %y = "onnx.MatMul"(%n, %w) {kiln.activation_stats = {abs_max = dense<[8.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, abs_mean = dense<[4.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, samples = dense<[[4.0, 1.0, -1.0, 1.0], [-4.0, 1.0, 1.0, -1.0], [4.0, -1.0, 1.0, 1.0], [-4.0, -1.0, -1.0, 1.0]]> : tensor<4x4xf32>}} : (tensor<4x4xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  return %y : tensor<4x1xf32>
}
