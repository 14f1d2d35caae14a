// RUN: kiln-opt %s -split-input-file -kiln-quant-rotate-keys -verify-diagnostics | FileCheck %s

// A key cache of head size 4: the keys written (here through
// kiln.pack_kv4, the 4-bit cache's encoding) and the scores' queries are
// each multiplied by the normalized Hadamard matrix of order 4, entries
// +-1/2 with (i, j)'s sign (-1)^popcount(i & j): rows [1, 1, 1, 1],
// [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1], halved (0.5 is
// 0x3F000000, little-endian after the blob's alignment header).
// CHECK-LABEL: func.func @pack_kv4
// CHECK: %[[H:.*]] = "onnx.Constant"() <{value = dense_resource<[[ROTATION:.*]]> : tensor<4x4xf32>}>
// CHECK: %[[QR:.*]] = "onnx.Reshape"({{.*}} : (tensor<2x8xf32>, tensor<4xi64>) -> tensor<1x1x4x4xf32>
// CHECK: %[[KR:.*]] = "onnx.Reshape"({{.*}} : (tensor<2x4xf32>, tensor<4xi64>) -> tensor<1x1x2x4xf32>
// CHECK: %[[ROTATED_K:.*]] = "onnx.MatMul"(%[[KR]], %[[H]]) : (tensor<1x1x2x4xf32>, tensor<4x4xf32>) -> tensor<1x1x2x4xf32>
// CHECK: kiln.pack_kv4 %[[ROTATED_K]]
// CHECK: %[[ROTATED_Q:.*]] = "onnx.MatMul"(%[[QR]], %[[H]]) : (tensor<1x1x4x4xf32>, tensor<4x4xf32>) -> tensor<1x1x4x4xf32>
// CHECK: "onnx.MatMul"(%[[ROTATED_Q]], %{{.*}}) : (tensor<1x1x4x4xf32>, tensor<1x1x4x2xf32>) -> tensor<1x1x4x2xf32>
// CHECK: [[ROTATION]]: "0x400000000000003F0000003F0000003F0000003F0000003F000000BF0000003F000000BF0000003F0000003F000000BF000000BF0000003F000000BF000000BF0000003F"
func.func @pack_kv4(%x: tensor<2x4xf32>, %state: tensor<1x1x8x6xi8> {kiln.kv_cache_state = {past = "past.key", present = "present.key"}}) -> tensor<1x1x4x2xf32> {
  %wq = "onnx.Constant"() {value = dense<1.0> : tensor<4x8xf32>} : () -> tensor<4x8xf32>
  %wk = "onnx.Constant"() {value = dense<0.5> : tensor<4x4xf32>} : () -> tensor<4x4xf32>
  %q = "onnx.MatMul"(%x, %wq) : (tensor<2x4xf32>, tensor<4x8xf32>) -> tensor<2x8xf32>
  %k = "onnx.MatMul"(%x, %wk) : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  %qshape = "onnx.Constant"() {value = dense<[1, 1, 4, 4]> : tensor<4xi64>} : () -> tensor<4xi64>
  %kshape = "onnx.Constant"() {value = dense<[1, 1, 2, 4]> : tensor<4xi64>} : () -> tensor<4xi64>
  %qr = "onnx.Reshape"(%q, %qshape) : (tensor<2x8xf32>, tensor<4xi64>) -> tensor<1x1x4x4xf32>
  %kr = "onnx.Reshape"(%k, %kshape) : (tensor<2x4xf32>, tensor<4xi64>) -> tensor<1x1x2x4xf32>
  %packed = kiln.pack_kv4 %kr : tensor<1x1x2x4xf32> -> tensor<1x1x2x6xi8>
  %updated = tensor.insert_slice %packed into %state[0, 0, 0, 0] [1, 1, 2, 6] [1, 1, 1, 1] : tensor<1x1x2x6xi8> into tensor<1x1x8x6xi8>
  %rows = tensor.extract_slice %updated[0, 0, 0, 0] [1, 1, 2, 6] [1, 1, 1, 1] : tensor<1x1x8x6xi8> to tensor<1x1x2x6xi8>
  %keys = kiln.unpack_kv4 %rows : tensor<1x1x2x6xi8> -> tensor<1x1x2x4xf32>
  %kt = "onnx.Transpose"(%keys) {perm = [0, 1, 3, 2]} : (tensor<1x1x2x4xf32>) -> tensor<1x1x4x2xf32>
  %scores = "onnx.MatMul"(%qr, %kt) : (tensor<1x1x4x4xf32>, tensor<1x1x4x2xf32>) -> tensor<1x1x4x2xf32>
  return %scores : tensor<1x1x4x2xf32>
}

