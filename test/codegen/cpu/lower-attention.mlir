// RUN: kiln-opt %s -split-input-file -kiln-cpu-lower-attention | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-cpu-lower-attention=vector-bits=256 | FileCheck %s --check-prefix=AVX2

// D = 64 on AVX-512: four 16-lane vectors per output row, six rows per
// tile (24 accumulators); 13 rows are two full tiles and a partial one,
// taken a row at a time; 150 keys are two blocks of 64 and one of 22
// (a full vector and a masked one). Scratch for the block's scores
// (6 x 64), the output rows (6 x 64) and each row's running maximum and
// sum (6 x 2), which the key blocks update, is on the stack.
// CHECK-LABEL: func.func @attention
// CHECK: scf.parallel (%{{.*}}) = (%{{.*}}) to (%c6{{(_[0-9]+)?}}) step
// CHECK: memref.alloca() : memref<384xf32>
// CHECK: memref.alloca() : memref<384xf32>
// CHECK: memref.alloca() : memref<12xf32>
// CHECK: scf.if
// CHECK: scf.for %{{.*}} = %{{.*}} to %c128{{(_[0-9]+)?}} step %c64{{(_[0-9]+)?}} {
// Scores: the depth loop carries 6 x 4 accumulators.
// CHECK: scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: vector.fma
// The online softmax: the block maximum, the rescaling factor, the
// probabilities.
// CHECK: vector.reduction <maximumf>
// CHECK: math.exp {{.*}} : f32
// CHECK: math.exp {{.*}} : vector<16xf32>
// CHECK: vector.reduction <add>
// Probabilities times value rows.
// CHECK: scf.for {{.*}} -> (vector<16xf32>,
// CHECK: vector.fma
// The last, partial key block loads its keys under a mask.
// CHECK: vector.create_mask %c6{{(_[0-9]+)?}} : vector<16xi1>
// CHECK: vector.maskedload
// CHECK: arith.select
// The sums divide the rows. The tiles are worth the threads.
// CHECK: arith.divf
// CHECK: } {kiln.threaded}
// AVX2 has room for 12 accumulators: one row of eight 8-lane vectors per
// tile, whose scores take blocks of four vectors.
// AVX2-LABEL: func.func @attention
// AVX2: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// AVX2: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
func.func @attention(%q: memref<2x13x64xf32>, %k: memref<2x64x150xf32>, %v: memref<2x150x64xf32>, %y: memref<2x13x64xf32>) {
  kiln.attention %q, %k, %v into %y {scale = 0.125 : f32} : memref<2x13x64xf32>, memref<2x64x150xf32>, memref<2x150x64xf32> into memref<2x13x64xf32>
  return
}

// -----

