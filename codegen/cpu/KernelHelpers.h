//===- KernelHelpers.h - what the kernel lowerings share --------*- C++ -*-===//

#ifndef KILN_CODEGEN_CPU_KERNELHELPERS_H
#define KILN_CODEGEN_CPU_KERNELHELPERS_H

#include "codegen/common/LoopEmitter.h"
#include "dialects/kiln/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

namespace mlir::kiln {

/// `activation` applied to the float vector `x` (clip bounds for Clip).
Value applyActivation(OpBuilder &b, Location loc, Value x,
                      Activation activation, float clipMin, float clipMax);

/// The activation of the contraction `op` (its activation and clip
/// bounds) applied to the float vector `x`.
inline Value applyActivationOf(OpBuilder &b, Location loc, Value x,
                               PackedConv2DOp op) {
  return applyActivation(b, loc, x, op.getActivation(),
                         op.getClipMin().convertToFloat(),
                         op.getClipMax().convertToFloat());
}

/// Vector accumulators a register-blocked kernel keeps beside its operand
/// vectors and broadcasts: 24 of AVX-512's 32 registers, 12 of AVX2's 16.
inline int64_t accumulatorBudget(int64_t vectorBits) {
  return vectorBits >= 512 ? 24 : 12;
}

/// Fails, with an error on `scope`, unless `vectorBits` is 256 or 512 (the
/// widths the kernels are written for).
LogicalResult checkVectorBits(Operation *scope, int64_t vectorBits);

/// Stores the f32 vector `value` at `buffer[index]` (1-D), rounded to bf16
/// first when the buffer holds bf16, under `mask` when there is one.
void storeVector(OpBuilder &b, Location loc, Value value, Value buffer,
                 Value index, Value mask = {});

/// Values k..k+L (`lanes`) of row [i, j] of `buffer`'s 4-bit rows of
/// `depth` values as kiln.pack_kv4 writes them (L / 2 bytes of nibbles,
/// low first, then the row's f16 scale and zero point at byte D / 2), as an
/// f32 vector: (q - z) * s, the floats kiln.unpack_kv4 gives.
Value loadFourBitValues(OpBuilder &b, Location loc, Value buffer, Value i,
                        Value j, Value k, int64_t lanes, int64_t depth);

/// The f32 values of the two bf16 halves of `words`, an i32 or a vector of
/// i32 holding bf16 pairs: the low half (the even value of each pair,
/// widened by a shift) and the high half (the odd one, by a mask).
std::pair<Value, Value> splitBf16Pairs(OpBuilder &b, Location loc, Value words);

/// `count` copies of `value` of type `element` (f32 unless given; or an
/// integer type) as
/// a memref<?xelement>: a constant global of the module around `anchor`,
/// shared by every kernel that reads padding from it.
Value paddingFloats(OpBuilder &b, Operation *anchor, int64_t count,
                    Type element = {}, double value = 0.0);

/// The element the padded kernels read for one window position: `buffer`
/// at `offset`, or the zeros when the position is in the padding.
struct PaddedSource {
  Value buffer, offset;
};

/// `inside ? {data, offset} : {zeros, zeroOffset}`, data and zeros
/// memref<?xf32> (or of another, same element type).
PaddedSource selectPadded(OpBuilder &b, Location loc, Value inside, Value data,
                          Value offset, Value zeros, Value zeroOffset);

/// Where the window of output pixel `pixel` (flat over [N, outH, outW])
/// starts in its input image: the image, and the first row and column,
/// before the padding (so possibly negative).
struct WindowOrigin {
  Value image, firstY, firstX;
};
WindowOrigin windowOrigin(OpBuilder &b, Location loc, Value pixel, Value outH,
                          Value outW, ArrayRef<int64_t> strides, int64_t padTop,
                          int64_t padLeft);

/// Whether `0 <= value < bound`, for signed index `value`.
Value isWithin(OpBuilder &b, Location loc, Value value, int64_t bound);
Value isWithin(OpBuilder &b, Location loc, Value value, Value bound);

} // namespace mlir::kiln

#endif // KILN_CODEGEN_CPU_KERNELHELPERS_H
