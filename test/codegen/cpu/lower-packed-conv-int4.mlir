// RUN: kiln-opt %s -split-input-file -kiln-cpu-lower-packed-conv -canonicalize | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-cpu-lower-packed-conv=vector-bits=256 -canonicalize | FileCheck %s --check-prefix=AVX2

// A 4-bit filter: 32 filters a tile (two 16-lane vectors), groups of 32
// of the 64 channels. Per group the tile's scales and zero points load
// once, as f16 widened to f32, and become scale and -scale * zero. Five
// pixels are fewer than a tile's rows: one at a time, and a row alone
// leaves each weight used once, so it is not dequantized: per step of a
// group's two halves (16 steps), each half's channel loads 16 bytes that
// widen to 32-bit words whose low and high nibbles, as f32, multiply the
// row's value into that half's sums, beside the row's values summed per
// half. At the group's end: acc + scale * sum(x * q) + (-scale * zero) *
// sum(x). (A static product's last pixels find the filter in cache: no
// prefetch.)
// CHECK-LABEL: func.func @int4
// CHECK: } else {
// CHECK: scf.for {{.*}} = %c0 to %c2 step %c1 iter_args(%[[A0:.*]] = %{{.*}}, %[[A1:.*]] = %{{.*}}) -> (vector<16xf32>, vector<16xf32>)
// CHECK: %[[S0:.*]] = arith.extf {{.*}} : vector<16xf16> to vector<16xf32>
// CHECK: %[[Z0:.*]] = arith.extf {{.*}} : vector<16xf16> to vector<16xf32>
// CHECK: %[[SZ0:.*]] = arith.mulf %[[S0]], %[[Z0]] : vector<16xf32>
// CHECK: %[[N0:.*]] = arith.negf %[[SZ0]] : vector<16xf32>
// CHECK: %[[S1:.*]] = arith.extf {{.*}} : vector<16xf16> to vector<16xf32>
// CHECK: %[[N1:.*]] = arith.negf
// CHECK: %[[SUMS:.*]]:6 = scf.for %{{.*}} = %c0 to %c16 step %c1 iter_args(%[[L0:.*]] = %{{.*}}, %[[L1:.*]] = %{{.*}}, %[[U0:.*]] = %{{.*}}, %[[U1:.*]] = %{{.*}}, %[[LX:.*]] = %{{.*}}, %[[UX:.*]] = %{{.*}})
// CHECK-NOT: memref.prefetch
// CHECK: %[[X:.*]] = vector.broadcast %{{.*}} : f32 to vector<16xf32>
// CHECK: %[[BYTES:.*]] = vector.load {{.*}} : memref<2048xi8>, vector<16xi8>
// CHECK: %[[WORDS:.*]] = arith.extui %[[BYTES]] : vector<16xi8> to vector<16xi32>
// CHECK: %[[LOW:.*]] = arith.andi %[[WORDS]]
// CHECK: %[[HIGH:.*]] = arith.shrui %[[WORDS]]
// CHECK: %[[LF:.*]] = arith.sitofp %[[LOW]] : vector<16xi32> to vector<16xf32>
// CHECK: %[[HF:.*]] = arith.sitofp %[[HIGH]] : vector<16xi32> to vector<16xf32>
// CHECK: vector.fma %[[X]], %[[LF]], %[[L0]] : vector<16xf32>
// CHECK: vector.fma %[[X]], %[[HF]], %[[L1]] : vector<16xf32>
// CHECK: %[[Y:.*]] = vector.broadcast %{{.*}} : f32 to vector<16xf32>
// CHECK: vector.fma %[[Y]], %{{.*}}, %[[U0]] : vector<16xf32>
// CHECK: vector.fma %[[Y]], %{{.*}}, %[[U1]] : vector<16xf32>
// CHECK: arith.addf %[[LX]], %[[X]] : vector<16xf32>
// CHECK: arith.addf %[[UX]], %[[Y]] : vector<16xf32>
// CHECK: %[[XSUM:.*]] = arith.addf %[[SUMS]]#4, %[[SUMS]]#5 : vector<16xf32>
// CHECK: %[[P0:.*]] = arith.addf %[[SUMS]]#0, %[[SUMS]]#2 : vector<16xf32>
// CHECK: %[[T0:.*]] = vector.fma %[[P0]], %[[S0]], %[[A0]] : vector<16xf32>
// CHECK: vector.fma %[[XSUM]], %[[N0]], %[[T0]] : vector<16xf32>
// CHECK: %[[P1:.*]] = arith.addf %[[SUMS]]#1, %[[SUMS]]#3 : vector<16xf32>
// CHECK: %[[T1:.*]] = vector.fma %[[P1]], %[[S1]], %[[A1]] : vector<16xf32>
// CHECK: vector.fma %[[XSUM]], %[[N1]], %[[T1]] : vector<16xf32>
// AVX2-LABEL: func.func @int4
// AVX2: vector.load {{.*}} : memref<2048xi8>, vector<8xi8>
// AVX2: arith.extui {{.*}} : vector<8xi8> to vector<8xi32>
func.func @int4(%x: memref<1x1x5x64xf32>, %w: memref<2x1x1x64x16xi8>, %s: memref<2x2x2x32xf16>, %b: memref<64xf32>, %y: memref<1x1x5x50xf32>) {
  kiln.packed_conv2d %x, %w scales %s, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, group_size = 32 : i64, strides = array<i64: 1, 1>} : memref<1x1x5x64xf32>, memref<2x1x1x64x16xi8> scales memref<2x2x2x32xf16>, memref<64xf32> into memref<1x1x5x50xf32>
  return
}

