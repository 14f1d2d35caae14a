// RUN: kiln-opt %s -split-input-file -kiln-graph-linear-resize | FileCheck %s

// 2x bilinear upsampling with half_pixel coordinates: output row y reads
// (y + 0.5) / 2 - 0.5, so rows 0..3 of 4 read 0,0 (w 0.75 past the edge,
// clamped), 0,1 (0.25), 0,1 (0.75), 1,1 (clamped); columns likewise for
// 3 -> 6.
// CHECK-LABEL: func.func @upsample
// CHECK-DAG: %[[R:.*]] = "onnx.Constant"() <{value = dense<[0, 0, 0, 1, 0, 1, 1, 1]> : tensor<8xi32>}>
// CHECK-DAG: %[[RW:.*]] = "onnx.Constant"() <{value = dense<[7.500000e-01, 2.500000e-01, 7.500000e-01, 2.500000e-01]> : tensor<4xf32>}>
// CHECK-DAG: %[[C:.*]] = "onnx.Constant"() <{value = dense<[0, 0, 0, 1, 0, 1, 1, 2, 1, 2, 2, 2]> : tensor<12xi32>}>
// CHECK: kiln.resize_linear %arg0, %[[R]], %[[RW]], %[[C]], %{{.*}} into %{{.*}} : tensor<1x3x2x3xf32>, tensor<8xi32>, tensor<4xf32>, tensor<12xi32>, tensor<6xf32> into tensor<1x3x4x6xf32>
func.func @upsample(%x: tensor<1x3x2x3xf32>) -> tensor<1x3x4x6xf32> {
  %scales = "onnx.Constant"() {value = dense<[1.0, 1.0, 2.0, 2.0]> : tensor<4xf32>} : () -> tensor<4xf32>
  %y = "onnx.Resize"(%x, %scales) {mode = "linear", operandSegmentSizes = array<i32: 1, 0, 1, 0>} : (tensor<1x3x2x3xf32>, tensor<4xf32>) -> tensor<1x3x4x6xf32>
  return %y : tensor<1x3x4x6xf32>
}

// -----

