//===- attention.h - the fused attention kernel -----------------*- C++ -*-===//
//
// kiln.attention on CUDA: softmax(scale * q . k + mask) . v for a tile of
// query rows of one head in one pass over the keys, so the S x T scores
// never reach memory and each key and value row is read once per tile (the
// query heads of a grouped-query head are rows of one tile: they share the
// reads).
//
// A block of kAttentionWarps warps takes kAttentionRows query rows. Each
// warp takes chunks of 32 keys in turn: a lane per key computes its scores
// (its key row read with 16-byte loads where the rows allow), the warp
// folds the chunk into its running maxima and sums (an online softmax),
// and its lanes then take the value rows a channel each, weighted by the
// chunk's exponentials from shared memory. The warps' partial results are
// combined at the end. Keys may come through a table of pages (Quest):
// every listed page is full but the last, which holds the keys up to T.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CUDA_ATTENTION_H
#define KILN_CUDA_ATTENTION_H

#include "kiln/cuda/device.h"

namespace kiln::cuda {

constexpr int kAttentionWarps = 4;
constexpr int kAttentionRows = 4;

/// A strided 3-D view of f32 elements: (a, b, c) is element offset + a * s0
/// + b * s1 + c * s2 of `bytes`.
struct AttentionView {
  unsigned char *bytes;
  int64_t offset, s0, s1, s2;

