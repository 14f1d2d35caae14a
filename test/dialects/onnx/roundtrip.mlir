// Ops print and parse back unchanged: operand and result segments, regions,
// defaults, every attribute kind.
// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @roundtrip
func.func @roundtrip(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %c: tensor<i1>, %n: tensor<i64>) -> (tensor<*xf32>, tensor<4xf32>, tensor<*xf32>) {
  // CHECK: "onnx.Conv"(%{{.*}}, %{{.*}}) <{auto_pad = "NOTSET", dilations = [1, 1], group = 1 : i64, kernel_shape = [3, 3], pads = [1, 1, 1, 1], strides = [1, 1]}>
  %0 = "onnx.Conv"(%x, %w) <{auto_pad = "NOTSET", dilations = [1, 1], group = 1 : i64, kernel_shape = [3, 3], pads = [1, 1, 1, 1], strides = [1, 1]}> : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<*xf32>
  // CHECK: "onnx.LSTM"
  // CHECK-SAME: resultSegmentSizes = array<i32: 1, 0, 1>
  %x3 = "onnx.Constant"() <{value = dense<0.0> : tensor<2x1x4xf32>}> : () -> tensor<2x1x4xf32>
  %lw = "onnx.Constant"() <{value = dense<0.0> : tensor<1x8x4xf32>}> : () -> tensor<1x8x4xf32>
  %lr = "onnx.Constant"() <{value = dense<0.0> : tensor<1x8x2xf32>}> : () -> tensor<1x8x2xf32>
  %y, %yc = "onnx.LSTM"(%x3, %lw, %lr) <{hidden_size = 2 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0>, resultSegmentSizes = array<i32: 1, 0, 1>}> : (tensor<2x1x4xf32>, tensor<1x8x4xf32>, tensor<1x8x2xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  // CHECK: "onnx.If"(%{{.*}}) ({
  // CHECK: onnx.Yield
  // CHECK: }, {
  // CHECK: onnx.Yield
  // CHECK: }) : (tensor<i1>) -> tensor<4xf32>
  %1 = "onnx.If"(%c) ({
    %k = "onnx.Constant"() <{value = dense<1.0> : tensor<4xf32>}> : () -> tensor<4xf32>
    onnx.Yield %k : tensor<4xf32>
  }, {
    %k = "onnx.Constant"() <{value = dense<2.0> : tensor<4xf32>}> : () -> tensor<4xf32>
    onnx.Yield %k : tensor<4xf32>
  }) : (tensor<i1>) -> tensor<4xf32>
  // CHECK: "onnx.Loop"(%{{.*}}, %{{.*}}, %{{.*}}) <{operandSegmentSizes = array<i32: 1, 1, 1>}> ({
  // CHECK: ^bb0(%{{.*}}: tensor<i64>, %{{.*}}: tensor<i1>, %{{.*}}: tensor<4xf32>):
  %2 = "onnx.Loop"(%n, %c, %1) <{operandSegmentSizes = array<i32: 1, 1, 1>}> ({
  ^bb0(%i: tensor<i64>, %cond: tensor<i1>, %acc: tensor<4xf32>):
    %s = "onnx.Add"(%acc, %acc) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    onnx.Yield %cond, %s : tensor<i1>, tensor<4xf32>
  }) : (tensor<i64>, tensor<i1>, tensor<4xf32>) -> tensor<*xf32>
  return %0, %1, %2 : tensor<*xf32>, tensor<4xf32>, tensor<*xf32>
}
