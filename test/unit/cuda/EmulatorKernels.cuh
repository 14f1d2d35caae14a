//===- EmulatorKernels.cuh - kernels the emulator tests run -----*- C++ -*-===//
//
// Compiled twice: by the host compiler into the emulator's unit tests, and
// by nvcc for the real architectures (ctest cuda-test-kernels-compile), so
// the tests exercise code that is valid CUDA.
//
//===----------------------------------------------------------------------===//

#include "kiln/cuda/device.h"

/// out[t] = what thread t + 1 wrote to shared memory: wrong without the
/// barrier, since thread t runs before thread t + 1 wrote.
__global__ void rotateThroughShared(int *out) {
  __shared__ int values[256];
  unsigned t = threadIdx.x;
  values[t] = int(t * 10 + blockIdx.x);
  __syncthreads();
  out[blockIdx.x * blockDim.x + t] = values[(t + 1) % blockDim.x];
}

/// No thread waits for another: runs without fibers.
__global__ void scaleInPlace(float *x, float factor, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n)
    x[i] *= factor;
}

/// Sums each block with shuffles; lane 0 of each warp adds its warp's sum.
__global__ void sumWithShuffles(const float *in, float *out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  float value = i < n ? in[i] : 0.0f;
  for (int offset = 16; offset > 0; offset /= 2)
    value += __shfl_down_sync(0xffffffffu, value, offset);
  if (threadIdx.x % 32 == 0)
    atomicAdd(out, value);
}

/// Each lane records what each shuffle gives it (lane ids as values).
__global__ void shuffleLanes(int *idx, int *xorOut, int *up, int *down,
                             int width) {
  int lane = threadIdx.x;
  idx[lane] = __shfl_sync(0xffffffffu, lane, 3, width);
  xorOut[lane] = __shfl_xor_sync(0xffffffffu, lane, 5, width);
  up[lane] = __shfl_up_sync(0xffffffffu, lane, 2, width);
  down[lane] = __shfl_down_sync(0xffffffffu, lane, 2, width);
}

__global__ void votes(const int *predicate, unsigned *ballot, int *all,
                      int *any) {
  int t = threadIdx.x;
  unsigned mask = __ballot_sync(0xffffffffu, predicate[t]);
  int everyone = __all_sync(0xffffffffu, predicate[t]);
  int someone = __any_sync(0xffffffffu, predicate[t]);
  if (t % 32 == 0) {
    ballot[t / 32] = mask;
    all[t / 32] = everyone;
    any[t / 32] = someone;
  }
}

/// Lanes below 16 wait for the block, the others for the warp: neither
/// barrier can ever complete.
__global__ void mismatchedBarriers(int *out) {
  if (threadIdx.x < 16)
    __syncthreads();
  else
    __syncwarp();
  out[threadIdx.x] = 1;
}

/// D = A * B + C on one warp with m16n8k8 TF32, fragments loaded and stored
/// as the PTX ISA lays them out. A is 16x8 row-major, B 8x8 stored as
/// B[k][n] row-major, C and D 16x8 row-major.
__global__ void mmaTf32Tile(const float *a, const float *b, const float *c,
                            float *d) {
  unsigned lane = threadIdx.x, g = lane / 4, t = lane % 4;
  uint32_t fa[4], fb[2];
  float fc[4], fd[4];
  for (int i = 0; i < 4; ++i)
    fa[i] = kiln::cuda::toTf32(a[(g + 8 * (i & 1)) * 8 + t + 4 * (i >= 2)]);
  for (int i = 0; i < 2; ++i)
    fb[i] = kiln::cuda::toTf32(b[(t + 4 * i) * 8 + g]);
  for (int i = 0; i < 4; ++i)
    fc[i] = c[(g + 8 * (i >= 2)) * 8 + 2 * t + (i & 1)];
  kiln::cuda::mmaTf32(fd, fa, fb, fc);
  for (int i = 0; i < 4; ++i)
    d[(g + 8 * (i >= 2)) * 8 + 2 * t + (i & 1)] = fd[i];
}

/// The same with m16n8k16 on 16-bit inputs (bits as uint16_t): A 16x16
/// row-major, B 16x8 as B[k][n] row-major.
__global__ void mma16Tile(const uint16_t *a, const uint16_t *b, const float *c,
                          float *d, bool bf16) {
  unsigned lane = threadIdx.x, g = lane / 4, t = lane % 4;
  uint32_t fa[4] = {0, 0, 0, 0}, fb[2] = {0, 0};
  float fc[4], fd[4];
  for (int j = 0; j < 8; ++j) {
    int row = g + 8 * ((j / 2) & 1), column = 2 * t + (j & 1) + 8 * (j >= 4);
    fa[j / 2] |= uint32_t(a[row * 16 + column]) << (16 * (j & 1));
  }
  for (int j = 0; j < 4; ++j) {
    int k = 2 * t + (j & 1) + 8 * (j >= 2);
    fb[j / 2] |= uint32_t(b[k * 8 + g]) << (16 * (j & 1));
  }
  for (int i = 0; i < 4; ++i)
    fc[i] = c[(g + 8 * (i >= 2)) * 8 + 2 * t + (i & 1)];
  if (bf16)
    kiln::cuda::mmaBf16(fd, fa, fb, fc);
  else
    kiln::cuda::mmaF16(fd, fa, fb, fc);
  for (int i = 0; i < 4; ++i)
    d[(g + 8 * (i >= 2)) * 8 + 2 * t + (i & 1)] = fd[i];
}

