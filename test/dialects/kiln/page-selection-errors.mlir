// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @odd_bounds(%k: tensor<2x64x16xf32>, %b: tensor<2x7x16xf32>, %i: index) {
  // expected-error @+1 {{takes bounds [G, 2 N, D] of f32 or bf16 (a minimum and a maximum row per page), D static}}
  %r = kiln.page_bounds %k rows %i to %i into %b {page_size = 16 : i64} : tensor<2x64x16xf32> into tensor<2x7x16xf32> -> tensor<2x7x16xf32>
  return
}

// -----

func.func @too_few_pages(%k: tensor<2x64x16xf32>, %b: tensor<2x6x16xf32>, %i: index) {
  // expected-error @+1 {{bounds for 3 pages of 16 cannot cover 64 keys}}
  %r = kiln.page_bounds %k rows %i to %i into %b {page_size = 16 : i64} : tensor<2x64x16xf32> into tensor<2x6x16xf32> -> tensor<2x6x16xf32>
  return
}

// -----

func.func @bounds_depth(%k: tensor<2x64x20xi8>, %b: tensor<2x8x16xf32>, %i: index) {
  // expected-error @+1 {{keys of 32 channels cannot have bounds of 16}}
  %r = kiln.page_bounds %k rows %i to %i into %b {page_size = 16 : i64} : tensor<2x64x20xi8> into tensor<2x8x16xf32> -> tensor<2x8x16xf32>
  return
}

// -----

func.func @zero_page(%k: tensor<2x64x16xf32>, %b: tensor<2x8x16xf32>, %i: index) {
  // expected-error @+1 {{needs a positive page_size, not 0}}
  %r = kiln.page_bounds %k rows %i to %i into %b {page_size = 0 : i64} : tensor<2x64x16xf32> into tensor<2x8x16xf32> -> tensor<2x8x16xf32>
  return
}

// -----

func.func @mixed_forms(%k: memref<2x64x16xf32>, %b: tensor<2x8x16xf32>, %i: index) {
  // expected-error @+1 {{takes all tensors or all memrefs}}
  %r = kiln.page_bounds %k rows %i to %i into %b {page_size = 16 : i64} : memref<2x64x16xf32> into tensor<2x8x16xf32> -> tensor<2x8x16xf32>
  return
}

// -----

func.func @score_depth(%q: tensor<2x3x32xf32>, %b: tensor<2x8x16xf32>, %s: tensor<2x4xf32>, %i: index) {
  // expected-error @+1 {{takes a query [G, R, D] of f32 with the bounds' D (16)}}
  %r = kiln.page_scores %q, %b pages %i into %s : tensor<2x3x32xf32>, tensor<2x8x16xf32> into tensor<2x4xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @score_pages(%q: tensor<2x3x16xf32>, %b: tensor<2x8x16xf32>, %s: tensor<2x5xf32>, %i: index) {
  // expected-error @+1 {{writes scores [G, N] of f32, N the bounds' pages}}
  %r = kiln.page_scores %q, %b pages %i into %s : tensor<2x3x16xf32>, tensor<2x8x16xf32> into tensor<2x5xf32> -> tensor<2x5xf32>
  return
}

// -----

func.func @score_heads(%q: tensor<3x3x16xf32>, %b: tensor<2x8x16xf32>, %s: tensor<2x4xf32>, %i: index) {
  // expected-error @+1 {{query, bounds and scores must have the same heads}}
  %r = kiln.page_scores %q, %b pages %i into %s : tensor<3x3x16xf32>, tensor<2x8x16xf32> into tensor<2x4xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @table_type(%s: tensor<2x8xf32>, %t: tensor<2x4xi64>, %i: index) {
  // expected-error @+1 {{writes a table [G, K] of i32, K static and positive}}
  %r = kiln.select_pages %s candidates %i into %t : tensor<2x8xf32> into tensor<2x4xi64> -> tensor<2x4xi64>
  return
}

// -----

func.func @table_heads(%s: tensor<2x8xf32>, %t: tensor<3x4xi32>, %i: index) {
  // expected-error @+1 {{scores and table must have the same heads}}
  %r = kiln.select_pages %s candidates %i into %t : tensor<2x8xf32> into tensor<3x4xi32> -> tensor<3x4xi32>
  return
}

// -----

func.func @pages_need_rows(%q: tensor<2x1x16xf32>, %k: tensor<2x16x64xf32>, %v: tensor<2x64x16xf32>, %t: tensor<2x4xi32>, %o: tensor<2x1x16xf32>) {
  // expected-error @+1 {{reads pages of keys as rows (key_rows) with a positive page_size}}
  %y = kiln.attention %q, %k, %v pages %t into %o {page_size = 16 : i64, scale = 1.0 : f32} : tensor<2x1x16xf32>, tensor<2x16x64xf32>, tensor<2x64x16xf32> pages tensor<2x4xi32> into tensor<2x1x16xf32> -> tensor<2x1x16xf32>
  return
}

// -----

func.func @pages_table(%q: tensor<2x1x16xf32>, %k: tensor<2x64x16xf32>, %t: tensor<2x?xi32>, %o: tensor<2x1x16xf32>) {
  // expected-error @+1 {{takes a pages table [G, K] of i32, K static and positive}}
  %y = kiln.attention %q, %k, %k pages %t into %o {key_rows, page_size = 16 : i64, scale = 1.0 : f32} : tensor<2x1x16xf32>, tensor<2x64x16xf32>, tensor<2x64x16xf32> pages tensor<2x?xi32> into tensor<2x1x16xf32> -> tensor<2x1x16xf32>
  return
}

// -----

func.func @page_size_alone(%q: tensor<2x1x16xf32>, %k: tensor<2x64x16xf32>, %o: tensor<2x1x16xf32>) {
  // expected-error @+1 {{has a page_size but no pages table}}
  %y = kiln.attention %q, %k, %k into %o {key_rows, page_size = 16 : i64, scale = 1.0 : f32} : tensor<2x1x16xf32>, tensor<2x64x16xf32>, tensor<2x64x16xf32> into tensor<2x1x16xf32> -> tensor<2x1x16xf32>
  return
}
