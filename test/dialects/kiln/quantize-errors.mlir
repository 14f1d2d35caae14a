// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @float_result(%x: tensor<4xf32>, %s: tensor<f32>) -> tensor<4xf16> {
  // expected-error@+1 {{result must hold integers of 2, 4, 8 or 16 bits of the input's shape}}
  %q = kiln.quantize %x scale %s : tensor<4xf32>, tensor<f32> -> tensor<4xf16>
  return %q : tensor<4xf16>
}

// -----

func.func @wide_result(%x: tensor<4xf32>, %s: tensor<f32>) -> tensor<4xi32> {
  // expected-error@+1 {{result must hold integers of 2, 4, 8 or 16 bits of the input's shape}}
  %q = kiln.quantize %x scale %s : tensor<4xf32>, tensor<f32> -> tensor<4xi32>
  return %q : tensor<4xi32>
}

// -----

func.func @f64_scale(%x: tensor<4xf32>, %s: tensor<f64>) -> tensor<4xi8> {
  // expected-error@+1 {{takes an f32, f16 or bf16 input and scale}}
  %q = kiln.quantize %x scale %s : tensor<4xf32>, tensor<f64> -> tensor<4xi8>
  return %q : tensor<4xi8>
}

// -----

func.func @axis_scale(%x: tensor<3x4xf32>, %s: tensor<3xf32>) -> tensor<3x4xi8> {
  // expected-error@+1 {{a per-axis scale must be 1-D with 4 values (the input's extent along axis 1)}}
  %q = kiln.quantize %x scale %s {axis = 1 : i64} : tensor<3x4xf32>, tensor<3xf32> -> tensor<3x4xi8>
  return %q : tensor<3x4xi8>
}

// -----

func.func @zero_type(%x: tensor<4xf32>, %s: tensor<f32>, %z: tensor<ui8>) -> tensor<4xi8> {
  // expected-error@+1 {{zero_point must have the integers' element type and the scale's shape}}
  %q = kiln.quantize %x scale %s zero_point %z : tensor<4xf32>, tensor<f32>, tensor<ui8> -> tensor<4xi8>
  return %q : tensor<4xi8>
}

// -----

func.func @lanes(%acc: vector<2xi32>, %a: vector<8xi8>, %b: vector<8xi8>) -> vector<2xi32> {
  // expected-error@+1 {{takes 4, 8 or 16 i32 lanes, not 2}}
  %r = kiln.int8_dot %acc, %a, %b : vector<8xi8> into vector<2xi32>
  return %r : vector<2xi32>
}

// -----

func.func @quads(%acc: vector<8xi32>, %a: vector<16xi8>, %b: vector<16xi8>) -> vector<8xi32> {
  // expected-error@+1 {{needs 32 bytes (four per lane)}}
  %r = kiln.int8_dot %acc, %a, %b : vector<16xi8> into vector<8xi32>
  return %r : vector<8xi32>
}
