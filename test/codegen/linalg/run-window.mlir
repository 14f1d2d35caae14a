// Conv (padded with bias, grouped, strided and dilated), MaxPool with
// ceil_mode, AveragePool with and without counting the padding, and
// GlobalAveragePool compute the right numbers. Expected values come from a
// direct Python loop reference; most are exact in f32, the averages are
// checked to the 6 significant digits printed.
// RUN: kiln-opt %s --kiln-linalg-pipeline | %run-on-cpu | FileCheck %s

func.func @convs(%x1: tensor<1x1x4x4xf32>, %x2: tensor<1x2x3x3xf32>, %x3: tensor<1x1x5x5xf32>)
    -> (tensor<1x1x4x4xf32>, tensor<1x2x2x2xf32>, tensor<1x1x2x2xf32>) {
  %w1 = "onnx.Constant"() <{value = dense<1.0> : tensor<1x1x3x3xf32>}> : () -> tensor<1x1x3x3xf32>
  %b1 = "onnx.Constant"() <{value = dense<0.5> : tensor<1xf32>}> : () -> tensor<1xf32>
  %0 = "onnx.Conv"(%x1, %w1, %b1) <{pads = [1, 1, 1, 1]}> : (tensor<1x1x4x4xf32>, tensor<1x1x3x3xf32>, tensor<1xf32>) -> tensor<1x1x4x4xf32>
  %w2 = "onnx.Constant"() <{value = dense<[[[[1.0, 0.0], [0.0, 1.0]]], [[[0.0, 1.0], [-1.0, 0.0]]]]> : tensor<2x1x2x2xf32>}> : () -> tensor<2x1x2x2xf32>
  %1 = "onnx.Conv"(%x2, %w2) <{group = 2 : i64}> : (tensor<1x2x3x3xf32>, tensor<2x1x2x2xf32>) -> tensor<1x2x2x2xf32>
  %w3 = "onnx.Constant"() <{value = dense<[[[[1.0, 2.0], [3.0, 4.0]]]]> : tensor<1x1x2x2xf32>}> : () -> tensor<1x1x2x2xf32>
  %2 = "onnx.Conv"(%x3, %w3) <{strides = [2, 2], dilations = [2, 2]}> : (tensor<1x1x5x5xf32>, tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
  return %0, %1, %2 : tensor<1x1x4x4xf32>, tensor<1x2x2x2xf32>, tensor<1x1x2x2xf32>
}

func.func @pools(%p: tensor<1x1x5x5xf32>, %q: tensor<1x1x3x3xf32>, %g: tensor<1x2x2x2xf32>)
    -> (tensor<1x1x3x3xf32>, tensor<1x1x3x3xf32>, tensor<1x1x3x3xf32>, tensor<1x1x3x3xf32>, tensor<1x2x1x1xf32>) {
  %0 = "onnx.MaxPool"(%p) <{kernel_shape = [2, 2], strides = [2, 2], ceil_mode = 1 : i64}> : (tensor<1x1x5x5xf32>) -> tensor<1x1x3x3xf32>
  %1 = "onnx.AveragePool"(%q) <{kernel_shape = [3, 3], pads = [1, 1, 1, 1], count_include_pad = 0 : i64}> : (tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32>
  %2 = "onnx.AveragePool"(%q) <{kernel_shape = [3, 3], pads = [1, 1, 1, 1], count_include_pad = 1 : i64}> : (tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32>
  %3 = "onnx.AveragePool"(%p) <{kernel_shape = [2, 2], strides = [2, 2], ceil_mode = 1 : i64, count_include_pad = 1 : i64}> : (tensor<1x1x5x5xf32>) -> tensor<1x1x3x3xf32>
  %4 = "onnx.GlobalAveragePool"(%g) : (tensor<1x2x2x2xf32>) -> tensor<1x2x1x1xf32>
  return %0, %1, %2, %3, %4 : tensor<1x1x3x3xf32>, tensor<1x1x3x3xf32>, tensor<1x1x3x3xf32>, tensor<1x1x3x3xf32>, tensor<1x2x1x1xf32>
}

func.func private @printMemrefF32(tensor<*xf32>)

func.func @print(%t: tensor<1x1x3x3xf32>) {
  %u = tensor.cast %t : tensor<1x1x3x3xf32> to tensor<*xf32>
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}

func.func @main() {
  %x1 = arith.constant dense<[[[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0], [12.0, 13.0, 14.0, 15.0]]]]> : tensor<1x1x4x4xf32>
  %x2 = arith.constant dense<[[[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]], [[9.0, 10.0, 11.0], [12.0, 13.0, 14.0], [15.0, 16.0, 17.0]]]]> : tensor<1x2x3x3xf32>
  %x3 = arith.constant dense<[[[[0.0, 1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0, 9.0], [10.0, 11.0, 12.0, 13.0, 14.0], [15.0, 16.0, 17.0, 18.0, 19.0], [20.0, 21.0, 22.0, 23.0, 24.0]]]]> : tensor<1x1x5x5xf32>
  %c:3 = call @convs(%x1, %x2, %x3) : (tensor<1x1x4x4xf32>, tensor<1x2x3x3xf32>, tensor<1x1x5x5xf32>) -> (tensor<1x1x4x4xf32>, tensor<1x2x2x2xf32>, tensor<1x1x2x2xf32>)
  %c0 = tensor.cast %c#0 : tensor<1x1x4x4xf32> to tensor<*xf32>
  // CHECK: {{\[}}[10.5, 18.5, 24.5, 18.5],
  // CHECK-NEXT: [27.5, 45.5, 54.5, 39.5],
  // CHECK-NEXT: [51.5, 81.5, 90.5, 63.5],
  // CHECK-NEXT: [42.5, 66.5, 72.5, 50.5]]]]
  call @printMemrefF32(%c0) : (tensor<*xf32>) -> ()
  %c1 = tensor.cast %c#1 : tensor<1x2x2x2xf32> to tensor<*xf32>
  // CHECK: {{\[}}[4, 6],
  // CHECK-NEXT: [10, 12]],
  // CHECK-NEXT: {{\[}}[-2, -2],
  // CHECK-NEXT: [-2, -2]]]]
  call @printMemrefF32(%c1) : (tensor<*xf32>) -> ()
  %c2 = tensor.cast %c#2 : tensor<1x1x2x2xf32> to tensor<*xf32>
  // CHECK: {{\[}}[82, 102],
  // CHECK-NEXT: [182, 202]]]]
  call @printMemrefF32(%c2) : (tensor<*xf32>) -> ()

  %g = arith.constant dense<[[[[1.0, 2.0], [3.0, 4.0]], [[-1.0, 1.0], [0.5, 0.5]]]]> : tensor<1x2x2x2xf32>
  %q = tensor.extract_slice %x2[0, 0, 0, 0] [1, 1, 3, 3] [1, 1, 1, 1] : tensor<1x2x3x3xf32> to tensor<1x1x3x3xf32>
  %p:5 = call @pools(%x3, %q, %g) : (tensor<1x1x5x5xf32>, tensor<1x1x3x3xf32>, tensor<1x2x2x2xf32>) -> (tensor<1x1x3x3xf32>, tensor<1x1x3x3xf32>, tensor<1x1x3x3xf32>, tensor<1x1x3x3xf32>, tensor<1x2x1x1xf32>)
  // CHECK: {{\[}}[6, 8, 9],
  // CHECK-NEXT: [16, 18, 19],
  // CHECK-NEXT: [21, 23, 24]]]]
  call @print(%p#0) : (tensor<1x1x3x3xf32>) -> ()
  // CHECK: {{\[}}[2, 2.5, 3],
  // CHECK-NEXT: [3.5, 4, 4.5],
  // CHECK-NEXT: [5, 5.5, 6]]]]
  call @print(%p#1) : (tensor<1x1x3x3xf32>) -> ()
  // CHECK: {{\[}}[0.888889, 1.66667, 1.33333],
  // CHECK-NEXT: [2.33333, 4, 3],
  // CHECK-NEXT: [2.22222, 3.66667, 2.66667]]]]
  call @print(%p#2) : (tensor<1x1x3x3xf32>) -> ()
  // CHECK: {{\[}}[3, 5, 6.5],
  // CHECK-NEXT: [13, 15, 16.5],
  // CHECK-NEXT: [20.5, 22.5, 24]]]]
  call @print(%p#3) : (tensor<1x1x3x3xf32>) -> ()
  %p4 = tensor.cast %p#4 : tensor<1x2x1x1xf32> to tensor<*xf32>
  // CHECK: {{\[}}[2.5]],
  // CHECK-NEXT: {{\[}}[0.25]]]]
  call @printMemrefF32(%p4) : (tensor<*xf32>) -> ()
  return
}
