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

// bf16 bounds: each vector rounded outward before it narrows. The bits
// below bf16's are dropped (toward zero); where any were set, a maximum
// above zero or a minimum below it steps one bf16 unit (0x10000) away
// from zero. Scores widen the bounds they load.
// CHECK-LABEL: func.func @bf16_bounds
// CHECK: %[[MIN:.*]] = arith.bitcast %{{.*}} : vector<8xf32> to vector<8xi32>
// CHECK: %[[KEPT:.*]] = arith.andi %[[MIN]], %cst{{.*}} : vector<8xi32>
// CHECK: %[[INEXACT:.*]] = arith.cmpi ne, %[[KEPT]], %[[MIN]] : vector<8xi32>
// CHECK: %[[NEGATIVE:.*]] = arith.cmpi slt, %[[MIN]], %cst{{.*}} : vector<8xi32>
// CHECK: %[[AWAY:.*]] = arith.andi %[[INEXACT]], %[[NEGATIVE]] : vector<8xi1>
// CHECK: %[[STEPPED:.*]] = arith.addi %[[KEPT]], %cst{{.*}} : vector<8xi32>
// CHECK: %[[ROUNDED:.*]] = arith.select %[[AWAY]], %[[STEPPED]], %[[KEPT]]
// CHECK: %[[WIDE:.*]] = arith.bitcast %[[ROUNDED]] : vector<8xi32> to vector<8xf32>
// CHECK: %[[NARROW:.*]] = arith.truncf %[[WIDE]] : vector<8xf32> to vector<8xbf16>
// CHECK: vector.store %[[NARROW]], %arg1[%{{.*}}, %{{.*}}, %c0] : memref<2x8x16xbf16>, vector<8xbf16>
// CHECK: %[[MAX:.*]] = arith.bitcast %{{.*}} : vector<8xf32> to vector<8xi32>
// CHECK: %[[POSITIVE:.*]] = arith.cmpi sge, %[[MAX]], %cst{{.*}} : vector<8xi32>
// CHECK: arith.andi %{{.*}}, %[[POSITIVE]] : vector<8xi1>
// CHECK-LABEL: func.func @bf16_scores
// CHECK: %[[LOADED:.*]] = vector.load %arg1[%{{.*}}, %{{.*}}, %c0] : memref<2x8x16xbf16>, vector<8xbf16>
// CHECK: arith.extf %[[LOADED]] : vector<8xbf16> to vector<8xf32>
func.func @bf16_bounds(%k: memref<2x64x16xf32>, %b: memref<2x8x16xbf16>, %from: index, %to: index) {
  kiln.page_bounds %k rows %from to %to into %b {page_size = 16 : i64} : memref<2x64x16xf32> into memref<2x8x16xbf16>
  return
}
func.func @bf16_scores(%q: memref<2x?x16xf32>, %b: memref<2x8x16xbf16>, %s: memref<2x4xf32>, %n: index) {
  kiln.page_scores %q, %b pages %n into %s : memref<2x?x16xf32>, memref<2x8x16xbf16> into memref<2x4xf32>
  return
}

// -----

