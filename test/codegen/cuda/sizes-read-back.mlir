// A buffer sized by data the kernels computed (as SparseRefine's count of
// tiles): a serial kernel writes the count into the workspace, the host
// reads it back once that kernel is done, then allocates the buffer and
// sizes the next kernel's grid by it. A load used only inside a kernel
// stays a device read there.
// RUN: kiln-translate --kiln-to-cuda %s | FileCheck %s

func.func @main(%weights: memref<?xi8> {kiln.weights}, %workspace: memref<?xi8> {kiln.workspace}, %x: memref<16xf32>) -> memref<16xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : f32
  %table = memref.view %workspace[%c8][] : memref<?xi8> to memref<2xi32>
  // The count of positive entries, by one thread.
  %count = scf.for %i = %c0 to %c16 step %c1 iter_args(%n = %c0) -> (index) {
    %v = memref.load %x[%i] : memref<16xf32>
    %positive = arith.cmpf ogt, %v, %zero : f32
    %next = arith.addi %n, %c1 : index
    %counted = arith.select %positive, %next, %n : index
    scf.yield %counted : index
  }
  %stored = arith.index_cast %count : index to i32
  memref.store %stored, %table[%c1] : memref<2xi32>
  %read = memref.load %table[%c1] : memref<2xi32>
  %rows = arith.index_cast %read : i32 to index
  %rows_buffer = memref.alloc(%rows) : memref<?xf32>
  scf.parallel (%i) = (%c0) to (%rows) step (%c1) {
    memref.store %zero, %rows_buffer[%i] : memref<?xf32>
    scf.reduce
  }
  %out = memref.alloc() : memref<16xf32>
  scf.parallel (%i) = (%c0) to (%c16) step (%c1) {
    %n = memref.load %table[%c1] : memref<2xi32>
    %f = arith.sitofp %n : i32 to f32
    memref.store %f, %out[%i] : memref<16xf32>
    scf.reduce
  }
  memref.dealloc %rows_buffer : memref<?xf32>
  return %out : memref<16xf32>
}

// CHECK: __global__ void kiln_kernel_0(
// CHECK: reinterpret_cast<int32_t *>((buffer1 + 8))[1] =
// The zeroing kernel takes the count as its size.
// CHECK: __global__ void kiln_kernel_1(int64_t [[ROWS:size[0-9]+]],
// CHECK: if (thread >= [[ROWS]])
// The last kernel reads the count from the table itself.
// CHECK: __global__ void kiln_kernel_2(
// CHECK: = reinterpret_cast<int32_t *>((buffer1 + 8))[1];

// CHECK: // Host steps
// CHECK: //   kiln_kernel_0<<<(1, 1, 1)>>>
// CHECK-NEXT: //   [[N:s[0-9]+]] = read the i32 at byte 12 of s1 from the device
// CHECK: //   {{s[0-9]+}} = allocate {{s[0-9]+}} bytes
// CHECK: //   kiln_kernel_1<<<
