// RUN: kiln-opt %s -kiln-lower-strided-copies | FileCheck %s

// A copy into a strided view becomes a linalg.copy (later loops); a copy
// between contiguous buffers stays a memref.copy (later memcpy).

// CHECK-LABEL: func.func @copies(
// CHECK-SAME: %[[A:.*]]: memref<4x4xf32>, %[[B:.*]]: memref<2x2xf32>, %[[C:.*]]: memref<2x2xf32>)
func.func @copies(%a: memref<4x4xf32>, %b: memref<2x2xf32>, %c: memref<2x2xf32>) {
  // CHECK: %[[VIEW:.*]] = memref.subview %[[A]]
  %view = memref.subview %a[1, 1] [2, 2] [1, 1] : memref<4x4xf32> to memref<2x2xf32, strided<[4, 1], offset: 5>>
  // CHECK: linalg.copy ins(%[[B]] : memref<2x2xf32>) outs(%[[VIEW]] : memref<2x2xf32, strided<[4, 1], offset: 5>>)
  memref.copy %b, %view : memref<2x2xf32> to memref<2x2xf32, strided<[4, 1], offset: 5>>
  // CHECK: memref.copy %[[B]], %[[C]] : memref<2x2xf32> to memref<2x2xf32>
  memref.copy %b, %c : memref<2x2xf32> to memref<2x2xf32>
  return
}

// RUN: kiln-opt %s -kiln-lower-strided-copies=chunk-bytes=1024 | FileCheck %s --check-prefix=CHUNKS

// With chunk-bytes, a past key cache [b, 3, past, 64] copied into the first
// `past` rows of each head of the present one: past x 64 is one run in
// both, copied as rows x chunks of 256 floats in parallel, then each row's
// remainder.

// CHUNKS-LABEL: func.func @cache_rows(
// CHUNKS-SAME: %[[PAST:[^:]*]]: memref<?x3x?x64xf32>, %[[PRESENT:[^:]*]]: memref<?x3x?x64xf32>
func.func @cache_rows(%past: memref<?x3x?x64xf32>, %present: memref<?x3x?x64xf32>) {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %batch = memref.dim %past, %c0 : memref<?x3x?x64xf32>
  %length = memref.dim %past, %c2 : memref<?x3x?x64xf32>
  // CHUNKS-DAG: %[[C256:.*]] = arith.constant 256 : index
  // CHUNKS-DAG: %[[C3:.*]] = arith.constant 3 : index
  // CHUNKS: %[[VIEW:.*]] = memref.subview %[[PRESENT]]
  %view = memref.subview %present[0, 0, 0, 0] [%batch, 3, %length, 64] [1, 1, 1, 1] : memref<?x3x?x64xf32> to memref<?x3x?x64xf32, strided<[?, ?, 64, 1]>>
  // CHUNKS: %[[FROM:.*]] = memref.collapse_shape %[[PAST]] {{\[\[}}0], [1], [2, 3]] : memref<?x3x?x64xf32> into memref<?x3x?xf32>
  // CHUNKS: %[[TO:.*]] = memref.collapse_shape %[[VIEW]] {{\[\[}}0], [1], [2, 3]] : memref<?x3x?x64xf32, strided<[?, ?, 64, 1]>> into memref<?x3x?xf32, strided<[?, ?, 1]>>
  // CHUNKS: %[[BATCH:.*]] = memref.dim %[[FROM]], %{{.*}} : memref<?x3x?xf32>
  // CHUNKS: %[[LENGTH:.*]] = memref.dim %[[FROM]], %{{.*}} : memref<?x3x?xf32>
  // CHUNKS: %[[FULL:.*]] = arith.divui %[[LENGTH]], %[[C256]]
  // CHUNKS: scf.parallel (%[[B:.*]], %[[H:.*]], %[[K:.*]]) = ({{.*}}) to (%[[BATCH]], %[[C3]], %[[FULL]])
  // CHUNKS:   %[[BEGIN:.*]] = arith.muli %[[K]], %[[C256]]
  // CHUNKS:   scf.for %[[J:.*]] = %{{.*}} to %[[C256]]
  // CHUNKS:     %[[I:.*]] = arith.addi %[[BEGIN]], %[[J]]
  // CHUNKS:     %[[X:.*]] = memref.load %[[FROM]][%[[B]], %[[H]], %[[I]]]
  // CHUNKS:     memref.store %[[X]], %[[TO]][%[[B]], %[[H]], %[[I]]]
  // CHUNKS: %[[TAIL:.*]] = arith.muli %[[FULL]], %[[C256]]
  // CHUNKS: scf.parallel (%[[B2:.*]], %[[H2:.*]]) = ({{.*}}) to (%[[BATCH]], %[[C3]])
  // CHUNKS:   scf.for %[[T:.*]] = %[[TAIL]] to %[[LENGTH]]
  // CHUNKS:     memref.load %[[FROM]][%[[B2]], %[[H2]], %[[T]]]
  // CHUNKS-NOT: memref.copy
  // CHUNKS-NOT: linalg.copy
  memref.copy %past, %view : memref<?x3x?x64xf32> to memref<?x3x?x64xf32, strided<[?, ?, 64, 1]>>
  return
}

