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
// CHECK: %[[PANEL:.*]] = memref.alloca() : memref<3104xbf16>
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
// CHECK: vector.store %{{.*}}, %[[PANEL]][%{{.*}}] : memref<3104xbf16>, vector<32xbf16>
// CHECK: kiln.amx_load 4, %[[PANEL]][%{{.*}}], %c96 : memref<3104xbf16>
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

// A padded 3x3 window: every tile is staged, 32 rows of 288 values (and a
// k-block more, so that the rows do not share a cache set), each row three
// runs of a window row's 96 values; the values outside the image are
// zeros, masked off the load. The residual joins the sums before the
// store.
// CHECK-LABEL: func.func @padded
// CHECK: %[[ZEROS:.*]] = arith.constant dense<0.000000e+00> : vector<32xbf16>
// CHECK: %[[PANEL:.*]] = memref.alloca() : memref<10272xbf16>
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c1
// CHECK: scf.for %{{.*}} = %c0 to %c3 step %c1
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c32
// CHECK: %[[BELOW:.*]] = vector.create_mask %{{.*}} : vector<32xi1>
// CHECK: %[[BEFORE:.*]] = vector.create_mask %{{.*}} : vector<32xi1>
// CHECK: %[[AFTER:.*]] = arith.xori %[[BEFORE]]
// CHECK: %[[MASK:.*]] = arith.andi %[[BELOW]], %[[AFTER]]
// CHECK: %[[BLOCK:.*]] = vector.maskedload %{{.*}}[%{{.*}}], %[[MASK]], %[[ZEROS]]
// CHECK: vector.store %[[BLOCK]], %[[PANEL]]
// CHECK: kiln.amx_load 4, %[[PANEL]][%{{.*}}], %c320 : memref<10272xbf16>
// CHECK: kiln.amx_dot 0, 4, 6
// CHECK: vector.maskedload
// CHECK: arith.addf
// CHECK: vector.maskedstore
func.func @padded(%x: memref<1x7x9x32xbf16>, %w: memref<1x3x3x16x16x2xbf16>,
                  %b: memref<16xf32>, %y: memref<1x7x9x16xf32>) {
  kiln.packed_conv2d %x, %w, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, accumulate} : memref<1x7x9x32xbf16>, memref<1x3x3x16x16x2xbf16>, memref<16xf32> into memref<1x7x9x16xf32>
  return
}

// Fewer than 32 pixels: vdpbf16ps.
// CHECK-LABEL: func.func @not_for_tiles
// CHECK-NOT: kiln.amx
// CHECK: kiln.bf16_dot
// CHECK-NOT: kiln.amx
// CHECK: return
func.func @not_for_tiles(%x: memref<1x1x8x64xbf16>, %w: memref<1x1x1x32x16x2xbf16>,
                         %b: memref<16xf32>, %y: memref<1x1x8x16xf32>) {
  kiln.packed_conv2d %x, %w, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : memref<1x1x8x64xbf16>, memref<1x1x1x32x16x2xbf16>, memref<16xf32> into memref<1x1x8x16xf32>
  return
}

// A window of 3 x 3 x 6 = 54 values is one whole k-block and a partial
// one: the last k-block's 11 filter pair rows are copied into zero-padded
// tiles first (of both blocks of the pair: the second does not exist and
// is zeros); each row's run (a window row, 18 values) is copied 32 values
// at a time under a mask of the values inside the image, zeros written
// past the window.
// CHECK-LABEL: func.func @partial_block
// CHECK: %[[PANEL:.*]] = memref.alloca() : memref<3104xbf16>
// CHECK: %[[TAIL:.*]] = memref.alloca() : memref<1024xbf16>
// CHECK: kiln.amx_configure
// CHECK-COUNT-11: vector.maskedload %{{.*}} : memref<864xbf16>, vector<32xi1>, vector<32xbf16> into vector<32xbf16>
// CHECK-NOT: vector.maskedload
// CHECK-COUNT-5: vector.store %cst{{.*}}, %[[TAIL]]
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c1
// CHECK: scf.for %{{.*}} = %c0 to %c3 step %c1
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c32
// CHECK: vector.create_mask
// CHECK: vector.maskedload %{{.*}} : memref<336xbf16>
// CHECK: vector.store %{{.*}}, %[[PANEL]]
// CHECK: vector.store %cst{{.*}}, %[[PANEL]]
// CHECK: kiln.amx_load 4, %[[PANEL]][%{{.*}}], %c96 : memref<3104xbf16>
// CHECK: kiln.amx_dot 0, 4, 6
// CHECK: kiln.amx_load 6, %[[TAIL]][%{{.*}}], %c32 : memref<1024xbf16>
// CHECK: kiln.amx_dot 0, 4, 6
func.func @partial_block(%x: memref<1x8x7x6xbf16>, %w: memref<1x3x3x3x16x2xbf16>,
                         %b: memref<16xf32>, %y: memref<1x8x7x16xf32>) {
  kiln.packed_conv2d %x, %w, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : memref<1x8x7x6xbf16>, memref<1x3x3x3x16x2xbf16>, memref<16xf32> into memref<1x8x7x16xf32>
  return
}

// Rows known at run time only: both kernels, the tiles when there are at
// least 32 rows, vdpbf16ps otherwise.
// CHECK-LABEL: func.func @symbolic_rows
// CHECK: %[[ROWS:.*]] = memref.dim %{{.*}}, %c2
// CHECK: %[[ENOUGH:.*]] = arith.cmpi uge, %[[ROWS]], %c32
// CHECK: scf.if %[[ENOUGH]] {
// CHECK: kiln.amx_configure
// CHECK: kiln.amx_dot
// CHECK: kiln.amx_release
// CHECK: } {kiln.threaded}
// CHECK-NEXT: } else {
// CHECK-NOT: kiln.amx
// CHECK: kiln.bf16_dot
// CHECK: return
func.func @symbolic_rows(%x: memref<1x1x?x64xbf16>, %w: memref<1x1x1x32x16x2xbf16>,
                         %b: memref<16xf32>, %y: memref<1x1x?x16xf32>) {
  kiln.packed_conv2d %x, %w, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : memref<1x1x?x64xbf16>, memref<1x1x1x32x16x2xbf16>, memref<16xf32> into memref<1x1x?x16xf32>
  return
}
