// RUN: kiln-opt %s -split-input-file -kiln-lower-sparse-convolution -canonicalize | FileCheck %s

// The sites of a 4x8 mask scaled by 2, in three steps: per mask row (in
// parallel) its marked pixels counted; one running sum gives each mask
// row's start in the list, and the count (4 sites per marked pixel), first;
// per grid row (in parallel, 8 of them) its marked pixels' runs of 2 sites
// y 16 + x from its start, after the rows above it in its mask row.
// CHECK-LABEL: func.func @list
// CHECK: %[[MARKED:.*]] = memref.alloc() : memref<4xi32>
// CHECK: %[[STARTS:.*]] = memref.alloc() : memref<4xi32>
// CHECK: scf.parallel (%[[ROW:.*]]) = (%c0) to (%c4) step (%c1)
// CHECK: arith.index_castui %{{.*}} : i1 to index
// CHECK: memref.store %{{.*}}, %[[MARKED]][%[[ROW]]]
// CHECK: %[[LISTED:.*]] = scf.for %[[R:.*]] = %c0 to %c4 step %c1 iter_args(%[[SUM:.*]] = %c0) -> (index)
// CHECK: %[[START:.*]] = arith.index_cast %[[SUM]] : index to i32
// CHECK: memref.store %[[START]], %[[STARTS]][%[[R]]]
// CHECK: arith.muli %{{.*}}, %c4 : index
// CHECK: %[[COUNT:.*]] = arith.index_cast %[[LISTED]] : index to i32
// CHECK: memref.store %[[COUNT]], %arg1[%c0] : memref<129xi32>
// CHECK: scf.parallel (%[[Y:.*]]) = (%c0) to (%c8) step (%c1)
// CHECK: scf.if %{{.*}} -> (index)
// CHECK: arith.muli %[[Y]], %c16
// CHECK: memref.store %{{.*}}, %arg1[%{{.*}}] : memref<129xi32>
// CHECK: memref.dealloc %[[MARKED]]
// CHECK: memref.dealloc %[[STARTS]]
func.func @list(%m: memref<1x1x4x8xi1>, %t: memref<129xi32>) {
  kiln.list_sites %m into %t {scale = array<i64: 2, 2>} : memref<1x1x4x8xi1> into memref<129xi32>
  return
}

// -----

// A transposed kernel map: the input sites hashed (slots: twice their
// count, at least 16; Fibonacci hashing scaled to the slots, linear
// probing), then per output site in parallel a lookup per offset whose
// input pixel is whole and inside the grid; -1 for the others. The hash is
// freed after.
// CHECK-LABEL: func.func @map
// CHECK: %[[AT_LEAST:.*]] = arith.maxsi %{{.*}}, %c8 : index
// CHECK: %[[SLOTS:.*]] = arith.muli %[[AT_LEAST]], %c2 : index
// CHECK: %[[KEYS:.*]] = memref.alloc(%[[SLOTS]]) : memref<?xi32>
// CHECK: %[[ROWS:.*]] = memref.alloc(%[[SLOTS]]) : memref<?xi32>
// CHECK: scf.parallel
// CHECK: memref.store %c-1_i32, %[[KEYS]]
// CHECK: %[[HASH:.*]] = arith.muli %{{.*}}, %c-1640531535_i32 : i32
// CHECK: %[[WIDE:.*]] = arith.extui %[[HASH]] : i32 to i64
// CHECK: %[[SCALED:.*]] = arith.muli %[[WIDE]], %{{.*}} : i64
// CHECK: arith.shrui %[[SCALED]], %c32_i64 : i64
// CHECK: scf.while
// CHECK: scf.parallel (%[[O:.*]]) = (%c0) to (%{{.*}}) step (%c1)
// CHECK: scf.for %[[K:.*]] = %c0 to %c4 step %c1
// CHECK: arith.remsi %{{.*}}, %c2 : index
// CHECK: scf.if %{{.*}} -> (i32)
// CHECK: scf.while
// CHECK: arith.select
// CHECK: } else {
// CHECK: scf.yield %c-1_i32 : i32
// CHECK: memref.store %{{.*}}, %arg2[%[[O]], %[[K]]] : memref<?x4xi32>
// CHECK: } {kiln.threaded}
// CHECK: memref.dealloc %[[KEYS]]
// CHECK: memref.dealloc %[[ROWS]]
func.func @map(%in: memref<33xi32>, %out: memref<129xi32>, %m: memref<?x4xi32>) {
  kiln.kernel_map %in, %out into %m {input_grid = array<i64: 4, 8>, output_grid = array<i64: 8, 16>, kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, transposed} : memref<33xi32>, memref<129xi32> into memref<?x4xi32>
  return
}

// -----

