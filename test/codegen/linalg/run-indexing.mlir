// Gather (negative indices, two axes), Slice (steps, clamping) and Pad
// read and place the right elements; the values are exact.
// RUN: kiln-opt %s --kiln-linalg-pipeline | %run-on-cpu | FileCheck %s

func.func @model(%d: tensor<3x3xf32>, %i: tensor<2x2xi64>) -> (tensor<2x2x3xf32>, tensor<3x2x2xf32>, tensor<2x2xf32>) {
  %0 = "onnx.Gather"(%d, %i) <{axis = 0 : i64}> : (tensor<3x3xf32>, tensor<2x2xi64>) -> tensor<2x2x3xf32>
  %1 = "onnx.Gather"(%d, %i) <{axis = 1 : i64}> : (tensor<3x3xf32>, tensor<2x2xi64>) -> tensor<3x2x2xf32>
  %s = "onnx.Constant"() <{value = dense<[0, 0]> : tensor<2xi64>}> : () -> tensor<2xi64>
  %e = "onnx.Constant"() <{value = dense<[100, 3]> : tensor<2xi64>}> : () -> tensor<2xi64>
  %t = "onnx.Constant"() <{value = dense<[2, 2]> : tensor<2xi64>}> : () -> tensor<2xi64>
  %2 = "onnx.Slice"(%d, %s, %e, %t) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 1>}> : (tensor<3x3xf32>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) -> tensor<2x2xf32>
  return %0, %1, %2 : tensor<2x2x3xf32>, tensor<3x2x2xf32>, tensor<2x2xf32>
}

func.func @pad(%d: tensor<3x3xf32>) -> tensor<4x4xf32> {
  %p = "onnx.Constant"() <{value = dense<[1, 0, 0, 1]> : tensor<4xi64>}> : () -> tensor<4xi64>
  %v = "onnx.Constant"() <{value = dense<-1.0> : tensor<f32>}> : () -> tensor<f32>
  %0 = "onnx.Pad"(%d, %p, %v) <{mode = "constant", operandSegmentSizes = array<i32: 1, 1, 1, 0>}> : (tensor<3x3xf32>, tensor<4xi64>, tensor<f32>) -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

func.func private @printMemrefF32(tensor<*xf32>)

func.func @main() {
  %d = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]> : tensor<3x3xf32>
  %i = arith.constant dense<[[0, -1], [1, 0]]> : tensor<2x2xi64>
  %r:3 = call @model(%d, %i) : (tensor<3x3xf32>, tensor<2x2xi64>) -> (tensor<2x2x3xf32>, tensor<3x2x2xf32>, tensor<2x2xf32>)
  %p0 = tensor.cast %r#0 : tensor<2x2x3xf32> to tensor<*xf32>
  // CHECK: {{\[}}{{\[}}[1, 2, 3],
  // CHECK-NEXT: [7, 8, 9]],
  // CHECK-NEXT: {{\[}}[4, 5, 6],
  // CHECK-NEXT: [1, 2, 3]]]
  call @printMemrefF32(%p0) : (tensor<*xf32>) -> ()
  %p1 = tensor.cast %r#1 : tensor<3x2x2xf32> to tensor<*xf32>
  // CHECK: {{\[}}{{\[}}[1, 3],
  // CHECK-NEXT: [2, 1]],
  // CHECK-NEXT: {{\[}}[4, 6],
  // CHECK-NEXT: [5, 4]],
  // CHECK-NEXT: {{\[}}[7, 9],
  // CHECK-NEXT: [8, 7]]]
  call @printMemrefF32(%p1) : (tensor<*xf32>) -> ()
  %p2 = tensor.cast %r#2 : tensor<2x2xf32> to tensor<*xf32>
  // CHECK: {{\[}}[1, 3],
  // CHECK-NEXT: [7, 9]]
  call @printMemrefF32(%p2) : (tensor<*xf32>) -> ()
  %padded = call @pad(%d) : (tensor<3x3xf32>) -> tensor<4x4xf32>
  %p3 = tensor.cast %padded : tensor<4x4xf32> to tensor<*xf32>
  // CHECK: {{\[}}[-1, -1, -1, -1],
  // CHECK-NEXT: [1, 2, 3, -1],
  // CHECK-NEXT: [4, 5, 6, -1],
  // CHECK-NEXT: [7, 8, 9, -1]]
  call @printMemrefF32(%p3) : (tensor<*xf32>) -> ()
  return
}
