// RUN: kiln-opt %s -split-input-file -kiln-cpu-lower-packed-conv | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-cpu-lower-packed-conv=vector-bits=256 | FileCheck %s --check-prefix=AVX2

// 64 filters in one tile on AVX-512: four 16-lane vectors per row, six rows
// (24 accumulators). 5 * 7 = 35 pixels make five full tiles of six and one
// partial tile, computed a pixel at a time. The taps and channels loops
// carry the accumulators; the epilogue adds the bias and the residual,
// applies ReLU and stores under a mask.
// CHECK-LABEL: func.func @conv
// CHECK: %[[FLAT:.*]] = memref.collapse_shape %arg0 {{\[\[}}0, 1, 2, 3]] : memref<1x7x9x8xf32> into memref<504xf32>
// CHECK: %[[IN:.*]] = memref.cast %[[FLAT]] : memref<504xf32> to memref<?xf32>
// CHECK: scf.parallel (%[[T:.*]]) = (%c0{{(_[0-9]+)?}}) to (%c6{{(_[0-9]+)?}}) step (%c1{{(_[0-9]+)?}})
// Unpadded, undilated: a window row's 3 taps x 8 channels are one loop of
// 24, over the 3 rows.
// CHECK: scf.if
// CHECK: scf.for %{{.*}} = %{{.*}} to %c3{{(_[0-9]+)?}} step %{{.*}} iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: scf.for %{{.*}} = %{{.*}} to %c24 step
// CHECK-COUNT-4: vector.load {{.*}} : memref<4608xf32>, vector<16xf32>
// CHECK: memref.load %[[IN]]
// CHECK: vector.broadcast {{.*}} : f32 to vector<16xf32>
// CHECK-COUNT-4: vector.fma
// CHECK: vector.create_mask
// CHECK: vector.maskedload
// CHECK: arith.maximumf
// CHECK: vector.maskedstore
// CHECK: } else {
// CHECK: scf.for
// CHECK: iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// AVX2-LABEL: func.func @conv
// AVX2 has room for one row of eight 8-lane vectors (a tile of 64 is
// AVX-512's; kiln-layout-pack-contractions packs at most 24 f32 filters
// for AVX2).
// AVX2: scf.parallel (%{{.*}}) = (%c0{{(_[0-9]+)?}}) to (%c35{{(_[0-9]+)?}}) step (%c1{{(_[0-9]+)?}})
// AVX2-NOT: scf.if
// AVX2: iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
func.func @conv(%x: memref<1x7x9x8xf32>, %w: memref<1x3x3x8x64xf32>, %b: memref<64xf32>, %y: memref<1x5x7x60xf32>) {
  kiln.packed_conv2d %x, %w, %b into %y {accumulate, activation = #kiln.activation<relu>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : memref<1x7x9x8xf32>, memref<1x3x3x8x64xf32>, memref<64xf32> into memref<1x5x7x60xf32>
  return
}

// -----

// Padding is read, not copied: each row's window position selects the
// input or a shared global of zeros before the channel loop.
// CHECK: memref.global "private" constant @kiln_zeros_8 : memref<8xf32> = dense<0.000000e+00>
// CHECK-LABEL: func.func @padded
// CHECK: %[[Z:.*]] = memref.get_global @kiln_zeros_8 : memref<8xf32>
// CHECK: %[[ZEROS:.*]] = memref.cast %[[Z]] : memref<8xf32> to memref<?xf32>
// CHECK: arith.cmpi sge
// CHECK: arith.cmpi slt
// CHECK: %[[SRC:.*]] = arith.select %{{.*}}, %{{.*}}, %[[ZEROS]] : memref<?xf32>
// CHECK: scf.for
// CHECK: memref.load %[[SRC]]
func.func @padded(%x: memref<1x5x7x8xf32>, %w: memref<1x3x3x8x16xf32>, %b: memref<16xf32>, %y: memref<1x5x7x16xf32>) {
  kiln.packed_conv2d %x, %w, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : memref<1x5x7x8xf32>, memref<1x3x3x8x16xf32>, memref<16xf32> into memref<1x5x7x16xf32>
  return
}

// -----

// Symbolic batch, height and width are read from the buffers; the tiles
// are counted at run time, so the partial last tile is always guarded.
// CHECK-LABEL: func.func @conv_symbolic
// CHECK: %[[N:.*]] = memref.dim %arg0, %c0
// CHECK: %[[OH:.*]] = memref.dim %arg3, %c1
// CHECK: %[[OW:.*]] = memref.dim %arg3, %c2
// CHECK: %[[PLANE:.*]] = arith.muli %[[OH]], %[[OW]]
// CHECK: %[[PIXELS:.*]] = arith.muli %[[N]], %[[PLANE]]
// CHECK: %[[ROUNDED:.*]] = arith.addi %[[PIXELS]], %c15
// CHECK: %[[TILES:.*]] = arith.divui %[[ROUNDED]], %c16
// CHECK: scf.parallel
// CHECK: scf.if
// CHECK: } else {
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[PIXELS]]
func.func @conv_symbolic(%x: memref<?x?x?x8xf32>, %w: memref<1x3x3x8x16xf32>, %b: memref<16xf32>, %y: memref<?x?x?x16xf32>) {
  kiln.packed_conv2d %x, %w, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : memref<?x?x?x8xf32>, memref<1x3x3x8x16xf32>, memref<16xf32> into memref<?x?x?x16xf32>
  return
}

