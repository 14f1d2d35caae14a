// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @fraction_above_one(%e: tensor<1x1x8x8xf32>, %c: tensor<1xf32>) -> tensor<1xf32> {
  // expected-error @+1 {{needs a fraction in [0, 1], not 1.5}}
  %r = kiln.entropy_cut %e into %c {fraction = 1.5 : f64} : tensor<1x1x8x8xf32> into tensor<1xf32> -> tensor<1xf32>
  return %r : tensor<1xf32>
}

// -----

func.func @cut_of_two(%e: tensor<1x1x8x8xf32>, %c: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{writes one f32 [1], not 'tensor<2xf32>'}}
  %r = kiln.entropy_cut %e into %c {fraction = 0.5 : f64} : tensor<1x1x8x8xf32> into tensor<2xf32> -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

func.func @mask_of_floats(%m: tensor<1x1x8x8xf32>, %t: tensor<9xi32>) -> tensor<9xi32> {
  // expected-error @+1 {{takes a mask [1, 1, h, w] of i1, not 'tensor<1x1x8x8xf32>'}}
  %r = kiln.refine_tiles %m into %t {tile = array<i64: 4, 4>} : tensor<1x1x8x8xf32> into tensor<9xi32> -> tensor<9xi32>
  return %r : tensor<9xi32>
}

// -----

func.func @short_table(%m: tensor<1x1x8x8xi1>, %t: tensor<5xi32>) -> tensor<5xi32> {
  // expected-error @+1 {{needs a table of 9 entries for 4 tiles, not 5}}
  %r = kiln.refine_tiles %m into %t {tile = array<i64: 4, 4>} : tensor<1x1x8x8xi1> into tensor<5xi32> -> tensor<5xi32>
  return %r : tensor<5xi32>
}

// -----

func.func @empty_tile(%m: tensor<1x1x8x8xi1>, %t: tensor<9xi32>) -> tensor<9xi32> {
  // expected-error @+1 {{needs a tile of two positive extents}}
  %r = kiln.refine_tiles %m into %t {tile = array<i64: 0, 4>} : tensor<1x1x8x8xi1> into tensor<9xi32> -> tensor<9xi32>
  return %r : tensor<9xi32>
}

// -----

func.func @window_too_large(%i: tensor<1x3x16x16xf32>, %t: tensor<9xi32>, %w: tensor<?x3x24x24xf32>) -> tensor<?x3x24x24xf32> {
  // expected-error @+1 {{windows of 24x24 do not fit in an image of 16x16}}
  %r = kiln.gather_windows %i, %t into %w {tile = array<i64: 8, 8>, halo = array<i64: 8, 8>} : tensor<1x3x16x16xf32>, tensor<9xi32> into tensor<?x3x24x24xf32> -> tensor<?x3x24x24xf32>
  return %r : tensor<?x3x24x24xf32>
}

// -----

func.func @window_without_halo(%i: tensor<1x3x16x16xf32>, %t: tensor<9xi32>, %w: tensor<?x3x8x8xf32>) -> tensor<?x3x8x8xf32> {
  // expected-error @+1 {{needs windows [n, 3, 12, 12] for tiles of 8x8 with a halo of 2x2, not 'tensor<?x3x8x8xf32>'}}
  %r = kiln.gather_windows %i, %t into %w {tile = array<i64: 8, 8>, halo = array<i64: 2, 2>} : tensor<1x3x16x16xf32>, tensor<9xi32> into tensor<?x3x8x8xf32> -> tensor<?x3x8x8xf32>
  return %r : tensor<?x3x8x8xf32>
}

// -----

func.func @not_a_multiple(%l: tensor<1x5x6x6xf32>, %m: tensor<1x1x6x6xi1>, %r: tensor<?x5x12x12xf32>, %t: tensor<9xi32>, %o: tensor<1x5x16x16xf32>) -> tensor<1x5x16x16xf32> {
  // expected-error @+1 {{logits of 16x16 are no whole multiple of 6x6}}
  %y = kiln.merge_refined %l, %m, %r, %t into %o {tile = array<i64: 8, 8>, halo = array<i64: 2, 2>} : tensor<1x5x6x6xf32>, tensor<1x1x6x6xi1>, tensor<?x5x12x12xf32>, tensor<9xi32> into tensor<1x5x16x16xf32> -> tensor<1x5x16x16xf32>
  return %y : tensor<1x5x16x16xf32>
}

// -----

func.func @tile_across_low_pixels(%l: tensor<1x5x4x4xf32>, %m: tensor<1x1x4x4xi1>, %r: tensor<?x5x10x10xf32>, %t: tensor<5xi32>, %o: tensor<1x5x16x16xf32>) -> tensor<1x5x16x16xf32> {
  // expected-error @+1 {{tiles of 6x6 are no whole number of low-resolution pixels of 4x4}}
  %y = kiln.merge_refined %l, %m, %r, %t into %o {tile = array<i64: 6, 6>, halo = array<i64: 2, 2>} : tensor<1x5x4x4xf32>, tensor<1x1x4x4xi1>, tensor<?x5x10x10xf32>, tensor<5xi32> into tensor<1x5x16x16xf32> -> tensor<1x5x16x16xf32>
  return %y : tensor<1x5x16x16xf32>
}

// -----

func.func @other_classes(%l: tensor<1x4x8x8xf32>, %m: tensor<1x1x8x8xi1>, %r: tensor<?x5x12x12xf32>, %t: tensor<9xi32>, %o: tensor<1x5x16x16xf32>) -> tensor<1x5x16x16xf32> {
  // expected-error @+1 {{low-resolution logits 'tensor<1x4x8x8xf32>' do not match the logits 'tensor<1x5x16x16xf32>'}}
  %y = kiln.merge_refined %l, %m, %r, %t into %o {tile = array<i64: 8, 8>, halo = array<i64: 2, 2>} : tensor<1x4x8x8xf32>, tensor<1x1x8x8xi1>, tensor<?x5x12x12xf32>, tensor<9xi32> into tensor<1x5x16x16xf32> -> tensor<1x5x16x16xf32>
  return %y : tensor<1x5x16x16xf32>
}

// -----

func.func @negative_budget(%m: tensor<1x1x8x8xi1>, %t: tensor<9xi32>) -> tensor<9xi32> {
  // expected-error @+1 {{needs max_tiles not negative (0: no limit), not -2}}
  %r = kiln.refine_tiles %m into %t {tile = array<i64: 4, 4>, max_tiles = -2 : i64} : tensor<1x1x8x8xi1> into tensor<9xi32> -> tensor<9xi32>
  return %r : tensor<9xi32>
}