// -----

// A tile of rows (eight pixels) shares each dequantized weight: per
// channel the nibbles become weights by one multiply-add each, q * scale
// + (-scale * zero), which every row's value then multiplies.
// CHECK-LABEL: func.func @int4_tile
// CHECK: %[[S0:.*]] = arith.extf {{.*}} : vector<16xf16> to vector<16xf32>
// CHECK: %[[N0:.*]] = arith.negf
// CHECK: %[[S1:.*]] = arith.extf {{.*}} : vector<16xf16> to vector<16xf32>
// CHECK: %[[N1:.*]] = arith.negf
// CHECK: scf.for
// CHECK: %[[LF:.*]] = arith.sitofp {{.*}} : vector<16xi32> to vector<16xf32>
// CHECK: %[[HF:.*]] = arith.sitofp {{.*}} : vector<16xi32> to vector<16xf32>
// CHECK: %[[W0:.*]] = vector.fma %[[LF]], %[[S0]], %[[N0]] : vector<16xf32>
// CHECK: %[[W1:.*]] = vector.fma %[[HF]], %[[S1]], %[[N1]] : vector<16xf32>
// CHECK-COUNT-8: vector.fma %{{.*}}, %[[W1]], %{{.*}} : vector<16xf32>
func.func @int4_tile(%x: memref<1x1x8x64xf32>, %w: memref<2x1x1x64x16xi8>, %s: memref<2x2x2x32xf16>, %b: memref<64xf32>, %y: memref<1x1x8x50xf32>) {
  kiln.packed_conv2d %x, %w scales %s, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, group_size = 32 : i64, strides = array<i64: 1, 1>} : memref<1x1x8x64xf32>, memref<2x1x1x64x16xi8> scales memref<2x2x2x32xf16>, memref<64xf32> into memref<1x1x8x50xf32>
  return
}

// -----

