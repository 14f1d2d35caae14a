// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @table_too_short(%m: tensor<1x1x4x4xi1>, %t: tensor<17xi32>) -> tensor<17xi32> {
  // expected-error @+1 {{needs a site table of 65 entries for a grid of 8x8, not 17}}
  %r = kiln.list_sites %m into %t {scale = array<i64: 2, 2>} : tensor<1x1x4x4xi1> into tensor<17xi32> -> tensor<17xi32>
  return %r : tensor<17xi32>
}

// -----

func.func @zero_scale(%m: tensor<1x1x4x4xi1>, %t: tensor<17xi32>) -> tensor<17xi32> {
  // expected-error @+1 {{needs a scale of two extents, each at least 1}}
  %r = kiln.list_sites %m into %t {scale = array<i64: 0, 1>} : tensor<1x1x4x4xi1> into tensor<17xi32> -> tensor<17xi32>
  return %r : tensor<17xi32>
}

// -----

func.func @mask_of_floats(%m: tensor<1x1x4x4xf32>, %t: tensor<17xi32>) -> tensor<17xi32> {
  // expected-error @+1 {{takes a mask [1, 1, h, w] of i1, not 'tensor<1x1x4x4xf32>'}}
  %r = kiln.list_sites %m into %t {scale = array<i64: 1, 1>} : tensor<1x1x4x4xf32> into tensor<17xi32> -> tensor<17xi32>
  return %r : tensor<17xi32>
}

// -----

func.func @coarse_table_size(%f: tensor<26xi32>, %c: tensor<7xi32>) -> tensor<7xi32> {
  // expected-error @+1 {{needs a site table of 10 entries for a grid of 3x3, not 7}}
  %r = kiln.coarse_sites %f into %c {grid = array<i64: 5, 5>, stride = array<i64: 2, 2>} : tensor<26xi32> into tensor<7xi32> -> tensor<7xi32>
  return %r : tensor<7xi32>
}

// -----

func.func @table_of_floats(%f: tensor<26xf32>, %c: tensor<10xi32>) -> tensor<10xi32> {
  // expected-error @+1 {{takes a site table [1 + N] of i32, not 'tensor<26xf32>'}}
  %r = kiln.coarse_sites %f into %c {grid = array<i64: 5, 5>, stride = array<i64: 2, 2>} : tensor<26xf32> into tensor<10xi32> -> tensor<10xi32>
  return %r : tensor<10xi32>
}

// -----

func.func @map_columns(%s: tensor<26xi32>, %m: tensor<?x4xi32>) -> tensor<?x4xi32> {
  // expected-error @+1 {{needs a map of 9 columns for a kernel of 3x3, not 'tensor<?x4xi32>'}}
  %r = kiln.kernel_map %s, %s into %m {input_grid = array<i64: 5, 5>, output_grid = array<i64: 5, 5>, kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>} : tensor<26xi32>, tensor<26xi32> into tensor<?x4xi32> -> tensor<?x4xi32>
  return %r : tensor<?x4xi32>
}

// -----

func.func @negative_padding(%s: tensor<26xi32>, %m: tensor<?x9xi32>) -> tensor<?x9xi32> {
  // expected-error @+1 {{needs a padding of two extents, each at least 0}}
  %r = kiln.kernel_map %s, %s into %m {input_grid = array<i64: 5, 5>, output_grid = array<i64: 5, 5>, kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: -1, 1>} : tensor<26xi32>, tensor<26xi32> into tensor<?x9xi32> -> tensor<?x9xi32>
  return %r : tensor<?x9xi32>
}

// -----

func.func @gather_channels(%i: tensor<1x3x5x5xf32>, %s: tensor<26xi32>, %r: tensor<?x4xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{has rows of 4 values for an image of 3 channels}}
  %o = kiln.gather_sites %i, %s into %r {scale = array<i64: 1, 1>} : tensor<1x3x5x5xf32>, tensor<26xi32> into tensor<?x4xf32> -> tensor<?x4xf32>
  return %o : tensor<?x4xf32>
}

// -----

func.func @scatter_symbolic_image(%r: tensor<?x3xf32>, %s: tensor<26xi32>, %i: tensor<1x3x?x5xf32>) -> tensor<1x3x?x5xf32> {
  // expected-error @+1 {{takes an image [1, C, H, W] of f32 of static shape, not 'tensor<1x3x?x5xf32>'}}
  %o = kiln.scatter_sites %r, %s into %i : tensor<?x3xf32>, tensor<26xi32> into tensor<1x3x?x5xf32> -> tensor<1x3x?x5xf32>
  return %o : tensor<1x3x?x5xf32>
}

// -----

func.func @im2col_width(%f: tensor<?x3xf32>, %m: tensor<?x9xi32>, %c: tensor<?x9xf32>) -> tensor<?x9xf32> {
  // expected-error @+1 {{needs columns [n_out, K C] of 27 columns for 9 offsets of 3 channels, not 'tensor<?x9xf32>'}}
  %o = kiln.sparse_im2col %f, %m into %c : tensor<?x3xf32>, tensor<?x9xi32> into tensor<?x9xf32> -> tensor<?x9xf32>
  return %o : tensor<?x9xf32>
}

// -----

func.func @col2im_products(%p: tensor<?x10xf32>, %m: tensor<?x4xi32>, %r: tensor<?x5xf32>) -> tensor<?x5xf32> {
  // expected-error @+1 {{needs products [n_in, K F] of 20 columns for 4 offsets of 5 filters, not 'tensor<?x10xf32>'}}
  %o = kiln.sparse_col2im %p, %m into %r : tensor<?x10xf32>, tensor<?x4xi32> into tensor<?x5xf32> -> tensor<?x5xf32>
  return %o : tensor<?x5xf32>
}

// -----

func.func @rows_of_integers(%f: tensor<?x3xi32>, %m: tensor<?x9xi32>, %c: tensor<?x27xf32>) -> tensor<?x27xf32> {
  // expected-error @+1 {{takes features [n, C] of f32 (only n symbolic), not 'tensor<?x3xi32>'}}
  %o = kiln.sparse_im2col %f, %m into %c : tensor<?x3xi32>, tensor<?x9xi32> into tensor<?x27xf32> -> tensor<?x27xf32>
  return %o : tensor<?x27xf32>
}
