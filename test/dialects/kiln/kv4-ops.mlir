// RUN: kiln-opt %s -split-input-file -verify-diagnostics | kiln-opt | FileCheck %s

// Rows of 8 values pack into 4 bytes of nibbles and 4 of f16 scale and
// zero point; leading dimensions may be symbolic. Printed and parsed back.
// CHECK-LABEL: func.func @round_trip
// CHECK: %[[P:.*]] = kiln.pack_kv4 %arg0 : tensor<1x3x?x8xf32> -> tensor<1x3x?x8xi8>
// CHECK: kiln.unpack_kv4 %[[P]] : tensor<1x3x?x8xi8> -> tensor<1x3x?x8xf32>
func.func @round_trip(%x: tensor<1x3x?x8xf32>) -> tensor<1x3x?x8xf32> {
  %p = kiln.pack_kv4 %x : tensor<1x3x?x8xf32> -> tensor<1x3x?x8xi8>
  %y = kiln.unpack_kv4 %p : tensor<1x3x?x8xi8> -> tensor<1x3x?x8xf32>
  return %y : tensor<1x3x?x8xf32>
}

// -----

func.func @odd_rows(%x: tensor<2x7xf32>) -> tensor<2x7xi8> {
  // expected-error@+1 {{'kiln.pack_kv4' op takes f32 rows [..., D], D static and even, and their i8 packed form [..., D/2 + 4], not 'tensor<2x7xf32>' and 'tensor<2x7xi8>'}}
  %p = kiln.pack_kv4 %x : tensor<2x7xf32> -> tensor<2x7xi8>
  return %p : tensor<2x7xi8>
}

// -----

func.func @wrong_width(%x: tensor<2x8xf32>) -> tensor<2x4xi8> {
  // expected-error@+1 {{'kiln.pack_kv4' op takes f32 rows}}
  %p = kiln.pack_kv4 %x : tensor<2x8xf32> -> tensor<2x4xi8>
  return %p : tensor<2x4xi8>
}

// -----

func.func @wrong_rows(%p: tensor<3x8xi8>) -> tensor<2x8xf32> {
  // expected-error@+1 {{'kiln.unpack_kv4' op takes f32 rows}}
  %y = kiln.unpack_kv4 %p : tensor<3x8xi8> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

func.func @not_bytes(%p: tensor<2x8xi16>) -> tensor<2x8xf32> {
  // expected-error@+1 {{'kiln.unpack_kv4' op takes f32 rows}}
  %y = kiln.unpack_kv4 %p : tensor<2x8xi16> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}
