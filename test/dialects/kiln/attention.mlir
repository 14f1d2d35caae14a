// RUN: kiln-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// CHECK-LABEL: func.func @tensors
// CHECK: kiln.attention %arg0, %arg1, %arg2 into %arg3 {scale = 1.250000e-01 : f32} : tensor<6x13x64xf32>, tensor<6x64x150xf32>, tensor<6x150x64xf32> into tensor<6x13x64xf32> -> tensor<6x13x64xf32>
func.func @tensors(%q: tensor<6x13x64xf32>, %k: tensor<6x64x150xf32>, %v: tensor<6x150x64xf32>, %i: tensor<6x13x64xf32>) -> tensor<6x13x64xf32> {
  %y = kiln.attention %q, %k, %v into %i {scale = 0.125 : f32} : tensor<6x13x64xf32>, tensor<6x64x150xf32>, tensor<6x150x64xf32> into tensor<6x13x64xf32> -> tensor<6x13x64xf32>
  return %y : tensor<6x13x64xf32>
}

// -----

// CHECK-LABEL: func.func @buffers
// CHECK: kiln.attention {{.*}} : memref<2x1x8xf32>, memref<2x8x5xf32>, memref<2x5x8xf32> into memref<2x1x8xf32>
// CHECK-NEXT: return
func.func @buffers(%q: memref<2x1x8xf32>, %k: memref<2x8x5xf32>, %v: memref<2x5x8xf32>, %i: memref<2x1x8xf32>) {
  kiln.attention %q, %k, %v into %i {scale = 1.0 : f32} : memref<2x1x8xf32>, memref<2x8x5xf32>, memref<2x5x8xf32> into memref<2x1x8xf32>
  return
}

// -----

// Keys as rows [G, T, D], as a KV cache holds them.
// CHECK-LABEL: func.func @key_rows
// CHECK: kiln.attention %arg0, %arg1, %arg2 into %arg3 {key_rows, scale = 1.250000e-01 : f32} : tensor<6x1x64xf32>, tensor<6x150x64xf32>, tensor<6x150x64xf32> into tensor<6x1x64xf32>
func.func @key_rows(%q: tensor<6x1x64xf32>, %k: tensor<6x150x64xf32>, %v: tensor<6x150x64xf32>, %i: tensor<6x1x64xf32>) -> tensor<6x1x64xf32> {
  %y = kiln.attention %q, %k, %v into %i {key_rows, scale = 0.125 : f32} : tensor<6x1x64xf32>, tensor<6x150x64xf32>, tensor<6x150x64xf32> into tensor<6x1x64xf32> -> tensor<6x1x64xf32>
  return %y : tensor<6x1x64xf32>
}

// -----

// A decode step over a cache: heads, rows and keys known at run time, the
// keys a strided view of the cache, an additive mask shared by the heads.
// CHECK-LABEL: func.func @symbolic_masked
// CHECK: kiln.attention %arg0, %arg1, %arg2 mask %arg3 into %arg4 {key_rows, scale = 1.250000e-01 : f32} : memref<?x?x64xf32>, memref<?x?x64xf32, strided<[264192, 64, 1]>>, memref<?x?x64xf32, strided<[264192, 64, 1]>> mask memref<1x?x?xf32> into memref<?x?x64xf32>
func.func @symbolic_masked(%q: memref<?x?x64xf32>, %k: memref<?x?x64xf32, strided<[264192, 64, 1]>>, %v: memref<?x?x64xf32, strided<[264192, 64, 1]>>, %m: memref<1x?x?xf32>, %i: memref<?x?x64xf32>) {
  kiln.attention %q, %k, %v mask %m into %i {key_rows, scale = 0.125 : f32} : memref<?x?x64xf32>, memref<?x?x64xf32, strided<[264192, 64, 1]>>, memref<?x?x64xf32, strided<[264192, 64, 1]>> mask memref<1x?x?xf32> into memref<?x?x64xf32>
  return
}

// -----

// Keys and values as 4-bit rows (QoQ's KV4 cache): D / 2 bytes of
// nibbles, then the row's f16 scale and zero point.
// CHECK-LABEL: func.func @kv4_cache
// CHECK: kiln.attention {{.*}} : memref<3x1x64xf32>, memref<3x?x36xi8, strided<[4608, 36, 1]>>, memref<3x?x36xi8, strided<[4608, 36, 1]>> into memref<3x1x64xf32>
func.func @kv4_cache(%q: memref<3x1x64xf32>, %k: memref<3x?x36xi8, strided<[4608, 36, 1]>>, %v: memref<3x?x36xi8, strided<[4608, 36, 1]>>, %i: memref<3x1x64xf32>) {
  kiln.attention %q, %k, %v into %i {key_rows, scale = 0.125 : f32} : memref<3x1x64xf32>, memref<3x?x36xi8, strided<[4608, 36, 1]>>, memref<3x?x36xi8, strided<[4608, 36, 1]>> into memref<3x1x64xf32>
  return
}