// The coarse sites: the marks of the 3x3 coarse grid cleared, each fine
// site (in parallel) marking its coarse pixel (y / 2) 3 + x / 2, then the
// marked pixels listed row by row as list_sites lists a mask: counted per
// row, a running sum of the starts (the count first), listed per row.
// CHECK-LABEL: func.func @coarse
// CHECK: %[[MARKS:.*]] = memref.alloc() : memref<9xi8>
// CHECK: scf.parallel
// CHECK: memref.store %c0_i8, %[[MARKS]]
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%{{.*}}) step (%c1)
// CHECK: arith.muli %{{.*}}, %c3 : index
// CHECK: memref.store %c1_i8, %[[MARKS]]
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c3) step (%c1)
// CHECK: arith.cmpi ne, %{{.*}}, %c0_i8 : i8
// CHECK: scf.for
// CHECK: memref.store %{{.*}}, %arg1[%c0] : memref<10xi32>
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c3) step (%c1)
// CHECK: memref.store %{{.*}}, %arg1[%{{.*}}] : memref<10xi32>
// CHECK: memref.dealloc %[[MARKS]]
func.func @coarse(%f: memref<26xi32>, %c: memref<10xi32>) {
  kiln.coarse_sites %f into %c {grid = array<i64: 5, 5>, stride = array<i64: 2, 2>} : memref<26xi32> into memref<10xi32>
  return
}

// -----

// The gather before a GEMM: per output row in parallel, per offset, the
// mapped input row copied or zeros.
// CHECK-LABEL: func.func @im2col
// CHECK: scf.parallel (%[[O:.*]]) = (%c0) to (%{{.*}}) step (%c1)
// CHECK: scf.for %[[K:.*]] = %c0 to %c9 step %c1
// CHECK: %[[SOURCE:.*]] = memref.load %arg1[%[[O]], %[[K]]] : memref<?x9xi32>
// CHECK: arith.cmpi sge, %[[SOURCE]], %c0_i32 : i32
// CHECK: scf.for %[[C:.*]] = %c0 to %c3 step %c1
// CHECK: memref.load %arg0[%{{.*}}, %[[C]]] : memref<?x3xf32>
// CHECK: } else {
// CHECK: memref.store %cst, %arg2
// CHECK: } {kiln.threaded}
func.func @im2col(%f: memref<?x3xf32>, %m: memref<?x9xi32>, %c: memref<?x27xf32>) {
  kiln.sparse_im2col %f, %m into %c : memref<?x3xf32>, memref<?x9xi32> into memref<?x27xf32>
  return
}

// -----

// The scatter-add after a GEMM, in gather form: per output row in
// parallel, zeros, then the column block of each mapped input row added.
// CHECK-LABEL: func.func @col2im
// CHECK: scf.parallel (%[[O:.*]]) = (%c0) to (%{{.*}}) step (%c1)
// CHECK: memref.store %cst, %arg2[%[[O]], %{{.*}}] : memref<?x5xf32>
// CHECK: scf.for %[[K:.*]] = %c0 to %c4 step %c1
// CHECK: scf.if
// CHECK: arith.addf
// CHECK: } {kiln.threaded}
func.func @col2im(%p: memref<?x20xf32>, %m: memref<?x4xi32>, %r: memref<?x5xf32>) {
  kiln.sparse_col2im %p, %m into %r : memref<?x20xf32>, memref<?x4xi32> into memref<?x5xf32>
  return
}

// -----

// Gather and scatter of rows at the sites: per site in parallel, a copy of
// its channels; a gather from an image of half the grid reads pixel
// (y / 2, x / 2).
// CHECK-LABEL: func.func @rows
// CHECK: scf.parallel
// CHECK: arith.divui %{{.*}}, %c16 : index
// CHECK: arith.divui %{{.*}}, %c2 : index
// CHECK: memref.load %arg0[%c0, %{{.*}}, %{{.*}}, %{{.*}}] : memref<1x3x4x8xf32>
// CHECK: } {kiln.threaded}
// CHECK: scf.parallel
// CHECK: memref.store %{{.*}}, %arg3[%c0, %{{.*}}, %{{.*}}, %{{.*}}] : memref<1x3x8x16xf32>
// CHECK: } {kiln.threaded}
func.func @rows(%low: memref<1x3x4x8xf32>, %s: memref<129xi32>, %r: memref<?x3xf32>, %image: memref<1x3x8x16xf32>) {
  kiln.gather_sites %low, %s into %r {scale = array<i64: 2, 2>} : memref<1x3x4x8xf32>, memref<129xi32> into memref<?x3xf32>
  kiln.scatter_sites %r, %s into %image : memref<?x3xf32>, memref<129xi32> into memref<1x3x8x16xf32>
  return
}
