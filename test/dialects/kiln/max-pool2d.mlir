// RUN: kiln-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// CHECK-LABEL: func.func @tensors
// CHECK: kiln.max_pool2d %arg0 into %arg1 {dilations = array<i64: 1, 1>, kernel = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x8x8x5xf32> into tensor<1x4x4x5xf32> -> tensor<1x4x4x5xf32>
func.func @tensors(%x: tensor<1x8x8x5xf32>, %i: tensor<1x4x4x5xf32>) -> tensor<1x4x4x5xf32> {
  %y = kiln.max_pool2d %x into %i {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : tensor<1x8x8x5xf32> into tensor<1x4x4x5xf32> -> tensor<1x4x4x5xf32>
  return %y : tensor<1x4x4x5xf32>
}

// -----

// CHECK-LABEL: func.func @buffers
// CHECK: kiln.max_pool2d %arg0 into %arg1 {{.*}} : memref<1x8x8x5xf32> into memref<1x7x7x5xf32>
// CHECK-NEXT: return
func.func @buffers(%x: memref<1x8x8x5xf32>, %i: memref<1x7x7x5xf32>) {
  kiln.max_pool2d %x into %i {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : memref<1x8x8x5xf32> into memref<1x7x7x5xf32>
  return
}

// -----

func.func @channels(%x: tensor<1x8x8x5xf32>, %i: tensor<1x4x4x6xf32>) -> tensor<1x4x4x6xf32> {
  // expected-error@+1 {{input and init must have the same channels}}
  %y = kiln.max_pool2d %x into %i {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>} : tensor<1x8x8x5xf32> into tensor<1x4x4x6xf32> -> tensor<1x4x4x6xf32>
  return %y : tensor<1x4x4x6xf32>
}

// -----

func.func @kernel(%x: tensor<1x8x8x5xf32>, %i: tensor<1x4x4x5xf32>) -> tensor<1x4x4x5xf32> {
  // expected-error@+1 {{needs two positive kernel sizes}}
  %y = kiln.max_pool2d %x into %i {kernel = array<i64: 0, 2>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>} : tensor<1x8x8x5xf32> into tensor<1x4x4x5xf32> -> tensor<1x4x4x5xf32>
  return %y : tensor<1x4x4x5xf32>
}

// -----

func.func @fit(%x: tensor<1x8x8x5xf32>, %i: tensor<1x5x4x5xf32>) -> tensor<1x5x4x5xf32> {
  // expected-error@+1 {{output dimension 1 (5) does not fit the padded input (8)}}
  %y = kiln.max_pool2d %x into %i {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>} : tensor<1x8x8x5xf32> into tensor<1x5x4x5xf32> -> tensor<1x5x4x5xf32>
  return %y : tensor<1x5x4x5xf32>
}

// -----

func.func @types(%x: tensor<1x8x8x5xf16>, %i: tensor<1x4x4x5xf16>) -> tensor<1x4x4x5xf16> {
  // expected-error@+1 {{takes and writes f32}}
  %y = kiln.max_pool2d %x into %i {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>} : tensor<1x8x8x5xf16> into tensor<1x4x4x5xf16> -> tensor<1x4x4x5xf16>
  return %y : tensor<1x4x4x5xf16>
}

// -----

func.func @form(%x: tensor<1x8x8x5xf32>, %i: memref<1x4x4x5xf32>) {
  // expected-error@+1 {{takes all tensors or all memrefs}}
  kiln.max_pool2d %x into %i {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>} : tensor<1x8x8x5xf32> into memref<1x4x4x5xf32>
  return
}
