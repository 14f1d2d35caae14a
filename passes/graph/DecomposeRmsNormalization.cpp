//===- DecomposeRmsNormalization.cpp - onnx.RMSNormalization as its steps -===//
//
// RMSNormalization (opset 23) as the subgraph exporters emitted before it
// existed: X / sqrt(mean(X^2) + epsilon) * scale over the axes from
// `axis` on, in the stash type (float32 unless said otherwise).
//
//===----------------------------------------------------------------------===//

#include "passes/graph/DecomposeLlmOps.h"
#include "passes/graph/OnnxSubgraph.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

struct DecomposeRmsNormalization : OpRewritePattern<onnx::RMSNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::RMSNormalizationOp op,
                                PatternRewriter &rewriter) const override {
    if (whyNotDecomposed(op))
      return failure();
    auto type = cast<RankedTensorType>(op.getX().getType());
    int64_t rank = type.getRank();
    auto axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += rank;
    OnnxSubgraph g(rewriter, op.getLoc());
    Type element = type.getElementType();
    Type stash = g.floatTypeOf(op.getStashType());
    Value x = g.castTo(op.getX(), stash);
    SmallVector<int64_t> axes;
    for (int64_t i = axis; i < rank; ++i)
      axes.push_back(i);
    Value meanSquare = g.create<onnx::ReduceMeanOp>(
        stash, g.create<onnx::MulOp>(stash, x, x), g.ints(axes), 1, 0);
    Value rms = g.create<onnx::SqrtOp>(
        stash, g.create<onnx::AddOp>(
                   stash, meanSquare,
                   g.splat(stash, op.getEpsilon().convertToFloat())));
    // x * (1 / rms), as the reference computes it.
    Value normalized = g.create<onnx::MulOp>(
        stash, x, g.create<onnx::ReciprocalOp>(stash, rms));
    Value y = g.create<onnx::MulOp>(element, g.castTo(normalized, element),
                                    op.getScale());
    rewriter.replaceOp(op, OnnxSubgraph::declare(y, op.getType()));
    return success();
  }
};

} // namespace

std::optional<std::string>
mlir::kiln::whyNotDecomposed(onnx::RMSNormalizationOp op) {
  auto type = dyn_cast<RankedTensorType>(op.getX().getType());
  if (!type)
    return std::string("its input must be ranked");
  int64_t rank = type.getRank();
  auto axis = static_cast<int64_t>(op.getAxis());
  if (axis < -rank || axis >= rank)
    return "axis " + std::to_string(axis) + " is outside the input's rank " +
           std::to_string(rank);
  auto stash = static_cast<int64_t>(op.getStashType());
  if (!OnnxSubgraph::floatTypeOf(op.getContext(), stash))
    return "stash_type " + std::to_string(stash) + " is not a float type";
  return std::nullopt;
}

void mlir::kiln::populateRmsNormalizationDecomposition(
    RewritePatternSet &patterns) {
  patterns.add<DecomposeRmsNormalization>(patterns.getContext());
}