// -----

// An f32 cache: the rotated keys are what the state is written with.
// CHECK-LABEL: func.func @f32_cache
// CHECK: %[[ROTATED_K:.*]] = "onnx.MatMul"(%{{.*}}, %[[H:.*]]) : (tensor<1x1x2x4xf32>, tensor<4x4xf32>) -> tensor<1x1x2x4xf32>
// CHECK: tensor.insert_slice %[[ROTATED_K]] into %arg1
func.func @f32_cache(%x: tensor<2x4xf32>, %state: tensor<1x1x8x4xf32> {kiln.kv_cache_state = {past = "past.key", present = "present.key"}}) -> tensor<1x1x4x2xf32> {
  %wq = "onnx.Constant"() {value = dense<1.0> : tensor<4x8xf32>} : () -> tensor<4x8xf32>
  %wk = "onnx.Constant"() {value = dense<0.5> : tensor<4x4xf32>} : () -> tensor<4x4xf32>
  %q = "onnx.MatMul"(%x, %wq) : (tensor<2x4xf32>, tensor<4x8xf32>) -> tensor<2x8xf32>
  %k = "onnx.MatMul"(%x, %wk) : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
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

// -----

// A head size that is no power of two (6) is left alone, with a warning.
// CHECK-LABEL: func.func @head_of_six
// CHECK-NOT: key_rotation
func.func @head_of_six(%x: tensor<2x6xf32>, %state: tensor<1x1x8x6xf32> {kiln.kv_cache_state = {past = "past.key", present = "present.key"}}) -> tensor<1x1x4x2xf32> {
  // expected-warning@-1 {{no keys to rotate}}
  %wq = "onnx.Constant"() {value = dense<1.0> : tensor<6x24xf32>} : () -> tensor<6x24xf32>
  %wk = "onnx.Constant"() {value = dense<0.5> : tensor<6x6xf32>} : () -> tensor<6x6xf32>
  %q = "onnx.MatMul"(%x, %wq) : (tensor<2x6xf32>, tensor<6x24xf32>) -> tensor<2x24xf32>
  %k = "onnx.MatMul"(%x, %wk) : (tensor<2x6xf32>, tensor<6x6xf32>) -> tensor<2x6xf32>
  %qshape = "onnx.Constant"() {value = dense<[1, 1, 4, 6]> : tensor<4xi64>} : () -> tensor<4xi64>
  %kshape = "onnx.Constant"() {value = dense<[1, 1, 2, 6]> : tensor<4xi64>} : () -> tensor<4xi64>
  %qr = "onnx.Reshape"(%q, %qshape) : (tensor<2x24xf32>, tensor<4xi64>) -> tensor<1x1x4x6xf32>
  %kr = "onnx.Reshape"(%k, %kshape) : (tensor<2x6xf32>, tensor<4xi64>) -> tensor<1x1x2x6xf32>
  %updated = tensor.insert_slice %kr into %state[0, 0, 0, 0] [1, 1, 2, 6] [1, 1, 1, 1] : tensor<1x1x2x6xf32> into tensor<1x1x8x6xf32>
  %keys = tensor.extract_slice %updated[0, 0, 0, 0] [1, 1, 2, 6] [1, 1, 1, 1] : tensor<1x1x8x6xf32> to tensor<1x1x2x6xf32>
  %kt = "onnx.Transpose"(%keys) {perm = [0, 1, 3, 2]} : (tensor<1x1x2x6xf32>) -> tensor<1x1x6x2xf32>
  %scores = "onnx.MatMul"(%qr, %kt) : (tensor<1x1x4x6xf32>, tensor<1x1x6x2xf32>) -> tensor<1x1x4x2xf32>
  return %scores : tensor<1x1x4x2xf32>
}
