// RUN: kiln-opt %s -split-input-file -kiln-quant-awq="group-size=4 grid=1 clip=false rounding=gptq" | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-quant-awq="group-size=4 grid=1 clip=false rounding=gptq act-order=false" | FileCheck %s --check-prefix=INORDER
// RUN: kiln-opt %s -split-input-file -kiln-quant-awq="group-size=4 grid=1 clip=false" -kiln-quant-weights=group-size=4 | FileCheck %s --check-prefix=NEAREST
// RUN: kiln-opt %s -split-input-file -kiln-quant-awq="group-size=4 grid=2 clip=false rounding=gptq" | FileCheck %s --check-prefix=FOLD

// GPTQ's rounding, by hand (grid 1 and no clipping: the weights as they
// are). Channels 0 and 1 carry the same activations in every row, so a
// change of w0 can be undone by w1. The group [0.34, 0.34, 0, 1.5] has
// scale 0.1 (f16 0.0999755) and zero point 0. Channel 0 rounds to 3
// (0.3); its error 0.04 moves onto channel 1 almost whole (the Gram
// matrix's H01 / (H11 + damping) = 4 / 4.03), which becomes 0.3797 and
// rounds to 4: the output on those rows is off by 0.02, not round to
// nearest's 3, 3 and 0.08. (Both channels carry the same energy: the
// activation order is the channel order, and the group's parameters come
// out the same chosen first or when reached.)
// CHECK-LABEL: func.func @correlated
// CHECK: %[[Q:.*]] = "onnx.Constant"() <{value = dense<{{\[\[}}3], [4], [0], [15]]> : tensor<4x1xui4>}>
// CHECK: %[[S:.*]] = "onnx.Constant"() <{value = dense<9.997550e-02> : tensor<1x1xf16>}>
// CHECK: %[[Z:.*]] = "onnx.Constant"() <{value = dense<0> : tensor<1x1xui4>}>
// CHECK: %[[W:.*]] = kiln.dequantize %[[Q]] scale %[[S]] zero_point %[[Z]] {group_size = 4 : i64}
// CHECK: "onnx.MatMul"(%arg0, %[[W]])
// CHECK-NOT: kiln.activation_stats
// INORDER-LABEL: func.func @correlated
// INORDER: "onnx.Constant"() <{value = dense<{{\[\[}}3], [4], [0], [15]]> : tensor<4x1xui4>}>
// NEAREST-LABEL: func.func @correlated
// NEAREST: "onnx.Constant"() <{value = dense<{{\[\[}}3], [3], [0], [15]]> : tensor<4x1xui4>}>
func.func @correlated(%x: tensor<4x4xf32>) -> tensor<4x1xf32> {
  %w = "onnx.Constant"() {value = dense<[[0.34], [0.34], [0.0], [1.5]]> : tensor<4x1xf32>} : () -> tensor<4x1xf32>
  %y = "onnx.MatMul"(%x, %w) {kiln.activation_stats = {abs_max = dense<1.0> : tensor<4xf32>, abs_mean = dense<[1.0, 1.0, 0.5, 0.5]> : tensor<4xf32>, samples = dense<[[1.0, 1.0, 1.0, 0.0], [-1.0, -1.0, 0.0, 1.0], [1.0, 1.0, -1.0, 0.0], [-1.0, -1.0, 0.0, -1.0]]> : tensor<4x4xf32>}} : (tensor<4x4xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  return %y : tensor<4x1xf32>
}

// -----

// The Gram matrix of every calibration row, when the statistics keep one,
// is what GPTQ uses, not the sampled rows': here it says channels 0 and 1
// are independent, so nothing moves and channel 1 rounds to 3.
// CHECK-LABEL: func.func @gram
// CHECK: "onnx.Constant"() <{value = dense<{{\[\[}}3], [3], [0], [15]]> : tensor<4x1xui4>}>
func.func @gram(%x: tensor<4x4xf32>) -> tensor<4x1xf32> {
  %w = "onnx.Constant"() {value = dense<[[0.34], [0.34], [0.0], [1.5]]> : tensor<4x1xf32>} : () -> tensor<4x1xf32>
  %y = "onnx.MatMul"(%x, %w) {kiln.activation_stats = {abs_max = dense<1.0> : tensor<4xf32>, abs_mean = dense<[1.0, 1.0, 0.5, 0.5]> : tensor<4xf32>, samples = dense<[[1.0, 1.0, 1.0, 0.0], [-1.0, -1.0, 0.0, 1.0], [1.0, 1.0, -1.0, 0.0], [-1.0, -1.0, 0.0, -1.0]]> : tensor<4x4xf32>, gram = dense<[[4.0, 0.0, 0.0, 0.0], [0.0, 4.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 2.0]]> : tensor<4x4xf32>}} : (tensor<4x4xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  return %y : tensor<4x1xf32>
}

// -----

// The order matters when the channels differ in energy: channel 1's
// activations are twice channel 0's, so the Gram matrix's diagonal is
// [4, 16, 2, 2] and activation order rounds channel 1 first: 0.34 to 0.3
// costs 0.08 of output per row, which channel 0 takes back (0.34 +
// 0.04 * 8 / 4.06 = 0.419, rounded to 0.4): [4, 3], output off by 0.02.
// In channel order, channel 0 goes first (to 0.3) and channel 1 takes
// half its error (0.34 + 0.04 * 8 / 16.06 = 0.360, rounded to 0.4):
// [3, 4], off by 0.08.
// CHECK-LABEL: func.func @energy
// CHECK: "onnx.Constant"() <{value = dense<{{\[\[}}4], [3], [0], [15]]> : tensor<4x1xui4>}>
// INORDER-LABEL: func.func @energy
// INORDER: "onnx.Constant"() <{value = dense<{{\[\[}}3], [4], [0], [15]]> : tensor<4x1xui4>}>
func.func @energy(%x: tensor<4x4xf32>) -> tensor<4x1xf32> {
  %w = "onnx.Constant"() {value = dense<[[0.34], [0.34], [0.0], [1.5]]> : tensor<4x1xf32>} : () -> tensor<4x1xf32>
  %y = "onnx.MatMul"(%x, %w) {kiln.activation_stats = {abs_max = dense<[1.0, 2.0, 1.0, 1.0]> : tensor<4xf32>, abs_mean = dense<[1.0, 2.0, 0.5, 0.5]> : tensor<4xf32>, samples = dense<[[1.0, 2.0, 1.0, 0.0], [-1.0, -2.0, 0.0, 1.0], [1.0, 2.0, -1.0, 0.0], [-1.0, -2.0, 0.0, -1.0]]> : tensor<4x4xf32>}} : (tensor<4x4xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  return %y : tensor<4x1xf32>
}

// -----

// A gated MLP: down's scales (a = 1/2 on the grid {0, 1/2} as in awq.mlir)
// fold into up's columns, which GPTQ's rounding of up must see: the
// rounding comes after every group's scales are folded, so both weights
// end quantized and no explicit Mul by 1/s is left before down.
// FOLD-LABEL: func.func @fold
// FOLD: kiln.dequantize {{.*}} -> tensor<4x4xf32>
// FOLD: %[[U:.*]] = "onnx.MatMul"(%arg0, %{{.*}})
// FOLD: %[[H:.*]] = "onnx.Mul"(%arg1, %[[U]])
// FOLD-NOT: "onnx.Mul"
// FOLD: %[[W:.*]] = kiln.dequantize {{.*}} -> tensor<4x1xf32>
// FOLD-NOT: "onnx.Mul"
// FOLD: "onnx.MatMul"(%[[H]], %[[W]])
func.func @fold(%x: tensor<4x4xf32>, %gate: tensor<4x4xf32>) -> tensor<4x1xf32> {
  %up = "onnx.Constant"() {value = dense<[[1.0, 0.5, -1.0, 2.0], [2.0, -0.5, 1.0, 0.25], [0.5, 1.5, -0.75, 1.0], [-1.0, 0.25, 0.5, -2.0]]> : tensor<4x4xf32>} : () -> tensor<4x4xf32>
  %u = "onnx.MatMul"(%x, %up) {kiln.activation_stats = {abs_max = dense<1.0> : tensor<4xf32>, abs_mean = dense<1.0> : tensor<4xf32>, samples = dense<[[1.0, 1.0, 1.0, -1.0], [-1.0, 1.0, -1.0, 1.0], [1.0, -1.0, 1.0, 1.0], [-1.0, -1.0, 1.0, -1.0]]> : tensor<4x4xf32>}} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %h = "onnx.Mul"(%gate, %u) : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %w = "onnx.Constant"() {value = dense<[[0.13], [0.5], [-0.31], [0.23]]> : tensor<4x1xf32>} : () -> tensor<4x1xf32>
  %y = "onnx.MatMul"(%h, %w) {kiln.activation_stats = {abs_max = dense<[8.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, abs_mean = dense<[4.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, samples = dense<[[4.0, 1.0, -1.0, 1.0], [-4.0, 1.0, 1.0, -1.0], [4.0, -1.0, 1.0, 1.0], [-4.0, -1.0, -1.0, 1.0]]> : tensor<4x4xf32>}} : (tensor<4x4xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  return %y : tensor<4x1xf32>
}