// Rows known only at run time: 16 or more (a prefill) dequantize the
// filter once, as @int4_many_rows; fewer (a decode step's one row) read
// the 4 bits, each step of the halves prefetching each half's channel 2 KB
// ahead into L2 (its 16 bytes within one cache line).
// CHECK-LABEL: func.func @int4_symbolic_rows
// CHECK: %[[MANY:.*]] = arith.cmpi uge, %{{.*}}, %c16 : index
// CHECK: scf.if %[[MANY]] {
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<2x1x1x64x32xf32>
// CHECK: memref.dealloc
// CHECK-NEXT: } else {
// CHECK: scf.for %{{.*}} = %c0 to %c16 step %c1 iter_args
// CHECK: memref.prefetch %{{.*}}, read, locality<2>, data : memref<2048xi8>
// CHECK: vector.load {{.*}} : memref<2048xi8>, vector<16xi8>
// CHECK: memref.prefetch %{{.*}}, read, locality<2>, data : memref<2048xi8>
// CHECK: vector.load {{.*}} : memref<2048xi8>, vector<16xi8>
// CHECK-NOT: memref.prefetch
// CHECK: scf.yield
func.func @int4_symbolic_rows(%x: memref<1x1x?x64xf32>, %w: memref<2x1x1x64x16xi8>, %s: memref<2x2x2x32xf16>, %b: memref<64xf32>, %y: memref<1x1x?x50xf32>) {
  kiln.packed_conv2d %x, %w scales %s, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, group_size = 32 : i64, strides = array<i64: 1, 1>} : memref<1x1x?x64xf32>, memref<2x1x1x64x16xi8> scales memref<2x2x2x32xf16>, memref<64xf32> into memref<1x1x?x50xf32>
  return
}

// -----

// A product of many rows (a prefill; 16 or more) dequantizes its filter
// once into an aligned f32 buffer in the f32 layout, the threads sharing
// the tiles' groups (2 tiles x 2 groups), then runs the f32 kernel on it
// and frees it.
// CHECK-LABEL: func.func @int4_many_rows
// CHECK: %[[F32:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x1x1x64x32xf32>
// CHECK: %[[TARGET:.*]] = memref.collapse_shape %[[F32]] {{\[\[}}0, 1, 2, 3, 4]] : memref<2x1x1x64x32xf32> into memref<4096xf32>
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c4) step (%c1)
// CHECK: vector.load {{.*}} : memref<256xf16>, vector<16xf16>
// CHECK: vector.store %{{.*}}, %[[TARGET]][%{{.*}}] : memref<4096xf32>, vector<16xf32>
// CHECK: %[[FILTER:.*]] = memref.collapse_shape %[[F32]]
// CHECK: scf.parallel
// CHECK: vector.load %[[FILTER]][%{{.*}}] : memref<4096xf32>, vector<16xf32>
// CHECK-NOT: vector<16xi8>
// CHECK: memref.dealloc %[[F32]] : memref<2x1x1x64x32xf32>
func.func @int4_many_rows(%x: memref<1x1x40x64xf32>, %w: memref<2x1x1x64x16xi8>, %s: memref<2x2x2x32xf16>, %b: memref<64xf32>, %y: memref<1x1x40x50xf32>) {
  kiln.packed_conv2d %x, %w scales %s, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, group_size = 32 : i64, strides = array<i64: 1, 1>} : memref<1x1x40x64xf32>, memref<2x1x1x64x16xi8> scales memref<2x2x2x32xf16>, memref<64xf32> into memref<1x1x40x50xf32>
  return
}

// -----

// Groups of an odd size (3 of 6 channels) have no two halves: one row
// dequantizes each weight as a tile does.
// CHECK-LABEL: func.func @int4_odd_group
// CHECK: } else {
// CHECK: scf.for {{.*}} = %c0 to %c2 step %c1 iter_args
// CHECK: %[[S0:.*]] = arith.extf {{.*}} : vector<16xf16> to vector<16xf32>
// CHECK: %[[N0:.*]] = arith.negf
// CHECK: scf.for
// CHECK: %[[LF:.*]] = arith.sitofp {{.*}} : vector<16xi32> to vector<16xf32>
// CHECK: vector.fma %[[LF]], %[[S0]], %[[N0]] : vector<16xf32>
func.func @int4_odd_group(%x: memref<1x1x5x6xf32>, %w: memref<2x1x1x6x16xi8>, %s: memref<2x2x2x32xf16>, %b: memref<64xf32>, %y: memref<1x1x5x50xf32>) {
  kiln.packed_conv2d %x, %w scales %s, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, group_size = 3 : i64, strides = array<i64: 1, 1>} : memref<1x1x5x6xf32>, memref<2x1x1x6x16xi8> scales memref<2x2x2x32xf16>, memref<64xf32> into memref<1x1x5x50xf32>
  return
}