// -----

// An input view with strides (keys cut from a larger tensor) is copied
// into a contiguous buffer of its run-time sizes first, freed after the
// kernel.
// CHECK-LABEL: func.func @strided_input
// CHECK: %[[COPY:.*]] = memref.alloc(%{{.*}}) : memref<1x2x?x16xf32>
// CHECK: memref.copy %arg0, %[[COPY]]
// CHECK: memref.collapse_shape %[[COPY]]
// CHECK: scf.parallel
// CHECK: memref.dealloc %[[COPY]] : memref<1x2x?x16xf32>
// CHECK-NEXT: return
// AVX2-LABEL: func.func @strided_input
func.func @strided_input(%x: memref<1x2x?x16xf32, strided<[?, ?, 16, 1], offset: ?>>, %w: memref<1x1x1x16x16xf32>, %b: memref<16xf32>, %y: memref<1x2x?x16xf32>) {
  kiln.packed_conv2d %x, %w, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : memref<1x2x?x16xf32, strided<[?, ?, 16, 1], offset: ?>>, memref<1x1x1x16x16xf32>, memref<16xf32> into memref<1x2x?x16xf32>
  return
}

// -----

// Few pixel tiles (7 x 7 = 49 pixels: nine tiles of six) and large panels
// (256 channels x 64 filters, 64 KB): each full tile prefetches its ninth
// of the next filter tile's panel into L2 (the last filter tile its own),
// one cache line per channel step, F0 / 9 values further each step; the
// partial tile's pixels do not.
// CHECK-LABEL: func.func @prefetch_next_panel
// CHECK: scf.parallel
// CHECK: %[[NEXT:.*]] = arith.minui %{{.*}}, %c1{{(_[0-9]+)?}} : index
// CHECK: scf.if
// CHECK: scf.for %{{.*}} = %{{.*}} to %c256{{(_[0-9]+)?}} step
// CHECK: arith.divui %{{.*}}, %c9{{(_[0-9]+)?}}
// CHECK: memref.prefetch %{{.*}}[%{{.*}}], read, locality<2>, data : memref<32768xf32>
// CHECK-NOT: memref.prefetch
// CHECK: } else {
// CHECK-NOT: memref.prefetch
// CHECK: return
func.func @prefetch_next_panel(%x: memref<1x7x7x256xf32>, %w: memref<2x1x1x256x64xf32>, %b: memref<128xf32>, %y: memref<1x7x7x128xf32>) {
  kiln.packed_conv2d %x, %w, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : memref<1x7x7x256xf32>, memref<2x1x1x256x64xf32>, memref<128xf32> into memref<1x7x7x128xf32>
  return
}

// -----

// The same panels shared by 131 tiles of a 28 x 28 map: the first tile's
// wait is spread already, and none prefetches.
// CHECK-LABEL: func.func @many_tiles_no_prefetch
// CHECK-NOT: memref.prefetch
// CHECK: return
func.func @many_tiles_no_prefetch(%x: memref<1x28x28x256xf32>, %w: memref<2x1x1x256x64xf32>, %b: memref<128xf32>, %y: memref<1x28x28x128xf32>) {
  kiln.packed_conv2d %x, %w, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : memref<1x28x28x256xf32>, memref<2x1x1x256x64xf32>, memref<128xf32> into memref<1x28x28x128xf32>
  return
}

// -----