// Keys as rows (a decode step over a cache): one query row per head, so
// one row per tile. A loop over a block's vectors of keys (four of 16 in a
// block of 64); per key, its four 16-lane pieces times the query's, summed
// with FMAs; the 16 keys of a vector fold into one vector of their sums by
// a tree of shuffles (pairs of halves, quarters, ...): 15 folds of two
// shuffles each, stored to the block's scores. The last block's 22 keys
// are a full vector and 6 keys; the lanes past them read the last key
// again, masked to a score far below any real one.
// CHECK-LABEL: func.func @key_rows
// CHECK: scf.parallel (%{{.*}}) = (%{{.*}}) to (%c12{{(_[0-9]+)?}}) step
// CHECK: %[[SCORES:.*]] = memref.alloca() : memref<64xf32>
// CHECK: memref.alloca() : memref<64xf32>
// CHECK: memref.alloca() : memref<2xf32>
// CHECK-NOT: scf.if
// CHECK: scf.for %{{.*}} = %{{.*}} to %c128{{(_[0-9]+)?}} step %c64{{(_[0-9]+)?}} {
// CHECK: scf.for %[[V:.*]] = %{{.*}} to %c4{{(_[0-9]+)?}} step %c1{{(_[0-9]+)?}} {
// CHECK: vector.load %arg1[%{{.*}}, %{{.*}}, %{{.*}}] : memref<12x150x64xf32>, vector<16xf32>
// CHECK: arith.mulf {{.*}} : vector<16xf32>
// CHECK-COUNT-3: vector.fma
// CHECK: vector.shuffle %{{.*}}, %{{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23] : vector<16xf32>, vector<16xf32>
// CHECK: vector.shuffle %{{.*}}, %{{.*}} [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31] : vector<16xf32>, vector<16xf32>
// CHECK: vector.shuffle %{{.*}}, %{{.*}} [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27]
// CHECK: vector.shuffle %{{.*}}, %{{.*}} [0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29]
// CHECK: vector.shuffle %{{.*}}, %{{.*}} [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
// CHECK: %[[FOLDED:.*]] = arith.addf
// CHECK: vector.store %[[FOLDED]], %[[SCORES]][%{{.*}}] : memref<64xf32>, vector<16xf32>
// CHECK-NEXT: }
// CHECK: vector.load %[[SCORES]][%{{.*}}] : memref<64xf32>, vector<16xf32>
// CHECK: vector.reduction <maximumf>
// CHECK: vector.create_mask %c6{{(_[0-9]+)?}} : vector<16xi1>
// CHECK: scf.for %{{.*}} = %{{.*}} to %c2{{(_[0-9]+)?}} step
// CHECK: arith.minui
// CHECK-NOT: vector.maskedload
// CHECK: arith.select
// CHECK: } {kiln.threaded}
// AVX2-LABEL: func.func @key_rows
// AVX2: vector.shuffle %{{.*}}, %{{.*}} [0, 1, 2, 3, 8, 9, 10, 11] : vector<8xf32>, vector<8xf32>
func.func @key_rows(%q: memref<12x1x64xf32>, %k: memref<12x150x64xf32>, %v: memref<12x150x64xf32>, %y: memref<12x1x64xf32>) {
  kiln.attention %q, %k, %v into %y {key_rows, scale = 0.125 : f32} : memref<12x1x64xf32>, memref<12x150x64xf32>, memref<12x150x64xf32> into memref<12x1x64xf32>
  return
}

// -----

