// RUN: kiln-opt %s -split-input-file -kiln-lower-onnx-to-linalg | FileCheck %s

// CumSum with a run-time axis: an extra reduction loop runs along the
// longest dimension; reverse counts the elements at or after the position.
// CHECK-LABEL: func.func @cumsum
// CHECK: tensor.extract %{{.*}}[] : tensor<i32>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]{{.*}} ins(%{{.*}} : tensor<3xf32>)
// CHECK: arith.cmpi uge
// CHECK: arith.addf
func.func @cumsum(%arg0: tensor<2x3xf32>, %arg1: tensor<i32>) -> (tensor<2x3xf32>) {
  %0 = "onnx.CumSum"(%arg0, %arg1) <{exclusive = 0 : i64, reverse = 1 : i64}> : (tensor<2x3xf32>, tensor<i32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// DepthToSpace (CRD): each output reads channel c * 4 + block.
// CHECK-LABEL: func.func @depth_to_space
// CHECK: linalg.generic
// CHECK: arith.remui
// CHECK: arith.divui
// CHECK: tensor.extract %{{.*}} : tensor<1x8x2x3xf32>
func.func @depth_to_space(%arg0: tensor<1x8x2x3xf32>) -> (tensor<1x2x4x6xf32>) {
  %0 = "onnx.DepthToSpace"(%arg0) <{blocksize = 2 : i64, mode = "CRD"}> : (tensor<1x8x2x3xf32>) -> tensor<1x2x4x6xf32>
  return %0 : tensor<1x2x4x6xf32>
}
