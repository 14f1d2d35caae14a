// RUN: kiln-opt %s -split-input-file | kiln-opt | FileCheck %s

// The tensor form round-trips, with its epilogue.
// CHECK-LABEL: func.func @tensors
// CHECK: kiln.packed_conv2d %{{.*}}, %{{.*}}, %{{.*}} into %{{.*}} {accumulate, activation = #kiln.activation<clip>, clip_max = 6.000000e+00 : f32, dilations = array<i64: 1, 1>, strides = array<i64: 2, 2>} : tensor<1x9x9x3xf32>, tensor<2x3x3x3x16xf32>, tensor<32xf32> into tensor<1x4x4x20xf32> -> tensor<1x4x4x20xf32>
func.func @tensors(%x: tensor<1x9x9x3xf32>, %w: tensor<2x3x3x3x16xf32>,
                   %b: tensor<32xf32>, %r: tensor<1x4x4x20xf32>) -> tensor<1x4x4x20xf32> {
  %y = kiln.packed_conv2d %x, %w, %b into %r {accumulate, activation = #kiln.activation<clip>, clip_max = 6.0 : f32, dilations = array<i64: 1, 1>, strides = array<i64: 2, 2>} : tensor<1x9x9x3xf32>, tensor<2x3x3x3x16xf32>, tensor<32xf32> into tensor<1x4x4x20xf32> -> tensor<1x4x4x20xf32>
  return %y : tensor<1x4x4x20xf32>
}

// -----

// The memref form has no result.
// CHECK-LABEL: func.func @buffers
// CHECK: kiln.packed_conv2d %{{.*}} : memref<1x1x7x5xf32>, memref<1x1x1x5x8xf32>, memref<8xf32> into memref<1x1x7x8xf32>
// CHECK-NEXT: return
func.func @buffers(%x: memref<1x1x7x5xf32>, %w: memref<1x1x1x5x8xf32>,
                   %b: memref<8xf32>, %y: memref<1x1x7x8xf32>) {
  kiln.packed_conv2d %x, %w, %b into %y {activation = #kiln.activation<relu>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : memref<1x1x7x5xf32>, memref<1x1x1x5x8xf32>, memref<8xf32> into memref<1x1x7x8xf32>
  return
}

// -----

// BF16 operands pair adjacent channels in the filter; bias and init stay f32.
// CHECK-LABEL: func.func @bf16
// CHECK: kiln.packed_conv2d %{{.*}} : tensor<1x5x5x6xbf16>, tensor<1x3x3x3x16x2xbf16>, tensor<16xf32> into tensor<1x3x3x16xf32> -> tensor<1x3x3x16xf32>
func.func @bf16(%x: tensor<1x5x5x6xbf16>, %w: tensor<1x3x3x3x16x2xbf16>,
                %b: tensor<16xf32>, %i: tensor<1x3x3x16xf32>) -> tensor<1x3x3x16xf32> {
  %y = kiln.packed_conv2d %x, %w, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<1x5x5x6xbf16>, tensor<1x3x3x3x16x2xbf16>, tensor<16xf32> into tensor<1x3x3x16xf32> -> tensor<1x3x3x16xf32>
  return %y : tensor<1x3x3x16xf32>
}

// -----

// A 4-bit filter: two filters a byte, f16 scales and zero points per group
// of input channels and filter.
// CHECK-LABEL: func.func @int4
// CHECK: kiln.packed_conv2d %arg0, %arg1 scales %arg2, %arg3 into %arg4 {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, group_size = 32 : i64, strides = array<i64: 1, 1>} : tensor<1x1x5x64xf32>, tensor<2x1x1x64x16xi8> scales tensor<2x2x2x32xf16>, tensor<64xf32> into tensor<1x1x5x50xf32> -> tensor<1x1x5x50xf32>
func.func @int4(%x: tensor<1x1x5x64xf32>, %w: tensor<2x1x1x64x16xi8>, %s: tensor<2x2x2x32xf16>, %b: tensor<64xf32>, %i: tensor<1x1x5x50xf32>) -> tensor<1x1x5x50xf32> {
  %y = kiln.packed_conv2d %x, %w scales %s, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, group_size = 32 : i64, strides = array<i64: 1, 1>} : tensor<1x1x5x64xf32>, tensor<2x1x1x64x16xi8> scales tensor<2x2x2x32xf16>, tensor<64xf32> into tensor<1x1x5x50xf32> -> tensor<1x1x5x50xf32>
  return %y : tensor<1x1x5x50xf32>
}

// -----

// 8-bit integers: input and filter i8, the filter's channel quads
// innermost, f32 scales and compensations per filter.
// CHECK-LABEL: func.func @int8
// CHECK: kiln.packed_conv2d %arg0, %arg1 scales %arg2, %arg3 into %arg4 {activation = #kiln.activation<relu>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x4x8xi8>, tensor<2x3x3x2x16x4xi8> scales tensor<2x2x16xf32>, tensor<32xf32> into tensor<1x4x4x20xf32> -> tensor<1x4x4x20xf32>
func.func @int8(%x: tensor<1x4x4x8xi8>, %w: tensor<2x3x3x2x16x4xi8>, %s: tensor<2x2x16xf32>, %b: tensor<32xf32>, %i: tensor<1x4x4x20xf32>) -> tensor<1x4x4x20xf32> {
  %y = kiln.packed_conv2d %x, %w scales %s, %b into %i {activation = #kiln.activation<relu>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x4x8xi8>, tensor<2x3x3x2x16x4xi8> scales tensor<2x2x16xf32>, tensor<32xf32> into tensor<1x4x4x20xf32> -> tensor<1x4x4x20xf32>
  return %y : tensor<1x4x4x20xf32>
}

// -----

// W4A8: i8 input and a 4-bit filter in groups, channel quads of nibbles
// (two filters a byte), i32 scales, zero points and starting sums per
// group and filter.
// CHECK-LABEL: func.func @int4_int8
// CHECK: kiln.packed_conv2d %arg0, %arg1 scales %arg2, %arg3 into %arg4 {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, group_size = 32 : i64, narrow_filter, strides = array<i64: 1, 1>} : tensor<1x1x5x64xi8>, tensor<2x1x1x16x16x4xi8> scales tensor<2x2x3x32xi32>, tensor<64xf32> into tensor<1x1x5x50xf32> -> tensor<1x1x5x50xf32>
func.func @int4_int8(%x: tensor<1x1x5x64xi8>, %w: tensor<2x1x1x16x16x4xi8>, %s: tensor<2x2x3x32xi32>, %b: tensor<64xf32>, %i: tensor<1x1x5x50xf32>) -> tensor<1x1x5x50xf32> {
  %y = kiln.packed_conv2d %x, %w scales %s, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, group_size = 32 : i64, narrow_filter, strides = array<i64: 1, 1>} : tensor<1x1x5x64xi8>, tensor<2x1x1x16x16x4xi8> scales tensor<2x2x3x32xi32>, tensor<64xf32> into tensor<1x1x5x50xf32> -> tensor<1x1x5x50xf32>
  return %y : tensor<1x1x5x50xf32>
}
