// RUN: kiln-opt %s -split-input-file -kiln-quant-awq="group-size=4 grid=2 clip=false" | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-quant-awq="group-size=4 grid=1" | FileCheck %s --check-prefix=CLIP
// RUN: kiln-opt %s -split-input-file -kiln-quant-awq="group-size=4 grid=2 clip=false rounding=gptq" | FileCheck %s --check-prefix=GPTQ

// The scale search with exponents {0, 1/2}, by hand: channel 0's mean
// |x| is 4, the others' 1, so a = 1/2 gives s = [2, 1, 1, 1] /
// sqrt(2 * 1) = [1.41421, 0.707107, 0.707107, 0.707107]. Channel 0's
// weight (0.13) sits inside its group's range and its activations are
// four times the others': quantized as it is (a = 0) its output error
// on the four rows is 0.0368, scaled 0.00125, so a = 1/2 wins. The weight
// becomes s * w = [0.183848, 0.353553, -0.219203, 0.162635] and the
// normalization's scale 2 becomes 2 / s = [1.41421, 2.82843, 2.82843,
// 2.82843]; the statistics are gone.
// CHECK-LABEL: func.func @norm
// CHECK: %[[G:.*]] = "onnx.Constant"() <{value = dense<[1.41421354, 2.82842708, 2.82842708, 2.82842708]> : tensor<4xf32>}>
// CHECK: %[[N:.*]] = "onnx.Mul"(%arg0, %[[G]])
// CHECK: %[[W:.*]] = "onnx.Constant"() <{value = dense<{{\[\[}}0.183847755], [0.353553385], [-0.2192031], [0.162634566]]> : tensor<4x1xf32>}>
// CHECK: "onnx.MatMul"(%[[N]], %[[W]])
// CHECK-NOT: kiln.activation_stats
// CLIP-LABEL: func.func @norm
// CLIP-NOT: kiln.activation_stats
func.func @norm(%x: tensor<4x4xf32>) -> tensor<4x1xf32> {
  %g = "onnx.Constant"() {value = dense<[2.0, 2.0, 2.0, 2.0]> : tensor<4xf32>} : () -> tensor<4xf32>
  %n = "onnx.Mul"(%x, %g) : (tensor<4x4xf32>, tensor<4xf32>) -> tensor<4x4xf32>
  %w = "onnx.Constant"() {value = dense<[[0.13], [0.5], [-0.31], [0.23]]> : tensor<4x1xf32>} : () -> tensor<4x1xf32>
  %y = "onnx.MatMul"(%n, %w) {kiln.activation_stats = {abs_max = dense<[8.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, abs_mean = dense<[4.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, samples = dense<[[4.0, 1.0, -1.0, 1.0], [-4.0, 1.0, 1.0, -1.0], [4.0, -1.0, 1.0, 1.0], [-4.0, -1.0, -1.0, 1.0]]> : tensor<4x4xf32>}} : (tensor<4x4xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  return %y : tensor<4x1xf32>
}

// -----

// Nothing produces the input that could absorb 1/s (a function argument):
// an explicit Mul by 1/s = [0.707107, 1.41421, 1.41421, 1.41421].
// CHECK-LABEL: func.func @explicit
// CHECK: %[[S:.*]] = "onnx.Constant"() <{value = dense<[0.707106769, 1.41421354, 1.41421354, 1.41421354]> : tensor<4xf32>}>
// CHECK: %[[X:.*]] = "onnx.Mul"(%arg0, %[[S]])
// CHECK: %[[W:.*]] = "onnx.Constant"() <{value = dense<{{\[\[}}0.183847755], [0.353553385], [-0.2192031], [0.162634566]]>
// CHECK: "onnx.MatMul"(%[[X]], %[[W]])
func.func @explicit(%x: tensor<4x4xf32>) -> tensor<4x1xf32> {
  %w = "onnx.Constant"() {value = dense<[[0.13], [0.5], [-0.31], [0.23]]> : tensor<4x1xf32>} : () -> tensor<4x1xf32>
  %y = "onnx.MatMul"(%x, %w) {kiln.activation_stats = {abs_max = dense<[8.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, abs_mean = dense<[4.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, samples = dense<[[4.0, 1.0, -1.0, 1.0], [-4.0, 1.0, 1.0, -1.0], [4.0, -1.0, 1.0, 1.0], [-4.0, -1.0, -1.0, 1.0]]> : tensor<4x4xf32>}} : (tensor<4x4xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  return %y : tensor<4x1xf32>
}

// -----

// A gated MLP's down projection: its input is gate * up, so 1/s folds
// into the columns of up's weight (1 and 2 divided by s).
// CHECK-LABEL: func.func @up
// CHECK: %[[UP:.*]] = "onnx.Constant"() <{value = dense<{{\[\[}}0.707106769, 1.41421354, 1.41421354, 1.41421354], [1.41421354, 2.82842708, 2.82842708, 2.82842708]]> : tensor<2x4xf32>}>
// CHECK: %[[U:.*]] = "onnx.MatMul"(%arg0, %[[UP]])
// CHECK: %[[H:.*]] = "onnx.Mul"(%arg1, %[[U]])
// CHECK: "onnx.MatMul"(%[[H]], %{{.*}})
func.func @up(%x: tensor<4x2xf32>, %gate: tensor<4x4xf32>) -> tensor<4x1xf32> {
  %up = "onnx.Constant"() {value = dense<[[1.0, 1.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0]]> : tensor<2x4xf32>} : () -> tensor<2x4xf32>
  %u = "onnx.MatMul"(%x, %up) : (tensor<4x2xf32>, tensor<2x4xf32>) -> tensor<4x4xf32>
  %h = "onnx.Mul"(%gate, %u) : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %w = "onnx.Constant"() {value = dense<[[0.13], [0.5], [-0.31], [0.23]]> : tensor<4x1xf32>} : () -> tensor<4x1xf32>
  %y = "onnx.MatMul"(%h, %w) {kiln.activation_stats = {abs_max = dense<[8.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, abs_mean = dense<[4.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, samples = dense<[[4.0, 1.0, -1.0, 1.0], [-4.0, 1.0, 1.0, -1.0], [4.0, -1.0, 1.0, 1.0], [-4.0, -1.0, -1.0, 1.0]]> : tensor<4x4xf32>}} : (tensor<4x4xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  return %y : tensor<4x1xf32>
}

// -----

// The clipping search alone (grid 1: no scales): channel 3 never fires,
// so its outlier weight 10 only widens the group's range; the narrowest
// candidate, 0.55 * 10 = 5.5, quantizes the other three best.
// CLIP-LABEL: func.func @clip
// CLIP: %[[W:.*]] = "onnx.Constant"() <{value = dense<{{\[\[}}1.000000e+00], [1.000000e-01], [2.000000e-01], [5.500000e+00]]> : tensor<4x1xf32>}>
// CLIP: "onnx.MatMul"(%arg0, %[[W]])
func.func @clip(%x: tensor<4x4xf32>) -> tensor<4x1xf32> {
  %w = "onnx.Constant"() {value = dense<[[1.0], [0.1], [0.2], [10.0]]> : tensor<4x1xf32>} : () -> tensor<4x1xf32>
  %y = "onnx.MatMul"(%x, %w) {kiln.activation_stats = {abs_max = dense<[1.0, 1.0, 1.0, 0.0]> : tensor<4xf32>, abs_mean = dense<[1.0, 1.0, 1.0, 0.0]> : tensor<4xf32>, samples = dense<[[1.0, 1.0, -1.0, 0.0], [-1.0, 1.0, 1.0, 0.0], [1.0, -1.0, 1.0, 0.0], [-1.0, -1.0, -1.0, 0.0]]> : tensor<4x4xf32>}} : (tensor<4x4xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  return %y : tensor<4x1xf32>
}

// -----

// Queries and keys are not clipped (their scores, not their own outputs,
// are what matters); values are: the three products share the clip
// case's weight and input, and only v's outlier becomes 5.5. The scores
// Q K^T reach a Softmax, the values' product comes after it.
// CLIP-LABEL: func.func @attention
// CLIP: %[[WQ:.*]] = "onnx.Constant"() <{value = dense<{{\[\[}}1.000000e+00], [1.000000e-01], [2.000000e-01], [1.000000e+01]]> : tensor<4x1xf32>}>
// CLIP: %[[WK:.*]] = "onnx.Constant"() <{value = dense<{{\[\[}}1.000000e+00], [1.000000e-01], [2.000000e-01], [1.000000e+01]]> : tensor<4x1xf32>}>
// CLIP: %[[Q:.*]] = "onnx.MatMul"(%arg0, %[[WQ]])
// CLIP: %[[K:.*]] = "onnx.MatMul"(%arg0, %[[WK]])
// CLIP: %[[WV:.*]] = "onnx.Constant"() <{value = dense<{{\[\[}}1.000000e+00], [1.000000e-01], [2.000000e-01], [5.500000e+00]]> : tensor<4x1xf32>}>
// CLIP: %[[V:.*]] = "onnx.MatMul"(%arg0, %[[WV]])
// CLIP: "onnx.MatMul"(%{{.*}}, %[[V]])
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

// -----

// A gated MLP's gate and up projections are held to the MLP's output,
// silu(gate) * up times the down projection, not to their own outputs.
// With the norm case's input and weights for both, their own outputs pick
// a = 1/2 (as @norm); the down projection here is zero, so every scale
// gives the MLP the same output, and the first candidate, a = 0 (no
// scaling), stays: the normalization's scale and the weights are as they
// were.
// CHECK-LABEL: func.func @gated_mlp
// CHECK: %[[G:.*]] = "onnx.Constant"() <{value = dense<2.000000e+00> : tensor<4xf32>}>
// CHECK: %[[N:.*]] = "onnx.Mul"(%arg0, %[[G]])
// CHECK: %[[W:.*]] = "onnx.Constant"() <{value = dense<{{\[\[}}1.300000e-01], [5.000000e-01], [-3.100000e-01], [2.300000e-01]]> : tensor<4x1xf32>}>
// CHECK: "onnx.MatMul"(%[[N]], %[[W]])
// CHECK: "onnx.MatMul"(%[[N]], %[[W]])
// Before GPTQ's rounding the search keeps to the products' own outputs:
// a = 1/2, as without the MLP.
// GPTQ-LABEL: func.func @gated_mlp
// GPTQ: "onnx.Constant"() <{value = dense<[1.41421354, 2.82842708, 2.82842708, 2.82842708]> : tensor<4xf32>}>
// The same products whose results are returned as they are take a = 1/2.
// CHECK-LABEL: func.func @not_gated
// CHECK: "onnx.Constant"() <{value = dense<[1.41421354, 2.82842708, 2.82842708, 2.82842708]> : tensor<4xf32>}>
func.func @gated_mlp(%x: tensor<4x4xf32>) -> tensor<4x1xf32> {
  %g = "onnx.Constant"() {value = dense<[2.0, 2.0, 2.0, 2.0]> : tensor<4xf32>} : () -> tensor<4xf32>
  %n = "onnx.Mul"(%x, %g) : (tensor<4x4xf32>, tensor<4xf32>) -> tensor<4x4xf32>
  %w = "onnx.Constant"() {value = dense<[[0.13], [0.5], [-0.31], [0.23]]> : tensor<4x1xf32>} : () -> tensor<4x1xf32>
  %gate = "onnx.MatMul"(%n, %w) {kiln.activation_stats = {abs_max = dense<[8.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, abs_mean = dense<[4.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, samples = dense<[[4.0, 1.0, -1.0, 1.0], [-4.0, 1.0, 1.0, -1.0], [4.0, -1.0, 1.0, 1.0], [-4.0, -1.0, -1.0, 1.0]]> : tensor<4x4xf32>}} : (tensor<4x4xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  %up = "onnx.MatMul"(%n, %w) {kiln.activation_stats = {abs_max = dense<[8.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, abs_mean = dense<[4.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, samples = dense<[[4.0, 1.0, -1.0, 1.0], [-4.0, 1.0, 1.0, -1.0], [4.0, -1.0, 1.0, 1.0], [-4.0, -1.0, -1.0, 1.0]]> : tensor<4x4xf32>}} : (tensor<4x4xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  %sigmoid = "onnx.Sigmoid"(%gate) : (tensor<4x1xf32>) -> tensor<4x1xf32>
  %silu = "onnx.Mul"(%gate, %sigmoid) : (tensor<4x1xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  %h = "onnx.Mul"(%silu, %up) : (tensor<4x1xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  %down = "onnx.Constant"() {value = dense<0.0> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %y = "onnx.MatMul"(%h, %down) : (tensor<4x1xf32>, tensor<1x1xf32>) -> tensor<4x1xf32>
  return %y : tensor<4x1xf32>
}
func.func @not_gated(%x: tensor<4x4xf32>) -> (tensor<4x1xf32>, tensor<4x1xf32>) {
  %g = "onnx.Constant"() {value = dense<[2.0, 2.0, 2.0, 2.0]> : tensor<4xf32>} : () -> tensor<4xf32>
  %n = "onnx.Mul"(%x, %g) : (tensor<4x4xf32>, tensor<4xf32>) -> tensor<4x4xf32>
  %w = "onnx.Constant"() {value = dense<[[0.13], [0.5], [-0.31], [0.23]]> : tensor<4x1xf32>} : () -> tensor<4x1xf32>
  %gate = "onnx.MatMul"(%n, %w) {kiln.activation_stats = {abs_max = dense<[8.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, abs_mean = dense<[4.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, samples = dense<[[4.0, 1.0, -1.0, 1.0], [-4.0, 1.0, 1.0, -1.0], [4.0, -1.0, 1.0, 1.0], [-4.0, -1.0, -1.0, 1.0]]> : tensor<4x4xf32>}} : (tensor<4x4xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  %up = "onnx.MatMul"(%n, %w) {kiln.activation_stats = {abs_max = dense<[8.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, abs_mean = dense<[4.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, samples = dense<[[4.0, 1.0, -1.0, 1.0], [-4.0, 1.0, 1.0, -1.0], [4.0, -1.0, 1.0, 1.0], [-4.0, -1.0, -1.0, 1.0]]> : tensor<4x4xf32>}} : (tensor<4x4xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  return %gate, %up : tensor<4x1xf32>, tensor<4x1xf32>
}
