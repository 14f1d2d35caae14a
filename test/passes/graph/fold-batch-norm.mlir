// RUN: kiln-opt %s -split-input-file -kiln-graph-fold-batch-norm | FileCheck %s

// W' = W * s and B' = (B - mean) * s + shift with s = scale / sqrt(var + eps):
// here s = 2 / sqrt(3 + 1) = 1, so W' = 0.5 and B' = (1 - 0.5) * 1 + 0.25.
// CHECK-LABEL: func.func @folds
// CHECK-DAG: %[[W:.*]] = "onnx.Constant"() <{value = dense_resource<[[WK:.*]]> : tensor<2x1x1x1xf32>}>
// CHECK-DAG: %[[B:.*]] = "onnx.Constant"() <{value = dense_resource<[[BK:.*]]> : tensor<2xf32>}>
// CHECK: %[[Y:.*]] = "onnx.Conv"(%arg0, %[[W]], %[[B]])
// CHECK-NOT: onnx.BatchNormalization
// CHECK: return %[[Y]]
// CHECK: [[WK]]: "0x400000000000003F0000003F"
// CHECK: [[BK]]: "0x400000000000403F0000403F"
func.func @folds(%x: tensor<1x1x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %w = "onnx.Constant"() {value = dense<0.5> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
  %b = "onnx.Constant"() {value = dense<1.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %scale = "onnx.Constant"() {value = dense<2.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %shift = "onnx.Constant"() {value = dense<0.25> : tensor<2xf32>} : () -> tensor<2xf32>
  %mean = "onnx.Constant"() {value = dense<0.5> : tensor<2xf32>} : () -> tensor<2xf32>
  %var = "onnx.Constant"() {value = dense<3.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %c = "onnx.Conv"(%x, %w, %b) : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  %n = "onnx.BatchNormalization"(%c, %scale, %shift, %mean, %var) {epsilon = 1.0 : f32, resultSegmentSizes = array<i32: 1, 0, 0>} : (tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  return %n : tensor<1x2x2x2xf32>
}

// -----

// Not folded: the Conv has another use, or the statistics are not constant.
// CHECK-LABEL: func.func @kept
// CHECK-COUNT-2: onnx.BatchNormalization
func.func @kept(%x: tensor<1x1x2x2xf32>, %var: tensor<2xf32>) -> (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) {
  %w = "onnx.Constant"() {value = dense<0.5> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
  %s = "onnx.Constant"() {value = dense<2.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %c = "onnx.Conv"(%x, %w) : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x2x2xf32>
  %n = "onnx.BatchNormalization"(%c, %s, %s, %s, %s) {resultSegmentSizes = array<i32: 1, 0, 0>} : (tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  %d = "onnx.Conv"(%x, %w) : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x2x2xf32>
  %m = "onnx.BatchNormalization"(%d, %s, %s, %s, %var) {resultSegmentSizes = array<i32: 1, 0, 0>} : (tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  return %n, %c, %m : tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>
}
