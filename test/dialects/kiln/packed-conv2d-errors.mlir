// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @channels(%x: tensor<1x4x4x3xf32>, %w: tensor<1x1x1x4x16xf32>, %b: tensor<16xf32>, %i: tensor<1x4x4x16xf32>) {
  // expected-error@+1 {{filter has 4 input channels, the input 3}}
  %y = kiln.packed_conv2d %x, %w, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x4x3xf32>, tensor<1x1x1x4x16xf32>, tensor<16xf32> into tensor<1x4x4x16xf32> -> tensor<1x4x4x16xf32>
  return
}

// -----

func.func @filters(%x: tensor<1x4x4x3xf32>, %w: tensor<2x1x1x3x16xf32>, %b: tensor<32xf32>, %i: tensor<1x4x4x16xf32>) {
  // expected-error@+1 {{init has 16 channels, the filter packs 2 tiles of 16}}
  %y = kiln.packed_conv2d %x, %w, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x4x3xf32>, tensor<2x1x1x3x16xf32>, tensor<32xf32> into tensor<1x4x4x16xf32> -> tensor<1x4x4x16xf32>
  return
}

// -----

func.func @bias(%x: tensor<1x4x4x3xf32>, %w: tensor<1x1x1x3x16xf32>, %b: tensor<10xf32>, %i: tensor<1x4x4x10xf32>) {
  // expected-error@+1 {{bias must have 16 elements}}
  %y = kiln.packed_conv2d %x, %w, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x4x3xf32>, tensor<1x1x1x3x16xf32>, tensor<10xf32> into tensor<1x4x4x10xf32> -> tensor<1x4x4x10xf32>
  return
}

// -----

func.func @window(%x: tensor<1x4x4x3xf32>, %w: tensor<1x3x3x3x16xf32>, %b: tensor<16xf32>, %i: tensor<1x3x2x16xf32>) {
  // expected-error@+1 {{output dimension 1 (3) does not fit the padded input (4)}}
  %y = kiln.packed_conv2d %x, %w, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x4x3xf32>, tensor<1x3x3x3x16xf32>, tensor<16xf32> into tensor<1x3x2x16xf32> -> tensor<1x3x2x16xf32>
  return
}

// -----

func.func @mixed(%x: tensor<1x4x4x3xf32>, %w: tensor<1x1x1x3x16xf32>, %b: tensor<16xf32>, %i: memref<1x4x4x16xf32>) {
  // expected-error@+1 {{takes all tensors or all memrefs}}
  kiln.packed_conv2d %x, %w, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x4x3xf32>, tensor<1x1x1x3x16xf32>, tensor<16xf32> into memref<1x4x4x16xf32>
  return
}

// -----

func.func @types(%x: tensor<1x4x4x3xf16>, %w: tensor<1x1x1x3x16xf16>, %b: tensor<16xf16>, %i: tensor<1x4x4x16xf16>) {
  // expected-error@+1 {{takes f32 or bf16 input and filter (of one type) and an f32 bias}}
  %y = kiln.packed_conv2d %x, %w, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x4x3xf16>, tensor<1x1x1x3x16xf16>, tensor<16xf16> into tensor<1x4x4x16xf16> -> tensor<1x4x4x16xf16>
  return
}

// -----

func.func @clip(%x: tensor<1x4x4x3xf32>, %w: tensor<1x1x1x3x16xf32>, %b: tensor<16xf32>, %i: tensor<1x4x4x16xf32>) {
  // expected-error@+1 {{clip_min must not exceed clip_max}}
  %y = kiln.packed_conv2d %x, %w, %b into %i {activation = #kiln.activation<clip>, clip_min = 1.0 : f32, clip_max = 0.0 : f32, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x4x3xf32>, tensor<1x1x1x3x16xf32>, tensor<16xf32> into tensor<1x4x4x16xf32> -> tensor<1x4x4x16xf32>
  return
}

// -----

func.func @strides(%x: tensor<1x4x4x3xf32>, %w: tensor<1x1x1x3x16xf32>, %b: tensor<16xf32>, %i: tensor<1x4x4x16xf32>) {
  // expected-error@+1 {{needs two positive strides and dilations}}
  %y = kiln.packed_conv2d %x, %w, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 0, 1>} : tensor<1x4x4x3xf32>, tensor<1x1x1x3x16xf32>, tensor<16xf32> into tensor<1x4x4x16xf32> -> tensor<1x4x4x16xf32>
  return
}

