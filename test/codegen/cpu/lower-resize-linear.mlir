// RUN: kiln-opt %s -split-input-file -kiln-cpu-lower-resize-linear | FileCheck %s

// A task per output row of every plane (2 * 3 * 4); each row reads its two
// source rows and weight, each element its two columns and weight, then
// blends four values with three fused multiply-adds.
// CHECK-LABEL: func.func @resize
// CHECK: scf.parallel (%[[ROW:.*]]) = (%{{.*}}) to (%c24{{.*}}) step
// CHECK: memref.load %arg1
// CHECK: memref.load %arg2
// CHECK: scf.for
// CHECK: memref.load %arg3
// CHECK: memref.load %arg4
// CHECK-COUNT-3: math.fma
// CHECK: memref.store
func.func @resize(%x: memref<2x3x5x7xf32>, %r: memref<8xi32>, %rw: memref<4xf32>, %c: memref<18xi32>, %cw: memref<9xf32>, %y: memref<2x3x4x9xf32>) {
  kiln.resize_linear %x, %r, %rw, %c, %cw into %y : memref<2x3x5x7xf32>, memref<8xi32>, memref<4xf32>, memref<18xi32>, memref<9xf32> into memref<2x3x4x9xf32>
  return
}

// -----

// Symbolic height and width: rows and columns counted at run time.
// CHECK-LABEL: func.func @symbolic
// CHECK: %[[OH:.*]] = memref.dim %arg5, %c2{{.*}}
// CHECK: %[[OW:.*]] = memref.dim %arg5, %c3{{.*}}
// CHECK: %[[ROWS:.*]] = arith.muli %[[OH]], %{{.*}}
// CHECK: scf.parallel (%{{.*}}) = (%{{.*}}) to (%[[ROWS]])
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[OW]]
func.func @symbolic(%x: memref<1x2x?x?xf32>, %rows: memref<?xi32>, %rw: memref<?xf32>, %cols: memref<?xi32>, %cw: memref<?xf32>, %y: memref<1x2x?x?xf32>) {
  kiln.resize_linear %x, %rows, %rw, %cols, %cw into %y : memref<1x2x?x?xf32>, memref<?xi32>, memref<?xf32>, memref<?xi32>, memref<?xf32> into memref<1x2x?x?xf32>
  return
}

// -----

// A symbolic batch (SparseRefine's windows): planes counted at run time.
// CHECK-LABEL: func.func @symbolic_batch
// CHECK: %[[N:.*]] = memref.dim %arg5, %c0{{.*}}
// CHECK: %[[PLANES:.*]] = arith.muli %[[N]], %c2{{.*}}
// CHECK: %[[ROWS:.*]] = arith.muli %[[PLANES]], %c4{{.*}}
// CHECK: scf.parallel (%{{.*}}) = (%{{.*}}) to (%[[ROWS]])
func.func @symbolic_batch(%x: memref<?x2x3x4xf32>, %r: memref<8xi32>, %rw: memref<4xf32>, %c: memref<16xi32>, %cw: memref<8xf32>, %y: memref<?x2x4x8xf32>) {
  kiln.resize_linear %x, %r, %rw, %c, %cw into %y : memref<?x2x3x4xf32>, memref<8xi32>, memref<4xf32>, memref<16xi32>, memref<8xf32> into memref<?x2x4x8xf32>
  return
}