// A run known to be shorter than a chunk (a new token's row, 64 floats),
// and a copy whose innermost stride is not 1, stay linalg.copy.

// CHUNKS-LABEL: func.func @short_runs(
func.func @short_runs(%token: memref<1x3x1x64xf32>, %present: memref<1x3x9x64xf32>, %a: memref<8x8xf32>, %b: memref<8x4xf32>) {
  %row = memref.subview %present[0, 0, 8, 0] [1, 3, 1, 64] [1, 1, 1, 1] : memref<1x3x9x64xf32> to memref<1x3x1x64xf32, strided<[1728, 576, 64, 1], offset: 512>>
  // CHUNKS: linalg.copy ins(%{{.*}} : memref<1x3x1x64xf32>)
  memref.copy %token, %row : memref<1x3x1x64xf32> to memref<1x3x1x64xf32, strided<[1728, 576, 64, 1], offset: 512>>
  %columns = memref.subview %a[0, 0] [8, 4] [1, 2] : memref<8x8xf32> to memref<8x4xf32, strided<[8, 2]>>
  // CHUNKS: linalg.copy ins(%{{.*}} : memref<8x4xf32>)
  memref.copy %b, %columns : memref<8x4xf32> to memref<8x4xf32, strided<[8, 2]>>
  // CHUNKS-NOT: scf.parallel
  return
}

// A static run of a whole number of chunks has no remainder loop.

// CHUNKS-LABEL: func.func @static_chunks(
func.func @static_chunks(%rows: memref<2x512xf32>, %wide: memref<2x1024xf32>) {
  %left = memref.subview %wide[0, 0] [2, 512] [1, 1] : memref<2x1024xf32> to memref<2x512xf32, strided<[1024, 1]>>
  // CHUNKS: scf.parallel (%{{.*}}, %{{.*}}) = (%{{.*}}, %{{.*}}) to (%{{.*}}, %{{.*}})
  // CHUNKS: scf.for
  // CHUNKS-NOT: scf.parallel
  memref.copy %rows, %left : memref<2x512xf32> to memref<2x512xf32, strided<[1024, 1]>>
  return
}

// RUN: kiln-opt %s -kiln-lower-strided-copies="chunk-bytes=1024 streaming-stores=true" | FileCheck %s --check-prefix=STREAM

// With streaming-stores, a full chunk whose target starts 16-byte aligned
// (the view's aligned pointer, plus its offset and the row's and chunk's
// elements by their strides, times 4 bytes) is copied 64 bytes at a time,
// each a vector load and a non-temporal store of 16-byte alignment; a
// misaligned chunk, and each row's remainder, are copied as before. (The
// stores need no fence of their own: every parallel loop ends in the
// runtime's barrier, whose locked read-modify-write orders them.)

// STREAM-LABEL: func.func @cache_rows(
// STREAM-DAG: %[[C16:.*]] = arith.constant 16 : index
// STREAM-DAG: %[[C64:.*]] = arith.constant 64 : index
// STREAM: %[[TO:.*]] = memref.collapse_shape {{.*}} into memref<?x3x?xf32, strided<[?, ?, 1]>>
// STREAM: scf.parallel (%[[B:.*]], %[[H:.*]], %[[K:.*]]) =
// STREAM:   %[[BEGIN:.*]] = arith.muli %[[K]], %{{.*}}
// STREAM:   %{{.*}}, %[[OFFSET:.*]], %{{.*}}:3, %[[STRIDES:.*]]:3 = memref.extract_strided_metadata %[[TO]]
// STREAM:   arith.muli %[[B]], %[[STRIDES]]#0
// STREAM:   arith.muli %[[H]], %[[STRIDES]]#1
// STREAM:   %[[BASE:.*]] = memref.extract_aligned_pointer_as_index %[[TO]]
// STREAM:   %[[ADDRESS:.*]] = arith.addi %[[BASE]], %{{.*}}
// STREAM:   %[[REMAINDER:.*]] = arith.remui %[[ADDRESS]], %[[C16]]
// STREAM:   %[[MISALIGNED:.*]] = arith.cmpi ne, %[[REMAINDER]]
// STREAM:   scf.if %[[MISALIGNED]]
// STREAM:     memref.store
// STREAM:   } else {
// STREAM:     scf.for %[[V:.*]] = %{{.*}} to %[[C16]]
// STREAM:       %[[VALUES:.*]] = vector.load %{{.*}}[%[[B]], %[[H]], %{{.*}}] : memref<?x3x?xf32>, vector<16xf32>
// STREAM:       %[[STEP:.*]] = arith.muli %[[V]], %[[C64]]
// STREAM:       %[[AT:.*]] = arith.addi %[[ADDRESS]], %[[STEP]]
// STREAM:       %[[I64:.*]] = arith.index_cast %[[AT]] : index to i64
// STREAM:       %[[POINTER:.*]] = llvm.inttoptr %[[I64]] : i64 to !llvm.ptr
// STREAM:       llvm.store %[[VALUES]], %[[POINTER]] {alignment = 16 : i64, nontemporal} : vector<16xf32>, !llvm.ptr
// STREAM: scf.parallel
// STREAM:   memref.load
// STREAM-NOT: llvm.store
// STREAM: return