// -----

func.func @bf16_layout(%x: tensor<1x4x4x4xbf16>, %w: tensor<1x1x1x4x16xbf16>, %b: tensor<16xf32>, %i: tensor<1x4x4x16xf32>) {
  // expected-error@+1 {{filter must be laid out as [F/F0, KH, KW, C/2, F0, 2]}}
  %y = kiln.packed_conv2d %x, %w, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x4x4xbf16>, tensor<1x1x1x4x16xbf16>, tensor<16xf32> into tensor<1x4x4x16xf32> -> tensor<1x4x4x16xf32>
  return
}

// -----

func.func @bf16_filter_bias(%x: tensor<1x4x4x4xf32>, %w: tensor<1x1x1x4x16xbf16>, %b: tensor<16xbf16>, %i: tensor<1x4x4x16xf32>) {
  // expected-error@+1 {{with a bf16 filter in the f32 layout takes an f32 input and bias}}
  %y = kiln.packed_conv2d %x, %w, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x4x4xf32>, tensor<1x1x1x4x16xbf16>, tensor<16xbf16> into tensor<1x4x4x16xf32> -> tensor<1x4x4x16xf32>
  return
}

// -----

func.func @bf16_channels(%x: tensor<1x4x4x6xbf16>, %w: tensor<1x1x1x2x16x2xbf16>, %b: tensor<16xf32>, %i: tensor<1x4x4x16xf32>) {
  // expected-error@+1 {{filter has 4 input channels, the input 6}}
  %y = kiln.packed_conv2d %x, %w, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x4x6xbf16>, tensor<1x1x1x2x16x2xbf16>, tensor<16xf32> into tensor<1x4x4x16xf32> -> tensor<1x4x4x16xf32>
  return
}

// -----

// An f32 input meets a bf16 filter only in the f32 layout.
func.func @bf16_mixed(%x: tensor<1x4x4x4xf32>, %w: tensor<1x1x1x2x16x2xbf16>, %b: tensor<16xf32>, %i: tensor<1x4x4x16xf32>) {
  // expected-error@+1 {{filter must be laid out as [F/F0, KH, KW, C, F0]}}
  %y = kiln.packed_conv2d %x, %w, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x4x4xf32>, tensor<1x1x1x2x16x2xbf16>, tensor<16xf32> into tensor<1x4x4x16xf32> -> tensor<1x4x4x16xf32>
  return
}

// -----

func.func @result_type(%x: tensor<1x4x4x4xf32>, %w: tensor<1x1x1x4x16xf32>, %b: tensor<16xf32>, %i: tensor<1x4x4x16xf16>) {
  // expected-error@+1 {{writes f32 or bf16}}
  %y = kiln.packed_conv2d %x, %w, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x4x4xf32>, tensor<1x1x1x4x16xf32>, tensor<16xf32> into tensor<1x4x4x16xf16> -> tensor<1x4x4x16xf16>
  return
}

// -----

