//===- InferShapes.cpp - kiln-graph-infer-shapes --------------------------===//

#include "passes/graph/Passes.h"

#include "dialects/onnx/OnnxShapeInference.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

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

/// Whether a declared type contradicts the shape the operands imply: a
/// different rank, or a known dimension of another size.
bool contradicts(Type declared, ArrayRef<int64_t> shape) {
  auto tensor = dyn_cast<RankedTensorType>(declared);
  if (!tensor)
    return false;
  if (tensor.getRank() != (int64_t)shape.size())
    return true;
  for (auto [dim, inferred] : llvm::zip(tensor.getShape(), shape))
    if (!ShapedType::isDynamic(dim) && !ShapedType::isDynamic(inferred) &&
        dim != inferred)
      return true;
  return false;
}

std::string formatShape(ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (auto [i, dim] : llvm::enumerate(shape))
    text += (i ? "," : "") +
            (ShapedType::isDynamic(dim) ? std::string("?") : std::to_string(dim));
  return text + "]";
}

struct GraphInferShapesPass
    : mlir::kiln::impl::GraphInferShapesPassBase<GraphInferShapesPass> {
  void runOnOperation() override {
    func::FuncOp function = getOperation();
    WalkResult walk = function.walk([](Operation *op) {
      if (!isa<onnx::OnnxDialect>(op->getDialect()))
        return WalkResult::advance();
      for (auto [index, pair] : llvm::enumerate(
               llvm::zip(op->getResults(), onnx::inferResultShapes(op)))) {
        auto [result, shape] = pair;
        if (!shape)
          continue;
        // A model that declares a shape its operators cannot produce would
        // otherwise run with the declared size: a truncated or padded
        // result.
        if (contradicts(result.getType(), *shape)) {
          op->emitOpError("result #")
              << index << " is declared "
              << formatShape(cast<RankedTensorType>(result.getType()).getShape())
              << ", but its operands make it " << formatShape(*shape);
          return WalkResult::interrupt();
        }
        if (Type refined = refine(result.getType(), *shape))
          result.setType(refined);
      }
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();
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

void mlir::kiln::addGraphSizingPasses(OpPassManager &function) {
  function.addPass(createCanonicalizerPass());
  function.addPass(createCSEPass());
  for (int round = 0; round < 2; ++round) {
    function.addPass(createGraphInferShapesPass());
    function.addPass(createCanonicalizerPass());
  }
}
