// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @bf16_filter(%x: tensor<1x4x4x8xbf16>, %w: tensor<3x3x8xbf16>, %b: tensor<8xf32>, %i: tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32> {
  // expected-error@+1 {{takes an f32 or bf16 input and an f32 filter and bias}}
  %y = kiln.depthwise_conv2d %x, %w, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x4x8xbf16>, tensor<3x3x8xbf16>, tensor<8xf32> into tensor<1x4x4x8xf32> -> tensor<1x4x4x8xf32>
  return %y : tensor<1x4x4x8xf32>
}

// -----

func.func @channels(%x: tensor<1x4x4x8xf32>, %w: tensor<3x3x6xf32>, %b: tensor<8xf32>, %i: tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32> {
  // expected-error@+1 {{input, filter, bias and init must all have 8 channels}}
  %y = kiln.depthwise_conv2d %x, %w, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x4x8xf32>, tensor<3x3x6xf32>, tensor<8xf32> into tensor<1x4x4x8xf32> -> tensor<1x4x4x8xf32>
  return %y : tensor<1x4x4x8xf32>
}

// -----

func.func @layout(%x: tensor<1x4x4x8xf32>, %w: tensor<3x3x8x1xf32>, %b: tensor<8xf32>, %i: tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32> {
  // expected-error@+1 {{filter must be laid out as [KH, KW, C]}}
  %y = kiln.depthwise_conv2d %x, %w, %b into %i {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x4x8xf32>, tensor<3x3x8x1xf32>, tensor<8xf32> into tensor<1x4x4x8xf32> -> tensor<1x4x4x8xf32>
  return %y : tensor<1x4x4x8xf32>
}