// A grouped decode or prefill step over a session's cache: heads, rows and
// keys known at run time, the keys and values strided views of the cache,
// a causal mask shared by all heads ([1, S, T]) whose row of a stacked
// query row is its index modulo S. The tiles and the key blocks are
// counted at run time; the last block's keys too, so each of its vectors
// is masked, reads keys no further than its last one, and reads the mask
// under the same lanes; masked scores are floored far below the real ones.
// A full block runs only if the mask shows one of its keys to a row of the
// tile, or a row has not yet seen a key it shows (so a causal prefill
// skips the blocks after its rows); as it reads each key row and each
// value row it prefetches every line of the row a block ahead (four of a
// 64-value f32 row). With few tiles (a decode step) and many keys, the keys are
// split into chunks of whole blocks (at most 32 parts of 3 rows x 64, on
// the stack), one work item per tile and chunk, and the parts combined.
// CHECK-LABEL: func.func @symbolic_masked
// CHECK-DAG: %[[G:.*]] = memref.dim %arg0, %c0
// CHECK-DAG: %[[S:.*]] = memref.dim %arg0, %c1
// CHECK-DAG: %[[T:.*]] = memref.dim %arg1, %c1
// CHECK-DAG: %[[MS:.*]] = memref.dim %arg3, %c1
// CHECK: arith.minui
// CHECK: scf.if
// CHECK: memref.alloca() : memref<6144xf32>
// CHECK: memref.alloca() : memref<192xf32>
// CHECK: scf.parallel
// CHECK: scf.if
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c64{{(_[0-9]+)?}} {
// CHECK: arith.cmpf ogt, %{{.*}}, %cst{{(_[0-9]+)?}} : vector<16xf32>
// CHECK: vector.reduction <or>
// CHECK: arith.cmpf ole
// CHECK: scf.if %{{.*}} {
// CHECK: vector.load %arg1
// CHECK-COUNT-4: memref.prefetch %arg1
// CHECK: arith.remui %{{.*}}, %[[MS]]
// CHECK: vector.load %arg3[%c0{{(_[0-9]+)?}}, %{{.*}}, %{{.*}}] : memref<1x?x?xf32>, vector<16xf32>
// CHECK: arith.maximumf %{{.*}}, %cst{{(_[0-9]+)?}} : vector<16xf32>
// CHECK-COUNT-4: memref.prefetch %arg2
// CHECK: vector.load %arg2
// CHECK: arith.remui %{{.*}}, %c64
// CHECK: scf.if %{{.*}} {
// CHECK: arith.minui
// CHECK: vector.create_mask %{{.*}} : vector<16xi1>
// CHECK: vector.maskedload %arg3
// CHECK: } {kiln.threaded}
// CHECK: scf.for
// CHECK: math.exp %{{.*}} : f32
// CHECK: } else {
// CHECK: scf.parallel
// On AVX2 a tile's rows do not fit in registers together. With few rows
// (eight or fewer: a decode step), a tile holds them all and they take each
// block of keys two at a time (the first step reads its keys and values
// from memory, the others from L1), each step checking the mask for its
// rows; the two rows of a step share each key row and each value row, the
// values in two halves of the depth (2 rows x 4 vectors of 8 accumulators,
// each half loading its 4 vectors of a value row); a last odd
// row steps alone. With more rows (a prefill), a tile is one row.
// AVX2-LABEL: func.func @symbolic_masked
// AVX2: %[[FEW:.*]] = arith.cmpi ule, %[[S:.*]], %c8{{(_[0-9]+)?}} : index
// AVX2: scf.if %[[FEW]] {
// AVX2: scf.parallel
// AVX2: memref.alloca() : memref<256xf32>
// AVX2: memref.alloca() : memref<512xf32>
// AVX2: memref.alloca() : memref<16xf32>
// AVX2: %[[ROWS:.*]] = arith.minui %{{.*}}, %c8{{(_[0-9]+)?}} : index
// AVX2: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c32{{(_[0-9]+)?}} {
// AVX2: %[[PAIRS:.*]] = arith.divui %[[ROWS]], %c2{{(_[0-9]+)?}} : index
// AVX2: %[[STEPPED:.*]] = arith.muli %[[PAIRS]], %c2{{(_[0-9]+)?}} : index
// AVX2: scf.for %{{.*}} = %c0{{(_[0-9]+)?}} to %[[STEPPED]] step %c2{{(_[0-9]+)?}} {
// AVX2: vector.reduction <or>
// AVX2: scf.if %{{.*}} {
// AVX2: scf.for %{{.*}} = %c0{{(_[0-9]+)?}} to %c4{{(_[0-9]+)?}} step %c1{{(_[0-9]+)?}} {
// AVX2: vector.load %arg1
// AVX2-COUNT-2: arith.mulf {{.*}} : vector<8xf32>
// AVX2: vector.shuffle
// AVX2: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// AVX2: vector.load %arg2[%{{.*}}, %{{.*}}, %c0{{(_[0-9]+)?}}]
// AVX2-COUNT-3: vector.load %arg2
// AVX2-NOT: vector.load %arg2
// AVX2-COUNT-8: vector.fma
// AVX2: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// AVX2: vector.load %arg2[%{{.*}}, %{{.*}}, %c32{{(_[0-9]+)?}}]
// AVX2: scf.for %{{.*}} = %[[STEPPED]] to %[[ROWS]] step %c1{{(_[0-9]+)?}} {
// AVX2: vector.reduction <or>
// AVX2: vector.load %arg1
// AVX2: vector.load %arg2
// AVX2: vector.fma
// AVX2: } {kiln.threaded}
// AVX2: } else {
// AVX2-NOT: scf.for %{{.*}} = %[[STEPPED]] to %[[ROWS]]
// AVX2: scf.parallel
func.func @symbolic_masked(%q: memref<?x?x64xf32>, %k: memref<?x?x64xf32, strided<[264192, 64, 1]>>, %v: memref<?x?x64xf32, strided<[264192, 64, 1]>>, %m: memref<1x?x?xf32>, %y: memref<?x?x64xf32>) {
  kiln.attention %q, %k, %v mask %m into %y {key_rows, scale = 0.125 : f32} : memref<?x?x64xf32>, memref<?x?x64xf32, strided<[264192, 64, 1]>>, memref<?x?x64xf32, strided<[264192, 64, 1]>> mask memref<1x?x?xf32> into memref<?x?x64xf32>
  return
}

// -----

// Keys and values held in bf16 (a session cache under --precision=bf16):
// rows load 32 bf16 values at a time, one vector of 16 i32 words whose low
// halves (the even values) widen by a shift and whose high halves (the odd
// ones) by a mask. The query rows are split into even and odd values to
// match, and the output rows interleaved back. A 64-value row is two lines
// to prefetch.
// CHECK-LABEL: func.func @bf16_cache
// CHECK: vector.shuffle %{{.*}}, %{{.*}} [0, 2, 4, {{.*}}, 28, 30] : vector<16xf32>, vector<16xf32>
// CHECK-NEXT: vector.shuffle %{{.*}}, %{{.*}} [1, 3, 5, {{.*}}, 29, 31] : vector<16xf32>, vector<16xf32>
// CHECK: %[[K:.*]] = vector.load %arg1[{{.*}}] : memref<3x?x64xbf16, strided<[264192, 64, 1]>>, vector<32xbf16>
// CHECK-NEXT: %[[KW:.*]] = vector.bitcast %[[K]] : vector<32xbf16> to vector<16xi32>
// CHECK-NEXT: %[[SIXTEEN:.*]] = arith.constant dense<16> : vector<16xi32>
// CHECK-NEXT: arith.shli %[[KW]], %[[SIXTEEN]] : vector<16xi32>
// CHECK-NEXT: %[[HIGH:.*]] = arith.constant dense<-65536> : vector<16xi32>
// CHECK-NEXT: arith.andi %[[KW]], %[[HIGH]] : vector<16xi32>
// CHECK-COUNT-2: memref.prefetch %arg1
// CHECK-COUNT-2: memref.prefetch %arg2
// CHECK: %[[V:.*]] = vector.load %arg2[{{.*}}] : memref<3x?x64xbf16, strided<[264192, 64, 1]>>, vector<32xbf16>
// CHECK-NEXT: vector.bitcast %[[V]] : vector<32xbf16> to vector<16xi32>
// CHECK: %[[LOW:.*]] = vector.shuffle %{{.*}}, %{{.*}} [0, 16, 1, 17, {{.*}}, 7, 23] : vector<16xf32>, vector<16xf32>
// CHECK: vector.store %[[LOW]], %arg4[{{.*}}, %c0{{.*}}] : memref<3x3x64xf32>, vector<16xf32>
// CHECK-NEXT: %[[UP:.*]] = vector.shuffle %{{.*}}, %{{.*}} [8, 24, 9, 25, {{.*}}, 15, 31] : vector<16xf32>, vector<16xf32>
// CHECK: vector.store %[[UP]], %arg4[{{.*}}, %c16] : memref<3x3x64xf32>, vector<16xf32>
func.func @bf16_cache(%q: memref<3x3x64xf32>, %k: memref<3x?x64xbf16, strided<[264192, 64, 1]>>, %v: memref<3x?x64xbf16, strided<[264192, 64, 1]>>, %m: memref<1x1x?xf32>, %y: memref<3x3x64xf32>) {
  kiln.attention %q, %k, %v mask %m into %y {key_rows, scale = 0.125 : f32} : memref<3x3x64xf32>, memref<3x?x64xbf16, strided<[264192, 64, 1]>>, memref<3x?x64xbf16, strided<[264192, 64, 1]>> mask memref<1x1x?xf32> into memref<3x3x64xf32>
  return
}

// -----

// Keys and values as 4-bit rows (QoQ's KV4 cache, 64 values in 36 bytes):
// each vector of 16 values is 8 bytes whose low and high nibbles are
// interleaved, less the row's zero point, times its scale (the two f16s
// at byte 32). With 8 query rows or more (a prefill) the rows are
// dequantized once into f32 buffers that the tiles read; with fewer (a
// decode step) the tiles dequantize them as they load them.
// CHECK-LABEL: func.func @kv4_cache
// CHECK: %[[MANY:.*]] = arith.cmpi uge, %{{.*}}, %c8 : index
// CHECK: scf.if %[[MANY]] {
// CHECK: %[[KEYS:.*]] = memref.alloc(%{{.*}}, %{{.*}}) : memref<?x?x64xf32>
// CHECK: scf.parallel
// CHECK: %[[B:.*]] = vector.load %arg1[{{.*}}] : memref<3x?x36xi8, strided<[1728, 36, 1]>>, vector<8xi8>
// CHECK: %[[LOW:.*]] = arith.andi %[[B]]
// CHECK: %[[HIGH:.*]] = arith.shrui %[[B]]
// CHECK: %[[Q:.*]] = vector.shuffle %[[LOW]], %[[HIGH]] [0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15] : vector<8xi8>, vector<8xi8>
// CHECK: %[[F:.*]] = arith.uitofp %[[Q]] : vector<16xi8> to vector<16xf32>
// CHECK: %[[P:.*]] = vector.load %arg1[%{{.*}}, %{{.*}}, %c32{{.*}}] : memref<3x?x36xi8, strided<[1728, 36, 1]>>, vector<4xi8>
// CHECK: %[[H:.*]] = vector.bitcast %[[P]] : vector<4xi8> to vector<2xf16>
// CHECK: %[[W:.*]] = arith.extf %[[H]] : vector<2xf16> to vector<2xf32>
// CHECK: %[[S:.*]] = vector.extract %[[W]][0]
// CHECK: %[[Z:.*]] = vector.extract %[[W]][1]
// CHECK: %[[ZV:.*]] = vector.broadcast %[[Z]]
// CHECK: %[[C:.*]] = arith.subf %[[F]], %[[ZV]] : vector<16xf32>
// CHECK: %[[SV:.*]] = vector.broadcast %[[S]]
// CHECK: %[[D:.*]] = arith.mulf %[[C]], %[[SV]] : vector<16xf32>
// CHECK: vector.store %[[D]], %[[KEYS]]
// CHECK: %[[VALUES:.*]] = memref.alloc(%{{.*}}, %{{.*}}) : memref<?x?x64xf32>
// CHECK: vector.load %arg2[{{.*}}] : memref<3x?x36xi8, strided<[1728, 36, 1]>>, vector<8xi8>
// CHECK: vector.load %[[KEYS]]
// CHECK: memref.dealloc %[[KEYS]]
// CHECK: memref.dealloc %[[VALUES]]
// CHECK: } else {
// CHECK: vector.load %arg1[{{.*}}] : memref<3x?x36xi8, strided<[1728, 36, 1]>>, vector<8xi8>
// CHECK: vector.load %arg2[{{.*}}] : memref<3x?x36xi8, strided<[1728, 36, 1]>>, vector<8xi8>
func.func @kv4_cache(%q: memref<3x?x64xf32>, %k: memref<3x?x36xi8, strided<[1728, 36, 1]>>, %v: memref<3x?x36xi8, strided<[1728, 36, 1]>>, %m: memref<1x?x?xf32>, %y: memref<3x?x64xf32>) {
  kiln.attention %q, %k, %v mask %m into %y {key_rows, scale = 0.125 : f32} : memref<3x?x64xf32>, memref<3x?x36xi8, strided<[1728, 36, 1]>>, memref<3x?x36xi8, strided<[1728, 36, 1]>> mask memref<1x?x?xf32> into memref<3x?x64xf32>
  return
}

// -----

// Quest's sparse attention: the table's first entry chooses every key (the
// dense kernel, as above) or the listed pages, whose keys are counted as
// three full pages of 16 and the current page's filled part, each key and
// value row read through the table.
// AVX2-LABEL: func.func @paged
// AVX2: %[[FIRST:.*]] = memref.load %arg2[%c0{{.*}}, %c0{{.*}}] : memref<3x4xi32>
// AVX2: %[[EVERY:.*]] = arith.cmpi slt, %[[FIRST]], %c0_i32
// AVX2: scf.if %[[EVERY]] {
// AVX2: } else {
// AVX2: %[[LAST:.*]] = arith.subi %dim, %c1
// AVX2: arith.divui %[[LAST]], %c16
// AVX2: scf.parallel
// AVX2: memref.load %arg2[%{{.*}}, %{{.*}}] : memref<3x4xi32>
func.func @paged(%q: memref<3x3x64xf32>, %k: memref<3x?x64xf32, strided<[16384, 64, 1]>>, %t: memref<3x4xi32>, %o: memref<3x3x64xf32>) {
  kiln.attention %q, %k, %k pages %t into %o {key_rows, page_size = 16 : i64, scale = 0.125 : f32} : memref<3x3x64xf32>, memref<3x?x64xf32, strided<[16384, 64, 1]>>, memref<3x?x64xf32, strided<[16384, 64, 1]>> pages memref<3x4xi32> into memref<3x3x64xf32>
  return
}

// -----

// Past keys and values where they are (a plain decoder graph's past
// cache) and the step's new ones: T = T0 + 1 keys. A tile's keys (a chunk
// of them) from `begin` to `end` are the past's up to min(max(T0, begin),
// end), from its buffers, then the new ones from theirs, at row key - T0
// (the mask's column key - T0 + T0), one online softmax over both.
// CHECK-LABEL: func.func @past
// CHECK: %[[T0:.*]] = memref.dim %arg3, %c1{{.*}} : memref<3x?x64xf32>
// CHECK: %[[T:.*]] = arith.addi %[[T0]], %c1 : index
// CHECK: %[[FROM:.*]] = arith.maxui %[[T0]], %[[BEGIN:.*]] : index
// CHECK: %[[MIDDLE:.*]] = arith.minui %[[FROM]], %[[END:.*]] : index
// CHECK: scf.for %{{.*}} = %[[BEGIN]] to
// CHECK: vector.load %arg3[
// CHECK: vector.load %arg4[
// CHECK: %[[ROW:.*]] = arith.subi %{{.*}}, %[[T0]] : index
// CHECK: %[[COLUMN:.*]] = arith.addi %[[ROW]], %[[T0]] : index
// CHECK: vector.load %arg5[%{{.*}}, %{{.*}}, %[[COLUMN]]]
// CHECK: vector.load %arg1[
// CHECK: vector.load %arg2[
func.func @past(%q: memref<3x3x64xf32>, %k: memref<3x1x64xf32>, %v: memref<3x1x64xf32>, %pk: memref<3x?x64xf32>, %pv: memref<3x?x64xf32>, %m: memref<1x1x?xf32>, %y: memref<3x3x64xf32>) {
  kiln.attention %q, %k, %v past %pk, %pv mask %m into %y {key_rows, scale = 0.125 : f32} : memref<3x3x64xf32>, memref<3x1x64xf32>, memref<3x1x64xf32> past memref<3x?x64xf32>, memref<3x?x64xf32> mask memref<1x1x?xf32> into memref<3x3x64xf32>
  return
}
