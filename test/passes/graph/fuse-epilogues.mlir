// RUN: kiln-opt %s -split-input-file -kiln-graph-fuse-epilogues | FileCheck %s


// A bias Add through a matrix product's reshape, then a Clip (ReLU6).
// CHECK-LABEL: func.func @bias_and_clip
// CHECK: %[[B:.*]] = "onnx.Constant"() <{value = dense_resource<{{.*}}> : tensor<16xf32>}>
// CHECK: %[[Y:.*]] = kiln.packed_conv2d %arg0, %{{.*}}, %[[B]] into %{{.*}} {activation = #kiln.activation<clip>, clip_max = 6.000000e+00 : f32, dilations
// CHECK: %[[R:.*]] = tensor.collapse_shape %[[Y]]
// CHECK-NOT: onnx.
// CHECK: return %[[R]]
func.func @bias_and_clip(%x: tensor<1x1x3x4xf32>) -> tensor<3x5xf32> {
  %w = "onnx.Constant"() {value = dense<1.0> : tensor<1x1x1x4x16xf32>} : () -> tensor<1x1x1x4x16xf32>
  %b = "onnx.Constant"() {value = dense<0.0> : tensor<16xf32>} : () -> tensor<16xf32>
  %i = tensor.empty() : tensor<1x1x3x5xf32>
  %y = kiln.packed_conv2d %x, %w, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<1x1x3x4xf32>, tensor<1x1x1x4x16xf32>, tensor<16xf32> into tensor<1x1x3x5xf32> -> tensor<1x1x3x5xf32>
  %r = tensor.collapse_shape %y [[0, 1, 2], [3]] : tensor<1x1x3x5xf32> into tensor<3x5xf32>
  %c = "onnx.Constant"() {value = dense<[1.0, 2.0, 3.0, 4.0, 5.0]> : tensor<5xf32>} : () -> tensor<5xf32>
  %a = "onnx.Add"(%r, %c) : (tensor<3x5xf32>, tensor<5xf32>) -> tensor<3x5xf32>
  %lo = "onnx.Constant"() {value = dense<0.0> : tensor<f32>} : () -> tensor<f32>
  %hi = "onnx.Constant"() {value = dense<6.0> : tensor<f32>} : () -> tensor<f32>
  %z = "onnx.Clip"(%a, %lo, %hi) {operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<3x5xf32>, tensor<f32>, tensor<f32>) -> tensor<3x5xf32>
  return %z : tensor<3x5xf32>
}

// -----

// A residual: the other operand becomes the init, accumulated before the
// ReLU.
// CHECK-LABEL: func.func @residual
// CHECK: %[[Y:.*]] = kiln.packed_conv2d %arg0, %{{.*}}, %{{.*}} into %arg1 {accumulate, activation = #kiln.activation<relu>
// CHECK-NEXT: return %[[Y]]
func.func @residual(%x: tensor<1x2x2x4xf32>, %s: tensor<1x2x2x8xf32>) -> tensor<1x2x2x8xf32> {
  %w = "onnx.Constant"() {value = dense<1.0> : tensor<1x1x1x4x8xf32>} : () -> tensor<1x1x1x4x8xf32>
  %b = "onnx.Constant"() {value = dense<0.0> : tensor<8xf32>} : () -> tensor<8xf32>
  %i = tensor.empty() : tensor<1x2x2x8xf32>
  %y = kiln.packed_conv2d %x, %w, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<1x2x2x4xf32>, tensor<1x1x1x4x8xf32>, tensor<8xf32> into tensor<1x2x2x8xf32> -> tensor<1x2x2x8xf32>
  %a = "onnx.Add"(%s, %y) : (tensor<1x2x2x8xf32>, tensor<1x2x2x8xf32>) -> tensor<1x2x2x8xf32>
  %r = "onnx.Relu"(%a) : (tensor<1x2x2x8xf32>) -> tensor<1x2x2x8xf32>
  return %r : tensor<1x2x2x8xf32>
}

// -----

