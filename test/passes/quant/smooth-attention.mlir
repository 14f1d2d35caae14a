// RUN: kiln-opt %s -split-input-file -kiln-quant-smooth-attention | FileCheck %s

// One key head of size 4 read by two query heads (grouped). The key
// projection's calibration rows give keys [4, 0, 0, 0] and [0, 1, 0, 0]:
// the RoPE pair (0, 2) reaches a norm of 4, the pair (1, 3) of 1, so with
// alpha 0.5 lambda = [2, 1, 2, 1]. The key projection's columns are
// divided by it (diag(4, 1, 1, 1) -> diag(2, 1, 0.5, 1)), both query
// heads' columns multiplied (ones -> [2, 1, 2, 1, 2, 1, 2, 1]); the
// statistics stay for the quantization, the keys' mean as the cache
// received them divided alike ([4, 2, 6, 1] -> [2, 2, 3, 1]).
// CHECK-LABEL: func.func @attention
// CHECK: %[[WQ:.*]] = "onnx.Constant"() <{value = dense<{{\[\[}}2.000000e+00, 1.000000e+00, 2.000000e+00, 1.000000e+00, 2.000000e+00, 1.000000e+00, 2.000000e+00, 1.000000e+00], {{.*}} : tensor<4x8xf32>}>
// CHECK: "onnx.MatMul"(%arg0, %[[WQ]])
// CHECK: %[[WK:.*]] = "onnx.Constant"() <{value = dense<{{\[\[}}2.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 1.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00, 5.000000e-01, 0.000000e+00], [0.000000e+00, 0.000000e+00, 0.000000e+00, 1.000000e+00]]> : tensor<4x4xf32>}>
// CHECK: "onnx.MatMul"(%arg0, %[[WK]]) {kiln.activation_stats = {{{.*}}cache_mean = dense<[2.000000e+00, 2.000000e+00, 3.000000e+00, 1.000000e+00]> : tensor<4xf32>
func.func @attention(%x: tensor<2x4xf32>, %state: tensor<1x1x8x4xf32> {kiln.kv_cache_state = {past = "past.key", present = "present.key"}}) -> tensor<1x1x4x2xf32> {
  %wq = "onnx.Constant"() {value = dense<1.0> : tensor<4x8xf32>} : () -> tensor<4x8xf32>
  %wk = "onnx.Constant"() {value = dense<[[4.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>} : () -> tensor<4x4xf32>
  %q = "onnx.MatMul"(%x, %wq) : (tensor<2x4xf32>, tensor<4x8xf32>) -> tensor<2x8xf32>
  %k = "onnx.MatMul"(%x, %wk) {kiln.activation_stats = {abs_max = dense<1.0> : tensor<4xf32>, abs_mean = dense<0.25> : tensor<4xf32>, cache_mean = dense<[4.0, 2.0, 6.0, 1.0]> : tensor<4xf32>, samples = dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]]> : tensor<2x4xf32>}} : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  %qshape = "onnx.Constant"() {value = dense<[1, 1, 4, 4]> : tensor<4xi64>} : () -> tensor<4xi64>
  %kshape = "onnx.Constant"() {value = dense<[1, 1, 2, 4]> : tensor<4xi64>} : () -> tensor<4xi64>
  %qr = "onnx.Reshape"(%q, %qshape) : (tensor<2x8xf32>, tensor<4xi64>) -> tensor<1x1x4x4xf32>
  %kr = "onnx.Reshape"(%k, %kshape) : (tensor<2x4xf32>, tensor<4xi64>) -> tensor<1x1x2x4xf32>
  %updated = tensor.insert_slice %kr into %state[0, 0, 0, 0] [1, 1, 2, 4] [1, 1, 1, 1] : tensor<1x1x2x4xf32> into tensor<1x1x8x4xf32>
  %keys = tensor.extract_slice %updated[0, 0, 0, 0] [1, 1, 2, 4] [1, 1, 1, 1] : tensor<1x1x8x4xf32> to tensor<1x1x2x4xf32>
  %kt = "onnx.Transpose"(%keys) {perm = [0, 1, 3, 2]} : (tensor<1x1x2x4xf32>) -> tensor<1x1x4x2xf32>
  %scores = "onnx.MatMul"(%qr, %kt) : (tensor<1x1x4x4xf32>, tensor<1x1x4x2xf32>) -> tensor<1x1x4x2xf32>
  return %scores : tensor<1x1x4x2xf32>
}
