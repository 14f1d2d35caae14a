// RUN: kiln-opt %s -split-input-file -kiln-lower-onnx-to-linalg | FileCheck %s

// ConstantOfShape with a run-time shape: the sizes are read from it.
// CHECK-LABEL: func.func @constant_of_shape
// CHECK: %[[D0:.*]] = tensor.extract %{{.*}}[%{{.*}}] : tensor<2xi64>
// CHECK: %[[I0:.*]] = arith.index_cast %[[D0]] : i64 to index
// CHECK: %[[D1:.*]] = tensor.extract
// CHECK: %[[I1:.*]] = arith.index_cast %[[D1]]
// CHECK: %[[E:.*]] = tensor.empty(%[[I0]], %[[I1]]) : tensor<?x?xf32>
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[E]] : tensor<?x?xf32>)
func.func @constant_of_shape(%arg0: tensor<2xi64>) -> (tensor<?x?xf32>) {
  %0 = "onnx.ConstantOfShape"(%arg0) <{value = dense<2.500000e+00> : tensor<1xf32>}> : (tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// Range: the length is ceil((limit - start) / delta), at least 0.
// CHECK-LABEL: func.func @range
// CHECK: arith.ceildivsi
// CHECK: arith.maxsi
// CHECK: %[[E:.*]] = tensor.empty(%{{.*}}) : tensor<?xi32>
// CHECK: linalg.generic {{.*}} outs(%[[E]] : tensor<?xi32>)
// CHECK: arith.muli
// CHECK: arith.addi
func.func @range(%arg0: tensor<i32>, %arg1: tensor<i32>, %arg2: tensor<i32>) -> (tensor<?xi32>) {
  %0 = "onnx.Range"(%arg0, %arg1, %arg2) : (tensor<i32>, tensor<i32>, tensor<i32>) -> tensor<?xi32>
  return %0 : tensor<?xi32>
}

// -----

// EyeLike: ones where column = row + k.
// CHECK-LABEL: func.func @eyelike
// CHECK: %[[K:.*]] = arith.constant 1 : index
// CHECK: linalg.generic
// CHECK: %[[ROW:.*]] = linalg.index 0
// CHECK: %[[COL:.*]] = linalg.index 1
// CHECK: %[[DIAG:.*]] = arith.addi %[[ROW]], %[[K]]
// CHECK: arith.cmpi eq, %[[COL]], %[[DIAG]]
// CHECK: arith.select
func.func @eyelike(%arg0: tensor<3x4xf32>) -> (tensor<3x4xf32>) {
  %0 = "onnx.EyeLike"(%arg0) <{k = 1 : i64}> : (tensor<3x4xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}
