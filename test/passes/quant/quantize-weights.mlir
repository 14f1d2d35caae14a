// RUN: kiln-opt %s -split-input-file -kiln-quant-weights=group-size=2 | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-quant-weights="group-size=2 exclude=kept" | FileCheck %s --check-prefix=EXCLUDE

// Groups of two input channels per output channel, checked by hand
// (scale = (max - min) / 15 rounded to f16, zero = round(-min / scale),
// q = clamp(round(w / scale) + zero, 0, 15), ties to even):
//   column 0, rows 0-1: [-0.5, 1.375]: scale 0.125, zero 4, q [0, 15];
//   column 1, rows 0-1: [0, 0.75]: 0.05 is 0.0499878 in f16, zero 0,
//     q [0, round(15.0037)] = [0, 15];
//   column 0, rows 2-3: [1, -2]: 0.2 is 0.199951, zero round(10.0024) = 10,
//     q [round(5.0012) + 10, 0] = [15, 0];
//   column 1, rows 2-3: [0.3, -0.3]: 0.04 is 0.0400085, zero
//     round(7.4984) = 7, q [14, 0].
// CHECK-LABEL: func.func @groups
// CHECK-DAG: %[[Q:.*]] = "onnx.Constant"() <{value = dense<{{\[\[}}0, 0], [15, 15], [15, 14], [0, 0]]> : tensor<4x2xui4>}>
// CHECK-DAG: %[[S:.*]] = "onnx.Constant"() <{value = dense<{{\[\[}}1.250000e-01, 4.998780e-02], [1.999510e-01, 4.000850e-02]]> : tensor<2x2xf16>}>
// CHECK-DAG: %[[Z:.*]] = "onnx.Constant"() <{value = dense<{{\[\[}}4, 0], [10, 7]]> : tensor<2x2xui4>}>
// CHECK: %[[W:.*]] = kiln.dequantize %[[Q]] scale %[[S]] zero_point %[[Z]] {group_size = 2 : i64} : tensor<4x2xui4>, tensor<2x2xf16>, tensor<2x2xui4> -> tensor<4x2xf32>
// CHECK: "onnx.MatMul"(%arg0, %[[W]])
func.func @groups(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = "onnx.Constant"() {value = dense<[[-0.5, 0.0], [1.375, 0.75], [1.0, 0.3], [-2.0, -0.3]]> : tensor<4x2xf32>} : () -> tensor<4x2xf32>
  %y = "onnx.MatMul"(%x, %w) : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// A product named in `exclude` keeps its f32 weight; a weight computed at
// run time is not a weight.
// EXCLUDE-LABEL: func.func @excluded
// EXCLUDE: kiln.dequantize
// EXCLUDE-SAME: tensor<2x3xui4>
// EXCLUDE-NOT: kiln.dequantize
// EXCLUDE: return
// CHECK-LABEL: func.func @excluded
// CHECK-COUNT-2: kiln.dequantize
// CHECK-NOT: kiln.dequantize
func.func @excluded(%x: tensor<1x2xf32>, %v: tensor<2x3xf32>) -> (tensor<1x3xf32>, tensor<1x3xf32>, tensor<1x3xf32>) {
  %w = "onnx.Constant"() {value = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>} : () -> tensor<2x3xf32>
  %a = "onnx.MatMul"(%x, %w) : (tensor<1x2xf32>, tensor<2x3xf32>) -> tensor<1x3xf32> loc("quantized")
  %b = "onnx.MatMul"(%x, %w) : (tensor<1x2xf32>, tensor<2x3xf32>) -> tensor<1x3xf32> loc("kept")
  %c = "onnx.MatMul"(%x, %v) : (tensor<1x2xf32>, tensor<2x3xf32>) -> tensor<1x3xf32>
  return %a, %b, %c : tensor<1x3xf32>, tensor<1x3xf32>, tensor<1x3xf32>
}