func.func @bf16_accumulate(%x: tensor<1x4x4x4xbf16>, %w: tensor<1x1x1x2x16x2xbf16>, %b: tensor<16xf32>, %i: tensor<1x4x4x16xbf16>) {
  // expected-error@+1 {{accumulates into f32 only}}
  %y = kiln.packed_conv2d %x, %w, %b into %i {accumulate, activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x4x4xbf16>, tensor<1x1x1x2x16x2xbf16>, tensor<16xf32> into tensor<1x4x4x16xbf16> -> tensor<1x4x4x16xbf16>
  return
}

// -----

// The image's batch, height and width may be symbolic; its channels may not.
func.func @symbolic_channels(%x: tensor<1x4x4x?xf32>, %w: tensor<1x1x1x4x16xf32>, %b: tensor<16xf32>, %i: tensor<1x4x4x16xf32>) {
  // expected-error@+1 {{needs static shapes but for the image's batch, height and width}}
  %y = kiln.packed_conv2d %x, %w, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x4x?xf32>, tensor<1x1x1x4x16xf32>, tensor<16xf32> into tensor<1x4x4x16xf32> -> tensor<1x4x4x16xf32>
  return
}

// -----

func.func @symbolic_filter(%x: tensor<?x4x4x4xf32>, %w: tensor<?x1x1x4x16xf32>, %b: tensor<16xf32>, %i: tensor<?x4x4x16xf32>) {
  // expected-error@+1 {{needs static shapes but for the image's batch, height and width}}
  %y = kiln.packed_conv2d %x, %w, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<?x4x4x4xf32>, tensor<?x1x1x4x16xf32>, tensor<16xf32> into tensor<?x4x4x16xf32> -> tensor<?x4x4x16xf32>
  return
}

// -----

func.func @int4_group(%x: tensor<1x1x5x64xf32>, %w: tensor<2x1x1x64x16xi8>, %s: tensor<2x2x2x32xf16>, %b: tensor<64xf32>, %i: tensor<1x1x5x50xf32>) {
  // expected-error@+1 {{group_size (48) must divide the 64 input channels}}
  %y = kiln.packed_conv2d %x, %w scales %s, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, group_size = 48 : i64, strides = array<i64: 1, 1>} : tensor<1x1x5x64xf32>, tensor<2x1x1x64x16xi8> scales tensor<2x2x2x32xf16>, tensor<64xf32> into tensor<1x1x5x50xf32> -> tensor<1x1x5x50xf32>
  return
}

// -----

func.func @int4_scales(%x: tensor<1x1x5x64xf32>, %w: tensor<2x1x1x64x16xi8>, %s: tensor<2x2x32xf16>, %b: tensor<64xf32>, %i: tensor<1x1x5x50xf32>) {
  // expected-error@+1 {{filter_scales must be f16 [2, 2, 2, 32]: a scale and a zero point per group and filter}}
  %y = kiln.packed_conv2d %x, %w scales %s, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, group_size = 32 : i64, strides = array<i64: 1, 1>} : tensor<1x1x5x64xf32>, tensor<2x1x1x64x16xi8> scales tensor<2x2x32xf16>, tensor<64xf32> into tensor<1x1x5x50xf32> -> tensor<1x1x5x50xf32>
  return
}

// -----

func.func @int4_pointwise(%x: tensor<1x3x5x64xf32>, %w: tensor<2x3x1x64x16xi8>, %s: tensor<2x2x2x32xf16>, %b: tensor<64xf32>, %i: tensor<1x1x5x50xf32>) {
  // expected-error@+1 {{with a 4-bit filter must be pointwise (1x1)}}
  %y = kiln.packed_conv2d %x, %w scales %s, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, group_size = 32 : i64, strides = array<i64: 1, 1>} : tensor<1x3x5x64xf32>, tensor<2x3x1x64x16xi8> scales tensor<2x2x2x32xf16>, tensor<64xf32> into tensor<1x1x5x50xf32> -> tensor<1x1x5x50xf32>
  return
}

// -----

func.func @int4_input(%x: tensor<1x1x5x64xbf16>, %w: tensor<2x1x1x64x16xi8>, %s: tensor<2x2x2x32xf16>, %b: tensor<64xf32>, %i: tensor<1x1x5x50xf32>) {
  // expected-error@+1 {{with a 4-bit filter takes an f32 input, an i8 filter (two 4-bit values a byte) and an f32 bias}}
  %y = kiln.packed_conv2d %x, %w scales %s, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, group_size = 32 : i64, strides = array<i64: 1, 1>} : tensor<1x1x5x64xbf16>, tensor<2x1x1x64x16xi8> scales tensor<2x2x2x32xf16>, tensor<64xf32> into tensor<1x1x5x50xf32> -> tensor<1x1x5x50xf32>
  return
}

