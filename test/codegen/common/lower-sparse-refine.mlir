// RUN: kiln-opt %s -split-input-file -kiln-lower-sparse-refine -canonicalize | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-lower-sparse-refine=interleave -canonicalize | FileCheck %s --check-prefix=INTERLEAVE

// The cut of the 25% most uncertain of 3072 entropies: 31 halvings of
// [0, +inf]'s bit patterns (the bounds kept in memory), each counting in
// parallel, per run of 1024 entropies, those at or above the middle (a
// sweep LLVM vectorizes), then summing the 3 runs' counts and halving the
// bounds; the 768th largest's pattern is the cut.
// CHECK-LABEL: func.func @cut
// CHECK: %[[FLAT:.*]] = memref.collapse_shape %arg0 {{\[\[}}0, 1, 2, 3]] : memref<1x1x48x64xf32> into memref<3072xf32>
// CHECK: %[[BOUNDS:.*]] = memref.alloc() : memref<2xi32>
// CHECK: %[[COUNTS:.*]] = memref.alloc() : memref<3xi32>
// CHECK: memref.store %c0_i32, %[[BOUNDS]][%c0]
// CHECK: memref.store %c2139095040_i32, %[[BOUNDS]][%c1]
// CHECK: scf.parallel (%[[CHUNK:.*]]) = (%c0) to (%c3) step (%c1)
// CHECK: %[[FROM:.*]] = arith.muli %[[CHUNK]], %c1024 : index
// CHECK: %[[TO:.*]] = arith.minsi %{{.*}}, %c3072 : index
// CHECK: %[[COUNT:.*]] = scf.for %{{.*}} = %[[FROM]] to %[[TO]] step %c1
// CHECK: arith.bitcast %{{.*}} : f32 to i32
// CHECK: arith.cmpi sge
// CHECK: memref.store %[[COUNT]], %[[COUNTS]][%[[CHUNK]]]
// CHECK: %[[TOTAL:.*]] = scf.for %{{.*}} = %c0 to %c3
// CHECK: %[[ENOUGH:.*]] = arith.cmpi sge, %[[TOTAL]], %c768_i32 : i32
// CHECK: memref.store %{{.*}}, %[[BOUNDS]][%c0]
// CHECK: memref.store %{{.*}}, %[[BOUNDS]][%c1]
// CHECK-COUNT-30: scf.parallel
// CHECK: %[[CUT:.*]] = arith.bitcast %{{.*}} : i32 to f32
// CHECK: memref.store %[[CUT]], %arg1[%c0]
// CHECK: memref.dealloc %[[BOUNDS]]
// CHECK: memref.dealloc %[[COUNTS]]

// With `interleave` (CUDA), chunk c counts the entropies c, c + 3, ...:
// neighbouring threads read neighbouring entropies.
// INTERLEAVE-LABEL: func.func @cut
// INTERLEAVE: scf.parallel (%[[CHUNK:.*]]) = (%c0) to (%c3) step (%c1)
// INTERLEAVE: scf.for %{{.*}} = %[[CHUNK]] to %c3072 step %c3
func.func @cut(%e: memref<1x1x48x64xf32>, %c: memref<1xf32>) {
  kiln.entropy_cut %e into %c {fraction = 0.25 : f64} : memref<1x1x48x64xf32> into memref<1xf32>
  return
}

// -----

// 2 x 4 tiles of 4x4: per tile (in parallel) how many pixels are marked,
// in its slot; then one scan numbers the tiles with one (a count above 0,
// with ties unlimited) and lists them; the count first, the unused list
// entries -1.
// CHECK-LABEL: func.func @tiles
// CHECK: scf.parallel (%[[TY:.*]], %[[TX:.*]]) = (%c0, %c0) to (%c2, %c4)
// CHECK: scf.for {{.*}} -> (i32)
// CHECK: arith.extui %{{.*}} : i1 to i32
// CHECK: memref.store %{{.*}}, %arg1[%{{.*}}] : memref<17xi32>
// CHECK: %[[LISTED:.*]]:2 = scf.for %[[T:.*]] = %c0 to %c8 step %c1 iter_args(%[[N:.*]] = %c0, %{{.*}} = %c2147483647_i32) -> (index, i32)
// CHECK: arith.cmpi sgt, %{{.*}}, %c1_i32
// CHECK: scf.if
// CHECK: memref.store %{{.*}}, %arg1[%{{.*}}] : memref<17xi32>
// CHECK: %[[COUNT:.*]] = arith.index_cast %[[LISTED]]#0 : index to i32
// CHECK: memref.store %[[COUNT]], %arg1[%c0] : memref<17xi32>
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %c9 step %c1
// CHECK: memref.store %c-1_i32, %arg1[%[[I]]]
func.func @tiles(%m: memref<1x1x8x16xi1>, %t: memref<17xi32>) {
  kiln.refine_tiles %m into %t {tile = array<i64: 4, 4>} : memref<1x1x8x16xi1> into memref<17xi32>
  return
}

// -----

