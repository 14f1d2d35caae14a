//===- OnnxShapeInference.h - result shapes of onnx ops ---------*- C++ -*-===//
//
// The ONNX shape rules for the operators real models are made of, evaluated
// on MLIR types: what each result's shape must be, given the operand types
// and whatever constant operands (shapes, axes, pads) say. Unknown
// dimensions stay dynamic. Used by the `kiln-graph-infer-shapes` pass to
// make static models fully static where ONNX's own inference stopped.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_ONNX_ONNXSHAPEINFERENCE_H
#define KILN_DIALECTS_ONNX_ONNXSHAPEINFERENCE_H

#include "mlir/IR/Operation.h"

#include <optional>

namespace mlir::kiln::onnx {

/// The shape of each result of `op` as far as its operands determine it
/// (ShapedType::kDynamic for unknown dimensions), or nullopt for a result
/// whose rank is unknown or an op without a rule.
SmallVector<std::optional<SmallVector<int64_t>>> inferResultShapes(Operation *op);

} // namespace mlir::kiln::onnx

#endif // KILN_DIALECTS_ONNX_ONNXSHAPEINFERENCE_H
