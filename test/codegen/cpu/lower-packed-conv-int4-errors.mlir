// RUN: kiln-opt %s -kiln-cpu-lower-packed-conv -verify-diagnostics

// 48 filters a tile are three 16-lane vectors: the nibbles fill pairs.
func.func @int4_odd_vectors(%x: memref<1x1x5x64xf32>, %w: memref<1x1x1x64x24xi8>, %s: memref<1x2x2x48xf16>, %b: memref<48xf32>, %y: memref<1x1x5x48xf32>) {
  // expected-error@+1 {{a 4-bit filter tile of 48 filters is an odd number of 16-lane vectors}}
  kiln.packed_conv2d %x, %w scales %s, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, group_size = 32 : i64, strides = array<i64: 1, 1>} : memref<1x1x5x64xf32>, memref<1x1x1x64x24xi8> scales memref<1x2x2x48xf16>, memref<48xf32> into memref<1x1x5x48xf32>
  return
}