// align_corners by sizes: row y reads y * (2 - 1) / (3 - 1).
// CHECK-LABEL: func.func @corners
// CHECK: "onnx.Constant"() <{value = dense<[0, 1, 0, 1, 1, 1]> : tensor<6xi32>}>
// CHECK: "onnx.Constant"() <{value = dense<[0.000000e+00, 5.000000e-01, 0.000000e+00]> : tensor<3xf32>}>
// CHECK: kiln.resize_linear
func.func @corners(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x3x2xf32> {
  %sizes = "onnx.Constant"() {value = dense<[1, 1, 3, 2]> : tensor<4xi64>} : () -> tensor<4xi64>
  %y = "onnx.Resize"(%x, %sizes) {mode = "linear", coordinate_transformation_mode = "align_corners", operandSegmentSizes = array<i32: 1, 0, 0, 1>} : (tensor<1x1x2x2xf32>, tensor<4xi64>) -> tensor<1x1x3x2xf32>
  return %y : tensor<1x1x3x2xf32>
}

// -----

// Left to the generic lowering: nearest and cubic modes, other coordinate
// transformations, resized batch or channel axes.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: kiln.resize_linear
func.func @kept(%x: tensor<1x3x2x3xf32>) -> (tensor<1x3x4x6xf32>, tensor<1x3x4x6xf32>, tensor<2x3x4x6xf32>) {
  %scales = "onnx.Constant"() {value = dense<[1.0, 1.0, 2.0, 2.0]> : tensor<4xf32>} : () -> tensor<4xf32>
  %a = "onnx.Resize"(%x, %scales) {mode = "nearest", operandSegmentSizes = array<i32: 1, 0, 1, 0>} : (tensor<1x3x2x3xf32>, tensor<4xf32>) -> tensor<1x3x4x6xf32>
  %b = "onnx.Resize"(%x, %scales) {mode = "linear", coordinate_transformation_mode = "tf_half_pixel_for_nn", operandSegmentSizes = array<i32: 1, 0, 1, 0>} : (tensor<1x3x2x3xf32>, tensor<4xf32>) -> tensor<1x3x4x6xf32>
  %batch = "onnx.Constant"() {value = dense<[2.0, 1.0, 2.0, 2.0]> : tensor<4xf32>} : () -> tensor<4xf32>
  %c = "onnx.Resize"(%x, %batch) {mode = "linear", operandSegmentSizes = array<i32: 1, 0, 1, 0>} : (tensor<1x3x2x3xf32>, tensor<4xf32>) -> tensor<2x3x4x6xf32>
  return %a, %b, %c : tensor<1x3x4x6xf32>, tensor<1x3x4x6xf32>, tensor<2x3x4x6xf32>
}

// -----

// Over a symbolic image the tables are computed at run time: the output's
// lengths come from the sizes input (never below zero), the scale is their
// ratio, and two generics fill each axis's weights and clamped source
// pairs, once per run.
// CHECK-LABEL: func.func @symbolic
// CHECK: %[[H:.*]] = tensor.dim %arg0, %c2
// CHECK: %[[SIZE:.*]] = tensor.extract %arg1[%c2] : tensor<4xi64>
// CHECK: arith.maxsi %[[SIZE]], %c0_i64
// CHECK: %[[ROWW:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<?xf32>)
// CHECK: math.floor
// CHECK: %[[ROWP:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<?x2xi32>)
// CHECK: arith.maximumf
// CHECK: arith.minimumf
// CHECK: %[[ROWS:.*]] = tensor.collapse_shape %[[ROWP]] {{\[\[}}0, 1]] : tensor<?x2xi32> into tensor<?xi32>
// CHECK: %[[INIT:.*]] = tensor.empty(%{{.*}}, %{{.*}}) : tensor<1x2x?x?xf32>
// CHECK: kiln.resize_linear %arg0, %[[ROWS]], %[[ROWW]], %{{.*}}, %{{.*}} into %[[INIT]]
func.func @symbolic(%x: tensor<1x2x?x?xf32>, %sizes: tensor<4xi64>) -> tensor<1x2x?x?xf32> {
  %y = "onnx.Resize"(%x, %sizes) {mode = "linear", coordinate_transformation_mode = "half_pixel", operandSegmentSizes = array<i32: 1, 0, 0, 1>} : (tensor<1x2x?x?xf32>, tensor<4xi64>) -> tensor<1x2x?x?xf32>
  return %y : tensor<1x2x?x?xf32>
}

// -----

// A symbolic batch (SparseRefine's windows) kept by the exporters' sizes,
// Concat(Slice(Shape(x), [0], [2]), [H, W]): tables at compile time from
// the known height and width, the output's batch x's. Sizes that do not
// start with x's own shape could change the batch: left alone.
// CHECK-LABEL: func.func @symbolic_batch
// CHECK: %[[BATCH:.*]] = tensor.dim %arg0, %c0 : tensor<?x3x2x3xf32>
// CHECK: %[[INIT:.*]] = tensor.empty(%[[BATCH]]) : tensor<?x3x4x6xf32>
// CHECK: kiln.resize_linear %arg0, {{.*}} into %[[INIT]] : tensor<?x3x2x3xf32>, {{.*}} into tensor<?x3x4x6xf32>
// CHECK: "onnx.Resize"(%arg0, %arg1)
func.func @symbolic_batch(%x: tensor<?x3x2x3xf32>, %other: tensor<4xi64>) -> (tensor<?x3x4x6xf32>, tensor<?x3x4x6xf32>) {
  %shape = "onnx.Shape"(%x) {start = 0 : i64} : (tensor<?x3x2x3xf32>) -> tensor<4xi64>
  %zero = "onnx.Constant"() {value = dense<0> : tensor<1xi64>} : () -> tensor<1xi64>
  %two = "onnx.Constant"() {value = dense<2> : tensor<1xi64>} : () -> tensor<1xi64>
  %lead = "onnx.Slice"(%shape, %zero, %two, %zero) {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %hw = "onnx.Constant"() {value = dense<[4, 6]> : tensor<2xi64>} : () -> tensor<2xi64>
  %sizes = "onnx.Concat"(%lead, %hw) {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %y = "onnx.Resize"(%x, %sizes) {mode = "linear", operandSegmentSizes = array<i32: 1, 0, 0, 1>} : (tensor<?x3x2x3xf32>, tensor<4xi64>) -> tensor<?x3x4x6xf32>
  %z = "onnx.Resize"(%x, %other) {mode = "linear", operandSegmentSizes = array<i32: 1, 0, 0, 1>} : (tensor<?x3x2x3xf32>, tensor<4xi64>) -> tensor<?x3x4x6xf32>
  return %y, %z : tensor<?x3x4x6xf32>, tensor<?x3x4x6xf32>
}
