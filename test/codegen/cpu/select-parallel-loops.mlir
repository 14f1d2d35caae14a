// RUN: kiln-opt %s -split-input-file -kiln-cpu-select-parallel-loops=min-work=1000 | FileCheck %s

// A large nest keeps its outer scf.parallel; the nested one becomes loops.
// CHECK-LABEL: func.func @large
// CHECK: scf.parallel (%{{.*}}) = (%{{.*}}) to (%{{.*}}) step
// CHECK-NOT: scf.parallel
// CHECK: scf.for
// CHECK: memref.store
func.func @large(%a: memref<100x100xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c100 = arith.constant 100 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c100) step (%c1) {
    scf.parallel (%j) = (%c0) to (%c100) step (%c1) {
      memref.store %zero, %a[%i, %j] : memref<100x100xf32>
    }
  }
  return
}

// -----

// A small nest is not worth threads: plain loops, in the same order.
// CHECK-LABEL: func.func @small
// CHECK-NOT: scf.parallel
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step
// CHECK: scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[I]], %[[J]]]
func.func @small(%a: memref<10x10xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c10 = arith.constant 10 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c10, %c10) step (%c1, %c1) {
    memref.store %zero, %a[%i, %j] : memref<10x10xf32>
  }
  return
}

// -----

// Trip counts known only at run time count as large.
// CHECK-LABEL: func.func @dynamic
// CHECK: scf.parallel
func.func @dynamic(%a: memref<?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %zero, %a[%i] : memref<?xf32>
  }
  return
}

// -----

// An elementwise nest keeps its innermost, contiguous dimension as a plain
// loop inside the parallel ones (which the OpenMP lowering collapses).
// CHECK-LABEL: func.func @elementwise
// CHECK: scf.parallel (%[[I:.*]], %[[J:.*]]) = (%{{.*}}, %{{.*}}) to (%{{.*}}, %{{.*}}) step
// CHECK-NEXT: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step
// CHECK-NEXT: memref.store %{{.*}}, %{{.*}}[%[[I]], %[[J]], %[[K]]]
func.func @elementwise(%a: memref<10x10x100xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c10 = arith.constant 10 : index
  %c100 = arith.constant 100 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%c10, %c10, %c100) step (%c1, %c1, %c1) {
    memref.store %zero, %a[%i, %j, %k] : memref<10x10x100xf32>
  }
  return
}

// -----

// With too few outer iterations to share, the nest stays whole.
// CHECK-LABEL: func.func @few_outer
// CHECK: scf.parallel (%{{.*}}, %{{.*}}) = (%{{.*}}, %{{.*}}) to (%{{.*}}, %{{.*}}) step
// CHECK-NOT: scf.for
func.func @few_outer(%a: memref<2x10000xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c10000 = arith.constant 10000 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c2, %c10000) step (%c1, %c1) {
    memref.store %zero, %a[%i, %j] : memref<2x10000xf32>
  }
  return
}

// -----

// A kernel lowering that knows its loop is worth the threads says so
// (kiln.threaded): a microkernel's few iterations each do dozens of vector
// operations, which a count of iterations misses.
// CHECK-LABEL: func.func @threaded
// CHECK: scf.parallel
func.func @threaded(%a: memref<10xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c10 = arith.constant 10 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c10) step (%c1) {
    memref.store %zero, %a[%i] : memref<10xf32>
  } {kiln.threaded}
  return
}

// -----

// Symbolic trip counts: the iterations (times the static work inside) are
// counted at run time, and the nest takes threads only when they reach
// min-work; otherwise a serial copy runs (a decode step's small kernels).
// CHECK-LABEL: func.func @symbolic
// CHECK: %[[D:.*]] = memref.dim %arg0, %c0
// CHECK: %[[TRIPS:.*]] = arith.ceildivui
// CHECK: arith.muli %{{.*}}, %[[TRIPS]]
// CHECK: %[[ENOUGH:.*]] = arith.cmpi sge, %{{.*}}, %c1000
// CHECK: scf.if %[[ENOUGH]] {
// CHECK: scf.parallel
// CHECK: scf.for
// CHECK: } else {
// CHECK-NOT: scf.parallel
// CHECK: scf.for
// CHECK: scf.for
// CHECK: memref.store
func.func @symbolic(%a: memref<?x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : f32
  %n = memref.dim %a, %c0 : memref<?x16xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%n, %c16) step (%c1, %c1) {
    memref.store %zero, %a[%i, %j] : memref<?x16xf32>
  }
  return
}
