// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @width(%q: tensor<4xi64>, %s: tensor<f32>) {
  // expected-error@+1 {{input must hold integers of 2, 4, 8, 16 or 32 bits, not 'i64'}}
  %w = kiln.dequantize %q scale %s : tensor<4xi64>, tensor<f32> -> tensor<4xf32>
  return
}

// -----

func.func @scale_type(%q: tensor<4xui8>, %s: tensor<f64>) {
  // expected-error@+1 {{scale must be f32, f16 or bf16}}
  %w = kiln.dequantize %q scale %s : tensor<4xui8>, tensor<f64> -> tensor<4xf32>
  return
}

// -----

func.func @result(%q: tensor<4xui8>, %s: tensor<f32>) {
  // expected-error@+1 {{result must be f32, f16 or bf16 of the input's shape}}
  %w = kiln.dequantize %q scale %s : tensor<4xui8>, tensor<f32> -> tensor<5xf32>
  return
}

// -----

func.func @zero_type(%q: tensor<4xui8>, %s: tensor<f32>, %z: tensor<si8>) {
  // expected-error@+1 {{zero_point must have the integers' element type and the scale's shape}}
  %w = kiln.dequantize %q scale %s zero_point %z : tensor<4xui8>, tensor<f32>, tensor<si8> -> tensor<4xf32>
  return
}

// -----

func.func @per_axis_extent(%q: tensor<3x8xui8>, %s: tensor<3xf32>) {
  // expected-error@+1 {{a per-axis scale must be 1-D with 8 values (the input's extent along axis 1)}}
  %w = kiln.dequantize %q scale %s {axis = 1 : i64} : tensor<3x8xui8>, tensor<3xf32> -> tensor<3x8xf32>
  return
}

// -----

func.func @axis(%q: tensor<3x8xui8>, %s: tensor<8xf32>) {
  // expected-error@+1 {{axis 2 is out of range for rank 2}}
  %w = kiln.dequantize %q scale %s {axis = 2 : i64} : tensor<3x8xui8>, tensor<8xf32> -> tensor<3x8xf32>
  return
}

// -----

func.func @group_divides(%q: tensor<48x4xui4>, %s: tensor<1x4xf16>) {
  // expected-error@+1 {{group_size 32 must divide the input's extent 48 along axis 0}}
  %w = kiln.dequantize %q scale %s {group_size = 32 : i64} : tensor<48x4xui4>, tensor<1x4xf16> -> tensor<48x4xf32>
  return
}

// -----

func.func @group_shape(%q: tensor<64x4xui4>, %s: tensor<2x3xf16>) {
  // expected-error@+1 {{a grouped scale must have extent 4 along dimension 1, not 3}}
  %w = kiln.dequantize %q scale %s {group_size = 32 : i64} : tensor<64x4xui4>, tensor<2x3xf16> -> tensor<64x4xf32>
  return
}

// -----

func.func @per_tensor_group(%q: tensor<64xui4>, %s: tensor<f16>) {
  // expected-error@+1 {{a per-tensor scale takes no group_size}}
  %w = kiln.dequantize %q scale %s {group_size = 32 : i64} : tensor<64xui4>, tensor<f16> -> tensor<64xf32>
  return
}