// Per head and block of 64 pages: the block's scores start at zero; per
// group of up to 8 query rows, each row's vectors split by sign into a
// scratch (q+ = max(q, 0), q- = min(q, 0)), then per page its bounds
// loaded once and, over the group's rows, q+ * max + q- * min summed by
// FMAs from the scratch, reduced (reassociated) and added to the score.
// CHECK-LABEL: func.func @scores
// CHECK: scf.parallel (%[[HEAD:.*]], %{{.*}}) = (%c0, %c0) to (%c2, %{{.*}})
// CHECK: scf.for %[[P0:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK: memref.store %cst{{.*}}, %arg2[%[[HEAD]], %[[P0]]]
// CHECK: %[[SPLIT:.*]] = memref.alloca() : memref<1024xf32>
// CHECK: scf.for %[[FIRST:.*]] = %c0 to %dim step %c8 {
// CHECK: %[[LEFT:.*]] = arith.subi %dim, %[[FIRST]]
// CHECK: %[[GROUP:.*]] = arith.minui %[[LEFT]], %c8
// CHECK: scf.for %{{.*}} = %c0 to %[[GROUP]] step %c1 {
// CHECK: %[[Q:.*]] = vector.load %arg0[%[[HEAD]], %{{.*}}, %c0]
// CHECK: %[[POSITIVE:.*]] = arith.maximumf %[[Q]], %cst
// CHECK: vector.store %[[POSITIVE]], %[[SPLIT]]
// CHECK: %[[NEGATIVE:.*]] = arith.minimumf %[[Q]], %cst
// CHECK: vector.store %[[NEGATIVE]], %[[SPLIT]]
// CHECK: scf.for %[[P:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK-COUNT-16: vector.load %arg1
// CHECK: %[[SUM:.*]] = scf.for %{{.*}} = %c0 to %[[GROUP]] step %c1 iter_args(%{{.*}} = %cst) -> (vector<8xf32>) {
// CHECK-NOT: arith.select
// CHECK-COUNT-16: vector.fma
// CHECK: vector.reduction <add>, %[[SUM]] fastmath<reassoc>
// CHECK: %[[OLD:.*]] = memref.load %arg2[%[[HEAD]], %[[P]]]
// CHECK: %[[NEW:.*]] = arith.addf %[[OLD]], %{{.*}} : f32
// CHECK: memref.store %[[NEW]], %arg2[%[[HEAD]], %[[P]]]
func.func @scores(%q: memref<2x?x64xf32>, %b: memref<2x8x64xf32>, %s: memref<2x4xf32>, %n: index) {
  kiln.page_scores %q, %b pages %n into %s : memref<2x?x64xf32>, memref<2x8x64xf32> into memref<2x4xf32>
  return
}

// -----

// Per head: fewer candidates than the table's 3 slots marks it -1 (every
// key); else one sweep finds the least and greatest ordered keys, then a
// bisection between them counts the scores whose ordered bits reach the
// midpoint (whole vectors of them, then the rest) until the bounds meet
// or the count is exactly the 2 pages wanted; then a count of those above
// the threshold and one sweep that writes the chosen pages in order, the
// current one last.
// CHECK-LABEL: func.func @select
// CHECK: scf.parallel (%[[HEAD:.*]]) = (%c0) to (%c2)
// CHECK: %[[FITS:.*]] = arith.cmpi ult, %arg2, %c3
// CHECK: scf.if %[[FITS]] {
// CHECK: memref.store %c-1_i32, %arg1[%[[HEAD]], %c0]
// CHECK: } else {
// CHECK: scf.for %{{.*}} iter_args({{.*}}) -> (vector<8xi32>, vector<8xi32>) {
// CHECK: arith.minsi %{{.*}} : vector<8xi32>
// CHECK: arith.maxsi %{{.*}} : vector<8xi32>
// CHECK: %[[LEAST:.*]] = vector.reduction <minsi>
// CHECK: %[[GREATEST:.*]] = vector.reduction <maxsi>
// CHECK: scf.for %{{.*}} iter_args(%{{.*}} = %[[LEAST]], %{{.*}} = %[[GREATEST]]) -> (i32, i32) {
// CHECK: scf.while (%[[LOW:.*]] = %{{.*}}, %[[HIGH:.*]] = %{{.*}}) : (i64, i64) -> (i64, i64) {
// CHECK: %[[OPEN:.*]] = arith.cmpi slt, %[[LOW]], %[[HIGH]] : i64
// CHECK: scf.condition(%[[OPEN]])
// CHECK: %[[WHOLE:.*]] = arith.muli %{{.*}}, %c8
// CHECK: scf.for %{{.*}} = %c0 to %[[WHOLE]] step %c8 iter_args({{.*}}) -> (vector<8xi32>) {
// CHECK: arith.bitcast %{{.*}} : vector<8xf32> to vector<8xi32>
// CHECK: arith.cmpi sge, %{{.*}} : vector<8xi32>
// CHECK: vector.reduction <add>, %{{.*}} : vector<8xi32> into i32
// CHECK: scf.for %{{.*}} = %[[WHOLE]] to %arg2 step %c1 iter_args({{.*}}) -> (i32) {
// CHECK: arith.bitcast %{{.*}} : f32 to i32
// CHECK: arith.cmpi sge
// CHECK: %[[EXACT:.*]] = arith.cmpi eq, %{{.*}}, %c2_i32 : i32
// CHECK: arith.select %[[EXACT]]
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
