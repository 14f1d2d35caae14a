// RUN: kiln-opt %s -split-input-file -kiln-graph-infer-shapes | FileCheck %s

// Unranked and dynamic results get the shapes their operands imply; the
// function's signature follows.
// CHECK-LABEL: func.func @cnn_head
// CHECK-SAME: -> tensor<1x10xf32>
// CHECK: "onnx.Conv"{{.*}} -> tensor<1x8x8x8xf32>
// CHECK: "onnx.Relu"{{.*}} -> tensor<1x8x8x8xf32>
// CHECK: "onnx.MaxPool"{{.*}} -> tensor<1x8x4x4xf32>
// CHECK: "onnx.Flatten"{{.*}} -> tensor<1x128xf32>
// CHECK: "onnx.Gemm"{{.*}} -> tensor<1x10xf32>
// CHECK: "onnx.Softmax"{{.*}} -> tensor<1x10xf32>
func.func @cnn_head(%x: tensor<1x3x8x8xf32>, %w: tensor<8x3x3x3xf32>, %fc: tensor<10x128xf32>) -> tensor<*xf32> {
  %c = "onnx.Conv"(%x, %w) <{auto_pad = "NOTSET", group = 1 : i64, pads = [1, 1, 1, 1]}> : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<*xf32>
  %r = "onnx.Relu"(%c) : (tensor<*xf32>) -> tensor<*xf32>
  %p = "onnx.MaxPool"(%r) <{auto_pad = "NOTSET", ceil_mode = 0 : i64, kernel_shape = [2, 2], storage_order = 0 : i64, strides = [2, 2]}> : (tensor<*xf32>) -> tensor<*xf32>
  %f = "onnx.Flatten"(%p) <{axis = 1 : i64}> : (tensor<*xf32>) -> tensor<?x?xf32>
  %g = "onnx.Gemm"(%f, %fc) <{transB = 1 : i64}> : (tensor<?x?xf32>, tensor<10x128xf32>) -> tensor<*xf32>
  %s = "onnx.Softmax"(%g) <{axis = -1 : i64}> : (tensor<*xf32>) -> tensor<*xf32>
  return %s : tensor<*xf32>
}

// -----

// Broadcasting, MatMul with batch broadcasting, Transpose, Reshape with 0
// and -1, Concat, Gather, Unsqueeze, Squeeze, reductions, Shape.
// CHECK-LABEL: func.func @attention_like
// CHECK: "onnx.Add"{{.*}} -> tensor<2x4x8xf32>
// CHECK: "onnx.Reshape"{{.*}} -> tensor<2x4x2x4xf32>
// CHECK: "onnx.Transpose"{{.*}} -> tensor<2x2x4x4xf32>
// CHECK: "onnx.MatMul"{{.*}} -> tensor<2x2x4x4xf32>
// CHECK: "onnx.ReduceMean"{{.*}} -> tensor<2x2x4x1xf32>
// CHECK: "onnx.Concat"{{.*}} -> tensor<2x2x4x5xf32>
// CHECK: "onnx.Gather"{{.*}} -> tensor<2x3x4x5xf32>
// CHECK: "onnx.Unsqueeze"{{.*}} -> tensor<1x2x3x4x5xf32>
// CHECK: "onnx.Squeeze"{{.*}} -> tensor<2x3x4x5xf32>
// CHECK: "onnx.Shape"{{.*}} -> tensor<4xi64>
func.func @attention_like(%x: tensor<2x4x8xf32>, %b: tensor<8xf32>) -> (tensor<*xf32>, tensor<?xi64>) {
  %a = "onnx.Add"(%x, %b) : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<*xf32>
  %s = "onnx.Constant"() <{value = dense<[0, 0, 2, -1]> : tensor<4xi64>}> : () -> tensor<4xi64>
  %r = "onnx.Reshape"(%a, %s) <{allowzero = 0 : i64}> : (tensor<*xf32>, tensor<4xi64>) -> tensor<*xf32>
  %t = "onnx.Transpose"(%r) <{perm = [0, 2, 1, 3]}> : (tensor<*xf32>) -> tensor<*xf32>
  %m = "onnx.MatMul"(%t, %t) : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  %axes = "onnx.Constant"() <{value = dense<[-1]> : tensor<1xi64>}> : () -> tensor<1xi64>
  %mean = "onnx.ReduceMean"(%m, %axes) <{keepdims = 1 : i64}> : (tensor<*xf32>, tensor<1xi64>) -> tensor<*xf32>
  %cat = "onnx.Concat"(%m, %mean) <{axis = 3 : i64}> : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  %idx = "onnx.Constant"() <{value = dense<[0, 1, 0]> : tensor<3xi64>}> : () -> tensor<3xi64>
  %g = "onnx.Gather"(%cat, %idx) <{axis = 1 : i64}> : (tensor<*xf32>, tensor<3xi64>) -> tensor<*xf32>
  %zero = "onnx.Constant"() <{value = dense<[0]> : tensor<1xi64>}> : () -> tensor<1xi64>
  %u = "onnx.Unsqueeze"(%g, %zero) : (tensor<*xf32>, tensor<1xi64>) -> tensor<*xf32>
  %q = "onnx.Squeeze"(%u, %zero) : (tensor<*xf32>, tensor<1xi64>) -> tensor<*xf32>
  %shape = "onnx.Shape"(%q) <{start = 0 : i64}> : (tensor<*xf32>) -> tensor<?xi64>
  return %q, %shape : tensor<*xf32>, tensor<?xi64>
}

