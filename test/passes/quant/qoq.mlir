// RUN: kiln-opt %s -split-input-file -kiln-quant-qoq="group-size=2 search=false" | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-quant-qoq="group-size=2 scale-search=false" | FileCheck %s --check-prefix=SEARCH

// Progressive group quantization, checked by hand (ties to even):
// level 1, s1 = max|W[:, n]| / 119: column 0 [-0.5, 1.19, 0.3, -0.6],
// s1 = 0.01, W8 [-50, 119, 30, -60]; column 1 [0, 0.476, -0.2, 0.1],
// s1 = 0.004, W8 [0, 119, -50, 25]. Level 2 per group of two,
// s2 = max(1, round((max - min) / 15)), z = clamp(round(-min / s2), 0, 15),
// q = clamp(round(W8 / s2) + z, 0, 15):
//   [-50, 119]: s2 = round(11.27) = 11, z = round(4.55) = 5, q [0, 15];
//   [0, 119]: s2 = round(7.93) = 8, z = 0, q [0, round(14.88)] = [0, 15];
//   [30, -60]: s2 = 6, z = 10, q [15, 0];
//   [-50, 25]: s2 = 5, z = 10, q [0, 15].
// The product takes the 8-bit rows (one scale per row at run time) and
// the 8-bit integers (q - z) s2, then each column times s1.
// CHECK-LABEL: func.func @groups
// CHECK-SAME: kiln.quantized_weights = [{bytes = 18 : i64, float_bytes = 32 : i64, node = "proj"}]
// CHECK: %[[MAX:.*]] = "onnx.ReduceMax"(%{{.*}}, %{{.*}}) <{keepdims = 1 : i64, noop_with_empty_axes = 0 : i64}> : (tensor<3x4xf32>, tensor<1xi64>) -> tensor<3x1xf32>
// CHECK: %[[SX:.*]] = "onnx.Max"
// CHECK: %[[X8:.*]] = kiln.quantize %arg0 scale %[[SX]] {axis = 1 : i64, group_size = 4 : i64} : tensor<3x4xf32>, tensor<3x1xf32> -> tensor<3x4xi8>
// CHECK: %[[X:.*]] = kiln.dequantize %[[X8]] scale %[[SX]]
// CHECK-DAG: %[[Q:.*]] = "onnx.Constant"() <{value = dense<{{\[\[}}0, 0], [15, 15], [15, 0], [0, 15]]> : tensor<4x2xui4>}>
// CHECK-DAG: %[[S2:.*]] = "onnx.Constant"() <{value = dense<{{\[\[}}1.100000e+01, 8.000000e+00], [6.000000e+00, 5.000000e+00]]> : tensor<2x2xf16>}>
// CHECK-DAG: %[[Z:.*]] = "onnx.Constant"() <{value = dense<{{\[\[}}5, 0], [10, 10]]> : tensor<2x2xui4>}>
// CHECK: %[[W8:.*]] = kiln.dequantize %[[Q]] scale %[[S2]] zero_point %[[Z]] {group_size = 2 : i64} : tensor<4x2xui4>, tensor<2x2xf16>, tensor<2x2xui4> -> tensor<4x2xf32>
// CHECK: %[[P:.*]] = "onnx.MatMul"(%[[X]], %[[W8]])
// CHECK: %[[S1:.*]] = "onnx.Constant"() <{value = dense<[0.0100000007, 4.000000e-03]> : tensor<2xf32>}>
// CHECK: %[[Y:.*]] = "onnx.Mul"(%[[P]], %[[S1]])
// CHECK: return %[[Y]]
func.func @groups(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = "onnx.Constant"() {value = dense<[[-0.5, 0.0], [1.19, 0.476], [0.3, -0.2], [-0.6, 0.1]]> : tensor<4x2xf32>} : () -> tensor<4x2xf32>
  %y = "onnx.MatMul"(%x, %w) : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32> loc("proj")
  return %y : tensor<3x2xf32>
}

// -----

