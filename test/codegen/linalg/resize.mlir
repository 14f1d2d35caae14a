// RUN: kiln-opt %s -split-input-file -kiln-lower-onnx-to-linalg | FileCheck %s

// Linear, constant scales: only the resized axes (2, 3) compute float64
// coordinates; two taps each, so four reads, weighted and summed.
// CHECK-LABEL: func.func @resize_linear
// CHECK: linalg.generic
// CHECK-NOT: linalg.index 0 : index{{.*}}sitofp
// CHECK: math.floor {{.*}} : f64
// CHECK-COUNT-4: tensor.extract %{{.*}} : tensor<1x1x2x2xf32>
// CHECK: arith.truncf {{.*}} : f64 to f32
func.func @resize_linear(%arg0: tensor<1x1x2x2xf32>) -> (tensor<1x1x4x4xf32>) {
  %0 = "onnx.Constant"() <{value = dense<[1.0, 1.0, 2.0, 2.0]> : tensor<4xf32>}> : () -> tensor<4xf32>
  %1 = "onnx.Resize"(%arg0, %0) <{antialias = 0 : i64, coordinate_transformation_mode = "half_pixel", cubic_coeff_a = -7.500000e-01 : f32, exclude_outside = 0 : i64, extrapolation_value = 0.000000e+00 : f32, keep_aspect_ratio_policy = "stretch", mode = "linear", nearest_mode = "round_prefer_floor", operandSegmentSizes = array<i32: 1, 0, 1, 0>}> : (tensor<1x1x2x2xf32>, tensor<4xf32>) -> tensor<1x1x4x4xf32>
  return %1 : tensor<1x1x4x4xf32>
}

// -----

// Nearest with run-time scales: read once before the loop, as float64.
// CHECK-LABEL: func.func @resize_nearest_runtime
// CHECK: %[[S2:.*]] = tensor.extract %{{.*}}[%{{.*}}] : tensor<4xf32>
// CHECK: arith.extf %[[S2]] : f32 to f64
// CHECK: linalg.generic
// CHECK: arith.divf
// CHECK: math.floor
// CHECK-COUNT-1: tensor.extract %{{.*}} : tensor<1x1x2x2xf32>
func.func @resize_nearest_runtime(%arg0: tensor<1x1x2x2xf32>, %arg1: tensor<4xf32>) -> (tensor<1x1x4x4xf32>) {
  %0 = "onnx.Resize"(%arg0, %arg1) <{antialias = 0 : i64, coordinate_transformation_mode = "asymmetric", cubic_coeff_a = -7.500000e-01 : f32, exclude_outside = 0 : i64, extrapolation_value = 0.000000e+00 : f32, keep_aspect_ratio_policy = "stretch", mode = "nearest", nearest_mode = "floor", operandSegmentSizes = array<i32: 1, 0, 1, 0>}> : (tensor<1x1x2x2xf32>, tensor<4xf32>) -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// -----

// Symbolic lengths: the input's are read with tensor.dim, the output's
// from the sizes input (never below zero), and the scale is their ratio,
// computed once before the loop; the taps clamp to the run-time length.
// CHECK-LABEL: func.func @resize_symbolic
// CHECK: %[[H:.*]] = tensor.dim %arg0, %c2
// CHECK: %[[HI:.*]] = arith.index_cast %[[H]] : index to i64
// CHECK: %[[HF:.*]] = arith.sitofp %[[HI]] : i64 to f64
// CHECK: %[[SIZE:.*]] = tensor.extract %arg1[%c2] : tensor<4xi64>
// CHECK: %[[NONNEG:.*]] = arith.maxsi %[[SIZE]], %c0_i64
// CHECK: %[[OUT:.*]] = arith.index_cast %[[NONNEG]] : i64 to index
// CHECK: %[[OUTI:.*]] = arith.index_cast %[[OUT]] : index to i64
// CHECK: %[[OUTF:.*]] = arith.sitofp %[[OUTI]] : i64 to f64
// CHECK: %[[SCALE:.*]] = arith.divf %[[OUTF]], %[[HF]] : f64
// CHECK: tensor.empty(%[[OUT]], %{{.*}}) : tensor<1x2x?x?xf32>
// CHECK: linalg.generic
// CHECK: arith.divf %{{.*}}, %[[SCALE]] : f64
// CHECK: arith.subf %[[HF]], %cst
func.func @resize_symbolic(%x: tensor<1x2x?x?xf32>, %sizes: tensor<4xi64>) -> tensor<1x2x?x?xf32> {
  %0 = "onnx.Resize"(%x, %sizes) <{mode = "linear", coordinate_transformation_mode = "half_pixel", operandSegmentSizes = array<i32: 1, 0, 0, 1>}> : (tensor<1x2x?x?xf32>, tensor<4xi64>) -> tensor<1x2x?x?xf32>
  return %0 : tensor<1x2x?x?xf32>
}

// -----

// A symbolic batch with a constant scale of 1 keeps the input's length:
// integer arithmetic, not floor(n * 1.0) in float64 (which CUDA's host
// steps could not compute).
// CHECK-LABEL: func.func @resize_symbolic_batch
// CHECK: %[[N:.*]] = tensor.dim %arg0, %c0
// CHECK-NOT: math.floor
// CHECK: tensor.empty(%[[N]]) : tensor<?x2x8x8xf32>
func.func @resize_symbolic_batch(%x: tensor<?x2x4x4xf32>) -> tensor<?x2x8x8xf32> {
  %0 = "onnx.Constant"() <{value = dense<[1.0, 1.0, 2.0, 2.0]> : tensor<4xf32>}> : () -> tensor<4xf32>
  %1 = "onnx.Resize"(%x, %0) <{mode = "nearest", coordinate_transformation_mode = "asymmetric", nearest_mode = "floor", operandSegmentSizes = array<i32: 1, 0, 1, 0>}> : (tensor<?x2x4x4xf32>, tensor<4xf32>) -> tensor<?x2x8x8xf32>
  return %1 : tensor<?x2x8x8xf32>
}
