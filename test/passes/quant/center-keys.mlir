// RUN: kiln-opt %s -split-input-file -kiln-quant-center-keys -verify-diagnostics | FileCheck %s

// Two key heads of size 2, written into the session cache as
// [1, 2, tokens, 2]. The key projection's input has the mean [1, 2, 0, 1]
// over the calibration rows, so the mean keys are that row times the
// weight, column by column 1 * 1, 2 * 3, 1 * 2 (row 3) and 0: head 0
// [1, 6], head 1 [2, 0]. They are subtracted from the keys before the
// cache's write; the queries and the statistics stay.
// CHECK-LABEL: func.func @attention
// CHECK: %[[K:.*]] = "onnx.MatMul"(%arg0, %{{.*}}) {kiln.activation_stats
// CHECK: %[[KR:.*]] = "onnx.Reshape"(%[[K]]
// CHECK: %[[C:.*]] = "onnx.Constant"() <{value = dense_resource<key_center{{.*}}> : tensor<1x2x1x2xf32>}>
// CHECK: %[[CENTERED:.*]] = "onnx.Sub"(%[[KR]], %[[C]]) : (tensor<1x2x1x2xf32>, tensor<1x2x1x2xf32>) -> tensor<1x2x1x2xf32>
// CHECK: tensor.insert_slice %[[CENTERED]] into %arg1
// CHECK: key_center{{.*}}: "0x400000000000803F0000C0400000004000000000"
func.func @attention(%x: tensor<1x4xf32>, %state: tensor<1x2x8x2xf32> {kiln.kv_cache_state = {past = "past.key", present = "present.key"}}) -> tensor<1x2x1x1xf32> {
  %wq = "onnx.Constant"() {value = dense<1.0> : tensor<4x4xf32>} : () -> tensor<4x4xf32>
  %wk = "onnx.Constant"() {value = dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 3.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0]]> : tensor<4x4xf32>} : () -> tensor<4x4xf32>
  %q = "onnx.MatMul"(%x, %wq) : (tensor<1x4xf32>, tensor<4x4xf32>) -> tensor<1x4xf32>
  %k = "onnx.MatMul"(%x, %wk) {kiln.activation_stats = {abs_max = dense<2.0> : tensor<4xf32>, abs_mean = dense<1.0> : tensor<4xf32>, mean = dense<[1.0, 2.0, 0.0, 1.0]> : tensor<4xf32>, samples = dense<1.0> : tensor<2x4xf32>}} : (tensor<1x4xf32>, tensor<4x4xf32>) -> tensor<1x4xf32>
  %shape = "onnx.Constant"() {value = dense<[1, 2, 1, 2]> : tensor<4xi64>} : () -> tensor<4xi64>
  %qr = "onnx.Reshape"(%q, %shape) : (tensor<1x4xf32>, tensor<4xi64>) -> tensor<1x2x1x2xf32>
  %kr = "onnx.Reshape"(%k, %shape) : (tensor<1x4xf32>, tensor<4xi64>) -> tensor<1x2x1x2xf32>
  %updated = tensor.insert_slice %kr into %state[0, 0, 0, 0] [1, 2, 1, 2] [1, 1, 1, 1] : tensor<1x2x1x2xf32> into tensor<1x2x8x2xf32>
  %keys = tensor.extract_slice %updated[0, 0, 0, 0] [1, 2, 1, 2] [1, 1, 1, 1] : tensor<1x2x8x2xf32> to tensor<1x2x1x2xf32>
  %kt = "onnx.Transpose"(%keys) {perm = [0, 1, 3, 2]} : (tensor<1x2x1x2xf32>) -> tensor<1x2x2x1xf32>
  %scores = "onnx.MatMul"(%qr, %kt) : (tensor<1x2x1x2xf32>, tensor<1x2x2x1xf32>) -> tensor<1x2x1x1xf32>
  return %scores : tensor<1x2x1x1xf32>
}

// -----

