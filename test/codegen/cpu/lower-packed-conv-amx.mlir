// RUN: kiln-opt %s -kiln-cpu-lower-packed-conv='amx=true bf16-dot=true' -canonicalize | FileCheck %s
// RUN: kiln-opt %s -kiln-cpu-lower-packed-conv=bf16-dot=true | FileCheck %s --check-prefix=NO-AMX

// A pointwise convolution: 48 pixels are one full tile of 32, read in
// place (rows 64 channels apart), and a partial one, staged. 40 filters
// are three column blocks of 16: a pair (four accumulators, 2 x 2) and a
// single block (two); with only two pixel tiles, each pair is a chunk of
// its own (four iterations). The sums leave through the scratch, rows of
// 32 f32.
// CHECK-LABEL: func.func @pointwise
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c4) step (%c1)
// CHECK: %[[PANEL:.*]] = memref.alloca() : memref<2048xbf16>
// CHECK: %[[SUMS:.*]] = memref.alloca() : memref<1024xf32>
// CHECK: kiln.amx_configure
// CHECK: scf.if
// CHECK: kiln.amx_zero 0
// CHECK: kiln.amx_zero 3
// CHECK: scf.for %{{.*}} = %c0 to %c2 step %c1
// CHECK: kiln.amx_load 4, %[[INPUT:.*]][%{{.*}}], %c64 : memref<?xbf16>
// CHECK: kiln.amx_load 5, %[[INPUT]][%{{.*}}], %c64 : memref<?xbf16>
// CHECK: kiln.amx_load 6, %[[FILTER:.*]][%{{.*}}], %c64 : memref<4096xbf16>
// CHECK: kiln.amx_load 7, %[[FILTER]][%{{.*}}], %c64 : memref<4096xbf16>
// CHECK: kiln.amx_dot 0, 4, 6
// CHECK: kiln.amx_dot 1, 4, 7
// CHECK: kiln.amx_dot 2, 5, 6
// CHECK: kiln.amx_dot 3, 5, 7
// CHECK: kiln.amx_store 0, %[[SUMS]][%{{.*}}], %c32 : memref<1024xf32>
// CHECK: kiln.amx_store 3, %[[SUMS]]
// The single block: two accumulators.
// CHECK: kiln.amx_zero 0
// CHECK-NEXT: kiln.amx_zero 2
// CHECK: kiln.amx_dot 0, 4, 6
// CHECK-NEXT: kiln.amx_dot 2, 5, 6
// CHECK: } else {
// The partial tile: its rows staged, k-block by k-block, zeros past the
// last pixel.
// CHECK: vector.maskedload %{{.*}} : memref<3072xbf16>, vector<32xi1>, vector<32xbf16> into vector<32xbf16>
// CHECK: vector.store %{{.*}}, %[[PANEL]][%{{.*}}] : memref<2048xbf16>, vector<32xbf16>
// CHECK: kiln.amx_load 4, %[[PANEL]][%{{.*}}], %c32 : memref<2048xbf16>
// Epilogue: bias, ReLU, a masked store of each block's 16 filters.
// CHECK: vector.load %[[SUMS]][%{{.*}}] : memref<1024xf32>, vector<16xf32>
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK: vector.maskedstore
// CHECK: kiln.amx_release
// NO-AMX-LABEL: func.func @pointwise
// NO-AMX-NOT: kiln.amx
// NO-AMX: kiln.bf16_dot
func.func @pointwise(%x: memref<1x6x8x64xbf16>, %w: memref<2x1x1x32x32x2xbf16>,
                     %b: memref<64xf32>, %y: memref<1x6x8x40xf32>) {
  kiln.packed_conv2d %x, %w, %b into %y {activation = #kiln.activation<relu>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : memref<1x6x8x64xbf16>, memref<2x1x1x32x32x2xbf16>, memref<64xf32> into memref<1x6x8x40xf32>
  return
}

// A padded 3x3 window: every tile is staged (9 taps of one k-block each,
// a panel of 9 x 32 x 32 values); a row's tap outside the image reads the
// zeros, a load under an empty mask. The residual joins the sums before
// the store.
// CHECK-LABEL: func.func @padded
// CHECK: %[[ZEROS:.*]] = arith.constant dense<0.000000e+00> : vector<32xbf16>
// CHECK: %[[PANEL:.*]] = memref.alloca() : memref<9216xbf16>
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c1
// CHECK: scf.for %{{.*}} = %c0 to %c9 step %c1
// CHECK: %[[MASK:.*]] = vector.broadcast %[[INSIDE:.*]] : i1 to vector<32xi1>
// CHECK: %[[AT:.*]] = arith.select %[[INSIDE]], %{{.*}}, %c0 : index
// CHECK: %[[BLOCK:.*]] = vector.maskedload %{{.*}}[%[[AT]]], %[[MASK]], %[[ZEROS]]
// CHECK: vector.store %[[BLOCK]], %[[PANEL]]
// CHECK: kiln.amx_load 4, %[[PANEL]][%{{.*}}], %c32 : memref<9216xbf16>
// CHECK: kiln.amx_dot 0, 4, 6
// CHECK: vector.maskedload
// CHECK: arith.addf
// CHECK: vector.maskedstore
func.func @padded(%x: memref<1x7x9x32xbf16>, %w: memref<1x3x3x16x16x2xbf16>,
                  %b: memref<16xf32>, %y: memref<1x7x9x16xf32>) {
  kiln.packed_conv2d %x, %w, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, accumulate} : memref<1x7x9x32xbf16>, memref<1x3x3x16x16x2xbf16>, memref<16xf32> into memref<1x7x9x16xf32>
  return
}

// Channels not a multiple of 32, or fewer than 32 pixels: vdpbf16ps.
// CHECK-LABEL: func.func @not_for_tiles
// CHECK-NOT: kiln.amx
// CHECK: kiln.bf16_dot
// CHECK-NOT: kiln.amx
// CHECK: return
func.func @not_for_tiles(%x: memref<1x6x8x48xbf16>, %w: memref<1x1x1x24x16x2xbf16>,
                         %b: memref<16xf32>, %y: memref<1x6x8x16xf32>,
                         %x2: memref<1x1x8x64xbf16>, %w2: memref<1x1x1x32x16x2xbf16>,
                         %y2: memref<1x1x8x16xf32>) {
  kiln.packed_conv2d %x, %w, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : memref<1x6x8x48xbf16>, memref<1x1x1x24x16x2xbf16>, memref<16xf32> into memref<1x6x8x16xf32>
  kiln.packed_conv2d %x2, %w2, %b into %y2 {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : memref<1x1x8x64xbf16>, memref<1x1x1x32x16x2xbf16>, memref<16xf32> into memref<1x1x8x16xf32>
  return
}
