//===- FoldBatchNorm.cpp - kiln-graph-fold-batch-norm ---------------------===//

#include "passes/graph/Passes.h"

#include "dialects/onnx/OnnxConstants.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace mlir::kiln {
#define GEN_PASS_DEF_GRAPHFOLDBATCHNORMPASS
#include "passes/graph/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

struct FoldIntoConv : OpRewritePattern<onnx::BatchNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::BatchNormalizationOp op,
                                PatternRewriter &rewriter) const override {
    auto conv = op.getX().getDefiningOp<onnx::ConvOp>();
    if (!conv || !conv->hasOneUse() || op.getTrainingMode() != 0 ||
        op.getRunningMean() || op.getRunningVar())
      return failure();
    auto wType = dyn_cast<RankedTensorType>(conv.getW().getType());
    if (!wType || !wType.hasStaticShape() || wType.getRank() < 3)
      return failure();
    int64_t filters = wType.getDimSize(0);
    auto scale = onnx::getConstantFloats(op.getScale());
    auto shift = onnx::getConstantFloats(op.getB());
    auto mean = onnx::getConstantFloats(op.getInputMean());
    auto variance = onnx::getConstantFloats(op.getInputVar());
    auto weights = onnx::getConstantFloats(conv.getW());
    for (auto *values : {&scale, &shift, &mean, &variance})
      if (!*values || int64_t((*values)->size()) != filters)
        return failure();
    if (!weights)
      return failure();
    std::vector<float> bias(filters, 0.0f);
    if (conv.getB()) {
      auto b = onnx::getConstantFloats(conv.getB());
      if (!b || int64_t(b->size()) != filters)
        return failure();
      bias = *b;
    }

    double epsilon = op.getEpsilon().convertToFloat();
    int64_t perFilter = weights->size() / filters;
    for (int64_t f = 0; f < filters; ++f) {
      double s = (*scale)[f] / std::sqrt(double((*variance)[f]) + epsilon);
      for (int64_t i = 0; i < perFilter; ++i)
        (*weights)[f * perFilter + i] = float((*weights)[f * perFilter + i] * s);
      bias[f] = float((double(bias[f]) - (*mean)[f]) * s + (*shift)[f]);
    }

    Location loc = conv.getLoc();
    std::string name = "conv";
    if (auto named = dyn_cast<NameLoc>(loc))
      name = named.getName().str();
    rewriter.setInsertionPoint(conv);
    Value w = onnx::createFloatConstant(rewriter, loc, wType, *weights,
                                        name + "_folded_w");
    Value b = onnx::createFloatConstant(
        rewriter, loc, RankedTensorType::get({filters}, wType.getElementType()),
        bias, name + "_folded_b");
    OperationState state(loc, onnx::ConvOp::getOperationName());
    state.addOperands({conv.getX(), w, b});
    state.addTypes(op.getY().getType());
    state.addAttributes(conv->getAttrs());
    Operation *folded = rewriter.create(state);
    rewriter.replaceOp(op, folded->getResults().take_front(1));
    // The Conv's other results (none) and the BN's absent outputs.
    rewriter.eraseOp(conv);
    return success();
  }
};

struct GraphFoldBatchNormPass
    : kiln::impl::GraphFoldBatchNormPassBase<GraphFoldBatchNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldIntoConv>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
