// RUN: kiln-opt %s -split-input-file -kiln-quant-qoq="group-size=4 rounding=gptq scale-search=false" | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-quant-qoq="group-size=4 scale-search=false" | FileCheck %s --check-prefix=NEAREST

// GPTQ's rounding of QoQ's level 2, by hand. Level 1: s1 = 1 / 119, W8
// [119, 40, 40, -119]; the group's grid s2 = round(238 / 15) = 16, z =
// round(119 / 16) = 7. The rows make channels 1 and 2 equal (energy 1
// each) and independent of 0 and 3 (energy 4 each): the order is 0, 3, 1,
// 2. Channels 0 and 3 round to 14 and 0 (+-112) with nothing to pass on;
// channel 1, 40 / 16 = 2.5, rounds to even (level 9, 32) and its error 8
// moves onto channel 2 (8 / 1.025 with the damping): 47.8, level 10 (48).
// Round to nearest gives 9 and 9, 16 off on those rows; this, 8.
// CHECK-LABEL: func.func @compensation
// CHECK: "onnx.Constant"() <{value = dense<{{\[\[}}14], [9], [10], [0]]> : tensor<4x1xui4>}>
// CHECK: "onnx.Constant"() <{value = dense<1.600000e+01> : tensor<1x1xf16>}>
// CHECK: "onnx.Constant"() <{value = dense<7> : tensor<1x1xui4>}>
// CHECK-NOT: kiln.activation_stats
// NEAREST-LABEL: func.func @compensation
// NEAREST: "onnx.Constant"() <{value = dense<{{\[\[}}14], [9], [9], [0]]> : tensor<4x1xui4>}>
func.func @compensation(%x: tensor<4x4xf32>) -> tensor<4x1xf32> {
  %w = "onnx.Constant"() {value = dense<[[1.0], [0.336134464], [0.336134464], [-1.0]]> : tensor<4x1xf32>} : () -> tensor<4x1xf32>
  %y = "onnx.MatMul"(%x, %w) {kiln.activation_stats = {abs_max = dense<[1.0, 0.5, 0.5, 1.0]> : tensor<4xf32>, abs_mean = dense<[1.0, 0.5, 0.5, 1.0]> : tensor<4xf32>, samples = dense<[[1.0, 0.5, 0.5, 1.0], [-1.0, 0.5, 0.5, 1.0], [1.0, -0.5, -0.5, 1.0], [-1.0, -0.5, -0.5, 1.0]]> : tensor<4x4xf32>}} : (tensor<4x4xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  return %y : tensor<4x1xf32>
}

// -----

// The protective range under compensation: W8 [119, 119, -119, 0], the
// same grid (s2 16, z 7). Channels 0 and 1 are equal; channel 0 rounds
// to 14 (112) and passes its error 7 to channel 1 (7 x 4 / 4.0325):
// 125.9, which would round to level 15, (15 - 7) x 16 = 128, outside a
// signed byte. A group's levels stay between those of its own extremes
// (here 0 and 14), which the protective range keeps within [-128, 127].
// CHECK-LABEL: func.func @protective
// CHECK: "onnx.Constant"() <{value = dense<{{\[\[}}14], [14], [0], [7]]> : tensor<4x1xui4>}>
func.func @protective(%x: tensor<4x4xf32>) -> tensor<4x1xf32> {
  %w = "onnx.Constant"() {value = dense<[[1.0], [1.0], [-1.0], [0.0]]> : tensor<4x1xf32>} : () -> tensor<4x1xf32>
  %y = "onnx.MatMul"(%x, %w) {kiln.activation_stats = {abs_max = dense<[1.0, 1.0, 1.0, 0.5]> : tensor<4xf32>, abs_mean = dense<[1.0, 1.0, 1.0, 0.5]> : tensor<4xf32>, samples = dense<[[1.0, 1.0, 1.0, 0.5], [-1.0, -1.0, 1.0, -0.5], [1.0, 1.0, -1.0, -0.5], [-1.0, -1.0, -1.0, 0.5]]> : tensor<4x4xf32>}} : (tensor<4x4xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  return %y : tensor<4x1xf32>
}
