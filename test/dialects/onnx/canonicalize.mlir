// RUN: kiln-opt %s -split-input-file -canonicalize | FileCheck %s

// The shape chain exporters emit for x.view(x.size(0), -1) folds to a
// constant shape.
// CHECK-LABEL: func.func @shape_gather_concat_reshape
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK: %[[SHAPE:.*]] = "onnx.Constant"() <{value = dense<[2, -1]> : tensor<2xi64>}>
// CHECK: %[[R:.*]] = "onnx.Reshape"(%[[X]], %[[SHAPE]])
// CHECK-NEXT: return %[[R]]
func.func @shape_gather_concat_reshape(%x: tensor<2x3x4xf32>) -> tensor<2x12xf32> {
  %shape = "onnx.Shape"(%x) <{start = 0 : i64}> : (tensor<2x3x4xf32>) -> tensor<3xi64>
  %zero = "onnx.Constant"() <{value = dense<0> : tensor<i64>}> : () -> tensor<i64>
  %dim = "onnx.Gather"(%shape, %zero) <{axis = 0 : i64}> : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %axes = "onnx.Constant"() <{value = dense<0> : tensor<1xi64>}> : () -> tensor<1xi64>
  %dim1 = "onnx.Unsqueeze"(%dim, %axes) : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %minus = "onnx.Constant"() <{value = dense<-1> : tensor<1xi64>}> : () -> tensor<1xi64>
  %target = "onnx.Concat"(%dim1, %minus) <{axis = 0 : i64}> : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %r = "onnx.Reshape"(%x, %target) <{allowzero = 0 : i64}> : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<2x12xf32>
  return %r : tensor<2x12xf32>
}

// -----

// Shape arithmetic on dimensions: Mul, Add, Sub, Div fold on integers.
// CHECK-LABEL: func.func @dimension_arithmetic
// CHECK: %[[C:.*]] = "onnx.Constant"() <{value = dense<[12, 1, 4, 2]> : tensor<4xi64>}>
// CHECK-NEXT: return %[[C]]
func.func @dimension_arithmetic(%x: tensor<3x4xf32>) -> tensor<4xi64> {
  %shape = "onnx.Shape"(%x) <{start = 0 : i64}> : (tensor<3x4xf32>) -> tensor<2xi64>
  %i0 = "onnx.Constant"() <{value = dense<[0]> : tensor<1xi64>}> : () -> tensor<1xi64>
  %i1 = "onnx.Constant"() <{value = dense<[1]> : tensor<1xi64>}> : () -> tensor<1xi64>
  %d0 = "onnx.Gather"(%shape, %i0) <{axis = 0 : i64}> : (tensor<2xi64>, tensor<1xi64>) -> tensor<1xi64>
  %d1 = "onnx.Gather"(%shape, %i1) <{axis = 0 : i64}> : (tensor<2xi64>, tensor<1xi64>) -> tensor<1xi64>
  %mul = "onnx.Mul"(%d0, %d1) : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %sub = "onnx.Sub"(%d1, %d0) : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %add = "onnx.Add"(%d0, %sub) : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %two = "onnx.Constant"() <{value = dense<2> : tensor<i64>}> : () -> tensor<i64>
  %div = "onnx.Div"(%d1, %two) : (tensor<1xi64>, tensor<i64>) -> tensor<1xi64>
  %all = "onnx.Concat"(%mul, %sub, %add, %div) <{axis = 0 : i64}> : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xi64>
  return %all : tensor<4xi64>
}

// -----

// Division by zero is left for run time.
// CHECK-LABEL: func.func @no_fold_division_by_zero
// CHECK: "onnx.Div"
func.func @no_fold_division_by_zero() -> tensor<1xi64> {
  %a = "onnx.Constant"() <{value = dense<[4]> : tensor<1xi64>}> : () -> tensor<1xi64>
  %z = "onnx.Constant"() <{value = dense<[0]> : tensor<1xi64>}> : () -> tensor<1xi64>
  %d = "onnx.Div"(%a, %z) : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  return %d : tensor<1xi64>
}

// -----