// -----

func.func @kv4_transposed_keys(%q: tensor<2x4x8xf32>, %k: tensor<2x8x5xi8>, %v: tensor<2x5x8xi8>, %i: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error@+1 {{takes 4-bit keys as rows (key_rows)}}
  %y = kiln.attention %q, %k, %v into %i {scale = 1.0 : f32} : tensor<2x4x8xf32>, tensor<2x8x5xi8>, tensor<2x5x8xi8> into tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

func.func @kv4_row_width(%q: tensor<2x4x8xf32>, %k: tensor<2x5x10xi8>, %v: tensor<2x5x10xi8>, %i: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error@+1 {{keys must be [G, T, D] and values [G, T, D] (D / 2 + 4 bytes in 4 bits) with the query's D (8)}}
  %y = kiln.attention %q, %k, %v into %i {key_rows, scale = 1.0 : f32} : tensor<2x4x8xf32>, tensor<2x5x10xi8>, tensor<2x5x10xi8> into tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// Keys and values held in bf16 (a session cache under --precision=bf16).
// CHECK-LABEL: func.func @bf16_cache
// CHECK: kiln.attention {{.*}} : memref<3x1x64xf32>, memref<3x?x64xbf16, strided<[8192, 64, 1]>>, memref<3x?x64xbf16, strided<[8192, 64, 1]>> into memref<3x1x64xf32>
func.func @bf16_cache(%q: memref<3x1x64xf32>, %k: memref<3x?x64xbf16, strided<[8192, 64, 1]>>, %v: memref<3x?x64xbf16, strided<[8192, 64, 1]>>, %i: memref<3x1x64xf32>) {
  kiln.attention %q, %k, %v into %i {key_rows, scale = 0.125 : f32} : memref<3x1x64xf32>, memref<3x?x64xbf16, strided<[8192, 64, 1]>>, memref<3x?x64xbf16, strided<[8192, 64, 1]>> into memref<3x1x64xf32>
  return
}

// -----

func.func @bf16_query(%q: tensor<2x4x8xbf16>, %k: tensor<2x5x8xbf16>, %v: tensor<2x5x8xbf16>, %i: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error@+1 {{takes 3-D f32 query, mask and init, and f32, bf16 or 4-bit (i8 rows) keys and values}}
  %y = kiln.attention %q, %k, %v into %i {key_rows, scale = 1.0 : f32} : tensor<2x4x8xbf16>, tensor<2x5x8xbf16>, tensor<2x5x8xbf16> into tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

func.func @symbolic_depth(%q: tensor<2x4x?xf32>, %k: tensor<2x?x5xf32>, %v: tensor<2x5x?xf32>, %i: tensor<2x4x?xf32>) -> tensor<2x4x?xf32> {
  // expected-error@+1 {{needs a static head size D}}
  %y = kiln.attention %q, %k, %v into %i {scale = 1.0 : f32} : tensor<2x4x?xf32>, tensor<2x?x5xf32>, tensor<2x5x?xf32> into tensor<2x4x?xf32> -> tensor<2x4x?xf32>
  return %y : tensor<2x4x?xf32>
}

// -----

func.func @mask_columns(%q: tensor<2x4x8xf32>, %k: tensor<2x8x5xf32>, %v: tensor<2x5x8xf32>, %m: tensor<1x4x6xf32>, %i: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error@+1 {{the mask has 6 columns for 5 keys}}
  %y = kiln.attention %q, %k, %v mask %m into %i {scale = 1.0 : f32} : tensor<2x4x8xf32>, tensor<2x8x5xf32>, tensor<2x5x8xf32> mask tensor<1x4x6xf32> into tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

func.func @mask_heads(%q: tensor<2x4x8xf32>, %k: tensor<2x8x5xf32>, %v: tensor<2x5x8xf32>, %m: tensor<3x4x5xf32>, %i: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error@+1 {{the mask's 3 heads do not divide the 2 heads}}
  %y = kiln.attention %q, %k, %v mask %m into %i {scale = 1.0 : f32} : tensor<2x4x8xf32>, tensor<2x8x5xf32>, tensor<2x5x8xf32> mask tensor<3x4x5xf32> into tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

func.func @mask_rows(%q: tensor<2x4x8xf32>, %k: tensor<2x8x5xf32>, %v: tensor<2x5x8xf32>, %m: tensor<1x3x5xf32>, %i: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error@+1 {{the mask's 3 rows do not divide the query's 4}}
  %y = kiln.attention %q, %k, %v mask %m into %i {scale = 1.0 : f32} : tensor<2x4x8xf32>, tensor<2x8x5xf32>, tensor<2x5x8xf32> mask tensor<1x3x5xf32> into tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

func.func @heads(%q: tensor<2x4x8xf32>, %k: tensor<3x8x5xf32>, %v: tensor<2x5x8xf32>, %i: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error@+1 {{query, keys, values and init must have the same heads (2)}}
  %y = kiln.attention %q, %k, %v into %i {scale = 1.0 : f32} : tensor<2x4x8xf32>, tensor<3x8x5xf32>, tensor<2x5x8xf32> into tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

func.func @depth(%q: tensor<2x4x8xf32>, %k: tensor<2x5x8xf32>, %v: tensor<2x8x8xf32>, %i: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error@+1 {{keys must be [G, D, T] and values [G, T, D] (D / 2 + 4 bytes in 4 bits) with the query's D (8)}}
  %y = kiln.attention %q, %k, %v into %i {scale = 1.0 : f32} : tensor<2x4x8xf32>, tensor<2x5x8xf32>, tensor<2x8x8xf32> into tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

func.func @positions(%q: tensor<2x4x8xf32>, %k: tensor<2x8x5xf32>, %v: tensor<2x6x8xf32>, %i: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error@+1 {{keys have 5 positions, values 6}}
  %y = kiln.attention %q, %k, %v into %i {scale = 1.0 : f32} : tensor<2x4x8xf32>, tensor<2x8x5xf32>, tensor<2x6x8xf32> into tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

func.func @rows(%q: tensor<2x4x8xf32>, %k: tensor<2x8x5xf32>, %v: tensor<2x5x8xf32>, %i: tensor<2x3x8xf32>) -> tensor<2x3x8xf32> {
  // expected-error@+1 {{init must have the query's 4 rows}}
  %y = kiln.attention %q, %k, %v into %i {scale = 1.0 : f32} : tensor<2x4x8xf32>, tensor<2x8x5xf32>, tensor<2x5x8xf32> into tensor<2x3x8xf32> -> tensor<2x3x8xf32>
  return %y : tensor<2x3x8xf32>
}

// -----

func.func @types(%q: tensor<2x4x8xf16>, %k: tensor<2x8x5xf16>, %v: tensor<2x5x8xf16>, %i: tensor<2x4x8xf16>) -> tensor<2x4x8xf16> {
  // expected-error@+1 {{takes 3-D f32 query, mask and init, and f32, bf16 or 4-bit (i8 rows) keys and values}}
  %y = kiln.attention %q, %k, %v into %i {scale = 1.0 : f32} : tensor<2x4x8xf16>, tensor<2x8x5xf16>, tensor<2x5x8xf16> into tensor<2x4x8xf16> -> tensor<2x4x8xf16>
  return %y : tensor<2x4x8xf16>
}

// -----

func.func @key_rows_depth(%q: tensor<2x4x8xf32>, %k: tensor<2x8x5xf32>, %v: tensor<2x8x8xf32>, %i: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error@+1 {{keys must be [G, T, D] and values [G, T, D] (D / 2 + 4 bytes in 4 bits) with the query's D (8)}}
  %y = kiln.attention %q, %k, %v into %i {key_rows, scale = 1.0 : f32} : tensor<2x4x8xf32>, tensor<2x8x5xf32>, tensor<2x8x8xf32> into tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

func.func @key_rows_positions(%q: tensor<2x4x8xf32>, %k: tensor<2x5x8xf32>, %v: tensor<2x6x8xf32>, %i: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error@+1 {{keys have 5 positions, values 6}}
  %y = kiln.attention %q, %k, %v into %i {key_rows, scale = 1.0 : f32} : tensor<2x4x8xf32>, tensor<2x5x8xf32>, tensor<2x6x8xf32> into tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// A past cache's rows and the new ones where they are: the mask counts
// both (150 + 1 keys).
// CHECK-LABEL: func.func @past
// CHECK: kiln.attention %arg0, %arg1, %arg2 past %arg3, %arg4 mask %arg5 into %arg6 {key_rows, scale = 1.250000e-01 : f32} : tensor<6x1x64xf32>, tensor<6x1x64xf32>, tensor<6x1x64xf32> past tensor<6x150x64xf32>, tensor<6x150x64xf32> mask tensor<1x1x151xf32> into tensor<6x1x64xf32>
func.func @past(%q: tensor<6x1x64xf32>, %k: tensor<6x1x64xf32>, %v: tensor<6x1x64xf32>, %pk: tensor<6x150x64xf32>, %pv: tensor<6x150x64xf32>, %m: tensor<1x1x151xf32>, %i: tensor<6x1x64xf32>) -> tensor<6x1x64xf32> {
  %y = kiln.attention %q, %k, %v past %pk, %pv mask %m into %i {key_rows, scale = 0.125 : f32} : tensor<6x1x64xf32>, tensor<6x1x64xf32>, tensor<6x1x64xf32> past tensor<6x150x64xf32>, tensor<6x150x64xf32> mask tensor<1x1x151xf32> into tensor<6x1x64xf32> -> tensor<6x1x64xf32>
  return %y : tensor<6x1x64xf32>
}

// -----

func.func @past_mask_columns(%q: tensor<6x1x64xf32>, %k: tensor<6x1x64xf32>, %v: tensor<6x1x64xf32>, %pk: tensor<6x150x64xf32>, %pv: tensor<6x150x64xf32>, %m: tensor<1x1x150xf32>, %i: tensor<6x1x64xf32>) -> tensor<6x1x64xf32> {
  // expected-error@+1 {{the mask has 150 columns for 151 keys}}
  %y = kiln.attention %q, %k, %v past %pk, %pv mask %m into %i {key_rows, scale = 0.125 : f32} : tensor<6x1x64xf32>, tensor<6x1x64xf32>, tensor<6x1x64xf32> past tensor<6x150x64xf32>, tensor<6x150x64xf32> mask tensor<1x1x150xf32> into tensor<6x1x64xf32> -> tensor<6x1x64xf32>
  return %y : tensor<6x1x64xf32>
}

// -----

func.func @past_transposed_keys(%q: tensor<6x1x64xf32>, %k: tensor<6x64x1xf32>, %v: tensor<6x1x64xf32>, %pk: tensor<6x150x64xf32>, %pv: tensor<6x150x64xf32>, %i: tensor<6x1x64xf32>) -> tensor<6x1x64xf32> {
  // expected-error@+1 {{reads past keys as rows (key_rows), without pages}}
  %y = kiln.attention %q, %k, %v past %pk, %pv into %i {scale = 0.125 : f32} : tensor<6x1x64xf32>, tensor<6x64x1xf32>, tensor<6x1x64xf32> past tensor<6x150x64xf32>, tensor<6x150x64xf32> into tensor<6x1x64xf32> -> tensor<6x1x64xf32>
  return %y : tensor<6x1x64xf32>
}

// -----

func.func @past_element_type(%q: tensor<6x1x64xf32>, %k: tensor<6x1x64xf32>, %v: tensor<6x1x64xf32>, %pk: tensor<6x150x64xbf16>, %pv: tensor<6x150x64xf32>, %i: tensor<6x1x64xf32>) -> tensor<6x1x64xf32> {
  // expected-error@+1 {{takes past keys and values of the keys' and values' element types, f32 or bf16}}
  %y = kiln.attention %q, %k, %v past %pk, %pv into %i {key_rows, scale = 0.125 : f32} : tensor<6x1x64xf32>, tensor<6x1x64xf32>, tensor<6x1x64xf32> past tensor<6x150x64xbf16>, tensor<6x150x64xf32> into tensor<6x1x64xf32> -> tensor<6x1x64xf32>
  return %y : tensor<6x1x64xf32>
}

// -----

func.func @past_shape(%q: tensor<6x1x64xf32>, %k: tensor<6x1x64xf32>, %v: tensor<6x1x64xf32>, %pk: tensor<6x150x64xf32>, %pv: tensor<6x149x64xf32>, %i: tensor<6x1x64xf32>) -> tensor<6x1x64xf32> {
  // expected-error@+1 {{past keys and values must be [G, T0, D] with the query's G and D}}
  %y = kiln.attention %q, %k, %v past %pk, %pv into %i {key_rows, scale = 0.125 : f32} : tensor<6x1x64xf32>, tensor<6x1x64xf32>, tensor<6x1x64xf32> past tensor<6x150x64xf32>, tensor<6x149x64xf32> into tensor<6x1x64xf32> -> tensor<6x1x64xf32>
  return %y : tensor<6x1x64xf32>
}
