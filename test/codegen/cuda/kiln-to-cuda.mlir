// The kernel emitter: a top-level parallel loop becomes a kernel with one
// thread per iteration (last dimension fastest), views become address
// arithmetic on the kernel parameters, and other loops run in a
// single-thread kernel.
// RUN: kiln-translate --kiln-to-cuda %s | FileCheck %s

// CHECK: #include "kiln/cuda/device.h"
// CHECK-LABEL: extern "C" __global__ void kiln_kernel_0(unsigned char *weights, unsigned char *workspace, unsigned char *input0, unsigned char *output0) {
// CHECK: if (thread >= 6ll)
// CHECK: const int64_t [[J:i[0-9]+]] = thread % 3;
// CHECK: const int64_t [[I:i[0-9]+]] = (thread / 3);
// CHECK: const float [[X:v[0-9]+]] = reinterpret_cast<float *>(input0)[[[I]] * 3 + [[J]]];
// CHECK: const float [[W:v[0-9]+]] = reinterpret_cast<float *>((weights + 64))[[[J]]];
// CHECK: const float [[S:v[0-9]+]] = ([[X]] + [[W]]);
// CHECK: const float [[R:v[0-9]+]] = kiln::cuda::maximumf([[S]], 0x0p+0f);
// CHECK: reinterpret_cast<float *>((workspace + 128))[[[I]] * 3 + [[J]]] = [[R]];
// CHECK: KILN_EMU_ENTRY(kiln_kernel_0, kiln_kernel_0_emulated)

// CHECK-LABEL: void kiln_kernel_1(
// CHECK: // One thread: loops with dependences between iterations.
// CHECK: for (int64_t [[K:i[0-9]+]] = 1; [[K]] < 2; [[K]] += 1) {
// CHECK: reinterpret_cast<uint16_t *>(output0)[[[K]] * 3] = kiln::cuda::floatToBf16(

// CHECK: //   kiln_kernel_0<<<1, 32>>>
// CHECK: //   kiln_kernel_1<<<1, 1>>>
// CHECK: extern "C" const unsigned kiln_emu_kernel_count = 2;
module {
  func.func @main(%weights: memref<?xi8> {kiln.weights}, %workspace: memref<?xi8> {kiln.workspace}, %x: memref<2x3xf32>) -> memref<2x3xbf16> {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %c64 = arith.constant 64 : index
    %c128 = arith.constant 128 : index
    %zero = arith.constant 0.0 : f32
    %bias = memref.view %weights[%c64][] : memref<?xi8> to memref<3xf32>
    %tmp = memref.view %workspace[%c128][] : memref<?xi8> to memref<2x3xf32>
    %out = memref.alloc() : memref<2x3xbf16>
    scf.parallel (%i, %j) = (%c0, %c0) to (%c2, %c3) step (%c1, %c1) {
      %a = memref.load %x[%i, %j] : memref<2x3xf32>
      %b = memref.load %bias[%j] : memref<3xf32>
      %s = arith.addf %a, %b : f32
      %r = arith.maximumf %s, %zero : f32
      memref.store %r, %tmp[%i, %j] : memref<2x3xf32>
      scf.reduce
    }
    scf.for %k = %c1 to %c2 step %c1 {
      %prev = arith.subi %k, %c1 : index
      %p = memref.load %tmp[%prev, %c0] : memref<2x3xf32>
      %t = arith.truncf %p : f32 to bf16
      memref.store %t, %out[%k, %c0] : memref<2x3xbf16>
    }
    return %out : memref<2x3xbf16>
  }
}