// Expand's shape as exporters compute it: Where(Equal(s, -1), 1, s).
// CHECK-LABEL: func.func @equal_where_shape
// CHECK: %[[S:.*]] = "onnx.Constant"() <{value = dense<[2, 1, 1]> : tensor<3xi64>}>
// CHECK-NOT: onnx.Equal
// CHECK-NOT: onnx.Where
// CHECK: return %[[S]]
func.func @equal_where_shape() -> tensor<3xi64> {
  %s = "onnx.Constant"() <{value = dense<[2, -1, -1]> : tensor<3xi64>}> : () -> tensor<3xi64>
  %m = "onnx.Constant"() <{value = dense<-1> : tensor<i64>}> : () -> tensor<i64>
  %one = "onnx.Constant"() <{value = dense<1> : tensor<3xi64>}> : () -> tensor<3xi64>
  %e = "onnx.Equal"(%s, %m) : (tensor<3xi64>, tensor<i64>) -> tensor<3xi1>
  %w = "onnx.Where"(%e, %one, %s) : (tensor<3xi1>, tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  return %w : tensor<3xi64>
}

// -----

// Equal on floats and Where on float data are left alone.
// CHECK-LABEL: func.func @no_fold_float_equal_where
// CHECK: "onnx.Equal"
// CHECK: "onnx.Where"
func.func @no_fold_float_equal_where(%x: tensor<2xf32>) -> (tensor<2xi1>, tensor<2xf32>) {
  %a = "onnx.Constant"() <{value = dense<[1.0, 2.0]> : tensor<2xf32>}> : () -> tensor<2xf32>
  %c = "onnx.Constant"() <{value = dense<[true, false]> : tensor<2xi1>}> : () -> tensor<2xi1>
  %e = "onnx.Equal"(%a, %a) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xi1>
  %w = "onnx.Where"(%c, %a, %x) : (tensor<2xi1>, tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %e, %w : tensor<2xi1>, tensor<2xf32>
}

// -----

// Float arithmetic is not folded here (weights stay as they are).
// CHECK-LABEL: func.func @no_fold_float
// CHECK: "onnx.Add"
func.func @no_fold_float() -> tensor<2xf32> {
  %a = "onnx.Constant"() <{value = dense<[1.0, 2.0]> : tensor<2xf32>}> : () -> tensor<2xf32>
  %s = "onnx.Add"(%a, %a) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %s : tensor<2xf32>
}

// -----

// ConstantOfShape with a static result is a splat; the default value is 0.
// CHECK-LABEL: func.func @constant_of_shape
// CHECK-DAG: "onnx.Constant"() <{value = dense<7> : tensor<2x3xi32>}>
// CHECK-DAG: "onnx.Constant"() <{value = dense<0.000000e+00> : tensor<4xf32>}>
// CHECK-NOT: ConstantOfShape
func.func @constant_of_shape(%s: tensor<2xi64>, %t: tensor<1xi64>) -> (tensor<2x3xi32>, tensor<4xf32>) {
  %a = "onnx.ConstantOfShape"(%s) <{value = dense<7> : tensor<1xi32>}> : (tensor<2xi64>) -> tensor<2x3xi32>
  %b = "onnx.ConstantOfShape"(%t) : (tensor<1xi64>) -> tensor<4xf32>
  return %a, %b : tensor<2x3xi32>, tensor<4xf32>
}

// -----

// Identity disappears; a Cast to the same type too; integer casts fold.
// CHECK-LABEL: func.func @identity_and_cast
// CHECK-SAME: (%[[X:.*]]: tensor<3xf32>)
// CHECK: %[[C:.*]] = "onnx.Constant"() <{value = dense<[1, -1, 0]> : tensor<3xi32>}>
// CHECK: return %[[X]], %[[X]], %[[C]]
func.func @identity_and_cast(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>, tensor<3xi32>) {
  %i = "onnx.Identity"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %c = "onnx.Cast"(%i) <{to = 1 : i64}> : (tensor<3xf32>) -> tensor<3xf32>
  %k = "onnx.Constant"() <{value = dense<[1, -1, 0]> : tensor<3xi64>}> : () -> tensor<3xi64>
  %n = "onnx.Cast"(%k) <{to = 6 : i64}> : (tensor<3xi64>) -> tensor<3xi32>
  return %i, %c, %n : tensor<3xf32>, tensor<3xf32>, tensor<3xi32>
}

// -----

// Slices of shape vectors fold, with ONNX's clamping of ends.
// CHECK-LABEL: func.func @slice_shape
// CHECK: "onnx.Constant"() <{value = dense<[4, 5]> : tensor<2xi64>}>
// CHECK-NOT: onnx.Slice
func.func @slice_shape(%x: tensor<3x4x5xf32>) -> tensor<2xi64> {
  %shape = "onnx.Shape"(%x) <{start = 0 : i64}> : (tensor<3x4x5xf32>) -> tensor<3xi64>
  %start = "onnx.Constant"() <{value = dense<[1]> : tensor<1xi64>}> : () -> tensor<1xi64>
  %end = "onnx.Constant"() <{value = dense<[100]> : tensor<1xi64>}> : () -> tensor<1xi64>
  %s = "onnx.Slice"(%shape, %start, %end) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>}> : (tensor<3xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  return %s : tensor<2xi64>
}

// -----

// Shape with start/end, and Size.
// CHECK-LABEL: func.func @shape_range_and_size
// CHECK-DAG: "onnx.Constant"() <{value = dense<[3, 4]> : tensor<2xi64>}>
// CHECK-DAG: "onnx.Constant"() <{value = dense<120> : tensor<i64>}>
func.func @shape_range_and_size(%x: tensor<2x3x4x5xf32>) -> (tensor<2xi64>, tensor<i64>) {
  %s = "onnx.Shape"(%x) <{start = 1 : i64, end = -1 : i64}> : (tensor<2x3x4x5xf32>) -> tensor<2xi64>
  %n = "onnx.Size"(%x) : (tensor<2x3x4x5xf32>) -> tensor<i64>
  %m = "onnx.Size"(%s) : (tensor<2xi64>) -> tensor<i64>
  %t = "onnx.Mul"(%m, %m) : (tensor<i64>, tensor<i64>) -> tensor<i64>
  %u = "onnx.Mul"(%n, %t) : (tensor<i64>, tensor<i64>) -> tensor<i64>
  %v = "onnx.Div"(%u, %t) : (tensor<i64>, tensor<i64>) -> tensor<i64>
  %w = "onnx.Div"(%v, %n) : (tensor<i64>, tensor<i64>) -> tensor<i64>
  %r = "onnx.Mul"(%w, %u) : (tensor<i64>, tensor<i64>) -> tensor<i64>
  %q = "onnx.Div"(%r, %t) : (tensor<i64>, tensor<i64>) -> tensor<i64>
  return %s, %q : tensor<2xi64>, tensor<i64>
}

// -----

// Dynamic shapes do not fold.
// CHECK-LABEL: func.func @dynamic_shape
// CHECK: "onnx.Shape"
func.func @dynamic_shape(%x: tensor<?x4xf32>) -> tensor<2xi64> {
  %s = "onnx.Shape"(%x) <{start = 0 : i64}> : (tensor<?x4xf32>) -> tensor<2xi64>
  return %s : tensor<2xi64>
}

// -----

// Reshape of a Reshape reads the original input; a Reshape to its own
// type disappears; a reshaped constant is a constant.
// CHECK-LABEL: func.func @reshapes
// CHECK-SAME: (%[[X:.*]]: tensor<2x6xf32>)
// CHECK: %[[K:.*]] = "onnx.Constant"() <{value = dense<{{\[}}[1, 2], [3, 4]]> : tensor<2x2xi64>}>
// CHECK: %[[S:.*]] = "onnx.Constant"() <{value = dense<[3, 4]> : tensor<2xi64>}>
// CHECK: %[[R:.*]] = "onnx.Reshape"(%[[X]], %[[S]])
// CHECK: return %[[R]], %[[X]], %[[K]]
func.func @reshapes(%x: tensor<2x6xf32>) -> (tensor<3x4xf32>, tensor<2x6xf32>, tensor<2x2xi64>) {
  %s1 = "onnx.Constant"() <{value = dense<[12]> : tensor<1xi64>}> : () -> tensor<1xi64>
  %s2 = "onnx.Constant"() <{value = dense<[3, 4]> : tensor<2xi64>}> : () -> tensor<2xi64>
  %s3 = "onnx.Constant"() <{value = dense<[2, 6]> : tensor<2xi64>}> : () -> tensor<2xi64>
  %a = "onnx.Reshape"(%x, %s1) <{allowzero = 0 : i64}> : (tensor<2x6xf32>, tensor<1xi64>) -> tensor<12xf32>
  %b = "onnx.Reshape"(%a, %s2) <{allowzero = 0 : i64}> : (tensor<12xf32>, tensor<2xi64>) -> tensor<3x4xf32>
  %c = "onnx.Reshape"(%x, %s3) <{allowzero = 0 : i64}> : (tensor<2x6xf32>, tensor<2xi64>) -> tensor<2x6xf32>
  %k = "onnx.Constant"() <{value = dense<[1, 2, 3, 4]> : tensor<4xi64>}> : () -> tensor<4xi64>
  %s4 = "onnx.Constant"() <{value = dense<[2, 2]> : tensor<2xi64>}> : () -> tensor<2xi64>
  %d = "onnx.Reshape"(%k, %s4) <{allowzero = 0 : i64}> : (tensor<4xi64>, tensor<2xi64>) -> tensor<2x2xi64>
  return %b, %c, %d : tensor<3x4xf32>, tensor<2x6xf32>, tensor<2x2xi64>
}

// -----

// A Reshape whose shape copies a dimension (0) keeps its own input.
// CHECK-LABEL: func.func @reshape_zero_keeps_input
// CHECK: %[[A:.*]] = "onnx.Reshape"(%{{.*}}, %{{.*}})
// CHECK: "onnx.Reshape"(%[[A]], %{{.*}})
func.func @reshape_zero_keeps_input(%x: tensor<2x6xf32>) -> tensor<?x3xf32> {
  %s1 = "onnx.Constant"() <{value = dense<[12]> : tensor<1xi64>}> : () -> tensor<1xi64>
  %s2 = "onnx.Constant"() <{value = dense<[0, 3]> : tensor<2xi64>}> : () -> tensor<2xi64>
  %a = "onnx.Reshape"(%x, %s1) <{allowzero = 0 : i64}> : (tensor<2x6xf32>, tensor<1xi64>) -> tensor<12xf32>
  %b = "onnx.Reshape"(%a, %s2) <{allowzero = 0 : i64}> : (tensor<12xf32>, tensor<2xi64>) -> tensor<?x3xf32>
  return %b : tensor<?x3xf32>
}

// -----

// Gather on a small dense_resource constant folds; weights do not expand.
// CHECK-LABEL: func.func @gather_resource
// CHECK: "onnx.Constant"() <{value = dense<3> : tensor<i64>}>
func.func @gather_resource() -> tensor<i64> {
  %k = "onnx.Constant"() <{value = dense_resource<shape> : tensor<2xi64>}> : () -> tensor<2xi64>
  %i = "onnx.Constant"() <{value = dense<1> : tensor<i64>}> : () -> tensor<i64>
  %g = "onnx.Gather"(%k, %i) <{axis = 0 : i64}> : (tensor<2xi64>, tensor<i64>) -> tensor<i64>
  return %g : tensor<i64>
}

{-#
  dialect_resources: {
    builtin: {
      shape: "0x0800000002000000000000000300000000000000"
    }
  }
#-}

// -----

// Over a symbolic input the static dimensions still fold: the batch and
// channels of interpolate(size=...)'s sizes become a constant; the
// symbolic height and width stay computed.
// CHECK-LABEL: func.func @symbolic_shape_prefix
// CHECK: %[[LEAD:.*]] = "onnx.Constant"() <{value = dense<[1, 8]> : tensor<2xi64>}>
// CHECK: %[[SHAPE:.*]] = "onnx.Shape"(%arg1)
// CHECK: %[[HW:.*]] = "onnx.Slice"(%[[SHAPE]]
// CHECK: "onnx.Concat"(%[[LEAD]], %[[HW]])
func.func @symbolic_shape_prefix(%x: tensor<1x8x?x?xf32>, %y: tensor<1x3x?x?xf32>) -> tensor<4xi64> {
  %shape = "onnx.Shape"(%x) <{start = 0 : i64}> : (tensor<1x8x?x?xf32>) -> tensor<4xi64>
  %zero = "onnx.Constant"() <{value = dense<[0]> : tensor<1xi64>}> : () -> tensor<1xi64>
  %two = "onnx.Constant"() <{value = dense<[2]> : tensor<1xi64>}> : () -> tensor<1xi64>
  %big = "onnx.Constant"() <{value = dense<[9223372036854775807]> : tensor<1xi64>}> : () -> tensor<1xi64>
  %lead = "onnx.Slice"(%shape, %zero, %two) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>}> : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %image = "onnx.Shape"(%y) <{start = 0 : i64}> : (tensor<1x3x?x?xf32>) -> tensor<4xi64>
  %hw = "onnx.Slice"(%image, %two, %big) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>}> : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %sizes = "onnx.Concat"(%lead, %hw) <{axis = 0 : i64}> : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  return %sizes : tensor<4xi64>
}

// -----

// A Cast keeps the shape: Shape reads the Cast's input, and the Cast, now
// unused, goes (a bf16 cache widened only for its Shape never runs).
// CHECK-LABEL: func.func @shape_of_cast
// CHECK-SAME: (%[[X:.*]]: tensor<1x3x?x8xbf16>)
// CHECK-NEXT: %[[S:.*]] = "onnx.Shape"(%[[X]])
// CHECK-NEXT: return %[[S]]
func.func @shape_of_cast(%x: tensor<1x3x?x8xbf16>) -> tensor<4xi64> {
  %wide = "onnx.Cast"(%x) <{to = 1 : i64}> : (tensor<1x3x?x8xbf16>) -> tensor<1x3x?x8xf32>
  %shape = "onnx.Shape"(%wide) <{start = 0 : i64}> : (tensor<1x3x?x8xf32>) -> tensor<4xi64>
  return %shape : tensor<4xi64>
}
