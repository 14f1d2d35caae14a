// RUN: kiln-opt %s -split-input-file -kiln-layout-propagate-transposes | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-cpu-graph-pipeline | FileCheck %s --check-prefix=BLOCK

// Transposes sink through unary and binary elementwise ops (a constant
// operand is transposed at compile time) and cancel against their inverse.
// CHECK-LABEL: func.func @sink
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x5x3xf32>)
// CHECK: %[[C:.*]] = "onnx.Constant"() <{value = dense<{{\[\[\[\[}}1.000000e+00, 2.000000e+00, 3.000000e+00]]]]> : tensor<1x1x1x3xf32>}>
// CHECK: %[[R:.*]] = "onnx.Relu"(%[[X]]) : (tensor<1x4x5x3xf32>) -> tensor<1x4x5x3xf32>
// CHECK: %[[M:.*]] = "onnx.Mul"(%[[R]], %[[C]]) : (tensor<1x4x5x3xf32>, tensor<1x1x1x3xf32>) -> tensor<1x4x5x3xf32>
// CHECK: return %[[M]]
func.func @sink(%x: tensor<1x4x5x3xf32>) -> tensor<1x4x5x3xf32> {
  %t = "onnx.Transpose"(%x) {perm = [0, 3, 1, 2]} : (tensor<1x4x5x3xf32>) -> tensor<1x3x4x5xf32>
  %r = "onnx.Relu"(%t) : (tensor<1x3x4x5xf32>) -> tensor<1x3x4x5xf32>
  %c = "onnx.Constant"() {value = dense<[[[1.0]], [[2.0]], [[3.0]]]> : tensor<3x1x1xf32>} : () -> tensor<3x1x1xf32>
  %m = "onnx.Mul"(%r, %c) : (tensor<1x3x4x5xf32>, tensor<3x1x1xf32>) -> tensor<1x3x4x5xf32>
  %back = "onnx.Transpose"(%m) {perm = [0, 2, 3, 1]} : (tensor<1x3x4x5xf32>) -> tensor<1x4x5x3xf32>
  return %back : tensor<1x4x5x3xf32>
}

// -----

// Two Transposes with the same permutation meet at an Add; a global
// average pool becomes a mean over the channels-last spatial axes.
// CHECK-LABEL: func.func @pool
// CHECK: %[[S:.*]] = "onnx.Add"(%arg0, %arg1) : (tensor<1x4x5x3xf32>, tensor<1x4x5x3xf32>) -> tensor<1x4x5x3xf32>
// CHECK: %[[M:.*]] = "onnx.ReduceMean"(%[[S]], %{{.*}}) <{keepdims = 1 : i64, noop_with_empty_axes = 0 : i64}> : (tensor<1x4x5x3xf32>, tensor<2xi64>) -> tensor<1x1x1x3xf32>
// CHECK: "onnx.Transpose"(%[[M]]) <{perm = [0, 3, 1, 2]}> : (tensor<1x1x1x3xf32>) -> tensor<1x3x1x1xf32>
func.func @pool(%x: tensor<1x4x5x3xf32>, %y: tensor<1x4x5x3xf32>) -> tensor<1x3x1x1xf32> {
  %a = "onnx.Transpose"(%x) {perm = [0, 3, 1, 2]} : (tensor<1x4x5x3xf32>) -> tensor<1x3x4x5xf32>
  %b = "onnx.Transpose"(%y) {perm = [0, 3, 1, 2]} : (tensor<1x4x5x3xf32>) -> tensor<1x3x4x5xf32>
  %s = "onnx.Add"(%a, %b) : (tensor<1x3x4x5xf32>, tensor<1x3x4x5xf32>) -> tensor<1x3x4x5xf32>
  %p = "onnx.GlobalAveragePool"(%s) : (tensor<1x3x4x5xf32>) -> tensor<1x3x1x1xf32>
  return %p : tensor<1x3x1x1xf32>
}

// -----

