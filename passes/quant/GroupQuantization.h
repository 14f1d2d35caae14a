//===- GroupQuantization.h - weights to integers in groups ------*- C++ -*-===//
//
// The arithmetic of weight quantization, shared by the passes: asymmetric
// unsigned integers in groups of input channels, with f16 scales, and the
// constants that carry them in the graph (`kiln.dequantize` operands).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_QUANT_GROUPQUANTIZATION_H
#define KILN_PASSES_QUANT_GROUPQUANTIZATION_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace mlir::kiln::quant {

/// A weight [K, N] (K input channels, row-major) as unsigned `bits`-bit
/// integers in groups of `groupSize` consecutive input channels of one
/// output channel: w ~ (values - zeros) * scales.
struct GroupQuantized {
  int64_t k = 0, n = 0, groupSize = 0;
  int bits = 4;
  std::vector<uint8_t> values;  // [K, N]
  std::vector<uint16_t> scales; // [K / groupSize, N], f16 bit patterns
  std::vector<uint8_t> zeros;   // [K / groupSize, N]
};

/// One group's f16 scale (bits and value) and zero point.
struct GroupParameters {
  uint16_t scaleBits;
  float scale, zero, top;
  float bottom = 0;

  /// The integer `value` rounds to (ties to even), clamped to [bottom,
  /// top].
  float level(float value) const {
    return std::clamp(std::nearbyint(value / scale) + zero, bottom, top);
  }
  /// What `level` stands for.
  float value(float level) const { return (level - zero) * scale; }
};

/// The parameters quantizeGroups gives the `count` values `stride` apart:
/// scale = max((max - min) / (2^bits - 1), 1e-5) rounded to f16, zero =
/// clamp(round(-min / scale), 0, 2^bits - 1).
GroupParameters groupParametersOf(const float *values, int64_t count,
                                  int64_t stride, int bits);

/// Round-to-nearest (ties to even) asymmetric quantization of `weight`
/// [K, N]: per group, scale = max((max - min) / (2^bits - 1), 1e-5) rounded
/// to f16, zero = clamp(round(-min / scale)), q = clamp(round(w / scale) +
/// zero). `groupSize` divides K.
GroupQuantized quantizeGroups(ArrayRef<float> weight, int64_t k, int64_t n,
                              int64_t groupSize, int bits = 4);

/// One group's quantization, as quantizeGroups does it: `count` values
/// `stride` apart become `q` (same layout), `scale` (f16 bits) and `zero`.
void quantizeGroup(const float *values, int64_t count, int64_t stride, int bits,
                   uint8_t *q, uint16_t &scale, uint8_t &zero);

/// The values one group stands for once quantized and dequantized
/// (`count` values `stride` apart, into `out` with the same layout).
void fakeQuantizeGroup(const float *values, int64_t count, int64_t stride,
                       int bits, float *out);

/// The f32 weight that `quantized` stands for.
std::vector<float> dequantize(const GroupQuantized &quantized);

/// f16 conversions (round to nearest even).
uint16_t toF16Bits(float value);
float fromF16Bits(uint16_t bits);

/// `kiln.dequantize` of `quantized` as constants: ui<bits> [K, N], f16
/// scales and ui<bits> zero points [K / G, N], axis 0.
Value createDequantize(OpBuilder &builder, Location loc,
                       const GroupQuantized &quantized);

/// Makes `quantized` (4-bit) the weight of `product`, a weight product
/// (onnx.MatMul) whose f32 weight it quantizes, and records the sizes.
void replaceWeight(Operation *product, const GroupQuantized &quantized);

} // namespace mlir::kiln::quant

#endif // KILN_PASSES_QUANT_GROUPQUANTIZATION_H