// Nothing fuses after the activation, nor into a result used elsewhere.
// CHECK-LABEL: func.func @kept
// CHECK: kiln.packed_conv2d {{.*}} {activation = #kiln.activation<hardswish>
// CHECK: onnx.Relu
// CHECK: kiln.packed_conv2d {{.*}} {activation = #kiln.activation<none>
// CHECK: onnx.Relu
func.func @kept(%x: tensor<1x2x2x4xf32>) -> (tensor<1x2x2x8xf32>, tensor<1x2x2x8xf32>, tensor<1x2x2x8xf32>) {
  %w = "onnx.Constant"() {value = dense<1.0> : tensor<1x1x1x4x8xf32>} : () -> tensor<1x1x1x4x8xf32>
  %b = "onnx.Constant"() {value = dense<0.0> : tensor<8xf32>} : () -> tensor<8xf32>
  %i = tensor.empty() : tensor<1x2x2x8xf32>
  %y = kiln.packed_conv2d %x, %w, %b into %i {activation = #kiln.activation<hardswish>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<1x2x2x4xf32>, tensor<1x1x1x4x8xf32>, tensor<8xf32> into tensor<1x2x2x8xf32> -> tensor<1x2x2x8xf32>
  %r = "onnx.Relu"(%y) : (tensor<1x2x2x8xf32>) -> tensor<1x2x2x8xf32>
  %z = kiln.packed_conv2d %x, %w, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<1x2x2x4xf32>, tensor<1x1x1x4x8xf32>, tensor<8xf32> into tensor<1x2x2x8xf32> -> tensor<1x2x2x8xf32>
  %q = "onnx.Relu"(%z) : (tensor<1x2x2x8xf32>) -> tensor<1x2x2x8xf32>
  return %r, %q, %z : tensor<1x2x2x8xf32>, tensor<1x2x2x8xf32>, tensor<1x2x2x8xf32>
}

// -----

// SiLU as Mul(x, Sigmoid(x)), and PyTorch's erf GELU through a matrix
// product's reshape, become activations.
// CHECK-LABEL: func.func @silu_and_gelu
// CHECK: kiln.packed_conv2d {{.*}} {activation = #kiln.activation<silu>
// CHECK: %[[G:.*]] = kiln.packed_conv2d {{.*}} {activation = #kiln.activation<gelu>
// CHECK: %[[R:.*]] = tensor.collapse_shape %[[G]]
// CHECK-NOT: onnx.
// CHECK: return %{{.*}}, %[[R]]
func.func @silu_and_gelu(%x: tensor<1x2x2x4xf32>, %m: tensor<1x1x3x4xf32>) -> (tensor<1x2x2x8xf32>, tensor<3x8xf32>) {
  %w = "onnx.Constant"() {value = dense<1.0> : tensor<1x1x1x4x8xf32>} : () -> tensor<1x1x1x4x8xf32>
  %b = "onnx.Constant"() {value = dense<0.0> : tensor<8xf32>} : () -> tensor<8xf32>
  %i = tensor.empty() : tensor<1x2x2x8xf32>
  %y = kiln.packed_conv2d %x, %w, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<1x2x2x4xf32>, tensor<1x1x1x4x8xf32>, tensor<8xf32> into tensor<1x2x2x8xf32> -> tensor<1x2x2x8xf32>
  %s = "onnx.Sigmoid"(%y) : (tensor<1x2x2x8xf32>) -> tensor<1x2x2x8xf32>
  %silu = "onnx.Mul"(%y, %s) : (tensor<1x2x2x8xf32>, tensor<1x2x2x8xf32>) -> tensor<1x2x2x8xf32>
  %j = tensor.empty() : tensor<1x1x3x8xf32>
  %z = kiln.packed_conv2d %m, %w, %b into %j {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<1x1x3x4xf32>, tensor<1x1x1x4x8xf32>, tensor<8xf32> into tensor<1x1x3x8xf32> -> tensor<1x1x3x8xf32>
  %v = tensor.collapse_shape %z [[0, 1, 2], [3]] : tensor<1x1x3x8xf32> into tensor<3x8xf32>
  %sqrt2 = "onnx.Constant"() {value = dense<1.41421354> : tensor<f32>} : () -> tensor<f32>
  %one = "onnx.Constant"() {value = dense<1.0> : tensor<f32>} : () -> tensor<f32>
  %half = "onnx.Constant"() {value = dense<0.5> : tensor<f32>} : () -> tensor<f32>
  %d = "onnx.Div"(%v, %sqrt2) : (tensor<3x8xf32>, tensor<f32>) -> tensor<3x8xf32>
  %e = "onnx.Erf"(%d) : (tensor<3x8xf32>) -> tensor<3x8xf32>
  %a = "onnx.Add"(%e, %one) : (tensor<3x8xf32>, tensor<f32>) -> tensor<3x8xf32>
  %t = "onnx.Mul"(%v, %a) : (tensor<3x8xf32>, tensor<3x8xf32>) -> tensor<3x8xf32>
  %g = "onnx.Mul"(%t, %half) : (tensor<3x8xf32>, tensor<f32>) -> tensor<3x8xf32>
  return %silu, %g : tensor<1x2x2x8xf32>, tensor<3x8xf32>
}

// -----

// A cast to bf16 (the next contraction's input) is rounded in the
// epilogue: the conv writes bf16, through the reshapes between them. A
// conv accumulating a residual keeps its f32 result and the cast.
// CHECK-LABEL: func.func @bf16_result
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<1x1x6x8xbf16>
// CHECK: %[[Y:.*]] = kiln.packed_conv2d %arg0, %{{.*}}, %{{.*}} into %[[INIT]] {activation = #kiln.activation<relu>, {{.*}}} : tensor<1x1x6x4xbf16>, tensor<1x1x1x2x8x2xbf16>, tensor<8xf32> into tensor<1x1x6x8xbf16> -> tensor<1x1x6x8xbf16>
// CHECK: %[[R:.*]] = tensor.collapse_shape %[[Y]] {{.*}} : tensor<1x1x6x8xbf16> into tensor<6x8xbf16>
// CHECK-NOT: onnx.Cast
// CHECK: return %[[R]]
func.func @bf16_result(%x: tensor<1x1x6x4xbf16>) -> tensor<6x8xbf16> {
  %w = "onnx.Constant"() {value = dense<1.0> : tensor<1x1x1x2x8x2xbf16>} : () -> tensor<1x1x1x2x8x2xbf16>
  %b = "onnx.Constant"() {value = dense<0.0> : tensor<8xf32>} : () -> tensor<8xf32>
  %i = tensor.empty() : tensor<1x1x6x8xf32>
  %y = kiln.packed_conv2d %x, %w, %b into %i {activation = #kiln.activation<relu>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<1x1x6x4xbf16>, tensor<1x1x1x2x8x2xbf16>, tensor<8xf32> into tensor<1x1x6x8xf32> -> tensor<1x1x6x8xf32>
  %m = tensor.collapse_shape %y [[0, 1, 2], [3]] : tensor<1x1x6x8xf32> into tensor<6x8xf32>
  %c = "onnx.Cast"(%m) {to = 16 : i64} : (tensor<6x8xf32>) -> tensor<6x8xbf16>
  return %c : tensor<6x8xbf16>
}

// -----

// CHECK-LABEL: func.func @bf16_residual
// CHECK: kiln.packed_conv2d {{.*}} {accumulate, {{.*}} into tensor<1x2x2x8xf32>
// CHECK: "onnx.Cast"
func.func @bf16_residual(%x: tensor<1x2x2x4xf32>, %s: tensor<1x2x2x8xf32>) -> tensor<1x2x2x8xbf16> {
  %w = "onnx.Constant"() {value = dense<1.0> : tensor<1x1x1x4x8xf32>} : () -> tensor<1x1x1x4x8xf32>
  %b = "onnx.Constant"() {value = dense<0.0> : tensor<8xf32>} : () -> tensor<8xf32>
  %y = kiln.packed_conv2d %x, %w, %b into %s {accumulate, activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<1x2x2x4xf32>, tensor<1x1x1x4x8xf32>, tensor<8xf32> into tensor<1x2x2x8xf32> -> tensor<1x2x2x8xf32>
  %c = "onnx.Cast"(%y) {to = 16 : i64} : (tensor<1x2x2x8xf32>) -> tensor<1x2x2x8xbf16>
  return %c : tensor<1x2x2x8xbf16>
}
