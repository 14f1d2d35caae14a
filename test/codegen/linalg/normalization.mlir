// RUN: kiln-opt %s -split-input-file -kiln-lower-onnx-to-linalg | FileCheck %s

// InstanceNormalization: per-plane mean, then mean squared deviation, then
// one elementwise generic with the per-channel scale and bias.
// CHECK-LABEL: func.func @instance_norm
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction", "reduction"]
// CHECK: linalg.generic
// CHECK: arith.divf
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction", "reduction"]
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel"]
// CHECK: math.sqrt
func.func @instance_norm(%arg0: tensor<1x2x3x3xf32>, %arg1: tensor<2xf32>, %arg2: tensor<2xf32>) -> (tensor<1x2x3x3xf32>) {
  %0 = "onnx.InstanceNormalization"(%arg0, %arg1, %arg2) <{epsilon = 9.99999974E-6 : f32}> : (tensor<1x2x3x3xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32>
  return %0 : tensor<1x2x3x3xf32>
}

// -----

// LRN: squares summed over a window of channels (a reduction loop), then
// x / (bias + alpha / size * sum)^beta.
// CHECK-LABEL: func.func @lrn
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]
// CHECK: arith.mulf
// CHECK: linalg.generic
// CHECK: math.powf
// CHECK: arith.divf
func.func @lrn(%arg0: tensor<1x5x2x2xf32>) -> (tensor<1x5x2x2xf32>) {
  %0 = "onnx.LRN"(%arg0) <{alpha = 9.99999974E-5 : f32, beta = 7.500000e-01 : f32, bias = 1.000000e+00 : f32, size = 3 : i64}> : (tensor<1x5x2x2xf32>) -> tensor<1x5x2x2xf32>
  return %0 : tensor<1x5x2x2xf32>
}