// -----

func.func @group_without_scales(%x: tensor<1x4x4x3xf32>, %w: tensor<1x1x1x3x16xf32>, %b: tensor<16xf32>, %i: tensor<1x4x4x16xf32>) {
  // expected-error@+1 {{has a group_size but no filter_scales}}
  %y = kiln.packed_conv2d %x, %w, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, group_size = 32 : i64, strides = array<i64: 1, 1>} : tensor<1x4x4x3xf32>, tensor<1x1x1x3x16xf32>, tensor<16xf32> into tensor<1x4x4x16xf32> -> tensor<1x4x4x16xf32>
  return
}

// -----

func.func @int8_layout(%x: tensor<1x4x4x8xi8>, %w: tensor<2x3x3x8x16xi8>, %s: tensor<2x2x16xf32>, %b: tensor<32xf32>, %i: tensor<1x4x4x20xf32>) {
  // expected-error@+1 {{filter must be laid out as [F/F0, KH, KW, C/4, F0, 4]}}
  %y = kiln.packed_conv2d %x, %w scales %s, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x4x8xi8>, tensor<2x3x3x8x16xi8> scales tensor<2x2x16xf32>, tensor<32xf32> into tensor<1x4x4x20xf32> -> tensor<1x4x4x20xf32>
  return
}

// -----

func.func @int8_filter(%x: tensor<1x4x4x8xi8>, %w: tensor<2x3x3x2x16x4xf32>, %s: tensor<2x2x16xf32>, %b: tensor<32xf32>, %i: tensor<1x4x4x20xf32>) {
  // expected-error@+1 {{with an i8 input takes an i8 filter}}
  %y = kiln.packed_conv2d %x, %w scales %s, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x4x8xi8>, tensor<2x3x3x2x16x4xf32> scales tensor<2x2x16xf32>, tensor<32xf32> into tensor<1x4x4x20xf32> -> tensor<1x4x4x20xf32>
  return
}

// -----

func.func @int8_no_scales(%x: tensor<1x4x4x8xi8>, %w: tensor<2x3x3x2x16x4xi8>, %b: tensor<32xf32>, %i: tensor<1x4x4x20xf32>) {
  // expected-error@+1 {{with an i8 input needs filter_scales}}
  %y = kiln.packed_conv2d %x, %w, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x4x8xi8>, tensor<2x3x3x2x16x4xi8>, tensor<32xf32> into tensor<1x4x4x20xf32> -> tensor<1x4x4x20xf32>
  return
}

// -----

func.func @int8_scales(%x: tensor<1x4x4x8xi8>, %w: tensor<2x3x3x2x16x4xi8>, %s: tensor<2x16xf32>, %b: tensor<32xf32>, %i: tensor<1x4x4x20xf32>) {
  // expected-error@+1 {{filter_scales must be f32 [2, 2, 16]: a scale and a compensation per filter}}
  %y = kiln.packed_conv2d %x, %w scales %s, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x4x8xi8>, tensor<2x3x3x2x16x4xi8> scales tensor<2x16xf32>, tensor<32xf32> into tensor<1x4x4x20xf32> -> tensor<1x4x4x20xf32>
  return
}

// -----

func.func @int8_channels(%x: tensor<1x4x4x8xi8>, %w: tensor<2x3x3x3x16x4xi8>, %s: tensor<2x2x16xf32>, %b: tensor<32xf32>, %i: tensor<1x4x4x20xf32>) {
  // expected-error@+1 {{filter has 12 input channels, the input 8}}
  %y = kiln.packed_conv2d %x, %w scales %s, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x4x8xi8>, tensor<2x3x3x3x16x4xi8> scales tensor<2x2x16xf32>, tensor<32xf32> into tensor<1x4x4x20xf32> -> tensor<1x4x4x20xf32>
  return
}

