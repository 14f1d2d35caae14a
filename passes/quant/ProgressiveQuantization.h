//===- ProgressiveQuantization.h - QoQ's two-level 4-bit weights -*- C++
//-*-===//
//
// QoQ's progressive group quantization (ALGORITHMS.md §3, step 5): each
// output channel to signed 8 bits within the protective range, then each
// group of those integers to unsigned 4 bits with an integer scale, so
// that dequantizing a group gives back 8-bit integers exactly and an 8-bit
// contraction can consume them.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_QUANT_PROGRESSIVEQUANTIZATION_H
#define KILN_PASSES_QUANT_PROGRESSIVEQUANTIZATION_H

#include "passes/quant/GroupQuantization.h"

#include "mlir/IR/Builders.h"

#include <cstdint>
#include <vector>

namespace mlir::kiln::quant {

/// The largest magnitude level 1 gives an integer: with it, (q - z) * s2 of
/// every group stays within [-128, 127] (the exhaustive check in the unit
/// tests proves it for round-to-nearest-even).
inline constexpr int kProtectiveRange = 119;

/// Level 1 of a weight [K, N]: per output channel n, s1 = max_k |W[k, n]| /
/// range (1 for a channel of zeros) and W8 = round(W / s1), kept as floats
/// (the integers -range..range) so that searches can clamp them.
struct ChannelQuantized {
  int64_t k = 0, n = 0;
  std::vector<float> scales;   // [N], s1
  std::vector<float> integers; // [K, N], W8
};

ChannelQuantized quantizeChannels(ArrayRef<float> weight, int64_t k, int64_t n,
                                  int range = kProtectiveRange);

/// The level-2 grid of one group of level-1 integers (`count` values
/// `stride` apart): s2 = max(1, round((max - min) / 15)), z =
/// clamp(round(-min / s2), 0, 15) (no f16 bits: s2 is an integer).
GroupParameters integerGroupParametersOf(const float *integers, int64_t count,
                                         int64_t stride);

/// Level 2 of one group of level-1 integers (`count` values `stride` apart)
/// on its grid: q = clamp(round(w / s2) + z, 0, 15).
void quantizeIntegerGroup(const float *integers, int64_t count, int64_t stride,
                          uint8_t *q, uint8_t &scale, uint8_t &zero);

/// The 8-bit integers one group stands for once through level 2,
/// (q - z) * s2 (same layout as the input).
void fakeQuantizeIntegerGroup(const float *integers, int64_t count,
                              int64_t stride, float *out);

/// A weight [K, N] through both levels: w ~ s1[n] * (q - z) * s2 for the
/// group of K that holds it.
struct ProgressiveQuantized {
  int64_t k = 0, n = 0, groupSize = 0;
  std::vector<float> channelScales; // [N], s1
  std::vector<uint8_t> values;      // [K, N], 0..15
  std::vector<uint8_t> groupScales; // [K / G, N], 1..16
  std::vector<uint8_t> zeros;       // [K / G, N], 0..15
};

/// Level 2 of `level1` in groups of `groupSize` input channels (which
/// divides K).
ProgressiveQuantized quantizeIntegerGroups(const ChannelQuantized &level1,
                                           int64_t groupSize);

/// The f32 weight [K, N] that `quantized` stands for.
std::vector<float> dequantize(const ProgressiveQuantized &quantized);

/// `kiln.dequantize` of the 4-bit integers in groups: ui4 [K, N], the
/// integer scales s2 as f16 and ui4 zero points [K / G, N], axis 0. Its
/// value is the 8-bit integers W8' exactly; the product by it still needs
/// each column times s1.
Value createIntegerDequantize(OpBuilder &builder, Location loc,
                              const ProgressiveQuantized &quantized);

} // namespace mlir::kiln::quant

#endif // KILN_PASSES_QUANT_PROGRESSIVEQUANTIZATION_H