  KILN_DEVICE float *at(int64_t a, int64_t b, int64_t c) const {
    return reinterpret_cast<float *>(bytes) + offset + a * s0 + b * s1 + c * s2;
  }
};

struct AttentionArgs {
  /// [G, S, D], and the result's [G, S, D].
  AttentionView query, output;
  /// Indexed (head, key, channel) whatever the layout: [G, T, D] rows or a
  /// [G, D, T] transpose, by their strides.
  AttentionView keys;
  AttentionView values;
  /// [M, Sm, T]; `bytes` null without a mask.
  AttentionView mask;
  int64_t maskHeads, maskRows;
  /// [G, K] i32 page numbers at `pages + pageOffset + g * pageHead + k *
  /// pageSlot`; null without a table.
  unsigned char *pages;
  int64_t pageOffset, pageHead, pageSlot, slots, pageSize;
  /// G, S and T.
  int64_t heads, rows, keyCount;
  float scale;
};

/// Runs in a block of kAttentionWarps * 32 threads, on a grid of a block
/// per head and tile of kAttentionRows rows (heads outer); D is the head
/// size.
template <int D> KILN_DEVICE void attention(const AttentionArgs &a) {
  constexpr int R = kAttentionRows, W = kAttentionWarps;
  constexpr int E = (D + 31) / 32; // value channels per lane
  static_assert(E <= 8, "head sizes above 256 take the linalg lowering");
  __shared__ float query[R][D];
  __shared__ float weights[W][R][32];
  __shared__ float warpMax[W][R], warpSum[W][R];
  __shared__ float warpOut[W][R][E * 32];

  const float negativeInfinity = bitsFloat(0xff800000u);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int64_t tiles = (a.rows + R - 1) / R;
  const int64_t head = blockIdx.x / tiles, firstRow = blockIdx.x % tiles * R;

  // The tile's query rows, scaled, for every lane to read; rows past S are
  // zeros whose results are not written.
  for (int i = threadIdx.x; i < R * D; i += W * 32) {
    const int r = i / D, d = i % D;
    query[r][d] = firstRow + r < a.rows
                      ? *a.query.at(head, firstRow + r, d) * a.scale
                      : 0.0f;
  }
  __syncthreads();

  // The keys attended: all T, or the listed pages'.
  int64_t attended = a.keyCount;
  bool paged = false;
  const int32_t *table = nullptr;
  if (a.pages) {
    table = reinterpret_cast<const int32_t *>(a.pages) + a.pageOffset +
            head * a.pageHead;
    paged = table[0] >= 0;
    if (paged)
      attended = (a.slots - 1) * a.pageSize + a.keyCount -
                 (a.keyCount - 1) / a.pageSize * a.pageSize;
  }
  auto position = [&](int64_t key) -> int64_t {
    if (!paged)
      return key;
    int64_t slot = key / a.pageSize;
    slot = slot < a.slots - 1 ? slot : a.slots - 1;
    return int64_t(table[slot * a.pageSlot]) * a.pageSize + key % a.pageSize;
  };
  const int64_t maskHead = a.mask.bytes ? head / (a.heads / a.maskHeads) : 0;

  // Key rows of unit channel stride starting on 16 bytes: four channels a
  // load.
  const bool keyVectors =
      D % 4 == 0 && a.keys.s2 == 1 && a.keys.s1 % 4 == 0 &&
      reinterpret_cast<uintptr_t>(a.keys.at(head, 0, 0)) % 16 == 0;

  float runningMax[R], runningSum[R], out[R][E];
  for (int r = 0; r < R; ++r) {
    runningMax[r] = negativeInfinity;
    runningSum[r] = 0.0f;
    for (int e = 0; e < E; ++e)
      out[r][e] = 0.0f;
  }

  for (int64_t chunk = int64_t(warp) * 32; chunk < attended; chunk += W * 32) {
    // Scores: a lane per key.
    const int64_t key = chunk + lane;
    const bool valid = key < attended;
    const int64_t at = valid ? position(key) : 0;
    float score[R];
    for (int r = 0; r < R; ++r)
      score[r] = 0.0f;
    if (valid) {
      if (keyVectors) {
        const Float4 *row =
            reinterpret_cast<const Float4 *>(a.keys.at(head, at, 0));
        for (int d = 0; d < D / 4; ++d) {
          const Float4 k = row[d];
          for (int r = 0; r < R; ++r)
            score[r] += query[r][4 * d] * k.x + query[r][4 * d + 1] * k.y +
                        query[r][4 * d + 2] * k.z + query[r][4 * d + 3] * k.w;
        }
      } else {
        for (int d = 0; d < D; ++d) {
          const float k = *a.keys.at(head, at, d);
          for (int r = 0; r < R; ++r)
            score[r] += query[r][d] * k;
        }
      }
    }
    // The chunk into each row's online softmax; a lane's exponential is
    // its key's weight.
    for (int r = 0; r < R; ++r) {
      float logit = negativeInfinity;
      if (valid) {
        logit = score[r];
        if (a.mask.bytes)
          logit += *a.mask.at(maskHead, (firstRow + r) % a.maskRows, at);
        // A row whose keys are all masked averages them, as the softmax.
        logit = logit > -1e30f ? logit : -1e30f;
      }
      float chunkMax = logit;
      for (int offset = 16; offset > 0; offset /= 2)
        chunkMax =
            fmaxf(chunkMax, __shfl_xor_sync(0xffffffffu, chunkMax, offset));
      const float newMax = fmaxf(runningMax[r], chunkMax);
      const float weight = valid ? expf(logit - newMax) : 0.0f;
      float chunkSum = weight;
      for (int offset = 16; offset > 0; offset /= 2)
        chunkSum += __shfl_xor_sync(0xffffffffu, chunkSum, offset);
      const float rescale = expf(runningMax[r] - newMax);
      runningMax[r] = newMax;
      runningSum[r] = runningSum[r] * rescale + chunkSum;
      for (int e = 0; e < E; ++e)
        out[r][e] *= rescale;
      weights[warp][r][lane] = weight;
    }
    __syncwarp();
    // The weighted value rows: a lane per channel.
    const int64_t count = attended - chunk < 32 ? attended - chunk : 32;
    for (int64_t j = 0; j < count; ++j) {
      const int64_t row = position(chunk + j);
      for (int e = 0; e < E; ++e) {
        const int d = lane + 32 * e;
        if (d < D) {
          const float v = *a.values.at(head, row, d);
          for (int r = 0; r < R; ++r)
            out[r][e] += weights[warp][r][j] * v;
        }
      }
    }
    __syncwarp();
  }

  // The warps' partial results, each on its own maximum, combined.
  for (int r = 0; r < R; ++r) {
    if (lane == 0) {
      warpMax[warp][r] = runningMax[r];
      warpSum[warp][r] = runningSum[r];
    }
    for (int e = 0; e < E; ++e)
      warpOut[warp][r][lane + 32 * e] = out[r][e];
  }
  __syncthreads();
  for (int i = threadIdx.x; i < R * D; i += W * 32) {
    const int r = i / D, d = i % D;
    if (firstRow + r >= a.rows)
      continue;
    float largest = negativeInfinity;
    for (int w = 0; w < W; ++w)
      largest = fmaxf(largest, warpMax[w][r]);
    float sum = 0.0f, value = 0.0f;
    for (int w = 0; w < W; ++w) {
      // A warp that saw no key has no share.
      const float share =
          warpSum[w][r] > 0.0f ? expf(warpMax[w][r] - largest) : 0.0f;
      sum += warpSum[w][r] * share;
      value += warpOut[w][r][d] * share;
    }
    *a.output.at(head, firstRow + r, d) = value / sum;
  }
}

} // namespace kiln::cuda

#endif // KILN_CUDA_ATTENTION_H
