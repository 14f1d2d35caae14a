// RUN: kiln-opt %s -split-input-file -kiln-lower-page-selection -canonicalize | FileCheck %s

// The bounds of the pages rows [from, to) fall in, each from its rows
// below `to`: a parallel iteration per head, page and channel, whose loop
// over the page's rows keeps the channel's minimum and maximum, stored as
// the page's rows 2p and 2p + 1 (bf16 keys widened).
// CHECK-LABEL: func.func @bounds
// CHECK: %[[FIRST:.*]] = arith.divui %arg2, %c16
// CHECK: %[[END:.*]] = arith.divui %{{.*}}, %c16
// CHECK: %[[HIGH:.*]] = arith.maxui %[[END]], %[[FIRST]]
// CHECK: %[[PAGES:.*]] = arith.subi %[[HIGH]], %[[FIRST]]
// CHECK: scf.parallel (%[[HEAD:.*]], %[[I:.*]], %[[C:.*]]) = (%c0, %c0, %c0) to (%c2, %[[PAGES]], %c16)
// CHECK: %[[P:.*]] = arith.addi %[[FIRST]], %[[I]]
// CHECK: %[[BEGIN:.*]] = arith.muli %[[P]], %c16
// CHECK: %[[STOP:.*]] = arith.minui %{{.*}}, %arg3
// CHECK: %[[RANGE:.*]]:2 = scf.for %[[ROW:.*]] = %[[BEGIN]] to %[[STOP]] step %c1 iter_args({{.*}}) -> (f32, f32)
// CHECK: %[[LOADED:.*]] = memref.load %arg0[%[[HEAD]], %[[ROW]], %[[C]]]
// CHECK: %[[KEY:.*]] = arith.extf %[[LOADED]] : bf16 to f32
// CHECK: arith.minimumf %{{.*}}, %[[KEY]]
// CHECK: arith.maximumf %{{.*}}, %[[KEY]]
// CHECK: memref.store %[[RANGE]]#0, %arg1[%[[HEAD]], %{{.*}}, %[[C]]]
// CHECK: memref.store %[[RANGE]]#1, %arg1[%[[HEAD]], %{{.*}}, %[[C]]]
func.func @bounds(%k: memref<2x64x16xbf16>, %b: memref<2x8x16xf32>, %from: index, %to: index) {
  kiln.page_bounds %k rows %from to %to into %b {page_size = 16 : i64} : memref<2x64x16xbf16> into memref<2x8x16xf32>
  return
}

// -----

// bf16 bounds: a minimum rounded down and a maximum rounded up (the
// dropped bits' step away from zero where they were set and the sign
// calls for it) before they narrow; the scores widen what they load.
// CHECK-LABEL: func.func @bf16_bounds
// CHECK: %[[RANGE:.*]]:2 = scf.for
// CHECK: %[[MIN:.*]] = arith.bitcast %[[RANGE]]#0 : f32 to i32
// CHECK: %[[KEPT:.*]] = arith.andi %[[MIN]], %c-65536_i32
// CHECK: %[[INEXACT:.*]] = arith.cmpi ne, %[[KEPT]], %[[MIN]]
// CHECK: %[[NEGATIVE:.*]] = arith.cmpi slt, %[[MIN]], %c0_i32
// CHECK: %[[AWAY:.*]] = arith.andi %[[INEXACT]], %[[NEGATIVE]]
// CHECK: %[[STEPPED:.*]] = arith.addi %[[KEPT]], %c65536_i32
// CHECK: %[[ROUNDED:.*]] = arith.select %[[AWAY]], %[[STEPPED]], %[[KEPT]]
// CHECK: %[[WIDE:.*]] = arith.bitcast %[[ROUNDED]] : i32 to f32
// CHECK: %[[NARROW:.*]] = arith.truncf %[[WIDE]] : f32 to bf16
// CHECK: memref.store %[[NARROW]], %arg1
// CHECK: %[[MAX:.*]] = arith.bitcast %[[RANGE]]#1 : f32 to i32
// CHECK: %[[POSITIVE:.*]] = arith.cmpi sge, %[[MAX]], %c0_i32
// CHECK: arith.andi %{{.*}}, %[[POSITIVE]]
// CHECK-LABEL: func.func @bf16_scores
// CHECK: %[[HIGH:.*]] = memref.load %arg1{{.*}} : memref<2x8x16xbf16>
// CHECK: arith.extf %[[HIGH]] : bf16 to f32
func.func @bf16_bounds(%k: memref<2x64x16xf32>, %b: memref<2x8x16xbf16>, %from: index, %to: index) {
  kiln.page_bounds %k rows %from to %to into %b {page_size = 16 : i64} : memref<2x64x16xf32> into memref<2x8x16xbf16>
  return
}
func.func @bf16_scores(%q: memref<2x?x16xf32>, %b: memref<2x8x16xbf16>, %s: memref<2x4xf32>, %n: index) {
  kiln.page_scores %q, %b pages %n into %s : memref<2x?x16xf32>, memref<2x8x16xbf16> into memref<2x4xf32>
  return
}

