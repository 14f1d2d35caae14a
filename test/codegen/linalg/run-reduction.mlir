// Reductions, BatchNormalization and LayerNormalization compute the right
// numbers: values from a float64 Python reference, checked to the 6
// significant digits printed (relative tolerance about 1e-5).
// RUN: kiln-opt %s --kiln-linalg-pipeline | %run-on-cpu | FileCheck %s

func.func @reductions(%x: tensor<2x3xf32>) -> (tensor<2x1xf32>, tensor<3xf32>, tensor<2x1xf32>, tensor<1x1xf32>) {
  %a1 = "onnx.Constant"() <{value = dense<[1]> : tensor<1xi64>}> : () -> tensor<1xi64>
  %a0 = "onnx.Constant"() <{value = dense<[0]> : tensor<1xi64>}> : () -> tensor<1xi64>
  %0 = "onnx.ReduceMean"(%x, %a1) <{keepdims = 1 : i64}> : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<2x1xf32>
  %1 = "onnx.ReduceSum"(%x, %a0) <{keepdims = 0 : i64}> : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<3xf32>
  %2 = "onnx.ReduceMax"(%x, %a1) <{keepdims = 1 : i64}> : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<2x1xf32>
  %3 = "onnx.ReduceL2"(%x) <{keepdims = 1 : i64}> : (tensor<2x3xf32>) -> tensor<1x1xf32>
  return %0, %1, %2, %3 : tensor<2x1xf32>, tensor<3xf32>, tensor<2x1xf32>, tensor<1x1xf32>
}

func.func @norms(%x: tensor<2x3xf32>, %img: tensor<1x2x1x2xf32>) -> (tensor<1x2x1x2xf32>, tensor<2x3xf32>) {
  %scale = "onnx.Constant"() <{value = dense<[2.0, 0.5]> : tensor<2xf32>}> : () -> tensor<2xf32>
  %bias = "onnx.Constant"() <{value = dense<[0.1, -0.1]> : tensor<2xf32>}> : () -> tensor<2xf32>
  %mean = "onnx.Constant"() <{value = dense<[1.5, 4.0]> : tensor<2xf32>}> : () -> tensor<2xf32>
  %var = "onnx.Constant"() <{value = dense<[0.25, 1.0]> : tensor<2xf32>}> : () -> tensor<2xf32>
  %0 = "onnx.BatchNormalization"(%img, %scale, %bias, %mean, %var) <{epsilon = 1.0e-5 : f32, resultSegmentSizes = array<i32: 1, 0, 0>}> : (tensor<1x2x1x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x1x2xf32>
  %g = "onnx.Constant"() <{value = dense<[1.0, 2.0, 0.5]> : tensor<3xf32>}> : () -> tensor<3xf32>
  %b = "onnx.Constant"() <{value = dense<[0.0, 1.0, 0.0]> : tensor<3xf32>}> : () -> tensor<3xf32>
  %1 = "onnx.LayerNormalization"(%x, %g, %b) <{axis = -1 : i64, epsilon = 1.0e-5 : f32, resultSegmentSizes = array<i32: 1, 0, 0>}> : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %0, %1 : tensor<1x2x1x2xf32>, tensor<2x3xf32>
}

func.func private @printMemrefF32(tensor<*xf32>)

func.func @main() {
  %x = arith.constant dense<[[1.0, 2.0, 3.0], [-1.0, 0.0, 5.0]]> : tensor<2x3xf32>
  %r:4 = call @reductions(%x) : (tensor<2x3xf32>) -> (tensor<2x1xf32>, tensor<3xf32>, tensor<2x1xf32>, tensor<1x1xf32>)
  %r0 = tensor.cast %r#0 : tensor<2x1xf32> to tensor<*xf32>
  // CHECK: {{\[}}[2],
  // CHECK-NEXT: [1.33333]]
  call @printMemrefF32(%r0) : (tensor<*xf32>) -> ()
  %r1 = tensor.cast %r#1 : tensor<3xf32> to tensor<*xf32>
  // CHECK: [0, 2, 8]
  call @printMemrefF32(%r1) : (tensor<*xf32>) -> ()
  %r2 = tensor.cast %r#2 : tensor<2x1xf32> to tensor<*xf32>
  // CHECK: {{\[}}[3],
  // CHECK-NEXT: [5]]
  call @printMemrefF32(%r2) : (tensor<*xf32>) -> ()
  %r3 = tensor.cast %r#3 : tensor<1x1xf32> to tensor<*xf32>
  // CHECK: {{\[}}[6.32456]]
  call @printMemrefF32(%r3) : (tensor<*xf32>) -> ()

  %img = arith.constant dense<[[[[1.0, 2.0]], [[3.0, 5.0]]]]> : tensor<1x2x1x2xf32>
  %n:2 = call @norms(%x, %img) : (tensor<2x3xf32>, tensor<1x2x1x2xf32>) -> (tensor<1x2x1x2xf32>, tensor<2x3xf32>)
  %n0 = tensor.cast %n#0 : tensor<1x2x1x2xf32> to tensor<*xf32>
  // CHECK: {{\[}}[-1.89996, 2.09996]],
  // CHECK-NEXT: {{\[}}[-0.599998, 0.399998]]]]
  call @printMemrefF32(%n0) : (tensor<*xf32>) -> ()
  %n1 = tensor.cast %n#1 : tensor<2x3xf32> to tensor<*xf32>
  // CHECK: {{\[}}[-1.22474, 1, 0.612368],
  // CHECK-NEXT: [-0.889, -0.0160003, 0.6985]]
  call @printMemrefF32(%n1) : (tensor<*xf32>) -> ()
  return
}
