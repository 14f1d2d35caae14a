// A reduction with a warp's worth of elements per output: one warp per
// output, lanes striding over the reduced dimensions, partial results
// combined with __shfl_xor_sync, and lane 0 folding in the initial value.
// RUN: kiln-translate --kiln-to-cuda %s | FileCheck %s

// CHECK-LABEL: void kiln_kernel_0(
// CHECK: // One warp per output: the lanes stride over its 96 elements
// CHECK: const int64_t output = int64_t(blockIdx.x) * 8 + threadIdx.x / 32;
// CHECK: if (output >= 5ll)
// CHECK: const int64_t p0 = output;
// CHECK: for (int64_t r = lane; r < 96; r += 32) {
// CHECK: const int64_t r2 = r % 32;
// CHECK: const int64_t r1 = (r / 32);
// CHECK: const float [[X:v[0-9]+]] = reinterpret_cast<float *>(input0)[p0 * 96 + r1 * 32 + r2];
// CHECK: const float [[E:v[0-9]+]] = expf([[X]]);
// CHECK: partial = r == lane ? [[E]] : kiln::cuda::maximumf(partial, [[E]]);
// CHECK: partial = kiln::cuda::maximumf(partial, __shfl_xor_sync(0xffffffffu, partial, offset));
// CHECK: if (lane == 0)
// CHECK: reinterpret_cast<float *>(output0)[p0] = kiln::cuda::maximumf(reinterpret_cast<float *>(output0)[p0], partial);
// CHECK: //   kiln_kernel_0<<<1, 256>>>
#in = affine_map<(i, j, k) -> (i, j, k)>
#out = affine_map<(i, j, k) -> (i)>
module {
  func.func @main(%weights: memref<?xi8> {kiln.weights}, %workspace: memref<?xi8> {kiln.workspace}, %x: memref<5x3x32xf32>) -> memref<5xf32> {
    %out = memref.alloc() : memref<5xf32>
    linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "reduction", "reduction"]}
        ins(%x : memref<5x3x32xf32>) outs(%out : memref<5xf32>) {
    ^bb0(%v: f32, %acc: f32):
      %e = math.exp %v : f32
      %m = arith.maximumf %e, %acc : f32
      linalg.yield %m : f32
    }
    return %out : memref<5xf32>
  }
}
