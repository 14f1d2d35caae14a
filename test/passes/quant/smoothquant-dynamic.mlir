// RUN: kiln-opt %s -kiln-quant-smoothquant="dynamic=true smooth=false" | FileCheck %s
// RUN: kiln-opt %s -kiln-quant-smoothquant="dynamic=true smooth=false" -kiln-layout-pack-contractions=vector-bits=256 | FileCheck %s --check-prefix=PACKED

// Per-row (per-token) activations need no calibration statistics: each
// row's scale is its largest magnitude over 127 at run time (never below
// 1e-30, so a row of zeros divides by no zero), the row quantized in one
// group of all K = 4 channels along the last axis. The weight is 8-bit per
// output channel as with static scales: column maxima 2 and 4 give scales
// 2/127 and 4/127, [1, 0.5, -1, 2] / (2/127) = [64, 32, -64, 127].
// CHECK-LABEL: func.func @rows
// CHECK-SAME: kiln.quantized_weights = [{bytes = 16 : i64, float_bytes = 32 : i64, node = ""}]
// CHECK: %[[ABS:.*]] = "onnx.Abs"(%arg0)
// CHECK: %[[AXES:.*]] = "onnx.Constant"() <{value = dense<1> : tensor<1xi64>}>
// CHECK: %[[MAX:.*]] = "onnx.ReduceMax"(%[[ABS]], %[[AXES]]) <{keepdims = 1 : i64, noop_with_empty_axes = 0 : i64}> : (tensor<3x4xf32>, tensor<1xi64>) -> tensor<3x1xf32>
// CHECK: %[[LEVELS:.*]] = "onnx.Constant"() <{value = dense<1.270000e+02> : tensor<f32>}>
// CHECK: %[[DIV:.*]] = "onnx.Div"(%[[MAX]], %[[LEVELS]])
// CHECK: %[[TINY:.*]] = "onnx.Constant"() <{value = dense<1.000000e-30> : tensor<f32>}>
// CHECK: %[[S:.*]] = "onnx.Max"(%[[DIV]], %[[TINY]])
// CHECK: %[[Q:.*]] = kiln.quantize %arg0 scale %[[S]] {axis = 1 : i64, group_size = 4 : i64} : tensor<3x4xf32>, tensor<3x1xf32> -> tensor<3x4xi8>
// CHECK: %[[X:.*]] = kiln.dequantize %[[Q]] scale %[[S]] {axis = 1 : i64, group_size = 4 : i64}
// CHECK: "onnx.Constant"() <{value = dense<{{\[\[}}64, -64], [32, 127], [-64, 32], [127, 0]]> : tensor<4x2xi8>}>
// CHECK: "onnx.MatMul"(%[[X]], %{{.*}})
//
// The layout pass then runs the integer contraction on the row-quantized
// bytes with the weights' scales alone, and multiplies each result row by
// its activation scale.
// PACKED-LABEL: func.func @rows
// PACKED: %[[S:.*]] = "onnx.Max"
// PACKED: %[[Q:.*]] = kiln.quantize %arg0 scale %[[S]] {axis = 1 : i64, group_size = 4 : i64}
// PACKED: %[[R:.*]] = tensor.expand_shape %[[Q]]
// PACKED: %[[C:.*]] = kiln.packed_conv2d %[[R]]
// PACKED: %[[P:.*]] = tensor.collapse_shape %[[C]]
// PACKED: "onnx.Mul"(%[[P]], %[[S]]) : (tensor<3x2xf32>, tensor<3x1xf32>) -> tensor<3x2xf32>
func.func @rows(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = "onnx.Constant"() {value = dense<[[1.0, -2.0], [0.5, 4.0], [-1.0, 1.0], [2.0, 0.0]]> : tensor<4x2xf32>} : () -> tensor<4x2xf32>
  %y = "onnx.MatMul"(%x, %w) : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// Rows whose K shape inference left symbolic take it from the weight (a
// tensor.cast), then per-row scales as above, rather than falling back
// to per-tensor ones.
// CHECK-LABEL: func.func @symbolic_row_length
// CHECK: %[[STATIC:.*]] = tensor.cast %arg0 : tensor<?x?xf32> to tensor<?x4xf32>
// CHECK: kiln.quantize %[[STATIC]] scale %{{.*}} {axis = 1 : i64, group_size = 4 : i64} : tensor<?x4xf32>
func.func @symbolic_row_length(%x: tensor<?x?xf32>) -> tensor<?x2xf32> {
  %w = "onnx.Constant"() {value = dense<[[1.0, -2.0], [0.5, 4.0], [-1.0, 1.0], [2.0, 0.0]]> : tensor<4x2xf32>} : () -> tensor<4x2xf32>
  %y = "onnx.MatMul"(%x, %w) : (tensor<?x?xf32>, tensor<4x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}
