// RUN: kiln-opt %s -kiln-cpu-lower-packed-conv=vector-bits=128 -verify-diagnostics

// expected-error@+1 {{vector-bits must be 256 or 512, not 128}}
func.func @conv(%x: memref<1x1x4x8xf32>, %w: memref<1x1x1x8x16xf32>, %b: memref<16xf32>, %y: memref<1x1x4x16xf32>) {
  kiln.packed_conv2d %x, %w, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : memref<1x1x4x8xf32>, memref<1x1x1x8x16xf32>, memref<16xf32> into memref<1x1x4x16xf32>
  return
}
