//===- InputScaling.h - per-channel scales moved across a product -*- C++
//-*-===//
//
// What AWQ and SmoothQuant both do to a weight product: its weight's rows
// (input channels) times s, its input divided by s, so that the product is
// unchanged and the division costs nothing at run time where the input's
// producer can absorb it.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_QUANT_INPUTSCALING_H
#define KILN_PASSES_QUANT_INPUTSCALING_H

#include "dialects/onnx/OnnxOps.h"

#include <vector>

namespace mlir::kiln::quant {

/// The weight of `op` (a weight product) as floats [K, N].
std::vector<float> weightOf(onnx::MatMulOp op);

/// Replaces `op`'s weight by `values` (same type), as a constant named
/// after the node and `suffix`.
void setWeight(onnx::MatMulOp op, ArrayRef<float> values, StringRef suffix);

/// An f32 constant: a weight-sized one as a blob, a small one inline (as
/// the importer keeps them), which is what a reader of the IR can check.
Value floatConstant(OpBuilder &builder, Location loc, RankedTensorType type,
                    ArrayRef<float> values, StringRef name);

/// The largest magnitude of each row (input channel) over `weights`,
/// each [K, N].
std::vector<float> rowMaxima(ArrayRef<std::vector<float>> weights, int64_t k);

/// SmoothQuant's smoothing factors for migration strength `alpha`:
/// `s_j = absMax_j^alpha / weightMax_j^(1 - alpha)`, clamped to 1e-5, and
/// 1 where either maximum is zero.
std::vector<float> smoothingScales(ArrayRef<float> absMax,
                                   ArrayRef<float> weightMax, double alpha);

/// Multiplies row c of `weight` [K, N] by `scales`[c]: the weight's side
/// of dividing its input's channel c by it.
void scaleWeightRows(std::vector<float> &weight, ArrayRef<float> scales);

/// Divides channel c of every row of `rows` [T, K] by `scales`[c]: the
/// calibration rows once the input is divided.
void divideRowChannels(std::vector<float> &rows, ArrayRef<float> scales);

/// Divides channel c of `input`, the left operand of every product in
/// `products`, by `scales`[c]. Where the products are its only users, the
/// producer absorbs it: a normalization's per-channel constant scale (and
/// shift) — a `Mul` by a constant, that `Mul` followed by an `Add` of a
/// constant, or a LayerNormalization with constant scale and bias — or
/// the columns of a weight product feeding a `Mul` (the MLP's up
/// projection). Otherwise an explicit `Mul` by 1/s, named after `name`,
/// feeds the products.
void divideInput(Value input, ArrayRef<onnx::MatMulOp> products,
                 ArrayRef<float> scales, StringRef name);

} // namespace mlir::kiln::quant

#endif // KILN_PASSES_QUANT_INPUTSCALING_H