// A ResNet basic block through the CPU graph stage: BatchNormalization
// folds, both convolutions are packed and channels-last, ReLU and the
// residual Add fuse into the second one's epilogue, and the only
// Transposes left are the block's entry and exit: no relayout between the
// convolutions.
// BLOCK-LABEL: func.func @resnet_block
// BLOCK-SAME: (%[[X:.*]]: tensor<1x16x8x8xf32>)
// BLOCK: %[[IN:.*]] = "onnx.Transpose"(%[[X]]) <{perm = [0, 2, 3, 1]}>
// BLOCK-NOT: onnx.Transpose
// BLOCK: %[[C1:.*]] = kiln.packed_conv2d %[[IN]], {{.*}} {activation = #kiln.activation<relu>
// BLOCK-NOT: onnx.Transpose
// BLOCK: %[[C2:.*]] = kiln.packed_conv2d %[[C1]], %{{.*}}, %{{.*}} into %[[IN]] {accumulate, activation = #kiln.activation<relu>
// BLOCK: %[[OUT:.*]] = "onnx.Transpose"(%[[C2]]) <{perm = [0, 3, 1, 2]}>
// BLOCK: return %[[OUT]]
func.func @resnet_block(%x: tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32> {
  %w1 = "onnx.Constant"() {value = dense<0.01> : tensor<16x16x3x3xf32>} : () -> tensor<16x16x3x3xf32>
  %w2 = "onnx.Constant"() {value = dense<0.02> : tensor<16x16x3x3xf32>} : () -> tensor<16x16x3x3xf32>
  %g = "onnx.Constant"() {value = dense<1.5> : tensor<16xf32>} : () -> tensor<16xf32>
  %b = "onnx.Constant"() {value = dense<0.1> : tensor<16xf32>} : () -> tensor<16xf32>
  %m = "onnx.Constant"() {value = dense<0.2> : tensor<16xf32>} : () -> tensor<16xf32>
  %v = "onnx.Constant"() {value = dense<0.9> : tensor<16xf32>} : () -> tensor<16xf32>
  %c1 = "onnx.Conv"(%x, %w1) {pads = [1, 1, 1, 1]} : (tensor<1x16x8x8xf32>, tensor<16x16x3x3xf32>) -> tensor<1x16x8x8xf32>
  %n1 = "onnx.BatchNormalization"(%c1, %g, %b, %m, %v) {resultSegmentSizes = array<i32: 1, 0, 0>} : (tensor<1x16x8x8xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<1x16x8x8xf32>
  %r1 = "onnx.Relu"(%n1) : (tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32>
  %c2 = "onnx.Conv"(%r1, %w2) {pads = [1, 1, 1, 1]} : (tensor<1x16x8x8xf32>, tensor<16x16x3x3xf32>) -> tensor<1x16x8x8xf32>
  %n2 = "onnx.BatchNormalization"(%c2, %g, %b, %m, %v) {resultSegmentSizes = array<i32: 1, 0, 0>} : (tensor<1x16x8x8xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<1x16x8x8xf32>
  %s = "onnx.Add"(%n2, %x) : (tensor<1x16x8x8xf32>, tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32>
  %r2 = "onnx.Relu"(%s) : (tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32>
  return %r2 : tensor<1x16x8x8xf32>
}

// -----

// Squeeze-and-excitation: the per-channel gate and the feature map are
// Transposes of one permutation but different shapes; the Mul broadcasts
// either way, so both Transposes sink through it.
// CHECK-LABEL: func.func @excite
// CHECK: %[[M:.*]] = "onnx.Mul"(%arg1, %arg0) : (tensor<1x1x1x3xf32>, tensor<1x4x5x3xf32>) -> tensor<1x4x5x3xf32>
// CHECK: return %[[M]]
func.func @excite(%x: tensor<1x4x5x3xf32>, %g: tensor<1x1x1x3xf32>) -> tensor<1x4x5x3xf32> {
  %a = "onnx.Transpose"(%x) {perm = [0, 3, 1, 2]} : (tensor<1x4x5x3xf32>) -> tensor<1x3x4x5xf32>
  %b = "onnx.Transpose"(%g) {perm = [0, 3, 1, 2]} : (tensor<1x1x1x3xf32>) -> tensor<1x3x1x1xf32>
  %m = "onnx.Mul"(%b, %a) : (tensor<1x3x1x1xf32>, tensor<1x3x4x5xf32>) -> tensor<1x3x4x5xf32>
  %back = "onnx.Transpose"(%m) {perm = [0, 2, 3, 1]} : (tensor<1x3x4x5xf32>) -> tensor<1x4x5x3xf32>
  return %back : tensor<1x4x5x3xf32>
}

// -----

// Quantization per tensor is elementwise: a channels-last result quantized
// and dequantized again (a QDQ pair between convolutions) stays
// channels-last, and the transposes around it cancel.
// CHECK-LABEL: func.func @quantize_pair
// CHECK-NOT: onnx.Transpose
// CHECK: %[[Q:.*]] = kiln.quantize %arg0 scale %arg1 zero_point %arg2 : tensor<1x4x4x8xf32>, tensor<f32>, tensor<i8> -> tensor<1x4x4x8xi8>
// CHECK: %[[D:.*]] = kiln.dequantize %[[Q]] scale %arg1 zero_point %arg2 : tensor<1x4x4x8xi8>, tensor<f32>, tensor<i8> -> tensor<1x4x4x8xf32>
// CHECK-NOT: onnx.Transpose
// CHECK: return %[[D]]
func.func @quantize_pair(%x: tensor<1x4x4x8xf32>, %s: tensor<f32>, %z: tensor<i8>) -> tensor<1x4x4x8xf32> {
  %t = "onnx.Transpose"(%x) {perm = [0, 3, 1, 2]} : (tensor<1x4x4x8xf32>) -> tensor<1x8x4x4xf32>
  %q = kiln.quantize %t scale %s zero_point %z : tensor<1x8x4x4xf32>, tensor<f32>, tensor<i8> -> tensor<1x8x4x4xi8>
  %d = kiln.dequantize %q scale %s zero_point %z : tensor<1x8x4x4xi8>, tensor<f32>, tensor<i8> -> tensor<1x8x4x4xf32>
  %back = "onnx.Transpose"(%d) {perm = [0, 2, 3, 1]} : (tensor<1x8x4x4xf32>) -> tensor<1x4x4x8xf32>
  return %back : tensor<1x4x4x8xf32>
}
