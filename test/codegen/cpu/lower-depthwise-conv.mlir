// RUN: kiln-opt %s -split-input-file -kiln-cpu-lower-depthwise-conv -canonicalize | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-cpu-lower-depthwise-conv=vector-bits=256 -canonicalize | FileCheck %s --check-prefix=AVX2

// Without padding: a task per output row; blocks of eight pixels keep one
// accumulator each per vector of 16 channels (two full vectors of 40
// channels, then a masked one of 8); 11 pixels (no block size from five to
// eight divides them) leave a block of eight and three single pixels.
// CHECK-LABEL: func.func @depthwise
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c3) step (%c1)
// CHECK: scf.for %{{.*}} = %c0 to %c2 step %c1
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK-COUNT-8: vector.fma
// CHECK: arith.minimumf
// CHECK: vector.store
// CHECK: vector.constant_mask [8] : vector<16xi1>
// CHECK: vector.maskedload
// CHECK: vector.maskedstore
// CHECK: scf.for %{{.*}} = %c8 to %c11 step %c1
// AVX2-LABEL: func.func @depthwise
// AVX2: scf.for %{{.*}} = %c0 to %c5 step %c1
// AVX2: scf.for {{.*}} iter_args
// AVX2-NOT: vector.constant_mask
// AVX2-SAME:({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
func.func @depthwise(%x: memref<1x5x13x40xf32>, %w: memref<3x3x40xf32>, %b: memref<40xf32>, %y: memref<1x3x11x40xf32>) {
  kiln.depthwise_conv2d %x, %w, %b into %y {activation = #kiln.activation<clip>, clip_max = 6.0 : f32, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : memref<1x5x13x40xf32>, memref<3x3x40xf32>, memref<40xf32> into memref<1x3x11x40xf32>
  return
}

// -----

// A row of 14 pixels takes two blocks of seven: no single-pixel tail,
// whose one accumulator would wait on each multiply-add.
// CHECK-LABEL: func.func @seven_wide
// CHECK: scf.for %{{.*}} = %c0 to %c2 step %c1
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK-NOT: scf.for %{{.*}} = %c14
func.func @seven_wide(%x: memref<1x3x16x16xf32>, %w: memref<3x3x16xf32>, %b: memref<16xf32>, %y: memref<1x1x14x16xf32>) {
  kiln.depthwise_conv2d %x, %w, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : memref<1x3x16x16xf32>, memref<3x3x16xf32>, memref<16xf32> into memref<1x1x14x16xf32>
  return
}

// -----

// With padding: each row's loop over window rows skips those in the
// padding (from max(0, -firstY) to min(3, 8 - firstY)); blocks whose
// windows lie inside the row run unchecked, the others select, per column
// tap and pixel, the input or the zeros.
// CHECK-LABEL: func.func @padded
// CHECK: %[[Z:.*]] = memref.get_global @kiln_zeros_16 : memref<16xf32>
// CHECK: %[[ZEROS:.*]] = memref.cast %[[Z]]
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: scf.if
// CHECK-NOT: arith.select
// CHECK: } else {
// CHECK: arith.select %{{.*}}, %{{.*}}, %[[ZEROS]] : memref<?xf32>
func.func @padded(%x: memref<1x8x20x16xf32>, %w: memref<3x3x16xf32>, %b: memref<16xf32>, %y: memref<1x8x20x16xf32>) {
  kiln.depthwise_conv2d %x, %w, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : memref<1x8x20x16xf32>, memref<3x3x16xf32>, memref<16xf32> into memref<1x8x20x16xf32>
  return
}

// -----

// A symbolic height and width: rows counted at run time, and blocks of
// eight pixels with a pixel-at-a-time rest, whatever the width.
// CHECK-LABEL: func.func @depthwise_symbolic
// CHECK-DAG: %[[OH:.*]] = memref.dim %arg3, %c1
// CHECK-DAG: %[[OW:.*]] = memref.dim %arg3, %c2
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%[[OH]]) step (%c1)
// CHECK: %[[BLOCKS:.*]] = arith.divui %[[OW]], %c8
// CHECK: scf.for %{{.*}} = %c0 to %[[BLOCKS]] step %c1
// CHECK: %[[DONE:.*]] = arith.muli %[[BLOCKS]], %c8
// CHECK: scf.for %{{.*}} = %[[DONE]] to %[[OW]] step %c1
func.func @depthwise_symbolic(%x: memref<1x?x?x16xf32>, %w: memref<3x3x16xf32>, %b: memref<16xf32>, %y: memref<1x?x?x16xf32>) {
  kiln.depthwise_conv2d %x, %w, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : memref<1x?x?x16xf32>, memref<3x3x16xf32>, memref<16xf32> into memref<1x?x?x16xf32>
  return
}

// -----

// Many channels over a wide row: the 5 rows of a window across all 100
// channels (5 x 200 x 100 floats, 400 KB) would not stay in L2 while the
// rows below reuse them, so the channels go in blocks, each passing down
// the whole image before the next: 96 KB of window rows makes blocks of
// one 16-lane vector (six blocks) or three 8-lane ones (four blocks), a
// task per block and row, and the last block ends with the masked vector.
// CHECK-LABEL: func.func @channel_blocks
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c54) step (%c1)
// CHECK: arith.divui %{{.*}}, %c9
// CHECK: arith.remui %{{.*}}, %c9
// CHECK: arith.cmpi eq, %{{.*}}, %c5
// CHECK: vector.constant_mask [4] : vector<16xi1>
// AVX2-LABEL: func.func @channel_blocks
// AVX2: scf.parallel (%{{.*}}) = (%c0) to (%c36) step (%c1)
// AVX2: arith.muli %{{.*}}, %c3
// AVX2: arith.cmpi eq, %{{.*}}, %c3
// AVX2: vector.constant_mask [4] : vector<8xi1>
func.func @channel_blocks(%x: memref<1x9x200x100xf32>, %w: memref<5x5x100xf32>, %b: memref<100xf32>, %y: memref<1x9x200x100xf32>) {
  kiln.depthwise_conv2d %x, %w, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, pads = array<i64: 2, 2, 2, 2>, strides = array<i64: 1, 1>} : memref<1x9x200x100xf32>, memref<5x5x100xf32>, memref<100xf32> into memref<1x9x200x100xf32>
  return
}

// -----

// A window row of more than 16 taps loops over them instead of emitting
// each (a model may claim a window of millions).
// CHECK-LABEL: func.func @wide_window
// CHECK: scf.for %{{.*}} = %c0 to %c17 step %c1 iter_args
// CHECK: vector.fma
func.func @wide_window(%x: memref<1x1x20x16xf32>, %w: memref<1x17x16xf32>, %b: memref<16xf32>, %y: memref<1x1x4x16xf32>) {
  kiln.depthwise_conv2d %x, %w, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : memref<1x1x20x16xf32>, memref<1x17x16xf32>, memref<16xf32> into memref<1x1x4x16xf32>
  return
}