// At most 3 tiles: the 3rd largest count by bisection over [1, 16] (4
// halvings, each counting the tiles at or above the middle), then the
// tiles above it and the first ones at it, 3 in all.
// CHECK-LABEL: func.func @budget
// CHECK: %[[CUT:.*]]:2 = scf.for %{{.*}} = %c0 to %c4 step %c1 iter_args(%{{.*}} = %c1_i32, %{{.*}} = %c16_i32) -> (i32, i32)
// CHECK: arith.cmpi sge, %{{.*}}, %c3_i32 : i32
// CHECK: %[[ABOVE:.*]] = scf.for {{.*}} -> (i32)
// CHECK: arith.cmpi sgt, %{{.*}}, %[[CUT]]#0 : i32
// CHECK: %[[TIES:.*]] = arith.subi %c3_i32, %[[ABOVE]] : i32
// CHECK: scf.for %{{.*}} = %c0 to %c8 step %c1 iter_args(%{{.*}} = %c0, %{{.*}} = %[[TIES]]) -> (index, i32)
func.func @budget(%m: memref<1x1x8x16xi1>, %t: memref<17xi32>) {
  kiln.refine_tiles %m into %t {tile = array<i64: 4, 4>, max_tiles = 3 : i64} : memref<1x1x8x16xi1> into memref<17xi32>
  return
}

// -----

// Windows of 16x16 around tiles of 8x8 (4 tile columns) of a 16x32 image:
// per window, channel and row, the row's origin moved inside the image,
// then a copy of 16 pixels.
// CHECK-LABEL: func.func @gather
// CHECK: %[[N:.*]] = memref.dim %arg2, %c0 : memref<?x3x16x16xf32>
// CHECK: scf.parallel (%[[I:.*]], %[[C:.*]], %[[R:.*]]) = (%c0, %c0, %c0) to (%[[N]], %c3, %c16)
// CHECK: %[[ENTRY:.*]] = arith.addi %[[I]], %c1 : index
// CHECK: memref.load %arg1[%[[ENTRY]]] : memref<17xi32>
// CHECK: arith.maxsi %{{.*}}, %c0 : index
// CHECK: arith.minsi %{{.*}}, %c0 : index
// CHECK: arith.maxsi %{{.*}}, %c0 : index
// CHECK: %[[LEFT:.*]] = arith.minsi %{{.*}}, %c16 : index
// CHECK: scf.for %[[X:.*]] = %c0 to %c16 step %c1
// CHECK: %[[COLUMN:.*]] = arith.addi %[[LEFT]], %[[X]] : index
// CHECK: %[[PIXEL:.*]] = memref.load %arg0[%c0, %[[C]], %{{.*}}, %[[COLUMN]]]
// CHECK: memref.store %[[PIXEL]], %arg2[%[[I]], %[[C]], %[[R]], %[[X]]]
func.func @gather(%i: memref<1x3x16x32xf32>, %t: memref<17xi32>, %w: memref<?x3x16x16xf32>) {
  kiln.gather_windows %i, %t into %w {tile = array<i64: 8, 8>, halo = array<i64: 4, 4>} : memref<1x3x16x32xf32>, memref<17xi32> into memref<?x3x16x16xf32>
  return
}

// -----

// Per channel and row (in parallel), a segment per tile column: the tile's
// window looked up once; with one, the refined logit where the mask marks
// the pixel (a select) and the upsampled one elsewhere; without, the
// upsampled one.
// CHECK-LABEL: func.func @merge
// CHECK: scf.parallel (%[[C:.*]], %[[Y:.*]]) = (%c0, %c0) to (%c5, %c16)
// CHECK: %[[LOWY:.*]] = arith.divui %[[Y]], %c2 : index
// CHECK: scf.for %[[TX:.*]] = %c0 to %c4 step %c1
// CHECK: %[[SLOT:.*]] = memref.load %arg3[%{{.*}}] : memref<17xi32>
// CHECK: %[[HAS:.*]] = arith.cmpi sge, %[[SLOT]], %c0_i32 : i32
// CHECK: scf.if %[[HAS]]
// CHECK: %[[WINDOW:.*]] = arith.index_cast %[[SLOT]] : i32 to index
// CHECK: scf.for %[[X:.*]] =
// CHECK: %[[UP:.*]] = memref.load %arg0[%c0, %[[C]], %[[LOWY]], %{{.*}}] : memref<1x5x8x16xf32>
// CHECK: %[[BETTER:.*]] = memref.load %arg2[%[[WINDOW]], %[[C]], %{{.*}}, %{{.*}}] : memref<?x5x16x16xf32>
// CHECK: %[[MARKED:.*]] = memref.load %arg1[%c0, %c0, %[[LOWY]], %{{.*}}] : memref<1x1x8x16xi1>
// CHECK: %[[VALUE:.*]] = arith.select %[[MARKED]], %[[BETTER]], %[[UP]] : f32
// CHECK: memref.store %[[VALUE]], %arg4[%c0, %[[C]], %[[Y]], %[[X]]]
// CHECK: } else {
// CHECK: scf.for
// CHECK: memref.load %arg0[%c0, %[[C]], %[[LOWY]], %{{.*}}]
// CHECK: memref.store
func.func @merge(%l: memref<1x5x8x16xf32>, %m: memref<1x1x8x16xi1>, %r: memref<?x5x16x16xf32>, %t: memref<17xi32>, %o: memref<1x5x16x32xf32>) {
  kiln.merge_refined %l, %m, %r, %t into %o {tile = array<i64: 8, 8>, halo = array<i64: 4, 4>} : memref<1x5x8x16xf32>, memref<1x1x8x16xi1>, memref<?x5x16x16xf32>, memref<17xi32> into memref<1x5x16x32xf32>
  return
}
