// RUN: kiln-opt %s -kiln-lower-onnx-to-linalg | FileCheck %s

// A gather over the output: the bias initializes it, then a generic
// reduces over (input channel, kernel row, kernel column), counting a tap
// only where (o + pad - k * dilation) divides by the stride and lands in
// the input.
// CHECK-LABEL: func.func @conv_transpose
// CHECK: %[[INIT:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<3xf32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]{{.*}} outs(%[[INIT]] : tensor<1x3x7x7xf32>)
// CHECK: arith.remsi
// CHECK: arith.divsi
// CHECK: arith.mulf
// CHECK: arith.select
func.func @conv_transpose(%arg0: tensor<1x2x3x3xf32>, %arg1: tensor<2x3x3x3xf32>, %arg2: tensor<3xf32>) -> (tensor<1x3x7x7xf32>) {
  %0 = "onnx.ConvTranspose"(%arg0, %arg1, %arg2) <{auto_pad = "NOTSET", group = 1 : i64, strides = [2, 2]}> : (tensor<1x2x3x3xf32>, tensor<2x3x3x3xf32>, tensor<3xf32>) -> tensor<1x3x7x7xf32>
  return %0 : tensor<1x3x7x7xf32>
}