// A filter that stays in L1 whole (16 channels to 96 filters, four tiles
// of 24: 6 KB) runs its filter tiles inside the pixel tiles, so that each
// pixel's 96 outputs are written together: tile t is pixel tile t / 4,
// filter tile t % 4, and nothing is prefetched.
// CHECK-LABEL: func.func @pixels_outer
// CHECK: scf.parallel (%[[T:.*]]) =
// CHECK: %[[PIXELS:.*]] = arith.divui %[[T]], %c4{{(_[0-9]+)?}} : index
// CHECK: %[[FILTERS:.*]] = arith.remui %[[T]], %c4{{(_[0-9]+)?}} : index
// CHECK-NOT: memref.prefetch
// CHECK: return
// AVX2-LABEL: func.func @pixels_outer
// AVX2: scf.parallel (%[[T:.*]]) =
// AVX2: arith.divui %[[T]], %c4{{(_[0-9]+)?}} : index
// AVX2: arith.remui %[[T]], %c4{{(_[0-9]+)?}} : index
func.func @pixels_outer(%x: memref<1x56x56x16xf32>, %w: memref<4x1x1x16x24xf32>, %b: memref<96xf32>, %y: memref<1x56x56x96xf32>) {
  kiln.packed_conv2d %x, %w, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : memref<1x56x56x16xf32>, memref<4x1x1x16x24xf32>, memref<96xf32> into memref<1x56x56x96xf32>
  return
}

// -----

// A large input over small panels (96 channels to 128 filters, 4,288
// pixels, 1.6 MB of input): the pixel tiles go in blocks whose inputs stay
// in L2 while all four filter tiles pass over them, so that the input is
// read from memory once instead of once per filter tile. At most 68 tiles
// of 12 pixels fit a block on AVX-512 (273 of 3 on AVX2): six blocks of 60
// (239). Tile t is block t / 60 / 4, filter tile t / 60 % 4; the last
// block's tiles past the end do nothing.
// CHECK-LABEL: func.func @pixel_blocks
// CHECK: scf.parallel (%[[T:.*]]) = (%{{.*}}) to (%c1440{{(_[0-9]+)?}})
// CHECK: %[[BT:.*]] = arith.divui %[[T]], %c60{{(_[0-9]+)?}} : index
// CHECK: arith.divui %[[BT]], %c4{{(_[0-9]+)?}} : index
// CHECK: arith.remui %[[BT]], %c4{{(_[0-9]+)?}} : index
// CHECK: arith.remui %[[T]], %c60{{(_[0-9]+)?}} : index
// CHECK: arith.cmpi ult, %{{.*}}, %c358{{(_[0-9]+)?}} : index
// CHECK-NEXT: scf.if
// CHECK-NOT: memref.prefetch
// CHECK: return
// AVX2-LABEL: func.func @pixel_blocks
// AVX2: scf.parallel (%[[T:.*]]) = (%{{.*}}) to (%c5736{{(_[0-9]+)?}})
// AVX2: arith.divui %[[T]], %c239{{(_[0-9]+)?}} : index
func.func @pixel_blocks(%x: memref<1x64x67x96xf32>, %w: memref<4x1x1x96x32xf32>, %b: memref<128xf32>, %y: memref<1x64x67x100xf32>) {
  kiln.packed_conv2d %x, %w, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : memref<1x64x67x96xf32>, memref<4x1x1x96x32xf32>, memref<128xf32> into memref<1x64x67x100xf32>
  return
}

// -----

// Rows known only at run time (an LLM's products: one row a decode step)
// go one pixel at a time below a full tile, each over its channels' two
// halves; each step prefetches each half's filter 2 KB (512 values) ahead
// into L2, a cache line (16 values) at a time: F0 = 32 values a step, two
// lines a half.
// CHECK-LABEL: func.func @symbolic_rows_prefetch_ahead
// CHECK: } else {
// CHECK: scf.for
// CHECK: scf.for %{{.*}} = %{{.*}} to %c32{{(_[0-9]+)?}} step %{{.*}} iter_args
// CHECK: arith.constant 512 : index
// CHECK-COUNT-4: memref.prefetch %{{.*}}, read, locality<2>, data : memref<2048xf32>
// CHECK-NOT: memref.prefetch
// CHECK: vector.fma
// CHECK: return
func.func @symbolic_rows_prefetch_ahead(%x: memref<1x1x?x64xf32>, %w: memref<1x1x1x64x32xf32>, %b: memref<32xf32>, %y: memref<1x1x?x32xf32>) {
  kiln.packed_conv2d %x, %w, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : memref<1x1x?x64xf32>, memref<1x1x1x64x32xf32>, memref<32xf32> into memref<1x1x?x32xf32>
  return
}
