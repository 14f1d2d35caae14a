// RUN: kiln-opt %s --kiln-forward-scalar-stores --split-input-file | FileCheck %s

// An exporter's shape arithmetic: the dimension stored, read back through a
// subview and added; the buffer, written only, disappears.
// CHECK-LABEL: func.func @shape_arithmetic
// CHECK-SAME: (%[[X:.*]]: memref<?x2x?x16xf32>, %[[WS:.*]]: memref<?xi8>)
// CHECK: %[[DIM:.*]] = memref.dim %[[X]], %c2
// CHECK: %[[D:.*]] = arith.index_cast %[[DIM]] : index to i64
// CHECK-NOT: memref.view
// CHECK-NOT: memref.store
// CHECK-NOT: memref.load
// CHECK: %[[SUM:.*]] = arith.addi %[[D]], %c1_i64
// CHECK: return %[[SUM]]
func.func @shape_arithmetic(%x: memref<?x2x?x16xf32>, %ws: memref<?xi8>) -> i64 {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  %one = arith.constant 1 : i64
  %dim = memref.dim %x, %c2 : memref<?x2x?x16xf32>
  %d = arith.index_cast %dim : index to i64
  %shape = memref.view %ws[%c64][] : memref<?xi8> to memref<4xi64>
  memref.store %d, %shape[%c2] : memref<4xi64>
  memref.store %one, %shape[%c0] : memref<4xi64>
  %element = memref.subview %shape[2] [1] [1] : memref<4xi64> to memref<i64, strided<[], offset: 2>>
  %v = memref.load %element[] : memref<i64, strided<[], offset: 2>>
  %sum = arith.addi %v, %one : i64
  return %sum : i64
}

// -----

// A loop nest that writes the buffer between the store and the load keeps
// the load; one that writes another buffer does not.
// CHECK-LABEL: func.func @written_between
// CHECK: scf.for
// CHECK: %[[KEPT:.*]] = memref.load %{{.*}}[%c0] : memref<2xi64>
// CHECK: return %[[KEPT]], %c7_i64
func.func @written_between(%out: memref<8xi64>) -> (i64, i64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %seven = arith.constant 7 : i64
  %buffer = memref.alloc() : memref<2xi64>
  memref.store %seven, %buffer[%c0] : memref<2xi64>
  memref.store %seven, %buffer[%c1] : memref<2xi64>
  scf.for %i = %c0 to %c2 step %c1 {
    %v = arith.index_cast %i : index to i64
    memref.store %v, %buffer[%i] : memref<2xi64>
    memref.store %v, %out[%i] : memref<8xi64>
  }
  %a = memref.load %buffer[%c0] : memref<2xi64>
  %other = memref.alloc() : memref<2xi64>
  memref.store %seven, %other[%c1] : memref<2xi64>
  scf.for %i = %c0 to %c2 step %c1 {
    %v = arith.index_cast %i : index to i64
    memref.store %v, %out[%i] : memref<8xi64>
  }
  %b = memref.load %other[%c1] : memref<2xi64>
  memref.dealloc %buffer : memref<2xi64>
  memref.dealloc %other : memref<2xi64>
  return %a, %b : i64, i64
}

// -----

// Concat of shape pieces: copies of whole small buffers are followed to the
// stored values and to constant globals; a load inside a loop nest that does
// not write the buffer reads what was stored before it.
memref.global "private" constant @sixteen : memref<1xi64> = dense<16>
// CHECK-LABEL: func.func @copied_pieces
// CHECK-SAME: (%[[N:.*]]: i64, %[[OUT:.*]]: memref<4xi64>)
// CHECK-NOT: memref.alloc
// CHECK: scf.for
// CHECK: memref.store %[[N]], %[[OUT]]
// CHECK: %[[C16:.*]] = arith.constant 16 : i64
// CHECK: return %[[C16]]
func.func @copied_pieces(%n: i64, %out: memref<4xi64>) -> i64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %piece = memref.alloc() : memref<1xi64>
  memref.store %n, %piece[%c0] : memref<1xi64>
  %shape = memref.alloc() : memref<2xi64>
  %first = memref.subview %shape[0] [1] [1] : memref<2xi64> to memref<1xi64, strided<[1]>>
  memref.copy %piece, %first : memref<1xi64> to memref<1xi64, strided<[1]>>
  %constant = memref.get_global @sixteen : memref<1xi64>
  %second = memref.subview %shape[1] [1] [1] : memref<2xi64> to memref<1xi64, strided<[1], offset: 1>>
  memref.copy %constant, %second : memref<1xi64> to memref<1xi64, strided<[1], offset: 1>>
  %copy = memref.alloc() : memref<2xi64>
  memref.copy %shape, %copy : memref<2xi64> to memref<2xi64>
  scf.for %i = %c0 to %c1 step %c1 {
    %v = memref.load %copy[%c0] : memref<2xi64>
    memref.store %v, %out[%i] : memref<4xi64>
  }
  %last = memref.load %copy[%c1] : memref<2xi64>
  memref.dealloc %piece : memref<1xi64>
  memref.dealloc %shape : memref<2xi64>
  memref.dealloc %copy : memref<2xi64>
  return %last : i64
}

