// The graph stage as kiln-opt runs it: folding, CSE, canonicalization.
// RUN: kiln-opt %s --kiln-graph-pipeline | FileCheck %s

// CHECK-LABEL: func.func @static_flatten
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-NEXT: %[[S:.*]] = "onnx.Constant"() <{value = dense<[2, 12]> : tensor<2xi64>}>
// CHECK-NEXT: %[[R:.*]] = "onnx.Reshape"(%[[X]], %[[S]])
// CHECK-NEXT: %[[Y:.*]] = "onnx.Relu"(%[[R]])
// CHECK-NEXT: %[[Z:.*]] = "onnx.Add"(%[[Y]], %[[Y]])
// CHECK-NEXT: return %[[Z]]
func.func @static_flatten(%x: tensor<2x3x4xf32>) -> tensor<2x12xf32> {
  %shape = "onnx.Shape"(%x) <{start = 0 : i64}> : (tensor<2x3x4xf32>) -> tensor<3xi64>
  %i = "onnx.Constant"() <{value = dense<[0]> : tensor<1xi64>}> : () -> tensor<1xi64>
  %d = "onnx.Gather"(%shape, %i) <{axis = 0 : i64}> : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  %m = "onnx.Constant"() <{value = dense<[12]> : tensor<1xi64>}> : () -> tensor<1xi64>
  %t = "onnx.Concat"(%d, %m) <{axis = 0 : i64}> : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %r = "onnx.Reshape"(%x, %t) <{allowzero = 0 : i64}> : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<2x12xf32>
  %id = "onnx.Identity"(%r) : (tensor<2x12xf32>) -> tensor<2x12xf32>
  %y1 = "onnx.Relu"(%id) : (tensor<2x12xf32>) -> tensor<2x12xf32>
  %y2 = "onnx.Relu"(%id) : (tensor<2x12xf32>) -> tensor<2x12xf32>
  %z = "onnx.Add"(%y1, %y2) : (tensor<2x12xf32>, tensor<2x12xf32>) -> tensor<2x12xf32>
  return %z : tensor<2x12xf32>
}

// Without ONNX's types, the pipeline's shape rounds still reach static IR:
// the Shape of a refined value folds, and the Reshape it feeds refines.
// CHECK-LABEL: func.func @untyped_chain
// CHECK-SAME: -> tensor<2x12xf32>
// CHECK-NOT: onnx.Shape
// CHECK: "onnx.Reshape"{{.*}} -> tensor<2x12xf32>
func.func @untyped_chain(%x: tensor<2x3x4xf32>) -> tensor<*xf32> {
  %r = "onnx.Relu"(%x) : (tensor<2x3x4xf32>) -> tensor<*xf32>
  %shape = "onnx.Shape"(%r) <{start = 0 : i64}> : (tensor<*xf32>) -> tensor<*xi64>
  %i = "onnx.Constant"() <{value = dense<[0]> : tensor<1xi64>}> : () -> tensor<1xi64>
  %d = "onnx.Gather"(%shape, %i) <{axis = 0 : i64}> : (tensor<*xi64>, tensor<1xi64>) -> tensor<*xi64>
  %m = "onnx.Constant"() <{value = dense<[-1]> : tensor<1xi64>}> : () -> tensor<1xi64>
  %t = "onnx.Concat"(%d, %m) <{axis = 0 : i64}> : (tensor<*xi64>, tensor<1xi64>) -> tensor<*xi64>
  %y = "onnx.Reshape"(%r, %t) <{allowzero = 0 : i64}> : (tensor<*xf32>, tensor<*xi64>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}
