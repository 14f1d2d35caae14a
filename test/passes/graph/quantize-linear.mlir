// RUN: kiln-opt %s -split-input-file -kiln-graph-quantize-linear | FileCheck %s

// A QDQ pair of onnxruntime's: per tensor, with an unsigned zero point.
// CHECK-LABEL: func.func @per_tensor
// CHECK: %[[S:.*]] = "onnx.Constant"() <{value = dense<5.000000e-01> : tensor<f32>}>
// CHECK: %[[Z:.*]] = "onnx.Constant"() <{value = dense<3> : tensor<ui8>}>
// CHECK: %[[Q:.*]] = kiln.quantize %arg0 scale %[[S]] zero_point %[[Z]] : tensor<2x4xf32>, tensor<f32>, tensor<ui8> -> tensor<2x4xui8>
// CHECK: kiln.dequantize %[[Q]] scale %[[S]] zero_point %[[Z]] : tensor<2x4xui8>, tensor<f32>, tensor<ui8> -> tensor<2x4xf32>
func.func @per_tensor(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %s = "onnx.Constant"() {value = dense<0.5> : tensor<f32>} : () -> tensor<f32>
  %z = "onnx.Constant"() {value = dense<3> : tensor<ui8>} : () -> tensor<ui8>
  %q = "onnx.QuantizeLinear"(%x, %s, %z) : (tensor<2x4xf32>, tensor<f32>, tensor<ui8>) -> tensor<2x4xui8>
  %d = "onnx.DequantizeLinear"(%q, %s, %z) : (tensor<2x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<2x4xf32>
  return %d : tensor<2x4xf32>
}

// -----

// Per axis (a negative axis counts from the end) and in blocks along an
// axis, with the f16 scales' f16 result.
// CHECK-LABEL: func.func @axis_and_blocks
// CHECK: kiln.dequantize %arg0 scale %arg1 {axis = 1 : i64} : tensor<4x6xi8>, tensor<6xf32> -> tensor<4x6xf32>
// CHECK: kiln.dequantize %arg0 scale %arg2 {group_size = 2 : i64} : tensor<4x6xi8>, tensor<2x6xf16> -> tensor<4x6xf16>
func.func @axis_and_blocks(%w: tensor<4x6xi8>, %s: tensor<6xf32>, %b: tensor<2x6xf16>) -> (tensor<4x6xf32>, tensor<4x6xf16>) {
  %d = "onnx.DequantizeLinear"(%w, %s) {axis = -1 : i64} : (tensor<4x6xi8>, tensor<6xf32>) -> tensor<4x6xf32>
  %e = "onnx.DequantizeLinear"(%w, %b) {axis = 0 : i64, block_size = 2 : i64} : (tensor<4x6xi8>, tensor<2x6xf16>) -> tensor<4x6xf16>
  return %d, %e : tensor<4x6xf32>, tensor<4x6xf16>
}

// -----

// What the kiln ops cannot say stays: a ragged last block, 8-bit floats.
// CHECK-LABEL: func.func @kept
// CHECK: "onnx.DequantizeLinear"
// CHECK: "onnx.QuantizeLinear"
// CHECK-NOT: kiln.
func.func @kept(%w: tensor<5x6xi8>, %b: tensor<3x6xf32>, %x: tensor<6xf32>, %s: tensor<f32>) -> (tensor<5x6xf32>, tensor<6xf8E4M3FN>) {
  %e = "onnx.DequantizeLinear"(%w, %b) {axis = 0 : i64, block_size = 2 : i64} : (tensor<5x6xi8>, tensor<3x6xf32>) -> tensor<5x6xf32>
  %f = "onnx.QuantizeLinear"(%x, %s) {output_dtype = 17 : i64} : (tensor<6xf32>, tensor<f32>) -> tensor<6xf8E4M3FN>
  return %e, %f : tensor<5x6xf32>, tensor<6xf8E4M3FN>
}

// -----

// onnxruntime's quantized bias: int32 constants with a scale of shape [1]
// (per tensor) become the f32 constant they dequantize to,
// [-4, 0, 6] * 0.5 = [-2, 0, 3] (0xC0000000, 0, 0x40400000); a scale of
// shape [1] elsewhere is made 0-D, as the kiln ops take it.
// CHECK-LABEL: func.func @bias
// CHECK: %[[B:.*]] = "onnx.Constant"() <{value = dense_resource<[[BIAS:.*]]> : tensor<3xf32>}>
// CHECK: %[[S:.*]] = "onnx.Constant"() <{value = dense<5.000000e-01> : tensor<f32>}>
// CHECK: kiln.dequantize %arg0 scale %[[S]] : tensor<3xi8>, tensor<f32> -> tensor<3xf32>
// CHECK: return %[[B]]
// CHECK: [[BIAS]]: "0x40000000000000C00000000000004040"
func.func @bias(%w: tensor<3xi8>) -> (tensor<3xf32>, tensor<3xf32>) {
  %b = "onnx.Constant"() {value = dense<[-4, 0, 6]> : tensor<3xi32>} : () -> tensor<3xi32>
  %s = "onnx.Constant"() {value = dense<0.5> : tensor<1xf32>} : () -> tensor<1xf32>
  %z = "onnx.Constant"() {value = dense<0> : tensor<i32>} : () -> tensor<i32>
  %d = "onnx.DequantizeLinear"(%b, %s, %z) {axis = 0 : i64} : (tensor<3xi32>, tensor<1xf32>, tensor<i32>) -> tensor<3xf32>
  %e = "onnx.DequantizeLinear"(%w, %s) {axis = 0 : i64} : (tensor<3xi8>, tensor<1xf32>) -> tensor<3xf32>
  return %d, %e : tensor<3xf32>, tensor<3xf32>
}
