// RUN: kiln-opt %s -split-input-file -kiln-graph-merge-sibling-products | FileCheck %s

// Query, key and value projections of one input, each only reshaped into
// heads: one product by the weights side by side ([2, 2] of ones, [2, 1]
// of twos: each row 1, 1, 2), and a Slice of each one's columns.
// CHECK-LABEL: func.func @projections
// CHECK: %[[W:.*]] = "onnx.Constant"() <{value = dense_resource<[[WK:.*]]> : tensor<2x3xf32>}>
// CHECK: %[[Y:.*]] = "onnx.MatMul"(%arg0, %[[W]]) : (tensor<1x5x2xf32>, tensor<2x3xf32>) -> tensor<1x5x3xf32>
// CHECK: %[[AXES:.*]] = "onnx.Constant"() <{value = dense<2> : tensor<1xi64>}>
// CHECK: %[[Q:.*]] = "onnx.Slice"(%[[Y]], %{{.*}}, %{{.*}}, %[[AXES]], %{{.*}}) {{.*}} -> tensor<1x5x2xf32>
// CHECK: %[[K:.*]] = "onnx.Slice"(%[[Y]], {{.*}} -> tensor<1x5x1xf32>
// CHECK-NOT: onnx.MatMul
// CHECK: "onnx.Reshape"(%[[Q]]
// CHECK: "onnx.Reshape"(%[[K]]
// CHECK: [[WK]]: "0x400000000000803F0000803F000000400000803F0000803F00000040"
func.func @projections(%x: tensor<1x5x2xf32>) -> (tensor<1x5x1x2xf32>, tensor<1x5x1x1xf32>) {
  %wq = "onnx.Constant"() {value = dense<1.0> : tensor<2x2xf32>} : () -> tensor<2x2xf32>
  %wk = "onnx.Constant"() {value = dense<2.0> : tensor<2x1xf32>} : () -> tensor<2x1xf32>
  %sq = "onnx.Constant"() {value = dense<[1, 5, 1, 2]> : tensor<4xi64>} : () -> tensor<4xi64>
  %sk = "onnx.Constant"() {value = dense<[1, 5, 1, 1]> : tensor<4xi64>} : () -> tensor<4xi64>
  %q = "onnx.MatMul"(%x, %wq) : (tensor<1x5x2xf32>, tensor<2x2xf32>) -> tensor<1x5x2xf32>
  %k = "onnx.MatMul"(%x, %wk) : (tensor<1x5x2xf32>, tensor<2x1xf32>) -> tensor<1x5x1xf32>
  %qh = "onnx.Reshape"(%q, %sq) : (tensor<1x5x2xf32>, tensor<4xi64>) -> tensor<1x5x1x2xf32>
  %kh = "onnx.Reshape"(%k, %sk) : (tensor<1x5x1xf32>, tensor<4xi64>) -> tensor<1x5x1x1xf32>
  return %qh, %kh : tensor<1x5x1x2xf32>, tensor<1x5x1x1xf32>
}

// -----

