// RUN: kiln-opt %s -split-input-file -kiln-quant-smoothquant | FileCheck %s

// Static scales where each sequence's first rows widen the range (a
// decoder's attention sink): calibration's maxima over every row are
// [64, 1, 1, 1], over the rows after each sequence's first [8, 1, 1, 1],
// eight times narrower. The smoothing and the range come from the
// latter, as in smoothquant.mlir's @norm: s = [4, 1.41421, 2, 1.05409],
// the norm's scale 2 / s, the range 2 and the scale 2 / 127. A row
// beyond it takes its own, max|x_row| / 127: per-row scales computed at
// run time, never below 2 / 127, the row quantized in one group of its
// K = 4 channels.
// CHECK-LABEL: func.func @first_rows_widen
// CHECK: %[[G:.*]] = "onnx.Constant"() <{value = dense<[5.000000e-01, 1.41421{{[0-9]*}}, 1.000000e+00, 1.89736{{[0-9]*}}]> : tensor<4xf32>}>
// CHECK: %[[N:.*]] = "onnx.Mul"(%arg0, %[[G]])
// CHECK: %[[ABS:.*]] = "onnx.Abs"(%[[N]])
// CHECK: %[[AXES:.*]] = "onnx.Constant"() <{value = dense<2> : tensor<1xi64>}>
// CHECK: %[[MAX:.*]] = "onnx.ReduceMax"(%[[ABS]], %[[AXES]]) {{.*}} -> tensor<1x3x1xf32>
// CHECK: %[[DIV:.*]] = "onnx.Div"(%[[MAX]], %{{.*}})
// CHECK: %[[FLOOR:.*]] = "onnx.Constant"() <{value = dense<0.0157480{{[0-9]*}}> : tensor<f32>}>
// CHECK: %[[S:.*]] = "onnx.Max"(%[[DIV]], %[[FLOOR]])
// CHECK: %[[Q:.*]] = kiln.quantize %[[N]] scale %[[S]] {axis = 2 : i64, group_size = 4 : i64} : tensor<1x3x4xf32>, tensor<1x3x1xf32> -> tensor<1x3x4xi8>
// CHECK: %[[X:.*]] = kiln.dequantize %[[Q]] scale %[[S]] {axis = 2 : i64, group_size = 4 : i64}
// CHECK: %[[WQ:.*]] = "onnx.Constant"() <{value = dense<{{\[\[}}127], [45], [-32], [60]]> : tensor<4x1xi8>}>
// CHECK: "onnx.MatMul"(%[[X]], %{{.*}})
func.func @first_rows_widen(%x: tensor<1x3x4xf32>) -> tensor<1x3x1xf32> {
  %g = "onnx.Constant"() {value = dense<[2.0, 2.0, 2.0, 2.0]> : tensor<4xf32>} : () -> tensor<4xf32>
  %n = "onnx.Mul"(%x, %g) : (tensor<1x3x4xf32>, tensor<4xf32>) -> tensor<1x3x4xf32>
  %w = "onnx.Constant"() {value = dense<[[0.5], [0.5], [-0.25], [0.9]]> : tensor<4x1xf32>} : () -> tensor<4x1xf32>
  %y = "onnx.MatMul"(%n, %w) {kiln.activation_stats = {abs_max = dense<[64.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, abs_max_after_first = dense<[8.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, abs_mean = dense<[4.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, samples = dense<[[4.0, 1.0, -1.0, 1.0]]> : tensor<1x4xf32>}} : (tensor<1x3x4xf32>, tensor<4x1xf32>) -> tensor<1x3x1xf32>
  return %y : tensor<1x3x1xf32>
}

// -----

// First rows that widen the range by less than 5% (maxima [8.2, 1, 1, 1]
// against [8, 1, 1, 1]) leave one static scale from every row: s =
// sqrt([8.2, 1, 1, 1] / [0.5, 0.5, 0.25, 0.9]) = [4.04969, ...], the
// norm's scale 2 / s = [0.493865, ...], the range 8.2 / 4.04969 = 2.02485
// and the scale 2.02485 / 127 = 0.0159437.
// CHECK-LABEL: func.func @first_rows_within
// CHECK: %[[G:.*]] = "onnx.Constant"() <{value = dense<[0.493864{{[0-9]*}}, 1.41421{{[0-9]*}}, 1.000000e+00, 1.89736{{[0-9]*}}]> : tensor<4xf32>}>
// CHECK: %[[N:.*]] = "onnx.Mul"(%arg0, %[[G]])
// CHECK-NOT: onnx.ReduceMax
// CHECK: %[[S:.*]] = "onnx.Constant"() <{value = dense<0.015943{{[0-9]*}}> : tensor<f32>}>
// CHECK: kiln.quantize %[[N]] scale %[[S]] : tensor<1x3x4xf32>, tensor<f32> -> tensor<1x3x4xi8>
func.func @first_rows_within(%x: tensor<1x3x4xf32>) -> tensor<1x3x1xf32> {
  %g = "onnx.Constant"() {value = dense<[2.0, 2.0, 2.0, 2.0]> : tensor<4xf32>} : () -> tensor<4xf32>
  %n = "onnx.Mul"(%x, %g) : (tensor<1x3x4xf32>, tensor<4xf32>) -> tensor<1x3x4xf32>
  %w = "onnx.Constant"() {value = dense<[[0.5], [0.5], [-0.25], [0.9]]> : tensor<4x1xf32>} : () -> tensor<4x1xf32>
  %y = "onnx.MatMul"(%n, %w) {kiln.activation_stats = {abs_max = dense<[8.2, 1.0, 1.0, 1.0]> : tensor<4xf32>, abs_max_after_first = dense<[8.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, abs_mean = dense<[4.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, samples = dense<[[4.0, 1.0, -1.0, 1.0]]> : tensor<1x4xf32>}} : (tensor<1x3x4xf32>, tensor<4x1xf32>) -> tensor<1x3x1xf32>
  return %y : tensor<1x3x1xf32>
}

// -----

// Smoothing that nothing absorbs (the rows are the function's argument)
// multiplies the rows by 1 / s in a Mul of their own: the row scales are
// those of its result, the rows the products read.
// CHECK-LABEL: func.func @first_rows_unabsorbed
// CHECK: %[[INVERSE:.*]] = "onnx.Constant"() <{value = dense<[2.500000e-01, 0.707106{{[0-9]*}}, 5.000000e-01, 0.948683{{[0-9]*}}]> : tensor<4xf32>}>
// CHECK: %[[N:.*]] = "onnx.Mul"(%arg0, %[[INVERSE]])
// CHECK: %[[ABS:.*]] = "onnx.Abs"(%[[N]])
// CHECK: %[[S:.*]] = "onnx.Max"
// CHECK: %[[Q:.*]] = kiln.quantize %[[N]] scale %[[S]] {axis = 2 : i64, group_size = 4 : i64}
// CHECK: %[[X:.*]] = kiln.dequantize %[[Q]] scale %[[S]]
// CHECK: "onnx.MatMul"(%[[X]], %{{.*}})
func.func @first_rows_unabsorbed(%x: tensor<1x3x4xf32>) -> tensor<1x3x1xf32> {
  %w = "onnx.Constant"() {value = dense<[[0.5], [0.5], [-0.25], [0.9]]> : tensor<4x1xf32>} : () -> tensor<4x1xf32>
  %y = "onnx.MatMul"(%x, %w) {kiln.activation_stats = {abs_max = dense<[64.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, abs_max_after_first = dense<[8.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, abs_mean = dense<[4.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, samples = dense<[[4.0, 1.0, -1.0, 1.0]]> : tensor<1x4xf32>}} : (tensor<1x3x4xf32>, tensor<4x1xf32>) -> tensor<1x3x1xf32>
  return %y : tensor<1x3x1xf32>
}
