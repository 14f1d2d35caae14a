// RUN: kiln-opt %s -split-input-file -kiln-lower-onnx-to-linalg | FileCheck %s

// Reshapes are views: collapse, expand, or both through the flat view.
// CHECK-LABEL: func.func @reshapes
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0], [1, 2]] : tensor<2x3x4xf32> into tensor<2x12xf32>
// CHECK: %[[EXP:.*]] = tensor.expand_shape %[[X]] {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 3, 4] : tensor<2x3x4xf32> into tensor<1x2x3x4xf32>
// CHECK: %[[ALL:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1, 2]] : tensor<2x3x4xf32> into tensor<24xf32>
// CHECK: %[[BOTH:.*]] = tensor.expand_shape %[[ALL]] {{\[}}[0, 1]] output_shape [4, 6] : tensor<24xf32> into tensor<4x6xf32>
// CHECK: return %[[FLAT]], %[[EXP]], %[[BOTH]]
func.func @reshapes(%x: tensor<2x3x4xf32>) -> (tensor<2x12xf32>, tensor<1x2x3x4xf32>, tensor<4x6xf32>) {
  %f = "onnx.Flatten"(%x) <{axis = 1 : i64}> : (tensor<2x3x4xf32>) -> tensor<2x12xf32>
  %axes = "onnx.Constant"() <{value = dense<[0]> : tensor<1xi64>}> : () -> tensor<1xi64>
  %u = "onnx.Unsqueeze"(%x, %axes) : (tensor<2x3x4xf32>, tensor<1xi64>) -> tensor<1x2x3x4xf32>
  %s = "onnx.Constant"() <{value = dense<[4, 6]> : tensor<2xi64>}> : () -> tensor<2xi64>
  %r = "onnx.Reshape"(%x, %s) <{allowzero = 0 : i64}> : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<4x6xf32>
  return %f, %u, %r : tensor<2x12xf32>, tensor<1x2x3x4xf32>, tensor<4x6xf32>
}

// -----

// CHECK-LABEL: func.func @transpose
// CHECK-SAME: (%[[X:.*]]: tensor<?x3x4xf32>)
// CHECK: %[[D:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x3x4xf32>
// CHECK: %[[E:.*]] = tensor.empty(%[[D]]) : tensor<4x?x3xf32>
// CHECK: linalg.transpose ins(%[[X]] : tensor<?x3x4xf32>) outs(%[[E]] : tensor<4x?x3xf32>) permutation = [2, 0, 1]
func.func @transpose(%x: tensor<?x3x4xf32>) -> tensor<4x?x3xf32> {
  %0 = "onnx.Transpose"(%x) <{perm = [2, 0, 1]}> : (tensor<?x3x4xf32>) -> tensor<4x?x3xf32>
  return %0 : tensor<4x?x3xf32>
}

// -----

