//===- OnnxConstants.h - reading and making onnx.Constant values -*- C++ -*-===//

#ifndef KILN_DIALECTS_ONNX_ONNXCONSTANTS_H
#define KILN_DIALECTS_ONNX_ONNXCONSTANTS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <optional>
#include <vector>

namespace mlir::kiln::onnx {

/// The value of `value` as dense elements when an onnx.Constant defines it,
/// whether its payload is inline or a `dense_resource` blob. Resource blobs
/// are only expanded up to `maxElements`, which keeps folding off weights.
DenseElementsAttr getConstantElements(Value value, int64_t maxElements = 4096);

/// The bytes of a constant's elements (natural width each, a byte per
/// element below 8 bits), splats expanded, weights included; nullopt if
/// `value` is not an onnx.Constant.
std::optional<std::vector<char>> getConstantBytes(Value value);

/// The values of a constant integer tensor as int64 (unsigned ones
/// zero-extended, others sign-extended).
std::optional<SmallVector<int64_t>> getConstantInts(Value value);

/// The first `count` integers of an optional integer-array attribute (a
/// Conv's strides, pads, ...), `otherwise` where it is absent or short.
SmallVector<int64_t> intsOr(std::optional<ArrayAttr> attr, size_t count,
                            int64_t otherwise);

/// Creates an onnx.Constant holding `value`.
Value createConstant(OpBuilder &builder, Location loc, ElementsAttr value);

/// The float32 values of a constant of any size (weights included), read in
/// place from its payload; nullopt for anything but an f32 onnx.Constant.
std::optional<std::vector<float>> getConstantFloats(Value value);

/// Creates an f32 onnx.Constant of `type` holding `values` as a
/// `dense_resource` blob named after `name`.
Value createFloatConstant(OpBuilder &builder, Location loc,
                          RankedTensorType type, ArrayRef<float> values,
                          StringRef name);

/// Creates a bf16 onnx.Constant of `type` holding `values` (bf16 bit
/// patterns) as a `dense_resource` blob named after `name`.
Value createBf16Constant(OpBuilder &builder, Location loc,
                         RankedTensorType type, ArrayRef<uint16_t> values,
                         StringRef name);

/// Creates an onnx.Constant of `type` whose elements are `bytes` as laid
/// out in memory (natural width, little-endian), as a `dense_resource`
/// blob named after `name`: packed integer and f16 weights.
Value createRawConstant(OpBuilder &builder, Location loc, RankedTensorType type,
                        ArrayRef<char> bytes, StringRef name);

/// `value` rounded to the nearest bf16 (ties to even), as its bit pattern.
uint16_t toBf16Bits(float value);

} // namespace mlir::kiln::onnx

#endif // KILN_DIALECTS_ONNX_ONNXCONSTANTS_H
