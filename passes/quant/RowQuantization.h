//===- RowQuantization.h - activations to 8 bits per row at run time -*- C++
//-*-===//
//
// Dynamic per-token activation quantization, which W8A8 offers and W4A8
// requires: one scale per row of a product's input, computed as the rows
// arrive.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_QUANT_ROWQUANTIZATION_H
#define KILN_PASSES_QUANT_ROWQUANTIZATION_H

#include "dialects/onnx/OnnxOps.h"

#include "mlir/IR/Builders.h"

#include <cstdint>
#include <vector>

namespace mlir::kiln::quant {

/// `input` [..., K] through signed 8 bits with one scale per row: its
/// largest magnitude over 127, computed at run time, or `smallestScale`
/// if larger (by default tiny: a row of zeros takes it rather than a
/// division by zero), as kiln.quantize in groups of all K channels along
/// the last axis, then kiln.dequantize.
Value quantizeRows(OpBuilder &builder, Location loc, Value input,
                   float smallestScale = 1e-30f);

/// What `quantizeRows` makes of `rows` [T, K] (f32 on the host), in place:
/// each row's values rounded to the nearest of 255 levels of its largest
/// magnitude over 127.
void fakeQuantizeRows(std::vector<float> &rows, int64_t t, int64_t k);

/// Whether per-row scales can quantize `input`: a matrix product's rows
/// with a static K.
bool hasStaticRows(Value input);

/// Gives `product`'s rows a static K where shape inference left it
/// symbolic (an exporter's `Reshape(heads, [B, S, -1])` before the output
/// projection): MatMul requires it to be the weight's K, so a tensor.cast
/// right after the rows' producer states it, shared by every product of
/// the same rows. Leaves static rows as they are.
void refineRowLength(onnx::MatMulOp product);

/// refineRowLength on every weight product of `function`.
void refineRowLengths(Operation *function);

} // namespace mlir::kiln::quant

#endif // KILN_PASSES_QUANT_ROWQUANTIZATION_H
