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