// Statistics without the mean (a calibration cache of the first format):
// nothing to center, a warning, the keys as they are.
// CHECK-LABEL: func.func @no_mean
// CHECK-NOT: onnx.Sub
// expected-warning@+1 {{no keys to center}}
func.func @no_mean(%x: tensor<1x4xf32>, %state: tensor<1x2x8x2xf32> {kiln.kv_cache_state = {past = "past.key", present = "present.key"}}) -> tensor<1x2x1x1xf32> {
  %wq = "onnx.Constant"() {value = dense<1.0> : tensor<4x4xf32>} : () -> tensor<4x4xf32>
  %wk = "onnx.Constant"() {value = dense<1.0> : tensor<4x4xf32>} : () -> tensor<4x4xf32>
  %q = "onnx.MatMul"(%x, %wq) : (tensor<1x4xf32>, tensor<4x4xf32>) -> tensor<1x4xf32>
  %k = "onnx.MatMul"(%x, %wk) {kiln.activation_stats = {abs_max = dense<2.0> : tensor<4xf32>, abs_mean = dense<1.0> : tensor<4xf32>, samples = dense<1.0> : tensor<2x4xf32>}} : (tensor<1x4xf32>, tensor<4x4xf32>) -> tensor<1x4xf32>
  %shape = "onnx.Constant"() {value = dense<[1, 2, 1, 2]> : tensor<4xi64>} : () -> tensor<4xi64>
  %qr = "onnx.Reshape"(%q, %shape) : (tensor<1x4xf32>, tensor<4xi64>) -> tensor<1x2x1x2xf32>
  %kr = "onnx.Reshape"(%k, %shape) : (tensor<1x4xf32>, tensor<4xi64>) -> tensor<1x2x1x2xf32>
  %updated = tensor.insert_slice %kr into %state[0, 0, 0, 0] [1, 2, 1, 2] [1, 1, 1, 1] : tensor<1x2x1x2xf32> into tensor<1x2x8x2xf32>
  %keys = tensor.extract_slice %updated[0, 0, 0, 0] [1, 2, 1, 2] [1, 1, 1, 1] : tensor<1x2x8x2xf32> to tensor<1x2x1x2xf32>
  %kt = "onnx.Transpose"(%keys) {perm = [0, 1, 3, 2]} : (tensor<1x2x1x2xf32>) -> tensor<1x2x2x1xf32>
  %scores = "onnx.MatMul"(%qr, %kt) : (tensor<1x2x1x2xf32>, tensor<1x2x2x1xf32>) -> tensor<1x2x1x1xf32>
  return %scores : tensor<1x2x1x1xf32>
}

// -----

// With the mean of the keys as the cache received them in calibration
// (`cache_mean`, after RoPE: [0.5, -1] for head 0, [2, 0.25] for head 1),
// that is the offset, not the projection's mean input times its weight.
// CHECK-LABEL: func.func @cache_mean
// CHECK: %[[C:.*]] = "onnx.Constant"() <{value = dense_resource<key_center{{.*}}> : tensor<1x2x1x2xf32>}>
// CHECK: "onnx.Sub"(%{{.*}}, %[[C]])
// CHECK: key_center{{.*}}: "0x400000000000003F000080BF000000400000803E"
func.func @cache_mean(%x: tensor<1x4xf32>, %state: tensor<1x2x8x2xf32> {kiln.kv_cache_state = {past = "past.key", present = "present.key"}}) -> tensor<1x2x1x1xf32> {
  %wq = "onnx.Constant"() {value = dense<1.0> : tensor<4x4xf32>} : () -> tensor<4x4xf32>
  %wk = "onnx.Constant"() {value = dense<1.0> : tensor<4x4xf32>} : () -> tensor<4x4xf32>
  %q = "onnx.MatMul"(%x, %wq) : (tensor<1x4xf32>, tensor<4x4xf32>) -> tensor<1x4xf32>
  %k = "onnx.MatMul"(%x, %wk) {kiln.activation_stats = {abs_max = dense<2.0> : tensor<4xf32>, abs_mean = dense<1.0> : tensor<4xf32>, cache_mean = dense<[0.5, -1.0, 2.0, 0.25]> : tensor<4xf32>, mean = dense<[1.0, 2.0, 0.0, 1.0]> : tensor<4xf32>, samples = dense<1.0> : tensor<2x4xf32>}} : (tensor<1x4xf32>, tensor<4x4xf32>) -> tensor<1x4xf32>
  %shape = "onnx.Constant"() {value = dense<[1, 2, 1, 2]> : tensor<4xi64>} : () -> tensor<4xi64>
  %qr = "onnx.Reshape"(%q, %shape) : (tensor<1x4xf32>, tensor<4xi64>) -> tensor<1x2x1x2xf32>
  %kr = "onnx.Reshape"(%k, %shape) : (tensor<1x4xf32>, tensor<4xi64>) -> tensor<1x2x1x2xf32>
  %updated = tensor.insert_slice %kr into %state[0, 0, 0, 0] [1, 2, 1, 2] [1, 1, 1, 1] : tensor<1x2x1x2xf32> into tensor<1x2x8x2xf32>
  %keys = tensor.extract_slice %updated[0, 0, 0, 0] [1, 2, 1, 2] [1, 1, 1, 1] : tensor<1x2x8x2xf32> to tensor<1x2x1x2xf32>
  %kt = "onnx.Transpose"(%keys) {perm = [0, 1, 3, 2]} : (tensor<1x2x1x2xf32>) -> tensor<1x2x2x1xf32>
  %scores = "onnx.MatMul"(%qr, %kt) : (tensor<1x2x1x2xf32>, tensor<1x2x2x1xf32>) -> tensor<1x2x1x1xf32>
  return %scores : tensor<1x2x1x1xf32>
}
