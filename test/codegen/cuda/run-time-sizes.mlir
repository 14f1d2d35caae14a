// A model whose batch is known only at run time: the host computes the
// sizes from the input's dimension, allocates the intermediate and the
// output, and launches kernels whose grids and parameters are slots.
// RUN: kiln-translate --kiln-to-cuda %s | FileCheck %s

func.func @main(%weights: memref<?xi8> {kiln.weights}, %workspace: memref<?xi8> {kiln.workspace}, %x: memref<?x4xf32>) -> memref<?x8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %n = memref.dim %x, %c0 : memref<?x4xf32>
  %tmp = memref.alloc(%n) : memref<?x4xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%n, %c4) step (%c1, %c1) {
    %v = memref.load %x[%i, %j] : memref<?x4xf32>
    %d = arith.addf %v, %v : f32
    memref.store %d, %tmp[%i, %j] : memref<?x4xf32>
    scf.reduce
  }
  %out = memref.alloc(%n) : memref<?x8xf32>
  %left = memref.subview %out[0, 0] [%n, 4] [1, 1] : memref<?x8xf32> to memref<?x4xf32, strided<[8, 1]>>
  memref.copy %tmp, %left : memref<?x4xf32> to memref<?x4xf32, strided<[8, 1]>>
  %right = memref.subview %out[0, 4] [%n, 4] [1, 1] : memref<?x8xf32> to memref<?x4xf32, strided<[8, 1], offset: 4>>
  memref.copy %x, %right : memref<?x4xf32> to memref<?x4xf32, strided<[8, 1], offset: 4>>
  memref.dealloc %tmp : memref<?x4xf32>
  return %out : memref<?x8xf32>
}

// Kernels take the slots they use: buffer<slot> and size<slot>.
// CHECK: __global__ void kiln_kernel_0(int64_t [[TOTAL:size[0-9]+]], {{.*}}unsigned char *[[X:buffer2]], unsigned char *[[TMP:buffer[0-9]+]])
// CHECK: if (thread >= [[TOTAL]])
// CHECK: reinterpret_cast<float *>([[TMP]])[i1 * 4 + i0] = v3;
// CHECK: __global__ void kiln_kernel_1(int64_t [[ELEMENTS:size[0-9]+]], {{.*}}unsigned char *[[OUT:buffer[0-9]+]], unsigned char *[[TMP]])
// CHECK: reinterpret_cast<float *>([[OUT]])[d0 * 8 + d1] = reinterpret_cast<float *>([[TMP]])[d0 * 4 + d1];
// CHECK: __global__ void kiln_kernel_2(int64_t [[ELEMENTS]], {{.*}}unsigned char *[[OUT]], unsigned char *[[X]])
// CHECK: reinterpret_cast<float *>([[OUT]])[4 + d0 * 8 + d1] = reinterpret_cast<float *>([[X]])[d0 * 4 + d1];

// The host steps: sizes from the input's first dimension, the intermediate
// allocated and freed after its last kernel, the output's shape.
// CHECK: // Host steps
// CHECK-NEXT: // buffer<n> and size<n>
// CHECK-NEXT: //   [[N:s[0-9]+]] = dimension 0 of input 0
// CHECK-NEXT: //   [[ROW:s[0-9]+]] = 4 * [[N]] (i64)
// CHECK-NEXT: //   [[BYTES:s[0-9]+]] = 4 * [[ROW]] (i64)
// CHECK-NEXT: //   [[TMPSLOT:s[0-9]+]] = allocate [[BYTES]] bytes
// CHECK:      //   kiln_kernel_0<<<({{s[0-9]+}}, 1, 1)>>>
// CHECK:      //   {{s[0-9]+}} = allocate output 0, {{s[0-9]+}} bytes
// CHECK:      //   kiln_kernel_1<<<
// CHECK-NEXT: //   kiln_kernel_2<<<
// CHECK-NEXT: //   free [[TMPSLOT]]
// CHECK-NEXT: //   output 0 has shape ([[N]], 8)
