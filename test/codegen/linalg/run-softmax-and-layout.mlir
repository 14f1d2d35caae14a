// Softmax, LogSoftmax, Transpose, Concat and reshapes compute the right
// numbers. Softmax values from a float64 reference to 6 significant digits
// (relative tolerance about 1e-5); the rest is exact.
// RUN: kiln-opt %s --kiln-linalg-pipeline | %run-on-cpu | FileCheck %s

func.func @model(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<3x2xf32>, tensor<2x6xf32>, tensor<3x2xf32>) {
  %s = "onnx.Softmax"(%x) <{axis = 1 : i64}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %l = "onnx.LogSoftmax"(%x) <{axis = 0 : i64}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %t = "onnx.Transpose"(%x) <{perm = [1, 0]}> : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %c = "onnx.Concat"(%x, %x) <{axis = 1 : i64}> : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x6xf32>
  %shape = "onnx.Constant"() <{value = dense<[3, 2]> : tensor<2xi64>}> : () -> tensor<2xi64>
  %r = "onnx.Reshape"(%x, %shape) <{allowzero = 0 : i64}> : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<3x2xf32>
  return %s, %l, %t, %c, %r : tensor<2x3xf32>, tensor<2x3xf32>, tensor<3x2xf32>, tensor<2x6xf32>, tensor<3x2xf32>
}

func.func private @printMemrefF32(tensor<*xf32>)

func.func @main() {
  %x = arith.constant dense<[[1.0, 2.0, 3.0], [-1.0, 0.0, 5.0]]> : tensor<2x3xf32>
  %r:5 = call @model(%x) : (tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<3x2xf32>, tensor<2x6xf32>, tensor<3x2xf32>)
  %p0 = tensor.cast %r#0 : tensor<2x3xf32> to tensor<*xf32>
  // CHECK: {{\[}}[0.0900306, 0.244728, 0.665241],
  // CHECK-NEXT: [0.0024561{{[12]}}, 0.00667641, 0.990867]]
  call @printMemrefF32(%p0) : (tensor<*xf32>) -> ()
  %p1 = tensor.cast %r#1 : tensor<2x3xf32> to tensor<*xf32>
  // CHECK: {{\[}}[-0.126928, -0.126928, -2.12693],
  // CHECK-NEXT: [-2.12693, -2.12693, -0.126928]]
  call @printMemrefF32(%p1) : (tensor<*xf32>) -> ()
  %p2 = tensor.cast %r#2 : tensor<3x2xf32> to tensor<*xf32>
  // CHECK: {{\[}}[1, -1],
  // CHECK-NEXT: [2, 0],
  // CHECK-NEXT: [3, 5]]
  call @printMemrefF32(%p2) : (tensor<*xf32>) -> ()
  %p3 = tensor.cast %r#3 : tensor<2x6xf32> to tensor<*xf32>
  // CHECK: {{\[}}[1, 2, 3, 1, 2, 3],
  // CHECK-NEXT: [-1, 0, 5, -1, 0, 5]]
  call @printMemrefF32(%p3) : (tensor<*xf32>) -> ()
  %p4 = tensor.cast %r#4 : tensor<3x2xf32> to tensor<*xf32>
  // CHECK: {{\[}}[1, 2],
  // CHECK-NEXT: [3, -1],
  // CHECK-NEXT: [0, 5]]
  call @printMemrefF32(%p4) : (tensor<*xf32>) -> ()
  return
}