// -----

func.func @int4_int8_group(%x: tensor<1x1x5x64xi8>, %w: tensor<2x1x1x16x16x4xi8>, %s: tensor<2x2x3x32xi32>, %b: tensor<64xf32>, %i: tensor<1x1x5x50xf32>) {
  // expected-error@+1 {{group_size (30) must be a multiple of 4 that divides the 64 input channels}}
  %y = kiln.packed_conv2d %x, %w scales %s, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, group_size = 30 : i64, strides = array<i64: 1, 1>} : tensor<1x1x5x64xi8>, tensor<2x1x1x16x16x4xi8> scales tensor<2x2x3x32xi32>, tensor<64xf32> into tensor<1x1x5x50xf32> -> tensor<1x1x5x50xf32>
  return
}

// -----

func.func @int4_int8_scales(%x: tensor<1x1x5x64xi8>, %w: tensor<2x1x1x16x16x4xi8>, %s: tensor<2x2x2x32xf16>, %b: tensor<64xf32>, %i: tensor<1x1x5x50xf32>) {
  // expected-error@+1 {{filter_scales must be i32 [2, 2, 3, 32]: a scale, zero point and starting sum per group and filter}}
  %y = kiln.packed_conv2d %x, %w scales %s, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, group_size = 32 : i64, strides = array<i64: 1, 1>} : tensor<1x1x5x64xi8>, tensor<2x1x1x16x16x4xi8> scales tensor<2x2x2x32xf16>, tensor<64xf32> into tensor<1x1x5x50xf32> -> tensor<1x1x5x50xf32>
  return
}

// -----

func.func @int4_int8_pointwise(%x: tensor<1x3x5x64xi8>, %w: tensor<2x3x1x16x16x4xi8>, %s: tensor<2x2x3x32xi32>, %b: tensor<64xf32>, %i: tensor<1x1x5x50xf32>) {
  // expected-error@+1 {{with a 4-bit filter must be pointwise (1x1)}}
  %y = kiln.packed_conv2d %x, %w scales %s, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, group_size = 32 : i64, strides = array<i64: 1, 1>} : tensor<1x3x5x64xi8>, tensor<2x3x1x16x16x4xi8> scales tensor<2x2x3x32xi32>, tensor<64xf32> into tensor<1x1x5x50xf32> -> tensor<1x1x5x50xf32>
  return
}

// -----

func.func @int4_int8_layout(%x: tensor<1x1x5x64xi8>, %w: tensor<2x1x1x16x64xi8>, %s: tensor<2x2x3x32xi32>, %b: tensor<64xf32>, %i: tensor<1x1x5x50xf32>) {
  // expected-error@+1 {{filter must be laid out as [F/F0, 1, 1, C/4, F0/2, 4]}}
  %y = kiln.packed_conv2d %x, %w scales %s, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, group_size = 32 : i64, strides = array<i64: 1, 1>} : tensor<1x1x5x64xi8>, tensor<2x1x1x16x64xi8> scales tensor<2x2x3x32xi32>, tensor<64xf32> into tensor<1x1x5x50xf32> -> tensor<1x1x5x50xf32>
  return
}

// -----

func.func @int8_negative_group(%x: tensor<1x4x4x8xi8>, %w: tensor<2x3x3x2x16x4xi8>, %s: tensor<2x2x16xf32>, %b: tensor<32xf32>, %i: tensor<1x4x4x20xf32>) {
  // expected-error@+1 {{group_size must not be negative}}
  %y = kiln.packed_conv2d %x, %w scales %s, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, group_size = -4 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x4x8xi8>, tensor<2x3x3x2x16x4xi8> scales tensor<2x2x16xf32>, tensor<32xf32> into tensor<1x4x4x20xf32> -> tensor<1x4x4x20xf32>
  return
}
