// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @scale(%x: tensor<2x6xf32>, %s: tensor<5xf32>, %b: tensor<6xf32>, %i: tensor<2x6xf32>) {
  // expected-error@+1 {{scale and bias must have the row's 6 elements}}
  %y = kiln.layer_norm %x, %s, %b into %i {epsilon = 1.0e-5 : f32} : tensor<2x6xf32>, tensor<5xf32>, tensor<6xf32> into tensor<2x6xf32> -> tensor<2x6xf32>
  return
}

// -----

func.func @epsilon(%x: tensor<2x6xf32>, %s: tensor<6xf32>, %i: tensor<2x6xf32>) {
  // expected-error@+1 {{epsilon must not be negative}}
  %y = kiln.layer_norm %x, %s, %s into %i {epsilon = -1.0 : f32} : tensor<2x6xf32>, tensor<6xf32>, tensor<6xf32> into tensor<2x6xf32> -> tensor<2x6xf32>
  return
}

// -----

func.func @shape(%x: tensor<2x6xf32>, %i: tensor<3x6xf32>) {
  // expected-error@+1 {{init must have the input's shape}}
  %y = kiln.softmax %x into %i : tensor<2x6xf32> into tensor<3x6xf32> -> tensor<3x6xf32>
  return
}

// -----

func.func @type(%x: tensor<2x6xf16>, %i: tensor<2x6xf16>) {
  // expected-error@+1 {{needs f32 shapes}}
  %y = kiln.softmax %x into %i : tensor<2x6xf16> into tensor<2x6xf16> -> tensor<2x6xf16>
  return
}

// -----

// A softmax takes symbolic sizes; layer normalization does not.
func.func @symbolic(%x: tensor<?x6xf32>, %s: tensor<6xf32>, %i: tensor<?x6xf32>) {
  %y = kiln.softmax %x into %i : tensor<?x6xf32> into tensor<?x6xf32> -> tensor<?x6xf32>
  // expected-error@+1 {{needs static f32 shapes}}
  %z = kiln.layer_norm %x, %s, %s into %i {epsilon = 1.0e-5 : f32} : tensor<?x6xf32>, tensor<6xf32>, tensor<6xf32> into tensor<?x6xf32> -> tensor<?x6xf32>
  return
}

// -----

func.func @mixed(%x: tensor<2x6xf32>, %i: memref<2x6xf32>) {
  // expected-error@+1 {{takes all tensors or all memrefs}}
  kiln.softmax %x into %i : tensor<2x6xf32> into memref<2x6xf32>
  return
}

// -----

func.func @resize_tables(%x: tensor<1x2x3x4xf32>, %r: tensor<6xi32>, %rw: tensor<4xf32>, %c: tensor<16xi32>, %cw: tensor<8xf32>, %i: tensor<1x2x4x8xf32>) {
  // expected-error@+1 {{rows and columns must be i32 tables of two source positions per output row and column}}
  %y = kiln.resize_linear %x, %r, %rw, %c, %cw into %i : tensor<1x2x3x4xf32>, tensor<6xi32>, tensor<4xf32>, tensor<16xi32>, tensor<8xf32> into tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @resize_planes(%x: tensor<1x2x3x4xf32>, %r: tensor<8xi32>, %rw: tensor<4xf32>, %c: tensor<16xi32>, %cw: tensor<8xf32>, %i: tensor<1x3x4x8xf32>) {
  // expected-error@+1 {{resizes the last two dimensions of 4-D data}}
  %y = kiln.resize_linear %x, %r, %rw, %c, %cw into %i : tensor<1x2x3x4xf32>, tensor<8xi32>, tensor<4xf32>, tensor<16xi32>, tensor<8xf32> into tensor<1x3x4x8xf32> -> tensor<1x3x4x8xf32>
  return
}

// -----

func.func @row_abs_max_shape(%x: tensor<2x6xf32>, %i: tensor<2x6xf32>) {
  // expected-error@+1 {{init must have the input's shape with 1 for the innermost size}}
  %y = kiln.row_abs_max %x into %i : tensor<2x6xf32> into tensor<2x6xf32> -> tensor<2x6xf32>
  return
}

// -----

func.func @row_abs_max_type(%x: tensor<2x6xf16>, %i: tensor<2x1xf16>) {
  // expected-error@+1 {{needs f32 shapes}}
  %y = kiln.row_abs_max %x into %i : tensor<2x6xf16> into tensor<2x1xf16> -> tensor<2x1xf16>
  return
}

// -----

func.func @resize_symbolic_channels(%x: tensor<1x?x3x4xf32>, %r: tensor<8xi32>, %rw: tensor<4xf32>, %c: tensor<16xi32>, %cw: tensor<8xf32>, %i: tensor<1x?x4x8xf32>) {
  // expected-error@+1 {{needs static channels}}
  %y = kiln.resize_linear %x, %r, %rw, %c, %cw into %i : tensor<1x?x3x4xf32>, tensor<8xi32>, tensor<4xf32>, tensor<16xi32>, tensor<8xf32> into tensor<1x?x4x8xf32> -> tensor<1x?x4x8xf32>
  return
}
