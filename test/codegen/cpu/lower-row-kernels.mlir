// RUN: kiln-opt %s -split-input-file -kiln-cpu-lower-row-kernels -canonicalize | FileCheck %s

// Rows of 40 in parallel: two full 16-lane vectors and a masked tail of 8
// per sweep; the layer norm sweeps three times (mean, variance, output).
// CHECK-LABEL: func.func @layer_norm
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c6) step (%c1)
// CHECK: scf.for {{.*}} = %c0 to %c32 step %c16 iter_args({{.*}}) -> (vector<16xf32>)
// CHECK: vector.constant_mask [8] : vector<16xi1>
// CHECK: vector.reduction <add>
// CHECK: vector.fma
// CHECK: vector.reduction <add>
// CHECK: math.rsqrt
// CHECK: scf.for {{.*}} = %c0 to %c32 step %c16
// CHECK: vector.store
// CHECK: vector.maskedstore
func.func @layer_norm(%x: memref<2x3x40xf32>, %s: memref<40xf32>, %b: memref<40xf32>, %y: memref<2x3x40xf32>) {
  kiln.layer_norm %x, %s, %b into %y {epsilon = 1.0e-5 : f32} : memref<2x3x40xf32>, memref<40xf32>, memref<40xf32> into memref<2x3x40xf32>
  return
}

// -----

// Softmax: the row's maximum, then the exponentials (stored, summed with
// the tail masked out), then the scaling.
// CHECK-LABEL: func.func @softmax
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c4) step (%c1)
// CHECK: vector.reduction <maximumf>
// CHECK: math.exp
// CHECK: vector.maskedstore
// CHECK: arith.select
// CHECK: vector.reduction <add>
// CHECK: arith.mulf
func.func @softmax(%x: memref<4x20xf32>, %y: memref<4x20xf32>) {
  kiln.softmax %x into %y : memref<4x20xf32> into memref<4x20xf32>
  return
}

// -----

// Softmax over symbolic rows and lengths (an LLM's scores): the rows and
// their length come from the buffer's sizes (the threads are chosen at run
// time), whole vectors run to the last multiple of 16 and the tail is
// masked (no lanes when there is none).
// CHECK-LABEL: func.func @softmax_symbolic
// CHECK: %[[LENGTH:.*]] = memref.dim %{{.*}}, %c2
// CHECK: %[[ROWS:.*]] = arith.divui %{{.*}}, %[[LENGTH]]
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%[[ROWS]]) step (%c1)
// CHECK: %[[WHOLE:.*]] = arith.muli %{{.*}}, %c16
// CHECK: scf.for %{{.*}} = %c0 to %[[WHOLE]] step %c16
// CHECK: %[[TAIL:.*]] = arith.subi %[[LENGTH]], %[[WHOLE]]
// CHECK: vector.create_mask %[[TAIL]]
// CHECK: vector.reduction <maximumf>
// CHECK: math.exp
// CHECK: vector.reduction <add>
// CHECK-NOT: kiln.threaded
func.func @softmax_symbolic(%x: memref<1x?x?xf32>, %y: memref<1x?x?xf32>) {
  kiln.softmax %x into %y : memref<1x?x?xf32> into memref<1x?x?xf32>
  return
}

// -----

// The rows' largest magnitudes: one sweep of vector maxima of |x| (here
// one whole vector, then the masked tail, which reads zeros), reduced and
// stored per row.
// CHECK-LABEL: func.func @row_abs_max
// CHECK: scf.parallel (%[[ROW:.*]]) = (%c0) to (%c4) step (%c1)
// CHECK: %[[X:.*]] = vector.load
// CHECK: %[[ABS:.*]] = math.absf %[[X]] : vector<16xf32>
// CHECK: arith.maximumf {{.*}}%[[ABS]]{{.*}} : vector<16xf32>
// CHECK: vector.maskedload {{.*}}, %cst : memref<80xf32>, vector<16xi1>, vector<16xf32> into vector<16xf32>
// CHECK: %[[M:.*]] = vector.reduction <maximumf>
// CHECK: memref.store %[[M]], %{{.*}}[%[[ROW]]] : memref<4xf32>
func.func @row_abs_max(%x: memref<4x20xf32>, %y: memref<4x1xf32>) {
  kiln.row_abs_max %x into %y : memref<4x20xf32> into memref<4x1xf32>
  return
}
