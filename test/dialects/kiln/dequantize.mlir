// RUN: kiln-opt %s -split-input-file | kiln-opt | FileCheck %s

// Each granularity prints and parses again: groups of input channels with
// zero points (4-bit weights), per axis (signed, no zero point), per
// tensor.
// CHECK-LABEL: func.func @groups
// CHECK: kiln.dequantize %arg0 scale %arg1 zero_point %arg2 {group_size = 32 : i64} : tensor<64x10xui4>, tensor<2x10xf16>, tensor<2x10xui4> -> tensor<64x10xf32>
func.func @groups(%q: tensor<64x10xui4>, %s: tensor<2x10xf16>, %z: tensor<2x10xui4>) -> tensor<64x10xf32> {
  %w = kiln.dequantize %q scale %s zero_point %z {axis = 0 : i64, group_size = 32 : i64} : tensor<64x10xui4>, tensor<2x10xf16>, tensor<2x10xui4> -> tensor<64x10xf32>
  return %w : tensor<64x10xf32>
}

// -----

// CHECK-LABEL: func.func @per_axis
// CHECK: kiln.dequantize %arg0 scale %arg1 {axis = 1 : i64} : tensor<3x8xsi8>, tensor<8xf32> -> tensor<3x8xf32>
func.func @per_axis(%q: tensor<3x8xsi8>, %s: tensor<8xf32>) -> tensor<3x8xf32> {
  %w = kiln.dequantize %q scale %s {axis = 1 : i64} : tensor<3x8xsi8>, tensor<8xf32> -> tensor<3x8xf32>
  return %w : tensor<3x8xf32>
}

// -----

// CHECK-LABEL: func.func @per_tensor
// CHECK: kiln.dequantize %arg0 scale %arg1 zero_point %arg2 : tensor<5xui8>, tensor<f32>, tensor<ui8> -> tensor<5xf32>
func.func @per_tensor(%q: tensor<5xui8>, %s: tensor<f32>, %z: tensor<ui8>) -> tensor<5xf32> {
  %w = kiln.dequantize %q scale %s zero_point %z : tensor<5xui8>, tensor<f32>, tensor<ui8> -> tensor<5xf32>
  return %w : tensor<5xf32>
}
