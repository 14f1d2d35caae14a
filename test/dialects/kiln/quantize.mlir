// RUN: kiln-opt %s -split-input-file | kiln-opt | FileCheck %s

// Quantization prints and parses again: per tensor to signed bytes (the
// form SmoothQuant's activations take), per axis to unsigned bytes with
// zero points (ONNX's QuantizeLinear).
// CHECK-LABEL: func.func @per_tensor
// CHECK: kiln.quantize %arg0 scale %arg1 : tensor<2x?x8xf32>, tensor<f32> -> tensor<2x?x8xi8>
func.func @per_tensor(%x: tensor<2x?x8xf32>, %s: tensor<f32>) -> tensor<2x?x8xi8> {
  %q = kiln.quantize %x scale %s : tensor<2x?x8xf32>, tensor<f32> -> tensor<2x?x8xi8>
  return %q : tensor<2x?x8xi8>
}

// -----

// CHECK-LABEL: func.func @per_axis
// CHECK: kiln.quantize %arg0 scale %arg1 zero_point %arg2 {axis = 1 : i64} : tensor<3x4xf32>, tensor<4xf32>, tensor<4xui8> -> tensor<3x4xui8>
func.func @per_axis(%x: tensor<3x4xf32>, %s: tensor<4xf32>, %z: tensor<4xui8>) -> tensor<3x4xui8> {
  %q = kiln.quantize %x scale %s zero_point %z {axis = 1 : i64} : tensor<3x4xf32>, tensor<4xf32>, tensor<4xui8> -> tensor<3x4xui8>
  return %q : tensor<3x4xui8>
}

// -----

// The dot product of byte quads on 16 lanes (vpdpbusd).
// CHECK-LABEL: func.func @int8_dot
// CHECK: kiln.int8_dot %arg0, %arg1, %arg2 : vector<64xi8> into vector<16xi32>
func.func @int8_dot(%acc: vector<16xi32>, %a: vector<64xi8>, %b: vector<64xi8>) -> vector<16xi32> {
  %r = kiln.int8_dot %acc, %a, %b : vector<64xi8> into vector<16xi32>
  return %r : vector<16xi32>
}
