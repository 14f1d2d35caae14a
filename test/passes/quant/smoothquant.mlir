// RUN: kiln-opt %s -split-input-file -kiln-quant-smoothquant | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-quant-smoothquant="smooth=false" | FileCheck %s --check-prefix=RTN

// Smoothing with alpha 1/2, by hand: max|X| = [8, 1, 1, 1] and the
// weight's row maxima [0.5, 0.5, 0.25, 0.9] give
// s = sqrt(max|X|) / sqrt(max|W|) = [4, 1.41421, 2, 1.05409]. The
// normalization's scale 2 becomes 2 / s = [0.5, 1.41421, 1, 1.89737] and
// the weight s * w = [2, 0.707107, -0.5, 0.948683], whose 8-bit scale is
// 2 / 127 and integers round(s * w * 63.5) = [127, 45, -32, 60]. The
// smoothed maxima, max|X| / s = [2, 0.707107, 0.5, 0.948683], give the
// activations' one scale 2 / 127 = 0.015748.
// CHECK-LABEL: func.func @norm
// CHECK: %[[G:.*]] = "onnx.Constant"() <{value = dense<[5.000000e-01, 1.41421{{[0-9]*}}, 1.000000e+00, 1.89736{{[0-9]*}}]> : tensor<4xf32>}>
// CHECK: %[[N:.*]] = "onnx.Mul"(%arg0, %[[G]])
// CHECK: %[[S:.*]] = "onnx.Constant"() <{value = dense<0.0157480{{[0-9]*}}> : tensor<f32>}>
// CHECK: %[[Q:.*]] = kiln.quantize %[[N]] scale %[[S]] : tensor<4x4xf32>, tensor<f32> -> tensor<4x4xi8>
// CHECK: %[[X:.*]] = kiln.dequantize %[[Q]] scale %[[S]] : tensor<4x4xi8>, tensor<f32> -> tensor<4x4xf32>
// CHECK: %[[WQ:.*]] = "onnx.Constant"() <{value = dense<{{\[\[}}127], [45], [-32], [60]]> : tensor<4x1xi8>}>
// CHECK: %[[WS:.*]] = "onnx.Constant"() <{value = dense<0.0157480{{[0-9]*}}> : tensor<1xf32>}>
// CHECK: %[[W:.*]] = kiln.dequantize %[[WQ]] scale %[[WS]] {axis = 1 : i64} : tensor<4x1xi8>, tensor<1xf32> -> tensor<4x1xf32>
// CHECK: "onnx.MatMul"(%[[X]], %[[W]])
// CHECK-NOT: kiln.activation_stats
//
// Round to nearest: nothing moves; the weight's scale is 0.9 / 127 and
// the activations' 8 / 127.
// RTN-LABEL: func.func @norm
// RTN: %[[G:.*]] = "onnx.Constant"() <{value = dense<2.000000e+00> : tensor<4xf32>}>
// RTN: %[[S:.*]] = "onnx.Constant"() <{value = dense<0.0629921{{[0-9]*}}> : tensor<f32>}>
// RTN: %[[WQ:.*]] = "onnx.Constant"() <{value = dense<{{\[\[}}71], [71], [-35], [127]]> : tensor<4x1xi8>}>
func.func @norm(%x: tensor<4x4xf32>) -> tensor<4x1xf32> {
  %g = "onnx.Constant"() {value = dense<[2.0, 2.0, 2.0, 2.0]> : tensor<4xf32>} : () -> tensor<4xf32>
  %n = "onnx.Mul"(%x, %g) : (tensor<4x4xf32>, tensor<4xf32>) -> tensor<4x4xf32>
  %w = "onnx.Constant"() {value = dense<[[0.5], [0.5], [-0.25], [0.9]]> : tensor<4x1xf32>} : () -> tensor<4x1xf32>
  %y = "onnx.MatMul"(%n, %w) {kiln.activation_stats = {abs_max = dense<[8.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, abs_mean = dense<[4.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, samples = dense<[[4.0, 1.0, -1.0, 1.0]]> : tensor<1x4xf32>}} : (tensor<4x4xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  return %y : tensor<4x1xf32>
}

// -----

// A LayerNormalization's scale and bias both absorb the smoothing, here
// s = sqrt([4, 1]) / sqrt([1, 1]) = [2, 1] (the rows' maxima over both
// weights are 1); the two products sharing its output share one
// quantized input.
// CHECK-LABEL: func.func @layer_norm
// CHECK: %[[SCALE:.*]] = "onnx.Constant"() <{value = dense<[5.000000e-01, 1.000000e+00]> : tensor<2xf32>}>
// CHECK: %[[BIAS:.*]] = "onnx.Constant"() <{value = dense<[3.750000e-01, 1.000000e+00]> : tensor<2xf32>}>
// CHECK: %[[N:.*]] = "onnx.LayerNormalization"(%arg0, %[[SCALE]], %[[BIAS]])
// CHECK: %[[Q:.*]] = kiln.quantize %[[N]]
// CHECK: %[[X:.*]] = kiln.dequantize %[[Q]]
// CHECK: "onnx.MatMul"(%[[X]], %{{.*}})
// CHECK: "onnx.MatMul"(%[[X]], %{{.*}})
// CHECK-NOT: kiln.quantize
func.func @layer_norm(%x: tensor<3x2xf32>) -> (tensor<3x2xf32>, tensor<3x1xf32>) {
  %scale = "onnx.Constant"() {value = dense<[1.0, 1.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %bias = "onnx.Constant"() {value = dense<[0.75, 1.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %n = "onnx.LayerNormalization"(%x, %scale, %bias) {axis = -1 : i64, resultSegmentSizes = array<i32: 1, 0, 0>} : (tensor<3x2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
  %w1 = "onnx.Constant"() {value = dense<[[1.0, 0.5], [0.25, 1.0]]> : tensor<2x2xf32>} : () -> tensor<2x2xf32>
  %w2 = "onnx.Constant"() {value = dense<[[0.25], [0.5]]> : tensor<2x1xf32>} : () -> tensor<2x1xf32>
  %y1 = "onnx.MatMul"(%n, %w1) {kiln.activation_stats = {abs_max = dense<[4.0, 1.0]> : tensor<2xf32>, abs_mean = dense<[1.0, 1.0]> : tensor<2xf32>, samples = dense<[[1.0, 1.0]]> : tensor<1x2xf32>}} : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  %y2 = "onnx.MatMul"(%n, %w2) {kiln.activation_stats = {abs_max = dense<[4.0, 1.0]> : tensor<2xf32>, abs_mean = dense<[1.0, 1.0]> : tensor<2xf32>, samples = dense<[[1.0, 1.0]]> : tensor<1x2xf32>}} : (tensor<3x2xf32>, tensor<2x1xf32>) -> tensor<3x1xf32>
  return %y1, %y2 : tensor<3x2xf32>, tensor<3x1xf32>
}

// -----

// Nothing absorbs a function argument: an explicit Mul by 1/s.
// s = sqrt([4, 1]) / sqrt([1, 1]) = [2, 1].
// CHECK-LABEL: func.func @explicit
// CHECK: %[[R:.*]] = "onnx.Constant"() <{value = dense<[5.000000e-01, 1.000000e+00]> : tensor<2xf32>}>
// CHECK: %[[X:.*]] = "onnx.Mul"(%arg0, %[[R]])
// CHECK: kiln.quantize %[[X]]
func.func @explicit(%x: tensor<3x2xf32>) -> tensor<3x1xf32> {
  %w = "onnx.Constant"() {value = dense<[[1.0], [-1.0]]> : tensor<2x1xf32>} : () -> tensor<2x1xf32>
  %y = "onnx.MatMul"(%x, %w) {kiln.activation_stats = {abs_max = dense<[4.0, 1.0]> : tensor<2xf32>, abs_mean = dense<[1.0, 1.0]> : tensor<2xf32>, samples = dense<[[1.0, 1.0]]> : tensor<1x2xf32>}} : (tensor<3x2xf32>, tensor<2x1xf32>) -> tensor<3x1xf32>
  return %y : tensor<3x1xf32>
}
