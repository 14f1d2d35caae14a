// RUN: kiln-opt %s -kiln-cpu-lower-depthwise-conv=vector-bits=64 -verify-diagnostics

// expected-error@+1 {{vector-bits must be 256 or 512, not 64}}
func.func @depthwise(%x: memref<1x3x3x16xf32>, %w: memref<3x3x16xf32>, %b: memref<16xf32>, %y: memref<1x1x1x16xf32>) {
  kiln.depthwise_conv2d %x, %w, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : memref<1x3x3x16xf32>, memref<3x3x16xf32>, memref<16xf32> into memref<1x1x1x16xf32>
  return
}
