//===- RowKernels.cpp - kiln-graph-row-kernels ----------------------------===//

#include "passes/graph/Passes.h"

#include "dialects/onnx/OnnxConstants.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_GRAPHROWKERNELSPASS
#include "passes/graph/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

RankedTensorType staticF32(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || !type.hasStaticShape() || !type.getElementType().isF32() ||
      type.getRank() < 1)
    return {};
  return type;
}

bool isLastAxis(int64_t axis, int64_t rank) {
  return axis == -1 || axis == rank - 1;
}

struct LayerNormToKernel : OpRewritePattern<onnx::LayerNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::LayerNormalizationOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = staticF32(op.getX());
    if (!type || op->getNumResults() != 1 || op.getY().getType() != type ||
        !isLastAxis(op.getAxis(), type.getRank()))
      return failure();
    int64_t row = type.getShape().back();
    auto rowType = RankedTensorType::get({row}, rewriter.getF32Type());
    auto fitsRow = [&](Value value) {
      return value && staticF32(value) == rowType;
    };
    if (!fitsRow(op.getScale()) || (op.getB() && !fitsRow(op.getB())))
      return failure();
    Location loc = op.getLoc();
    Value bias = op.getB();
    if (!bias)
      bias = onnx::createFloatConstant(rewriter, loc, rowType,
                                       std::vector<float>(row, 0.0f),
                                       "layer_norm_bias");
    Value init = rewriter.create<tensor::EmptyOp>(loc, type.getShape(),
                                                  type.getElementType());
    rewriter.replaceOpWithNewOp<LayerNormOp>(
        op, TypeRange{type}, op.getX(), op.getScale(), bias, init,
        op.getEpsilonAttr());
    return success();
  }
};

struct SoftmaxToKernel : OpRewritePattern<onnx::SoftmaxOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::SoftmaxOp op,
                                PatternRewriter &rewriter) const override {
    // Symbolic sizes too: an LLM's scores grow with its context.
    auto type = dyn_cast<RankedTensorType>(op.getInput().getType());
    if (!type || !type.getElementType().isF32() || type.getRank() < 1 ||
        op.getOutput().getType() != type ||
        !isLastAxis(op.getAxis(), type.getRank()))
      return failure();
    SmallVector<Value> sizes;
    for (int64_t dim = 0; dim < type.getRank(); ++dim)
      if (type.isDynamicDim(dim))
        sizes.push_back(
            rewriter.create<tensor::DimOp>(op.getLoc(), op.getInput(), dim));
    Value init = rewriter.create<tensor::EmptyOp>(op.getLoc(), type, sizes);
    rewriter.replaceOpWithNewOp<SoftmaxOp>(op, TypeRange{type}, op.getInput(),
                                           init);
    return success();
  }
};

/// `ReduceMax(Abs(x))` over the last axis, keeping it: each row's largest
/// magnitude (per-row quantization's scale) in one sweep, vectorized,
/// instead of the magnitudes written out and then reduced one by one.
struct RowAbsMaxToKernel : OpRewritePattern<onnx::ReduceMaxOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::ReduceMaxOp op,
                                PatternRewriter &rewriter) const override {
    auto abs = op.getData().getDefiningOp<onnx::AbsOp>();
    if (!abs || op.getKeepdims() != 1 || !op.getAxes())
      return failure();
    auto type = dyn_cast<RankedTensorType>(abs.getX().getType());
    std::optional<SmallVector<int64_t>> axes =
        onnx::getConstantInts(op.getAxes());
    if (!type || !type.getElementType().isF32() || type.getRank() < 1 ||
        !axes || axes->size() != 1 ||
        !isLastAxis(axes->front(), type.getRank()) ||
        ShapedType::isDynamic(type.getShape().back()))
      return failure();
    SmallVector<int64_t> shape(type.getShape());
    shape.back() = 1;
    auto resultType = type.clone(shape);
    if (op.getType() != resultType)
      return failure();
    SmallVector<Value> sizes;
    for (int64_t dim = 0; dim + 1 < type.getRank(); ++dim)
      if (type.isDynamicDim(dim))
        sizes.push_back(
            rewriter.create<tensor::DimOp>(op.getLoc(), abs.getX(), dim));
    Value init =
        rewriter.create<tensor::EmptyOp>(op.getLoc(), resultType, sizes);
    rewriter.replaceOpWithNewOp<RowAbsMaxOp>(op, TypeRange{resultType},
                                             abs.getX(), init);
    return success();
  }
};

struct GraphRowKernelsPass
    : kiln::impl::GraphRowKernelsPassBase<GraphRowKernelsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<LayerNormToKernel, SoftmaxToKernel, RowAbsMaxToKernel>(
        &getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
