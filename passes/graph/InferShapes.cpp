//===- InferShapes.cpp - kiln-graph-infer-shapes --------------------------===//

#include "passes/graph/Passes.h"

#include "dialects/onnx/OnnxShapeInference.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_GRAPHINFERSHAPESPASS
#include "passes/graph/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// `current` made as precise as `shape` allows, never contradicting a
/// dimension `current` already knows; null if nothing changes.
Type refine(Type current, ArrayRef<int64_t> shape) {
  auto tensor = dyn_cast<TensorType>(current);
  if (!tensor)
    return {};
  if (!tensor.hasRank())
    return RankedTensorType::get(shape, tensor.getElementType());
  if (tensor.getRank() != (int64_t)shape.size())
    return {};
  SmallVector<int64_t> merged(tensor.getShape());
  bool changed = false;
  for (auto [dim, inferred] : llvm::zip(merged, shape))
    if (ShapedType::isDynamic(dim) && !ShapedType::isDynamic(inferred)) {
      dim = inferred;
      changed = true;
    }
  if (!changed)
    return {};
  return RankedTensorType::get(merged, tensor.getElementType(),
                               cast<RankedTensorType>(tensor).getEncoding());
}

struct GraphInferShapesPass
    : mlir::kiln::impl::GraphInferShapesPassBase<GraphInferShapesPass> {
  void runOnOperation() override {
    func::FuncOp function = getOperation();
    function.walk([](Operation *op) {
      if (!isa<onnx::OnnxDialect>(op->getDialect()))
        return;
      for (auto [result, shape] :
           llvm::zip(op->getResults(), onnx::inferResultShapes(op)))
        if (shape)
          if (Type refined = refine(result.getType(), *shape))
            result.setType(refined);
    });
    // The signature follows what the function now returns.
    if (function.isExternal())
      return;
    Operation *terminator = function.getBody().back().getTerminator();
    function.setType(FunctionType::get(&getContext(),
                                       function.getArgumentTypes(),
                                       terminator->getOperandTypes()));
  }
};

} // namespace