// -----

// Loads at indices known only at run time, or of input buffers, stay.
// CHECK-LABEL: func.func @unknown
// CHECK: memref.store
// CHECK: %[[A:.*]] = memref.load %{{.*}}[%arg1]
// CHECK: %[[B:.*]] = memref.load %arg0[%c0]
// CHECK: return %[[A]], %[[B]]
func.func @unknown(%input: memref<2xi64>, %i: index) -> (i64, i64) {
  %c0 = arith.constant 0 : index
  %seven = arith.constant 7 : i64
  %buffer = memref.alloc() : memref<2xi64>
  memref.store %seven, %buffer[%c0] : memref<2xi64>
  %a = memref.load %buffer[%i] : memref<2xi64>
  %b = memref.load %input[%c0] : memref<2xi64>
  memref.dealloc %buffer : memref<2xi64>
  return %a, %b : i64, i64
}

// -----

// Values read from memory are not forwarded: a target may compute a
// forwarded value again later, when the memory it came from has changed.
// CHECK-LABEL: func.func @from_memory
// CHECK: %[[SUM:.*]] = memref.load %arg0[]
// CHECK: memref.store %[[SUM]], %[[ACC:.*]][]
// CHECK: %[[READ:.*]] = memref.load %[[ACC]][]
// CHECK: return %[[READ]]
func.func @from_memory(%input: memref<f32>) -> f32 {
  %sum = memref.load %input[] : memref<f32>
  %acc = memref.alloc() : memref<f32>
  memref.store %sum, %acc[] : memref<f32>
  %read = memref.load %acc[] : memref<f32>
  memref.dealloc %acc : memref<f32>
  return %read : f32
}

// -----

// A value read from an argument nothing in the function writes (a session
// cache's length) reads the same wherever it is read again: arithmetic on
// it is forwarded like a dimension's. One read from a buffer the function
// writes is not.
// CHECK-LABEL: func.func @read_only_argument
// CHECK: %[[LENGTH:.*]] = memref.load %arg0[] : memref<i64>
// CHECK: %[[NEXT:.*]] = arith.addi %[[LENGTH]], %c1_i64
// CHECK: %[[WRITTEN:.*]] = memref.load %arg1[%c0] : memref<2xi64>
// CHECK: memref.store %[[WRITTEN]], %[[SHAPE:.*]][%c1]
// CHECK: %[[KEPT:.*]] = memref.load %[[SHAPE]][%c1]
// CHECK: return %[[NEXT]], %[[KEPT]]
func.func @read_only_argument(%length: memref<i64>, %state: memref<2xi64>) -> (i64, i64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1 : i64
  %cached = memref.load %length[] : memref<i64>
  %next = arith.addi %cached, %one : i64
  %shape = memref.alloc() : memref<2xi64>
  memref.store %next, %shape[%c0] : memref<2xi64>
  %written = memref.load %state[%c0] : memref<2xi64>
  memref.store %written, %shape[%c1] : memref<2xi64>
  memref.store %next, %state[%c1] : memref<2xi64>
  %a = memref.load %shape[%c0] : memref<2xi64>
  %b = memref.load %shape[%c1] : memref<2xi64>
  return %a, %b : i64, i64
}
