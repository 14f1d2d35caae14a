// RUN: kiln-opt %s -split-input-file -kiln-graph-grouped-query-heads | FileCheck %s

// Hugging Face's repeat_kv (Unsqueeze -> Expand -> Reshape to 4 heads) of 2
// KV heads, behind the keys' Transpose: the 2 query heads sharing a KV head
// become more rows of one product with the unrepeated, transposed keys,
// and the result is viewed back as 4 heads.
// CHECK-LABEL: func.func @scores
// CHECK-DAG: %[[ROWS:.*]] = "onnx.Constant"() <{value = dense<[0, 2, -1, 0]> : tensor<4xi64>}>
// CHECK-DAG: %[[HEADS:.*]] = "onnx.Constant"() <{value = dense<[0, 4, -1, 0]> : tensor<4xi64>}>
// CHECK: %[[Q:.*]] = "onnx.Reshape"(%arg0, %[[ROWS]])
// CHECK: %[[KT:.*]] = "onnx.Transpose"(%arg1) <{perm = [0, 1, 3, 2]}>
// CHECK: %[[P:.*]] = "onnx.MatMul"(%[[Q]], %[[KT]])
// CHECK: %[[S:.*]] = "onnx.Reshape"(%[[P]], %[[HEADS]]) {{.*}} -> tensor<?x4x?x?xf32>
// CHECK-NOT: onnx.Expand
// CHECK: return %[[S]]
func.func @scores(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>, %shape: tensor<5xi64>, %heads: tensor<4xi64>) -> tensor<?x4x?x?xf32> {
  %axis = "onnx.Constant"() {value = dense<2> : tensor<1xi64>} : () -> tensor<1xi64>
  %u = "onnx.Unsqueeze"(%k, %axis) : (tensor<?x2x?x16xf32>, tensor<1xi64>) -> tensor<?x2x1x?x16xf32>
  %e = "onnx.Expand"(%u, %shape) : (tensor<?x2x1x?x16xf32>, tensor<5xi64>) -> tensor<?x2x?x?x16xf32>
  %r = "onnx.Reshape"(%e, %heads) : (tensor<?x2x?x?x16xf32>, tensor<4xi64>) -> tensor<?x4x?x16xf32>
  %kt = "onnx.Transpose"(%r) {perm = [0, 1, 3, 2]} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %s = "onnx.MatMul"(%q, %kt) : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  return %s : tensor<?x4x?x?xf32>
}

// -----

// The probabilities times the values repeated by a Gather of heads
// [0, 0, 0, 1, 1, 1] (as the Attention decomposition repeats them).
// CHECK-LABEL: func.func @values
// CHECK: %[[P:.*]] = "onnx.Reshape"(%arg0, %{{.*}})
// CHECK: %[[Y:.*]] = "onnx.MatMul"(%[[P]], %arg1)
// CHECK: "onnx.Reshape"(%[[Y]], %{{.*}}) {{.*}} -> tensor<1x6x3x8xf32>
// CHECK-NOT: onnx.Gather
func.func @values(%p: tensor<1x6x3x5xf32>, %v: tensor<1x2x5x8xf32>) -> tensor<1x6x3x8xf32> {
  %i = "onnx.Constant"() {value = dense<[0, 0, 0, 1, 1, 1]> : tensor<6xi64>} : () -> tensor<6xi64>
  %r = "onnx.Gather"(%v, %i) {axis = 1 : i64} : (tensor<1x2x5x8xf32>, tensor<6xi64>) -> tensor<1x6x5x8xf32>
  %y = "onnx.MatMul"(%p, %r) : (tensor<1x6x3x5xf32>, tensor<1x6x5x8xf32>) -> tensor<1x6x3x8xf32>
  return %y : tensor<1x6x3x8xf32>
}

// -----

// Kept: heads gathered in another order, and a repeat along another axis.
// CHECK-LABEL: func.func @kept
// CHECK: onnx.Gather
// CHECK: onnx.MatMul
// CHECK: onnx.Expand
// CHECK: onnx.MatMul
func.func @kept(%p: tensor<1x4x3x5xf32>, %v: tensor<1x2x5x8xf32>, %shape: tensor<5xi64>, %heads: tensor<4xi64>) -> (tensor<1x4x3x8xf32>, tensor<1x4x3x8xf32>) {
  %i = "onnx.Constant"() {value = dense<[0, 1, 0, 1]> : tensor<4xi64>} : () -> tensor<4xi64>
  %r = "onnx.Gather"(%v, %i) {axis = 1 : i64} : (tensor<1x2x5x8xf32>, tensor<4xi64>) -> tensor<1x4x5x8xf32>
  %y = "onnx.MatMul"(%p, %r) : (tensor<1x4x3x5xf32>, tensor<1x4x5x8xf32>) -> tensor<1x4x3x8xf32>
  %axis = "onnx.Constant"() {value = dense<1> : tensor<1xi64>} : () -> tensor<1xi64>
  %u = "onnx.Unsqueeze"(%v, %axis) : (tensor<1x2x5x8xf32>, tensor<1xi64>) -> tensor<1x1x2x5x8xf32>
  %e = "onnx.Expand"(%u, %shape) : (tensor<1x1x2x5x8xf32>, tensor<5xi64>) -> tensor<1x2x2x5x8xf32>
  %w = "onnx.Reshape"(%e, %heads) : (tensor<1x2x2x5x8xf32>, tensor<4xi64>) -> tensor<1x4x5x8xf32>
  %z = "onnx.MatMul"(%p, %w) : (tensor<1x4x3x5xf32>, tensor<1x4x5x8xf32>) -> tensor<1x4x3x8xf32>
  return %y, %z : tensor<1x4x3x8xf32>, tensor<1x4x3x8xf32>
}