// With biases (the key's none): the biases side by side, zeros for the
// key's, in one Add the contraction's epilogue will take.
// CHECK-LABEL: func.func @biases
// CHECK: %[[Y:.*]] = "onnx.MatMul"(%arg0, %{{.*}}) : (tensor<3x2xf32>, tensor<2x3xf32>) -> tensor<3x3xf32>
// CHECK: %[[B:.*]] = "onnx.Constant"() <{value = dense_resource<[[BK:.*]]> : tensor<3xf32>}>
// CHECK: %[[S:.*]] = "onnx.Add"(%[[Y]], %[[B]]) : (tensor<3x3xf32>, tensor<3xf32>) -> tensor<3x3xf32>
// CHECK-COUNT-3: "onnx.Slice"(%[[S]]
// CHECK-NOT: onnx.Add
// CHECK: [[BK]]: "0x400000000000C03F000000000000803E"
func.func @biases(%x: tensor<3x2xf32>) -> (tensor<3x1x1xf32>, tensor<3x1x1xf32>, tensor<3x1x1xf32>) {
  %w = "onnx.Constant"() {value = dense<1.0> : tensor<2x1xf32>} : () -> tensor<2x1xf32>
  %bq = "onnx.Constant"() {value = dense<1.5> : tensor<1xf32>} : () -> tensor<1xf32>
  %bv = "onnx.Constant"() {value = dense<0.25> : tensor<1xf32>} : () -> tensor<1xf32>
  %shape = "onnx.Constant"() {value = dense<[3, 1, 1]> : tensor<3xi64>} : () -> tensor<3xi64>
  %q = "onnx.MatMul"(%x, %w) : (tensor<3x2xf32>, tensor<2x1xf32>) -> tensor<3x1xf32>
  %qb = "onnx.Add"(%bq, %q) : (tensor<1xf32>, tensor<3x1xf32>) -> tensor<3x1xf32>
  %k = "onnx.MatMul"(%x, %w) : (tensor<3x2xf32>, tensor<2x1xf32>) -> tensor<3x1xf32>
  %v = "onnx.MatMul"(%x, %w) : (tensor<3x2xf32>, tensor<2x1xf32>) -> tensor<3x1xf32>
  %vb = "onnx.Add"(%v, %bv) : (tensor<3x1xf32>, tensor<1xf32>) -> tensor<3x1xf32>
  %qh = "onnx.Reshape"(%qb, %shape) : (tensor<3x1xf32>, tensor<3xi64>) -> tensor<3x1x1xf32>
  %kh = "onnx.Reshape"(%k, %shape) : (tensor<3x1xf32>, tensor<3xi64>) -> tensor<3x1x1xf32>
  %vh = "onnx.Reshape"(%vb, %shape) : (tensor<3x1xf32>, tensor<3xi64>) -> tensor<3x1x1xf32>
  return %qh, %kh, %vh : tensor<3x1x1xf32>, tensor<3x1x1xf32>, tensor<3x1x1xf32>
}

// -----

// Left alone: a gate (its product feeds a Sigmoid, which the epilogue
// takes), a product of another input, weights that are not constant.
// CHECK-LABEL: func.func @kept
// CHECK-COUNT-4: "onnx.MatMul"
// CHECK-NOT: onnx.Slice
func.func @kept(%x: tensor<3x2xf32>, %z: tensor<3x2xf32>, %wv: tensor<2x1xf32>) -> (tensor<3x1xf32>, tensor<3x1x1xf32>, tensor<3x1x1xf32>, tensor<3x1x1xf32>) {
  %w = "onnx.Constant"() {value = dense<1.0> : tensor<2x1xf32>} : () -> tensor<2x1xf32>
  %shape = "onnx.Constant"() {value = dense<[3, 1, 1]> : tensor<3xi64>} : () -> tensor<3xi64>
  %g = "onnx.MatMul"(%x, %w) : (tensor<3x2xf32>, tensor<2x1xf32>) -> tensor<3x1xf32>
  %gs = "onnx.Sigmoid"(%g) : (tensor<3x1xf32>) -> tensor<3x1xf32>
  %u = "onnx.MatMul"(%x, %w) : (tensor<3x2xf32>, tensor<2x1xf32>) -> tensor<3x1xf32>
  %o = "onnx.MatMul"(%z, %w) : (tensor<3x2xf32>, tensor<2x1xf32>) -> tensor<3x1xf32>
  %p = "onnx.MatMul"(%x, %wv) : (tensor<3x2xf32>, tensor<2x1xf32>) -> tensor<3x1xf32>
  %uh = "onnx.Reshape"(%u, %shape) : (tensor<3x1xf32>, tensor<3xi64>) -> tensor<3x1x1xf32>
  %oh = "onnx.Reshape"(%o, %shape) : (tensor<3x1xf32>, tensor<3xi64>) -> tensor<3x1x1xf32>
  %ph = "onnx.Reshape"(%p, %shape) : (tensor<3x1xf32>, tensor<3xi64>) -> tensor<3x1x1xf32>
  return %gs, %uh, %oh, %ph : tensor<3x1xf32>, tensor<3x1x1xf32>, tensor<3x1x1xf32>, tensor<3x1x1xf32>
}
