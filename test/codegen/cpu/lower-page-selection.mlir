// RUN: kiln-opt %s -split-input-file -kiln-cpu-lower-page-selection=vector-bits=256 -canonicalize | FileCheck %s

// The bounds of the pages rows [from, to) fall in (4-bit rows of D = 64,
// dequantized as they are loaded), each from its rows below `to`: per head
// and page, eight vectors of running minima and eight of maxima, stored
// as the page's rows 2p and 2p + 1.
// CHECK-LABEL: func.func @bounds
// CHECK: %[[FIRST:.*]] = arith.divui %arg2, %c16
// CHECK: %[[END:.*]] = arith.divui %{{.*}}, %c16
// CHECK: %[[HIGH:.*]] = arith.maxui %[[END]], %[[FIRST]]
// CHECK: %[[PAGES:.*]] = arith.subi %[[HIGH]], %[[FIRST]]
// CHECK: scf.parallel (%[[HEAD:.*]], %[[I:.*]]) = (%c0, %c0) to (%c2, %[[PAGES]])
// CHECK: %[[P:.*]] = arith.addi %[[FIRST]], %[[I]]
// CHECK: %[[BEGIN:.*]] = arith.muli %[[P]], %c16
// CHECK: %[[STOP:.*]] = arith.minui %{{.*}}, %arg3
// CHECK: scf.for %{{.*}} = %[[BEGIN]] to %[[STOP]] step %c1 iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK: vector.interleave
// CHECK: arith.minimumf
// CHECK: arith.maximumf
// CHECK: vector.store %{{.*}}, %arg1[%[[HEAD]], %{{.*}}, %c0] : memref<2x8x64xf32>, vector<8xf32>
func.func @bounds(%k: memref<2x64x36xi8>, %b: memref<2x8x64xf32>, %from: index, %to: index) {
  kiln.page_bounds %k rows %from to %to into %b {page_size = 16 : i64} : memref<2x64x36xi8> into memref<2x8x64xf32>
  return
}

// -----

// Per head and block of 64 pages: the block's scores start at zero; per
// query row, its vectors and their signs once, then per page
// q * (q > 0 ? max : min) summed by FMAs, reduced (reassociated), and
// summed over the rows.
// CHECK-LABEL: func.func @scores
// CHECK: scf.parallel (%[[HEAD:.*]], %{{.*}}) = (%c0, %c0) to (%c2, %{{.*}})
// CHECK: scf.for %[[P0:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK: memref.store %cst{{.*}}, %arg2[%[[HEAD]], %[[P0]]]
// CHECK: scf.for %[[ROW:.*]] = %c0 to %dim step %c1 {
// CHECK-COUNT-8: vector.load %arg0[%[[HEAD]], %[[ROW]], %{{.*}}]
// CHECK: scf.for %[[P:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK: vector.load %arg1
// CHECK: arith.select
// CHECK: vector.fma
// CHECK: vector.reduction <add>, %{{.*}} fastmath<reassoc>
// CHECK: %[[OLD:.*]] = memref.load %arg2[%[[HEAD]], %[[P]]]
// CHECK: %[[NEW:.*]] = arith.addf %[[OLD]], %{{.*}} : f32
// CHECK: memref.store %[[NEW]], %arg2[%[[HEAD]], %[[P]]]
func.func @scores(%q: memref<2x?x64xf32>, %b: memref<2x8x64xf32>, %s: memref<2x4xf32>, %n: index) {
  kiln.page_scores %q, %b pages %n into %s : memref<2x?x64xf32>, memref<2x8x64xf32> into memref<2x4xf32>
  return
}

// -----

// Per head: fewer candidates than the table's 3 slots marks it -1 (every
// key); else 32 steps of bisection, each counting the scores whose ordered
// bits reach the midpoint (whole vectors of them, then the rest), then a count of those above the threshold and
// one sweep that writes the chosen pages in order, the current one last.
// CHECK-LABEL: func.func @select
// CHECK: scf.parallel (%[[HEAD:.*]]) = (%c0) to (%c2)
// CHECK: %[[FITS:.*]] = arith.cmpi ult, %arg2, %c3
// CHECK: scf.if %[[FITS]] {
// CHECK: memref.store %c-1_i32, %arg1[%[[HEAD]], %c0]
// CHECK: } else {
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c1 iter_args({{.*}}) -> (i64, i64) {
// CHECK: %[[WHOLE:.*]] = arith.muli %{{.*}}, %c8
// CHECK: scf.for %{{.*}} = %c0 to %[[WHOLE]] step %c8 iter_args({{.*}}) -> (vector<8xi32>) {
// CHECK: arith.bitcast %{{.*}} : vector<8xf32> to vector<8xi32>
// CHECK: arith.cmpi sge, %{{.*}} : vector<8xi32>
// CHECK: vector.reduction <add>, %{{.*}} : vector<8xi32> into i32
// CHECK: scf.for %{{.*}} = %[[WHOLE]] to %arg2 step %c1 iter_args({{.*}}) -> (i32) {
// CHECK: arith.bitcast %{{.*}} : f32 to i32
// CHECK: arith.cmpi sge
// CHECK: arith.cmpi sgt, %{{.*}} : vector<8xi32>
// CHECK: scf.for %{{.*}} = %c0 to %arg2 step %c1 iter_args({{.*}}) -> (index, i32) {
// CHECK: scf.if
// CHECK: memref.store %{{.*}}, %arg1[%[[HEAD]], %{{.*}}] : memref<2x3xi32>
// CHECK: %[[CURRENT:.*]] = arith.index_cast %arg2 : index to i32
// CHECK: memref.store %[[CURRENT]], %arg1[%[[HEAD]], %c2]
func.func @select(%s: memref<2x4xf32>, %t: memref<2x3xi32>, %n: index) {
  kiln.select_pages %s candidates %n into %t : memref<2x4xf32> into memref<2x3xi32>
  return
}

// -----

// With keep_first, page 0's ordered key is the largest i32 wherever the
// scores are read (lane 0 of the first vector, or the scalar tail).
// CHECK-LABEL: func.func @select_first
// CHECK: vector.insert %c2147483647_i32, %{{.*}} [0] : i32 into vector<8xi32>
// CHECK: arith.cmpi eq, %{{.*}}, %c0 : index
func.func @select_first(%s: memref<2x40xf32>, %t: memref<2x3xi32>, %n: index) {
  kiln.select_pages %s candidates %n into %t {keep_first} : memref<2x40xf32> into memref<2x3xi32>
  return
}