// -----

// A parallel iteration per head and page: over the query rows (the heads
// that share the page), the sum of the sums of q * (q > 0 ? max : min).
// CHECK-LABEL: func.func @scores
// CHECK: scf.parallel (%[[HEAD:.*]], %[[P:.*]]) = (%c0, %c0) to (%c2, %arg3)
// CHECK: scf.for %{{.*}} = %c0 to %dim step %c1 iter_args(%[[TOTAL:.*]] = %cst{{.*}}) -> (f32)
// CHECK: scf.for %{{.*}} = %c0 to %c16 step %c1 iter_args(%[[SUM:.*]] = %cst{{.*}}) -> (f32)
// CHECK: %[[Q:.*]] = memref.load %arg0
// CHECK: %[[POSITIVE:.*]] = arith.cmpf ogt, %[[Q]]
// CHECK: %[[LOW:.*]] = memref.load %arg1
// CHECK: %[[HIGH:.*]] = memref.load %arg1
// CHECK: %[[BOUND:.*]] = arith.select %[[POSITIVE]], %[[HIGH]], %[[LOW]]
// CHECK: math.fma %[[Q]], %[[BOUND]], %[[SUM]]
// CHECK: arith.addf %[[TOTAL]]
// CHECK: memref.store %{{.*}}, %arg2[%[[HEAD]], %[[P]]]
func.func @scores(%q: memref<2x?x16xf32>, %b: memref<2x8x16xf32>, %s: memref<2x4xf32>, %n: index) {
  kiln.page_scores %q, %b pages %n into %s : memref<2x?x16xf32>, memref<2x8x16xf32> into memref<2x4xf32>
  return
}

// -----

// Per head, the table's first entry -1 when the candidates fit its 3
// slots, else its last the current page. Then per head and candidate page
// (none when they fit) its rank: the pages whose ordered score bits are
// higher, or equal and lower (page 0's raised to the top: keep_first);
// then per chosen page (rank below 2) its slot, the chosen pages before
// it.
// CHECK-LABEL: func.func @select
// CHECK: %[[FITS:.*]] = arith.cmpi ult, %arg2, %c3
// CHECK: scf.parallel (%[[HEAD:.*]]) = (%c0) to (%c2)
// CHECK: %[[ENTRY:.*]] = arith.select %[[FITS]], %c0, %c2
// CHECK: %[[CURRENT:.*]] = arith.index_cast %arg2 : index to i32
// CHECK: %[[LISTED:.*]] = arith.select %[[FITS]], %c-1_i32, %[[CURRENT]]
// CHECK: memref.store %[[LISTED]], %arg1[%[[HEAD]], %[[ENTRY]]]
// CHECK: %[[RANKED:.*]] = arith.select %[[FITS]], %c0, %arg2
// CHECK: %[[RANKS:.*]] = memref.alloc(%[[RANKED]]) : memref<2x?xi32>
// CHECK: scf.parallel (%[[H:.*]], %[[P:.*]]) = (%c0, %c0) to (%c2, %[[RANKED]])
// CHECK: arith.bitcast %{{.*}} : f32 to i32
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %[[P]], %c0
// CHECK: %[[KEY:.*]] = arith.select %[[FIRST]], %c2147483647_i32
// CHECK: %[[RANK:.*]] = scf.for %[[Q:.*]] = %c0 to %[[RANKED]] step %c1 iter_args({{.*}}) -> (i32)
// CHECK: %[[LOWER:.*]] = arith.cmpi ult, %[[Q]], %[[P]]
// CHECK: %[[TIE:.*]] = arith.cmpi eq, %{{.*}}, %[[KEY]]
// CHECK: %[[TAKEN:.*]] = arith.andi %[[TIE]], %[[LOWER]]
// CHECK: %[[ABOVE:.*]] = arith.cmpi sgt, %{{.*}}, %[[KEY]]
// CHECK: arith.ori %[[ABOVE]], %[[TAKEN]]
// CHECK: memref.store %[[RANK]], %[[RANKS]][%[[H]], %[[P]]]
// CHECK: scf.parallel (%[[H2:.*]], %[[P2:.*]]) = (%c0, %c0) to (%c2, %[[RANKED]])
// CHECK: %[[CHOSEN:.*]] = arith.cmpi slt, %{{.*}}, %c2_i32
// CHECK: scf.if %[[CHOSEN]]
// CHECK: %[[SLOT:.*]] = scf.for %{{.*}} = %c0 to %[[P2]] step %c1
// CHECK: %[[AT:.*]] = arith.index_cast %[[SLOT]] : i32 to index
// CHECK: memref.store %{{.*}}, %arg1[%[[H2]], %[[AT]]]
// CHECK: memref.dealloc %[[RANKS]]
func.func @select(%s: memref<2x4xf32>, %t: memref<2x3xi32>, %n: index) {
  kiln.select_pages %s candidates %n into %t {keep_first} : memref<2x4xf32> into memref<2x3xi32>
  return
}
