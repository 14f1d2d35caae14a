//===- QuantizedOperands.h - quantized operands of contractions -*- C++ -*-===//
//
// How a contraction's operands read when quantization wrote them: an
// activation quantized to 8 bits and dequantized again (SmoothQuant's, or
// onnxruntime's QDQ pairs), a constant weight of signed bytes with scales
// per output channel. The integer kernels of every target start from these.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_QUANT_QUANTIZEDOPERANDS_H
#define KILN_PASSES_QUANT_QUANTIZEDOPERANDS_H

#include "dialects/kiln/KilnOps.h"

#include "mlir/IR/PatternMatch.h"

#include <optional>
#include <vector>

namespace mlir::kiln::quant {

/// Whether `value` is absent or a constant of zeros.
bool isAbsentOrZeros(Value value);

/// The 0-D constant integer of `value` (zero when absent).
std::optional<int64_t> scalarIntOf(Value value);

/// The 0-D constant f32 of `value`.
std::optional<float> scalarOf(Value value);

/// An activation quantized to 8 bits with one scale and zero point and
/// dequantized again: `kiln.dequantize(kiln.quantize(input, s, z), s, z)`,
/// as SmoothQuant writes it (signed, z = 0) and onnxruntime's QDQ graphs
/// (signed or unsigned bytes, any z).
struct QuantizedActivation {
  QuantizeOp quantize;
  float scale;
  /// The zero point of the signed bytes the kernels read: the model's, less
  /// 128 for unsigned bytes (the same values, shifted).
  int64_t zeroPoint;
  /// With one scale per row computed at run time (--activations=dynamic):
  /// those scales, [..., M, 1], by which the product's rows are multiplied
  /// after the contraction (`scale` is then 1).
  Value rowScales = {};
};

/// `value` as `kiln.dequantize(kiln.quantize(x, s, z), s, z)` of 8-bit
/// integers, with one constant scale and zero point, or one scale per row
/// computed at run time.
std::optional<QuantizedActivation> quantizedActivationOf(Value value);

/// A 0-D i8 constant holding `value` (a zero point of signed bytes).
Value signedByteConstant(OpBuilder &builder, Location loc, int64_t value);

/// `input` (f32, shaped as the activation's kernel reads it) quantized as
/// `activation` is, to the signed bytes the kernels read.
Value signedBytesOf(PatternRewriter &rewriter, Location loc,
                    const QuantizedActivation &activation, Value input);

/// A constant weight of signed 8-bit integers with one f32 scale per index
/// along `axis` (the output channels; one scale for all of them is
/// repeated) and no zero points.
struct Int8Weight {
  std::vector<char> values;
  std::vector<float> scales;
};

/// `value` as `kiln.dequantize` of such a weight, scales along `axis`.
std::optional<Int8Weight> int8WeightOf(Value value, int64_t axis);

/// The group scales of a 4-bit weight [K, N] in groups of `groupSize`
/// along K (`values` [K, N] and `zeros` [K / G, N] its unsigned integers, a
/// byte each) when each scale (the constant `scale`) is an integer from 1
/// to 16 and every `(q - z) * s` a signed byte, as QoQ's progressive
/// quantization writes them: the weights W4A8's integer kernels take.
std::optional<std::vector<char>>
integerGroupScalesOf(Value scale, ArrayRef<char> values, ArrayRef<char> zeros,
                     int64_t n, int64_t groupSize);

} // namespace mlir::kiln::quant

#endif // KILN_PASSES_QUANT_QUANTIZEDOPERANDS_H
