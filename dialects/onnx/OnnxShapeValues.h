//===- OnnxShapeValues.h - shape tensors known at compile time --*- C++ -*-===//
//
// Exporters compute sizes at run time: `interpolate(size=x.shape[-2:])`
// becomes Shape -> Slice -> Concat -> Resize. Where the input's shape is
// static, those values are constants; where it is symbolic, some of them
// still are (the batch and channel counts). This reads what is known of
// such a small integer tensor, element by element.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_ONNX_ONNXSHAPEVALUES_H
#define KILN_DIALECTS_ONNX_ONNXSHAPEVALUES_H

#include "mlir/IR/PatternMatch.h"

#include <optional>

namespace mlir::kiln::onnx {

class ShapeOp;

/// The [first, last) dimensions a Shape op reads of a rank-`rank` input:
/// its start and end, negative ones counting from the end, clamped to
/// [0, rank].
std::pair<int64_t, int64_t> shapeRange(ShapeOp op, int64_t rank);

/// A Slice's bounds along a `size`-long axis, normalized the numpy way
/// (negative bounds count from the end, then clamp: to [0, size] going
/// forward, [-1, size - 1] going backward); returns how many elements the
/// slice takes.
int64_t normalizeSliceBounds(int64_t &start, int64_t &end, int64_t step,
                             int64_t size);

/// The elements of a 0-D or 1-D integer tensor as far as the compiler
/// knows them: constants, and the dimensions a Shape reads, through the
/// Gather, Slice, Concat, Unsqueeze, Squeeze, Reshape and integer Cast that
/// carry them; ShapedType::kDynamic marks an element known only at run
/// time. nullopt when not even the element count is known.
std::optional<SmallVector<int64_t>> getKnownInts(Value value);

/// Replaces `op`, whose one result is a small integer tensor, with an
/// onnx.Constant when getKnownInts knows every element: a Slice of a Shape
/// over static dimensions, for one. The canonicalization of the ops that
/// carry shapes.
LogicalResult foldKnownShapeValue(Operation *op, PatternRewriter &rewriter);

} // namespace mlir::kiln::onnx

#endif // KILN_DIALECTS_ONNX_ONNXSHAPEVALUES_H