// CHECK-LABEL: func.func @concat
// CHECK-SAME: (%[[A:.*]]: tensor<2x3xf32>, %[[B:.*]]: tensor<2x5xf32>)
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x8xf32>
// CHECK: %[[I:.*]] = tensor.insert_slice %[[A]] into %[[E]][0, 0] [2, 3] [1, 1]
// CHECK: tensor.insert_slice %[[B]] into %[[I]][0, 3] [2, 5] [1, 1]
func.func @concat(%a: tensor<2x3xf32>, %b: tensor<2x5xf32>) -> tensor<2x8xf32> {
  %0 = "onnx.Concat"(%a, %b) <{axis = -1 : i64}> : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// Softmax: max, exp of the difference, sum, divide.
// CHECK-LABEL: func.func @softmax
// CHECK: arith.constant 0xFF800000 : f32
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: arith.maximumf
// CHECK: linalg.generic
// CHECK: arith.subf
// CHECK: math.exp
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: arith.addf
// CHECK: linalg.generic
// CHECK: arith.divf
func.func @softmax(%x: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %0 = "onnx.Softmax"(%x) <{axis = -1 : i64}> : (tensor<2x5xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// A constant-mode Pad is tensor.pad with the scalar as padding value.
// CHECK-LABEL: func.func @pad
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>, %[[V:.*]]: tensor<f32>)
// CHECK: %[[S:.*]] = tensor.extract %[[V]][] : tensor<f32>
// CHECK: tensor.pad %[[X]] low[0, 1] high[1, 2]
// CHECK: tensor.yield %[[S]] : f32
// CHECK: } : tensor<2x3xf32> to tensor<3x6xf32>
func.func @pad(%x: tensor<2x3xf32>, %v: tensor<f32>) -> tensor<3x6xf32> {
  %p = "onnx.Constant"() <{value = dense<[0, 1, 1, 2]> : tensor<4xi64>}> : () -> tensor<4xi64>
  %0 = "onnx.Pad"(%x, %p, %v) <{mode = "constant", operandSegmentSizes = array<i32: 1, 1, 1, 0>}> : (tensor<2x3xf32>, tensor<4xi64>, tensor<f32>) -> tensor<3x6xf32>
  return %0 : tensor<3x6xf32>
}

// -----

// Edge mode reads the clamped input position.
// CHECK-LABEL: func.func @pad_edge
// CHECK: linalg.generic
// CHECK: arith.subi
// CHECK: arith.minsi
// CHECK: arith.maxsi
// CHECK: tensor.extract %{{.*}} : tensor<2x3xf32>
func.func @pad_edge(%x: tensor<2x3xf32>) -> tensor<4x5xf32> {
  %p = "onnx.Constant"() <{value = dense<[1, 1, 1, 1]> : tensor<4xi64>}> : () -> tensor<4xi64>
  %0 = "onnx.Pad"(%x, %p) <{mode = "edge", operandSegmentSizes = array<i32: 1, 1, 0, 0>}> : (tensor<2x3xf32>, tensor<4xi64>) -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// -----

// Run-time pads (constant mode): the leading pads are read once; outside
// the input the pad value is selected.
// CHECK-LABEL: func.func @pad_runtime
// CHECK: tensor.extract %{{.*}}[%{{.*}}] : tensor<4xi64>
// CHECK: linalg.generic
// CHECK: arith.cmpi sge
// CHECK: arith.select
func.func @pad_runtime(%x: tensor<2x3xf32>, %p: tensor<4xi64>) -> tensor<4x5xf32> {
  %0 = "onnx.Pad"(%x, %p) <{mode = "constant", operandSegmentSizes = array<i32: 1, 1, 0, 0>}> : (tensor<2x3xf32>, tensor<4xi64>) -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// -----

// Split takes each output's slice; inference Dropout passes its input and
// an all-true mask.
// CHECK-LABEL: func.func @split_dropout
// CHECK: tensor.extract_slice %{{.*}}[0, 0] [2, 2] [1, 1]
// CHECK: tensor.extract_slice %{{.*}}[2, 0] [4, 2] [1, 1]
// CHECK: linalg.fill ins(%{{.*}} : i1)
func.func @split_dropout(%arg0: tensor<6x2xf32>) -> (tensor<2x2xf32>, tensor<4x2xf32>, tensor<6x2xi1>) {
  %0 = "onnx.Constant"() <{value = dense<[2, 4]> : tensor<2xi64>}> : () -> tensor<2xi64>
  %1:2 = "onnx.Split"(%arg0, %0) <{axis = 0 : i64}> : (tensor<6x2xf32>, tensor<2xi64>) -> (tensor<2x2xf32>, tensor<4x2xf32>)
  %output, %mask = "onnx.Dropout"(%arg0) <{operandSegmentSizes = array<i32: 1, 0, 0>}> : (tensor<6x2xf32>) -> (tensor<6x2xf32>, tensor<6x2xi1>)
  return %1#0, %1#1, %mask : tensor<2x2xf32>, tensor<4x2xf32>, tensor<6x2xi1>
}

// -----

// Shape of a symbolic tensor reads its dimensions at run time.
// CHECK-LABEL: func.func @shape_symbolic
// CHECK: %[[H:.*]] = tensor.dim %arg0, %c2
// CHECK: %[[HI:.*]] = arith.index_cast %[[H]] : index to i64
// CHECK: %[[W:.*]] = tensor.dim %arg0, %c3
// CHECK: %[[WI:.*]] = arith.index_cast %[[W]] : index to i64
// CHECK: tensor.from_elements %[[HI]], %[[WI]] : tensor<2xi64>
func.func @shape_symbolic(%x: tensor<1x3x?x?xf32>) -> tensor<2xi64> {
  %0 = "onnx.Shape"(%x) <{start = 2 : i64}> : (tensor<1x3x?x?xf32>) -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

// Concat of symbolic tensors: each lands at the running sum of the
// lengths before it; the result's symbolic sizes are the first input's.
// CHECK-LABEL: func.func @concat_symbolic
// CHECK: %[[A:.*]] = tensor.dim %arg0, %c1
// CHECK: %[[B:.*]] = tensor.dim %arg1, %c1
// CHECK: %[[LENGTH:.*]] = arith.addi %[[A]], %[[B]]
// CHECK: %[[EMPTY:.*]] = tensor.empty(%[[LENGTH]], %{{.*}}) : tensor<2x?x?xf32>
// CHECK: %[[FIRST:.*]] = tensor.insert_slice %arg0 into %[[EMPTY]][0, 0, 0]
// CHECK: tensor.insert_slice %arg1 into %[[FIRST]][0, %[[A]], 0]
func.func @concat_symbolic(%a: tensor<2x?x?xf32>, %b: tensor<2x?x?xf32>) -> tensor<2x?x?xf32> {
  %0 = "onnx.Concat"(%a, %b) <{axis = 1 : i64}> : (tensor<2x?x?xf32>, tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
  return %0 : tensor<2x?x?xf32>
}

// -----

// Symbolic reshapes. Unsqueeze: an expand_shape whose symbolic sizes are
// the input's.
// CHECK-LABEL: func.func @unsqueeze_symbolic
// CHECK-DAG: %[[D0:.*]] = tensor.dim %arg0, %c0
// CHECK-DAG: %[[D1:.*]] = tensor.dim %arg0, %c1
// CHECK: tensor.expand_shape %arg0 {{\[\[}}0, 1, 2], [3]] output_shape [%[[D0]], 1, 1, %[[D1]]] : tensor<?x?xi64> into tensor<?x1x1x?xi64>
func.func @unsqueeze_symbolic(%x: tensor<?x?xi64>) -> tensor<?x1x1x?xi64> {
  %a = "onnx.Constant"() {value = dense<[1, -2]> : tensor<2xi64>} : () -> tensor<2xi64>
  %0 = "onnx.Unsqueeze"(%x, %a) : (tensor<?x?xi64>, tensor<2xi64>) -> tensor<?x1x1x?xi64>
  return %0 : tensor<?x1x1x?xi64>
}

// -----

// Squeeze of static unit axes and Flatten: collapse_shapes.
// CHECK-LABEL: func.func @squeeze_flatten_symbolic
// CHECK: tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2, 3]] : tensor<?x1x?x1xf32> into tensor<?x?xf32>
// CHECK: tensor.collapse_shape %arg1 {{\[\[}}0, 1], [2]] : tensor<?x3x?xf32> into tensor<?x?xf32>
func.func @squeeze_flatten_symbolic(%x: tensor<?x1x?x1xf32>, %y: tensor<?x3x?xf32>) -> (tensor<?x?xf32>, tensor<?x?xf32>) {
  %a = "onnx.Constant"() {value = dense<[1, 3]> : tensor<2xi64>} : () -> tensor<2xi64>
  %0 = "onnx.Squeeze"(%x, %a) : (tensor<?x1x?x1xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %1 = "onnx.Flatten"(%y) {axis = 2 : i64} : (tensor<?x3x?xf32>) -> tensor<?x?xf32>
  return %0, %1 : tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

// Reshape to a shape computed at run time ([0, 0, 4, 16] splitting the
// heads, say): each symbolic entry read from the shape operand, 0 taking
// the input's dimension and -1 what the others leave of the total, then
// tensor.reshape.
// CHECK-LABEL: func.func @reshape_symbolic
// CHECK: %[[E0:.*]] = tensor.extract %arg1[%c0
// CHECK: %[[I0:.*]] = arith.index_cast %[[E0]] : i64 to index
// CHECK: %[[ZERO:.*]] = arith.cmpi eq, %[[I0]], %c0
// CHECK: arith.select %[[ZERO]]
// CHECK: arith.divui
// CHECK: %[[SHAPE:.*]] = tensor.from_elements %{{.*}}, %{{.*}}, %c4{{.*}}, %c16{{.*}} : tensor<4xindex>
// CHECK: tensor.reshape %arg0(%[[SHAPE]]) : (tensor<?x?x64xf32>, tensor<4xindex>) -> tensor<?x?x4x16xf32>
func.func @reshape_symbolic(%x: tensor<?x?x64xf32>, %s: tensor<4xi64>) -> tensor<?x?x4x16xf32> {
  %0 = "onnx.Reshape"(%x, %s) : (tensor<?x?x64xf32>, tensor<4xi64>) -> tensor<?x?x4x16xf32>
  return %0 : tensor<?x?x4x16xf32>
}
