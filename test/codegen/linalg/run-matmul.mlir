// MatMul and Gemm compute the right numbers (exact small integers in f32,
// so the check is exact).
// RUN: kiln-opt %s --kiln-linalg-pipeline | %run-on-cpu | FileCheck %s

func.func @model(%a: tensor<2x3xf32>, %b: tensor<3x2xf32>, %batch: tensor<2x2x3xf32>, %v: tensor<3xf32>, %c: tensor<3xf32>)
    -> (tensor<2x2xf32>, tensor<2x2x2xf32>, tensor<2xf32>, tensor<3x3xf32>) {
  %0 = "onnx.MatMul"(%a, %b) : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
  %1 = "onnx.MatMul"(%batch, %b) : (tensor<2x2x3xf32>, tensor<3x2xf32>) -> tensor<2x2x2xf32>
  %2 = "onnx.MatMul"(%v, %b) : (tensor<3xf32>, tensor<3x2xf32>) -> tensor<2xf32>
  // (A^T)(B^T) * 0.5 + 2 * c: 3x3
  %3 = "onnx.Gemm"(%a, %b, %c) <{alpha = 0.5 : f32, beta = 2.0 : f32, transA = 1 : i64, transB = 1 : i64}> : (tensor<2x3xf32>, tensor<3x2xf32>, tensor<3xf32>) -> tensor<3x3xf32>
  return %0, %1, %2, %3 : tensor<2x2xf32>, tensor<2x2x2xf32>, tensor<2xf32>, tensor<3x3xf32>
}

func.func private @printMemrefF32(tensor<*xf32>)

func.func @main() {
  %a = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %b = arith.constant dense<[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]> : tensor<3x2xf32>
  %batch = arith.constant dense<[[[1.0, 1.0, 1.0], [0.0, 0.0, 1.0]], [[2.0, 0.0, 0.0], [0.0, 3.0, 0.0]]]> : tensor<2x2x3xf32>
  %v = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %c = arith.constant dense<[1.0, -1.0, 0.5]> : tensor<3xf32>
  %r:4 = call @model(%a, %b, %batch, %v, %c) : (tensor<2x3xf32>, tensor<3x2xf32>, tensor<2x2x3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<2x2xf32>, tensor<2x2x2xf32>, tensor<2xf32>, tensor<3x3xf32>)
  %p0 = tensor.cast %r#0 : tensor<2x2xf32> to tensor<*xf32>
  // CHECK: {{\[}}[4, 5],
  // CHECK-NEXT: [10, 11]]
  call @printMemrefF32(%p0) : (tensor<*xf32>) -> ()
  %p1 = tensor.cast %r#1 : tensor<2x2x2xf32> to tensor<*xf32>
  // CHECK: {{\[}}{{\[}}[2, 2],
  // CHECK-NEXT: [1, 1]],
  // CHECK-NEXT: {{\[}}[2, 0],
  // CHECK-NEXT: [0, 3]]]
  call @printMemrefF32(%p1) : (tensor<*xf32>) -> ()
  %p2 = tensor.cast %r#2 : tensor<2xf32> to tensor<*xf32>
  // CHECK: [4, 5]
  call @printMemrefF32(%p2) : (tensor<*xf32>) -> ()
  %p3 = tensor.cast %r#3 : tensor<3x3xf32> to tensor<*xf32>
  // A^T B^T = [[1,4,5],[2,5,7],[3,6,9]]; 0.5 of it plus 2 * C by rows.
  // CHECK: {{\[}}[2.5, 0, 3.5],
  // CHECK-NEXT: [3, 0.5, 4.5],
  // CHECK-NEXT: [3.5, 1, 5.5]]
  call @printMemrefF32(%p3) : (tensor<*xf32>) -> ()
  return
}
