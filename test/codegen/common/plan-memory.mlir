// RUN: kiln-opt %s -split-input-file -kiln-plan-memory | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-plan-memory=plan-results=true | FileCheck %s --check-prefix=RESULTS

// Buffers whose lifetimes overlap get disjoint offsets; a buffer allocated
// after another is freed reuses its bytes. The returned buffer (never
// freed here) stays an allocation.
// CHECK: module attributes {kiln.dynamic_buffers = 1 : i64, kiln.workspace_bytes = 2048 : i64}
// CHECK-LABEL: func.func @main(
// CHECK-SAME: %[[W:.*]]: memref<?xi8> {kiln.weights}, %[[S:.*]]: memref<?xi8> {kiln.workspace}, %{{.*}}: memref<256xf32>)
// CHECK: %[[O0:.*]] = arith.constant 0 : index
// CHECK: %[[A:.*]] = memref.view %[[S]][%[[O0]]][] : memref<?xi8> to memref<256xf32>
// CHECK: %[[O1:.*]] = arith.constant 1024 : index
// CHECK: %[[B:.*]] = memref.view %[[S]][%[[O1]]][] : memref<?xi8> to memref<256xf32>
// CHECK: %[[O2:.*]] = arith.constant 0 : index
// CHECK: %[[C:.*]] = memref.view %[[S]][%[[O2]]][] : memref<?xi8> to memref<64xf32>
// CHECK: memref.alloc() : memref<4xf32>
// CHECK-NOT: memref.dealloc
func.func @main(%w: memref<?xi8> {kiln.weights}, %x: memref<256xf32>) -> memref<4xf32> {
  %a = memref.alloc() : memref<256xf32>
  %b = memref.alloc() : memref<256xf32>
  memref.copy %x, %a : memref<256xf32> to memref<256xf32>
  memref.copy %a, %b : memref<256xf32> to memref<256xf32>
  memref.dealloc %a : memref<256xf32>
  memref.dealloc %b : memref<256xf32>
  %c = memref.alloc() : memref<64xf32>
  memref.dealloc %c : memref<64xf32>
  %r = memref.alloc() : memref<4xf32>
  return %r : memref<4xf32>
}

// With plan-results the returned buffer is placed too, live to the end:
// it takes the first free bytes after the buffers alive with it.
// RESULTS: module attributes {kiln.dynamic_buffers = 0 : i64, kiln.workspace_bytes = 2048 : i64}
// RESULTS-LABEL: func.func @main(
// RESULTS: %[[R:.*]] = memref.view %{{.*}}[%{{.*}}][] : memref<?xi8> to memref<4xf32>
// RESULTS-NOT: memref.alloc
// RESULTS: return %[[R]]

// -----

// A result returned through a view of its buffer is placed as well.
// RESULTS: kiln.dynamic_buffers = 0 : i64, kiln.workspace_bytes = 64 : i64
// RESULTS: %[[V:.*]] = memref.view {{.*}} to memref<4x4xf32>
// RESULTS: %[[F:.*]] = memref.collapse_shape %[[V]]
// RESULTS: return %[[F]]
// CHECK: kiln.dynamic_buffers = 1 : i64, kiln.workspace_bytes = 0 : i64
func.func @main(%w: memref<?xi8> {kiln.weights}) -> memref<16xf32> {
  %r = memref.alloc() : memref<4x4xf32>
  %f = memref.collapse_shape %r [[0, 1]] : memref<4x4xf32> into memref<16xf32>
  return %f : memref<16xf32>
}

// -----

// A buffer whose size is known only at run time is left to run time.
// CHECK: kiln.dynamic_buffers = 1 : i64, kiln.workspace_bytes = 0 : i64
// CHECK: memref.alloc(%{{.*}}) : memref<?xf32>
// CHECK: memref.dealloc
func.func @main(%w: memref<?xi8> {kiln.weights}, %n: index) {
  %a = memref.alloc(%n) : memref<?xf32>
  memref.dealloc %a : memref<?xf32>
  return
}

// -----

// A buffer lives to its last use, through views of it, not to its
// dealloc: the deallocation passes free everything at the end. %a is last
// read (through its view) before %c is allocated, so %c takes its bytes;
// %b, allocated early and read late, keeps its own.
// CHECK-LABEL: module attributes {kiln.dynamic_buffers = 0 : i64, kiln.workspace_bytes = 2048 : i64}
// CHECK: %[[OA:.*]] = arith.constant 0 : index
// CHECK: memref.view %{{.*}}[%[[OA]]][] : memref<?xi8> to memref<256xf32>
// CHECK: %[[OB:.*]] = arith.constant 1024 : index
// CHECK: memref.view %{{.*}}[%[[OB]]][] : memref<?xi8> to memref<256xf32>
// CHECK: %[[OC:.*]] = arith.constant 0 : index
// CHECK: memref.view %{{.*}}[%[[OC]]][] : memref<?xi8> to memref<16x16xf32>
func.func @main(%w: memref<?xi8> {kiln.weights}, %x: memref<256xf32>, %t: memref<16x16xf32>, %y: memref<256xf32>) {
  %a = memref.alloc() : memref<256xf32>
  %b = memref.alloc() : memref<256xf32>
  memref.copy %x, %a : memref<256xf32> to memref<256xf32>
  %a2 = memref.expand_shape %a [[0, 1]] output_shape [16, 16] : memref<256xf32> into memref<16x16xf32>
  memref.copy %a2, %t : memref<16x16xf32> to memref<16x16xf32>
  %c = memref.alloc() : memref<16x16xf32>
  memref.copy %t, %c : memref<16x16xf32> to memref<16x16xf32>
  %c1 = memref.collapse_shape %c [[0, 1]] : memref<16x16xf32> into memref<256xf32>
  memref.copy %c1, %b : memref<256xf32> to memref<256xf32>
  memref.copy %b, %y : memref<256xf32> to memref<256xf32>
  memref.dealloc %a : memref<256xf32>
  memref.dealloc %b : memref<256xf32>
  memref.dealloc %c : memref<16x16xf32>
  return
}

// -----

// A buffer sized at run time stays an allocation, freed right after its
// last use (through a view) rather than where the deallocation passes put
// it, at the end of the function.
// CHECK-LABEL: module attributes {kiln.dynamic_buffers = 1 : i64
// CHECK: %[[A:.*]] = memref.alloc(%{{.*}}) : memref<?xf32>
// CHECK: %[[V:.*]] = memref.expand_shape %[[A]]
// CHECK-NEXT: memref.copy %[[V]], %{{.*}}
// CHECK-NEXT: memref.dealloc %[[A]]
// CHECK-NEXT: memref.copy %{{.*}}, %{{.*}} : memref<?xf32> to memref<?xf32>
// CHECK-NEXT: return
func.func @main(%w: memref<?xi8> {kiln.weights}, %x: memref<?xf32>, %y: memref<1x?xf32>, %z: memref<?xf32>, %n: index) {
  %a = memref.alloc(%n) : memref<?xf32>
  memref.copy %x, %a : memref<?xf32> to memref<?xf32>
  %v = memref.expand_shape %a [[0, 1]] output_shape [1, %n] : memref<?xf32> into memref<1x?xf32>
  memref.copy %v, %y : memref<1x?xf32> to memref<1x?xf32>
  memref.copy %x, %z : memref<?xf32> to memref<?xf32>
  memref.dealloc %a : memref<?xf32>
  return
}
