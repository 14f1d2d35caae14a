// RUN: kiln-opt %s -split-input-file -kiln-layout-pools-channels-last | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-layout-pools-channels-last -kiln-layout-propagate-transposes | FileCheck %s --check-prefix=CANCEL

// A 3x3, stride-2, padded MaxPool (ResNet's) pools NHWC data between
// Transposes, which cancel against a channels-last producer's.
// CHECK-LABEL: func.func @resnet_pool
// CHECK: %[[NHWC:.*]] = "onnx.Transpose"(%{{.*}}) <{perm = [0, 2, 3, 1]}>
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<1x4x4x5xf32>
// CHECK: %[[Y:.*]] = kiln.max_pool2d %[[NHWC]] into %[[INIT]] {dilations = array<i64: 1, 1>, kernel = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
// CHECK: "onnx.Transpose"(%[[Y]]) <{perm = [0, 3, 1, 2]}>
// CANCEL-LABEL: func.func @resnet_pool
// CANCEL: %[[Y:.*]] = kiln.max_pool2d %arg0 into
// CANCEL-NOT: onnx.Transpose
// CANCEL: return %[[Y]]
func.func @resnet_pool(%x: tensor<1x8x8x5xf32>) -> tensor<1x4x4x5xf32> {
  %t = "onnx.Transpose"(%x) {perm = [0, 3, 1, 2]} : (tensor<1x8x8x5xf32>) -> tensor<1x5x8x8xf32>
  %y = "onnx.MaxPool"(%t) {kernel_shape = [3, 3], pads = [1, 1, 1, 1], strides = [2, 2]} : (tensor<1x5x8x8xf32>) -> tensor<1x5x4x4xf32>
  %r = "onnx.Transpose"(%y) {perm = [0, 2, 3, 1]} : (tensor<1x5x4x4xf32>) -> tensor<1x4x4x5xf32>
  return %r : tensor<1x4x4x5xf32>
}

// -----

// ceil_mode: the last window runs past the input, so the bottom and right
// padding grows to hold it; SAME_UPPER becomes explicit pads.
// CHECK-LABEL: func.func @ceil_mode
// CHECK: kiln.max_pool2d {{.*}} {dilations = array<i64: 1, 1>, kernel = array<i64: 2, 2>, pads = array<i64: 0, 0, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x7x7x3xf32> into tensor<1x4x4x3xf32>
// CHECK-LABEL: func.func @same_upper
// CHECK: kiln.max_pool2d {{.*}} pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : tensor<1x5x5x3xf32> into tensor<1x5x5x3xf32>
func.func @ceil_mode(%x: tensor<1x3x7x7xf32>) -> tensor<1x3x4x4xf32> {
  %y = "onnx.MaxPool"(%x) {kernel_shape = [2, 2], strides = [2, 2], ceil_mode = 1 : i64} : (tensor<1x3x7x7xf32>) -> tensor<1x3x4x4xf32>
  return %y : tensor<1x3x4x4xf32>
}
func.func @same_upper(%x: tensor<1x3x5x5xf32>) -> tensor<1x3x5x5xf32> {
  %y = "onnx.MaxPool"(%x) {kernel_shape = [3, 3], auto_pad = "SAME_UPPER"} : (tensor<1x3x5x5xf32>) -> tensor<1x3x5x5xf32>
  return %y : tensor<1x3x5x5xf32>
}

// -----

// Indices, 1-D pooling, symbolic channels and ceil_mode over a symbolic
// extent stay onnx.MaxPool.
// CHECK-LABEL: func.func @kept
// CHECK-COUNT-4: onnx.MaxPool
// CHECK-NOT: kiln.max_pool2d
func.func @kept(%x: tensor<1x3x8x8xf32>, %v: tensor<1x3x8xf32>, %d: tensor<1x?x8x8xf32>, %s: tensor<1x3x?x?xf32>) -> (tensor<1x3x4x4xf32>, tensor<1x3x4x4xi64>, tensor<1x3x4xf32>, tensor<1x?x4x4xf32>, tensor<1x3x?x?xf32>) {
  %y, %i = "onnx.MaxPool"(%x) {kernel_shape = [2, 2], strides = [2, 2]} : (tensor<1x3x8x8xf32>) -> (tensor<1x3x4x4xf32>, tensor<1x3x4x4xi64>)
  %w = "onnx.MaxPool"(%v) {kernel_shape = [2], strides = [2]} : (tensor<1x3x8xf32>) -> tensor<1x3x4xf32>
  %z = "onnx.MaxPool"(%d) {kernel_shape = [2, 2], strides = [2, 2]} : (tensor<1x?x8x8xf32>) -> tensor<1x?x4x4xf32>
  %c = "onnx.MaxPool"(%s) {kernel_shape = [2, 2], strides = [2, 2], ceil_mode = 1 : i64} : (tensor<1x3x?x?xf32>) -> tensor<1x3x?x?xf32>
  return %y, %i, %w, %z, %c : tensor<1x3x4x4xf32>, tensor<1x3x4x4xi64>, tensor<1x3x4xf32>, tensor<1x?x4x4xf32>, tensor<1x3x?x?xf32>
}

// -----

// A symbolic batch, height and width: the result's extents are computed
// from the channels-last input's, (padded - window) / stride + 1.
// CHECK-LABEL: func.func @symbolic
// CHECK: %[[NHWC:.*]] = "onnx.Transpose"(%arg0) <{perm = [0, 2, 3, 1]}> : (tensor<?x3x?x?xf32>) -> tensor<?x?x?x3xf32>
// CHECK: %[[N:.*]] = tensor.dim %[[NHWC]], %c0
// CHECK: %[[H:.*]] = tensor.dim %[[NHWC]], %c1
// CHECK: %[[ROOM:.*]] = arith.addi %[[H]], %c-1
// CHECK: %[[STEPS:.*]] = arith.floordivsi %[[ROOM]], %c2
// CHECK: %[[OH:.*]] = arith.addi %[[STEPS]], %c1
// CHECK: %[[OHC:.*]] = arith.maxsi %[[OH]], %c0
// CHECK: %[[INIT:.*]] = tensor.empty(%[[N]], %[[OHC]], %{{.*}}) : tensor<?x?x?x3xf32>
// CHECK: kiln.max_pool2d %[[NHWC]] into %[[INIT]] {{.*}}pads = array<i64: 1, 1, 1, 1>
func.func @symbolic(%x: tensor<?x3x?x?xf32>) -> tensor<?x3x?x?xf32> {
  %y = "onnx.MaxPool"(%x) {kernel_shape = [3, 3], pads = [1, 1, 1, 1], strides = [2, 2]} : (tensor<?x3x?x?xf32>) -> tensor<?x3x?x?xf32>
  return %y : tensor<?x3x?x?xf32>
}