// -----

// Known dimensions are kept and unknown ones stay dynamic (a declared
// rank or size the rule contradicts is an error: infer-shapes-errors.mlir).
// CHECK-LABEL: func.func @partial
// CHECK: "onnx.Add"{{.*}} -> tensor<?x8xf32>
// CHECK: "onnx.Relu"{{.*}} -> tensor<?x8xf32>
func.func @partial(%x: tensor<?x8xf32>, %y: tensor<8xf32>) -> (tensor<*xf32>, tensor<?x?xf32>) {
  %a = "onnx.Add"(%x, %y) : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<*xf32>
  %r = "onnx.Relu"(%a) : (tensor<*xf32>) -> tensor<?x?xf32>
  return %a, %r : tensor<*xf32>, tensor<?x?xf32>
}

// -----

// Pools with ceil_mode and SAME padding, global pools, Expand, Pad, Tile,
// ConstantOfShape.
// CHECK-LABEL: func.func @windows_and_constants
// CHECK: "onnx.MaxPool"{{.*}} -> tensor<1x3x4x4xf32>
// CHECK: "onnx.AveragePool"{{.*}} -> tensor<1x3x4x4xf32>
// CHECK: "onnx.GlobalAveragePool"{{.*}} -> tensor<1x3x1x1xf32>
// CHECK: "onnx.Expand"{{.*}} -> tensor<2x3x1x1xf32>
// CHECK: "onnx.Pad"{{.*}} -> tensor<2x3x3x3xf32>
// CHECK: "onnx.Tile"{{.*}} -> tensor<2x6x3x3xf32>
// CHECK: "onnx.ConstantOfShape"{{.*}} -> tensor<2x2xf32>
func.func @windows_and_constants(%x: tensor<1x3x7x7xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %m = "onnx.MaxPool"(%x) <{auto_pad = "NOTSET", ceil_mode = 1 : i64, kernel_shape = [2, 2], strides = [2, 2]}> : (tensor<1x3x7x7xf32>) -> tensor<*xf32>
  %a = "onnx.AveragePool"(%x) <{auto_pad = "SAME_UPPER", kernel_shape = [3, 3], strides = [2, 2]}> : (tensor<1x3x7x7xf32>) -> tensor<*xf32>
  %g = "onnx.GlobalAveragePool"(%a) : (tensor<*xf32>) -> tensor<*xf32>
  %shape = "onnx.Constant"() <{value = dense<[2, 1, 1, 1]> : tensor<4xi64>}> : () -> tensor<4xi64>
  %e = "onnx.Expand"(%g, %shape) : (tensor<*xf32>, tensor<4xi64>) -> tensor<*xf32>
  %pads = "onnx.Constant"() <{value = dense<[0, 0, 1, 1, 0, 0, 1, 1]> : tensor<8xi64>}> : () -> tensor<8xi64>
  %p = "onnx.Pad"(%e, %pads) <{mode = "constant", operandSegmentSizes = array<i32: 1, 1, 0, 0>}> : (tensor<*xf32>, tensor<8xi64>) -> tensor<*xf32>
  %reps = "onnx.Constant"() <{value = dense<[1, 2, 1, 1]> : tensor<4xi64>}> : () -> tensor<4xi64>
  %t = "onnx.Tile"(%p, %reps) : (tensor<*xf32>, tensor<4xi64>) -> tensor<*xf32>
  %dims = "onnx.Constant"() <{value = dense<[2, 2]> : tensor<2xi64>}> : () -> tensor<2xi64>
  %c = "onnx.ConstantOfShape"(%dims) : (tensor<2xi64>) -> tensor<*xf32>
  return %m, %t, %c, %e : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

// Resize to constant sizes, and by constant scales of a known input
// (floor(input * scale)); the exporters' interpolate(size=...) chains fold
// to these once the input is static.
// CHECK-LABEL: func.func @resize
// CHECK: "onnx.Resize"{{.*}} -> tensor<1x2x7x9xf32>
// CHECK: "onnx.Resize"{{.*}} -> tensor<1x2x5x15xf32>
func.func @resize(%x: tensor<1x2x3x4xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  %sizes = "onnx.Constant"() {value = dense<[1, 2, 7, 9]> : tensor<4xi64>} : () -> tensor<4xi64>
  %a = "onnx.Resize"(%x, %sizes) {mode = "linear", operandSegmentSizes = array<i32: 1, 0, 0, 1>} : (tensor<1x2x3x4xf32>, tensor<4xi64>) -> tensor<*xf32>
  %scales = "onnx.Constant"() {value = dense<[1.0, 1.0, 1.75, 3.9]> : tensor<4xf32>} : () -> tensor<4xf32>
  %b = "onnx.Resize"(%x, %scales) {mode = "nearest", operandSegmentSizes = array<i32: 1, 0, 1, 0>} : (tensor<1x2x3x4xf32>, tensor<4xf32>) -> tensor<*xf32>
  return %a, %b : tensor<*xf32>, tensor<*xf32>
}

// -----

// Sizes partly known: over a symbolic image the Resize keeps the batch and
// channels the sizes' constant part gives, and a Reshape to [N, -1] with
// N read from a static dimension gets its first size.
// CHECK-LABEL: func.func @partly_known_sizes
// CHECK: "onnx.Resize"{{.*}} -> tensor<1x2x?x?xf32>
// CHECK: "onnx.Reshape"{{.*}} -> tensor<1x?xf32>
func.func @partly_known_sizes(%x: tensor<1x2x3x4xf32>, %image: tensor<1x3x?x?xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  %lead = "onnx.Constant"() {value = dense<[1, 2]> : tensor<2xi64>} : () -> tensor<2xi64>
  %shape = "onnx.Shape"(%image) {start = 2 : i64} : (tensor<1x3x?x?xf32>) -> tensor<2xi64>
  %sizes = "onnx.Concat"(%lead, %shape) {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %a = "onnx.Resize"(%x, %sizes) {mode = "linear", operandSegmentSizes = array<i32: 1, 0, 0, 1>} : (tensor<1x2x3x4xf32>, tensor<4xi64>) -> tensor<*xf32>
  %all = "onnx.Shape"(%image) {start = 0 : i64} : (tensor<1x3x?x?xf32>) -> tensor<4xi64>
  %zero = "onnx.Constant"() {value = dense<0> : tensor<i64>} : () -> tensor<i64>
  %n = "onnx.Gather"(%all, %zero) {axis = 0 : i64} : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %axes = "onnx.Constant"() {value = dense<0> : tensor<1xi64>} : () -> tensor<1xi64>
  %n1 = "onnx.Unsqueeze"(%n, %axes) : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %minus = "onnx.Constant"() {value = dense<-1> : tensor<1xi64>} : () -> tensor<1xi64>
  %target = "onnx.Concat"(%n1, %minus) {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %b = "onnx.Reshape"(%image, %target) : (tensor<1x3x?x?xf32>, tensor<2xi64>) -> tensor<*xf32>
  return %a, %b : tensor<*xf32>, tensor<*xf32>
}
