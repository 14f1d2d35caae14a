// RUN: kiln-opt %s -split-input-file -kiln-lower-onnx-to-linalg | FileCheck %s

// NegativeLogLikelihoodLoss, mean with weights and ignore_index: per
// position the weighted loss and its weight (an ignored label reads class
// 0 and weighs 0), both summed, then divided.
// CHECK-LABEL: func.func @nll_mean
// CHECK: %[[E:.*]]:2 = linalg.generic {{.*}} ins(%{{.*}} : tensor<2x4xi64>)
// CHECK: arith.cmpi eq
// CHECK: tensor.extract %{{.*}}[%{{.*}}] : tensor<3xf32>
// CHECK: tensor.extract %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] : tensor<2x3x4xf32>
// CHECK: arith.negf
// CHECK: %[[T:.*]]:2 = linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]{{.*}} ins(%[[E]]#0, %[[E]]#1
// CHECK: linalg.generic {{.*}} ins(%[[T]]#0, %[[T]]#1 : tensor<f32>, tensor<f32>)
// CHECK: arith.divf
func.func @nll_mean(%arg0: tensor<2x3x4xf32>, %arg1: tensor<2x4xi64>, %arg2: tensor<3xf32>) -> (tensor<f32>) {
  %0 = "onnx.NegativeLogLikelihoodLoss"(%arg0, %arg1, %arg2) <{ignore_index = 1 : i64, reduction = "mean"}> : (tensor<2x3x4xf32>, tensor<2x4xi64>, tensor<3xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// SoftmaxCrossEntropyLoss is LogSoftmax over the classes, then the loss;
// the log probabilities are the second result.
// CHECK-LABEL: func.func @sce_none
// CHECK: math.exp
// CHECK: math.log
// CHECK: %[[L:.*]]:2 = linalg.generic
// CHECK: arith.negf
// CHECK: return %[[L]]#0, %{{.*}} : tensor<2xf32>, tensor<2x3xf32>
func.func @sce_none(%arg0: tensor<2x3xf32>, %arg1: tensor<2xi64>) -> (tensor<2xf32>, tensor<2x3xf32>) {
  %output, %log_prob = "onnx.SoftmaxCrossEntropyLoss"(%arg0, %arg1) <{reduction = "none"}> : (tensor<2x3xf32>, tensor<2xi64>) -> (tensor<2xf32>, tensor<2x3xf32>)
  return %output, %log_prob : tensor<2xf32>, tensor<2x3xf32>
}
