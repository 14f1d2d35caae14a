// RUN: kiln-opt %s -kiln-lower-onnx-to-linalg | FileCheck %s

// TopK: k selection passes per row (each scanning the axis) write the
// indices; the values are gathered from the input at them.
// CHECK-LABEL: func.func @top_k
// CHECK: %[[I:.*]] = scf.for
// CHECK: scf.for {{.*}} iter_args
// CHECK: scf.for {{.*}} iter_args
// CHECK: arith.cmpf ogt
// CHECK: tensor.insert
// CHECK: %[[V:.*]] = linalg.generic
// CHECK: tensor.extract %[[I]]
// CHECK: return %[[V]], %[[I]] : tensor<3x2xf32>, tensor<3x2xi64>
func.func @top_k(%x: tensor<3x4xf32>, %k: tensor<1xi64>) -> (tensor<3x2xf32>, tensor<3x2xi64>) {
  %v, %i = "onnx.TopK"(%x, %k) <{axis = 1 : i64, largest = 1 : i64, sorted = 1 : i64}> : (tensor<3x4xf32>, tensor<1xi64>) -> (tensor<3x2xf32>, tensor<3x2xi64>)
  return %v, %i : tensor<3x2xf32>, tensor<3x2xi64>
}