// A gated MLP. With QServe's fixed recipe, the down projection's input (the Mul of
// gate and up) is smoothed with alpha 0.3: s = [16^0.3 / 1^0.7, 1] =
// [2.2974, 1], its weight's row 0 times s (so s1 = 2.2974 / 119 =
// 0.0193059) and column 0 of the gate divided by it (s1 of that column
// 0.435275 / 119 = 0.00365778). Round to nearest leaves both as they are
// (s1 = 1 / 119 = 0.00840336). The statistics are consumed.
// CHECK-LABEL: func.func @gated
// CHECK-NOT: kiln.activation_stats
// CHECK: dense<0.00840336177> : tensor<2xf32>
// CHECK: dense<0.00840336177> : tensor<2xf32>
// CHECK: dense<0.00840336177> : tensor<1xf32>
// SEARCH-LABEL: func.func @gated
// SEARCH-NOT: kiln.activation_stats
// SEARCH: dense<[0.00365777547, 0.00840336177]> : tensor<2xf32>
// SEARCH: dense<0.00840336177> : tensor<2xf32>
// SEARCH: dense<0.019305855> : tensor<1xf32>
func.func @gated(%x: tensor<3x2xf32>) -> tensor<3x1xf32> {
  %wg = "onnx.Constant"() {value = dense<[[0.5, -1.0], [1.0, 0.25]]> : tensor<2x2xf32>} : () -> tensor<2x2xf32>
  %wu = "onnx.Constant"() {value = dense<[[1.0, 0.5], [-1.0, 1.0]]> : tensor<2x2xf32>} : () -> tensor<2x2xf32>
  %wd = "onnx.Constant"() {value = dense<[[1.0], [-1.0]]> : tensor<2x1xf32>} : () -> tensor<2x1xf32>
  %g = "onnx.MatMul"(%x, %wg) : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32> loc("gate")
  %u = "onnx.MatMul"(%x, %wu) : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32> loc("up")
  %h = "onnx.Mul"(%g, %u) : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
  %y = "onnx.MatMul"(%h, %wd) {kiln.activation_stats = {abs_max = dense<[16.0, 1.0]> : tensor<2xf32>, abs_mean = dense<[4.0, 1.0]> : tensor<2xf32>, samples = dense<[[16.0, 1.0], [-4.0, 0.5]]> : tensor<2x2xf32>}} : (tensor<3x2xf32>, tensor<2x1xf32>) -> tensor<3x1xf32> loc("down")
  return %y : tensor<3x1xf32>
}

// -----

// Rows whose K shape inference left symbolic (an exporter's heads reshaped
// to [B, S, -1] before the output projection) take it from the weight:
// one tensor.cast right after their producer, shared by both products,
// then the 8-bit rows as for any product.
// CHECK-LABEL: func.func @symbolic_row_length
// CHECK: %[[ROWS:.*]] = "onnx.Reshape"
// CHECK-NEXT: %[[STATIC:.*]] = tensor.cast %[[ROWS]] : tensor<?x?x?xf32> to tensor<?x?x4xf32>
// CHECK: kiln.quantize %[[STATIC]] scale %{{.*}} {axis = 2 : i64, group_size = 4 : i64} : tensor<?x?x4xf32>
// CHECK-COUNT-2: "onnx.MatMul"(%{{.*}}, %{{.*}}) : (tensor<?x?x4xf32>, tensor<4x2xf32>) -> tensor<?x?x2xf32>
// CHECK-NOT: tensor.cast
func.func @symbolic_row_length(%x: tensor<?x?x2x2xf32>, %shape: tensor<3xi64>) -> (tensor<?x?x2xf32>, tensor<?x?x2xf32>) {
  %rows = "onnx.Reshape"(%x, %shape) : (tensor<?x?x2x2xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  %w = "onnx.Constant"() {value = dense<[[-0.5, 0.0], [1.19, 0.476], [0.3, -0.2], [-0.6, 0.1]]> : tensor<4x2xf32>} : () -> tensor<4x2xf32>
  %y = "onnx.MatMul"(%rows, %w) : (tensor<?x?x?xf32>, tensor<4x2xf32>) -> tensor<?x?x2xf32> loc("o_proj")
  %z = "onnx.MatMul"(%rows, %w) : (tensor<?x?x?xf32>, tensor<4x2xf32>) -> tensor<?x?x2xf32> loc("o_proj_2")
  return %y, %z : tensor<?x?x2xf32>, tensor<?x?x2xf32>
}
