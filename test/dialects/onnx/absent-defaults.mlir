// Ops written without their default-valued attributes get the schema's
// defaults when parsed, and verify, fold and get shapes with them.
// RUN: kiln-opt %s -kiln-graph-infer-shapes -canonicalize | FileCheck %s

// CHECK-LABEL: func.func @defaults
// CHECK-DAG: "onnx.Constant"() <{value = dense<[2, 3]> : tensor<2xi64>}>
// CHECK-DAG: "onnx.Softmax"(%{{.*}}) <{axis = -1 : i64}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-DAG: "onnx.Flatten"(%{{.*}}) <{axis = 1 : i64}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-DAG: "onnx.Gather"(%{{.*}}, %{{.*}}) <{axis = 0 : i64}> : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<1x3xf32>
// CHECK-DAG: "onnx.Conv"(%{{.*}}, %{{.*}}) <{auto_pad = "NOTSET", group = 1 : i64}> : (tensor<1x2x4x4xf32>, tensor<3x2x3x3xf32>) -> tensor<1x3x2x2xf32>
func.func @defaults(%x: tensor<2x3xf32>, %i: tensor<1xi64>, %img: tensor<1x2x4x4xf32>, %w: tensor<3x2x3x3xf32>) -> (tensor<*xi64>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %s = "onnx.Shape"(%x) : (tensor<2x3xf32>) -> tensor<2xi64>
  %sm = "onnx.Softmax"(%x) : (tensor<2x3xf32>) -> tensor<*xf32>
  %f = "onnx.Flatten"(%x) : (tensor<2x3xf32>) -> tensor<*xf32>
  %g = "onnx.Gather"(%x, %i) : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<*xf32>
  %c = "onnx.Conv"(%img, %w) : (tensor<1x2x4x4xf32>, tensor<3x2x3x3xf32>) -> tensor<*xf32>
  %s2 = "onnx.Identity"(%s) : (tensor<2xi64>) -> tensor<*xi64>
  return %s2, %sm, %f, %g, %c : tensor<*xi64>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}