/// The same with m16n8k32 on signed bytes: A 16x32 row-major, B 32x8 as
/// B[k][n] row-major, s32 accumulators.
__global__ void mmaS8Tile(const int8_t *a, const int8_t *b, const int32_t *c,
                          int32_t *d) {
  unsigned lane = threadIdx.x, g = lane / 4, t = lane % 4;
  uint32_t fa[4] = {0, 0, 0, 0}, fb[2] = {0, 0};
  int32_t fc[4], fd[4];
  for (int j = 0; j < 16; ++j) {
    int row = g + 8 * ((j / 4) & 1), column = 4 * t + (j & 3) + 16 * (j >= 8);
    fa[j / 4] |= uint32_t(uint8_t(a[row * 32 + column])) << (8 * (j & 3));
  }
  for (int j = 0; j < 8; ++j) {
    int k = 4 * t + (j & 3) + 16 * (j >= 4);
    fb[j / 4] |= uint32_t(uint8_t(b[k * 8 + g])) << (8 * (j & 3));
  }
  for (int i = 0; i < 4; ++i)
    fc[i] = c[(g + 8 * (i >= 2)) * 8 + 2 * t + (i & 1)];
  kiln::cuda::mmaS8(fd, fa, fb, fc);
  for (int i = 0; i < 4; ++i)
    d[(g + 8 * (i >= 2)) * 8 + 2 * t + (i & 1)] = fd[i];
}

/// Four 8x8 matrices of 16-bit values through shared memory and ldmatrix;
/// out[lane * 4 + m] is register m of each lane.
__global__ void loadMatrices(const uint16_t *in, uint32_t *out) {
  __shared__ uint16_t tile[4 * 64];
  unsigned lane = threadIdx.x;
  for (int i = lane; i < 4 * 64; i += 32)
    tile[i] = in[i];
  __syncthreads();
  uint32_t r[4];
  kiln::cuda::ldmatrixX4(r, &tile[(lane / 8) * 64 + (lane % 8) * 8]);
  for (int m = 0; m < 4; ++m)
    out[lane * 4 + m] = r[m];
}

/// Staged through shared memory with cp.async, 16 bytes per thread.
__global__ void copyAsync(const float *in, float *out) {
  __shared__ __attribute__((aligned(16))) float staged[128];
  unsigned t = threadIdx.x;
  kiln::cuda::cpAsync16(&staged[4 * t], &in[4 * t]);
  kiln::cuda::cpAsyncCommit();
  kiln::cuda::cpAsyncWaitAll();
  __syncthreads();
  for (int i = 0; i < 4; ++i)
    out[4 * t + i] = staged[(4 * t + 4 + i) % 128];
}

/// Two groups of cp.async in flight, then waits for all but the newest:
/// each thread records what its staging area holds after each wait. On
/// the emulator the second group lands only at the final wait.
__global__ void copyAsyncGroups(const float *in, float *out) {
  __shared__ __attribute__((aligned(16))) float staged[32][8];
  unsigned t = threadIdx.x;
  for (int i = 0; i < 8; ++i)
    staged[t][i] = -1.0f;
  kiln::cuda::cpAsync16(&staged[t][0], &in[8 * t]);
  kiln::cuda::cpAsyncCommit();
  kiln::cuda::cpAsync16(&staged[t][4], &in[8 * t + 4]);
  kiln::cuda::cpAsyncCommit();
  kiln::cuda::cpAsyncWait<1>();
  for (int i = 0; i < 8; ++i)
    out[16 * t + i] = staged[t][i];
  kiln::cuda::cpAsyncWait<0>();
  for (int i = 0; i < 8; ++i)
    out[16 * t + 8 + i] = staged[t][i];
}

#ifndef __CUDACC__
KILN_EMU_ENTRY(rotateThroughShared, rotateThroughSharedEntry)
KILN_EMU_ENTRY(scaleInPlace, scaleInPlaceEntry)
KILN_EMU_ENTRY(sumWithShuffles, sumWithShufflesEntry)
KILN_EMU_ENTRY(shuffleLanes, shuffleLanesEntry)
KILN_EMU_ENTRY(votes, votesEntry)
KILN_EMU_ENTRY(mismatchedBarriers, mismatchedBarriersEntry)
KILN_EMU_ENTRY(mmaTf32Tile, mmaTf32TileEntry)
KILN_EMU_ENTRY(mma16Tile, mma16TileEntry)
KILN_EMU_ENTRY(mmaS8Tile, mmaS8TileEntry)
KILN_EMU_ENTRY(loadMatrices, loadMatricesEntry)
KILN_EMU_ENTRY(copyAsync, copyAsyncEntry)
KILN_EMU_ENTRY(copyAsyncGroups, copyAsyncGroupsEntry)
#endif
