//===- Losses.cpp - NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss -===//
//
// NegativeLogLikelihoodLoss reads, for every position (n, d...) of the
// target, -input[n, target, d...] weighted by weight[target]; a target
// equal to ignore_index contributes 0 with weight 0 (and is never used as
// an index, since it may lie outside [0, C)). One linalg.generic makes the
// weighted losses and their weights; "sum" and "mean" reduce both to
// scalars, and "mean" divides the loss by the total weight.
// SoftmaxCrossEntropyLoss is LogSoftmax over the class axis, then the same
// loss; it is rewritten into those two onnx ops, which lower in turn.
//
//===----------------------------------------------------------------------===//

#include "codegen/linalg/LinalgBuilders.h"
#include "codegen/linalg/OnnxToLinalg.h"
#include "codegen/linalg/Passes.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

struct LowerNegativeLogLikelihoodLoss
    : OpRewritePattern<onnx::NegativeLogLikelihoodLossOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::NegativeLogLikelihoodLossOp op,
                                PatternRewriter &rewriter) const override {
    if (checkLossLowering(op))
      return failure();
    Location loc = op.getLoc();
    Value input = op.getInput(), target = op.getTarget(),
          weight = op.getWeight();
    auto targetType = cast<RankedTensorType>(target.getType());
    Type element = cast<RankedTensorType>(input.getType()).getElementType();
    Type targetElement = targetType.getElementType();
    int64_t rank = targetType.getRank();
    std::optional<uint64_t> ignoreIndex = op.getIgnoreIndex();

    // Per position: the weighted loss and its weight.
    auto elementsType = RankedTensorType::get(targetType.getShape(), element);
    Value lossInit =
        rewriter.create<tensor::EmptyOp>(loc, targetType.getShape(), element);
    Value weightInit =
        rewriter.create<tensor::EmptyOp>(loc, targetType.getShape(), element);
    AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
    auto elements = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{elementsType, elementsType}, target,
        ValueRange{lossInit, weightInit},
        ArrayRef{identity, identity, identity},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value label = args[0];
          Value zero = floatConstant(b, l, element, 0.0);
          Value ignored;
          if (ignoreIndex) {
            Value ignore = b.create<arith::ConstantOp>(
                l, b.getIntegerAttr(targetElement, (int64_t)*ignoreIndex));
            ignored = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq,
                                              label, ignore);
            label = b.create<arith::SelectOp>(
                l, ignored,
                b.create<arith::ConstantOp>(l, b.getZeroAttr(targetElement)),
                label);
          }
          Value classIndex =
              b.create<arith::IndexCastOp>(l, b.getIndexType(), label);
          SmallVector<Value> at = {b.create<linalg::IndexOp>(l, 0), classIndex};
          for (int64_t i = 1; i < rank; ++i)
            at.push_back(b.create<linalg::IndexOp>(l, i));
          Value w = weight ? b.create<tensor::ExtractOp>(l, weight, classIndex)
                                 .getResult()
                           : floatConstant(b, l, element, 1.0);
          if (ignored)
            w = b.create<arith::SelectOp>(l, ignored, zero, w);
          Value picked = b.create<tensor::ExtractOp>(l, input, at);
          Value loss = b.create<arith::MulFOp>(
              l, b.create<arith::NegFOp>(l, picked), w);
          b.create<linalg::YieldOp>(l, ValueRange{loss, w});
        });
    StringRef reduction = op.getReduction();
    if (reduction == "none") {
      rewriter.replaceOp(op, elements.getResult(0));
      return success();
    }

    // Both totals, then the mean as their ratio.
    auto scalarType = RankedTensorType::get({}, element);
    Value zeroScalar = filledTensor(rewriter, loc, {},
                                    rewriter.getFloatAttr(element, 0.0));
    AffineMap toScalar = AffineMap::get(rank, 0, {}, getContext());
    auto totals = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{scalarType, scalarType}, elements.getResults(),
        ValueRange{zeroScalar, zeroScalar},
        ArrayRef{identity, identity, toScalar, toScalar},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::reduction),
        [&](OpBuilder &b, Location l, ValueRange args) {
          b.create<linalg::YieldOp>(
              l, ValueRange{b.create<arith::AddFOp>(l, args[0], args[2]),
                            b.create<arith::AddFOp>(l, args[1], args[3])});
        });
    if (reduction == "sum") {
      rewriter.replaceOp(op, totals.getResult(0));
      return success();
    }
    AffineMap scalarMap = AffineMap::get(0, 0, {}, getContext());
    auto mean = rewriter.create<linalg::GenericOp>(
        loc, scalarType, totals.getResults(),
        rewriter.create<tensor::EmptyOp>(loc, ArrayRef<int64_t>{}, element)
            .getResult(),
        ArrayRef{scalarMap, scalarMap, scalarMap},
        ArrayRef<utils::IteratorType>{},
        [&](OpBuilder &b, Location l, ValueRange args) {
          b.create<linalg::YieldOp>(
              l, b.create<arith::DivFOp>(l, args[0], args[1]).getResult());
        });
    rewriter.replaceOp(op, mean.getResults());
    return success();
  }
};

struct LowerSoftmaxCrossEntropyLoss
    : OpRewritePattern<onnx::SoftmaxCrossEntropyLossOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::SoftmaxCrossEntropyLossOp op,
                                PatternRewriter &rewriter) const override {
    if (checkLossLowering(op))
      return failure();
    Location loc = op.getLoc();
    Value logProb = rewriter.create<onnx::LogSoftmaxOp>(
        loc, op.getScores().getType(), op.getScores(), /*axis=*/1);
    Value loss = rewriter.create<onnx::NegativeLogLikelihoodLossOp>(
        loc, op.getOutput().getType(), logProb, op.getLabels(),
        op.getWeights(), op.getIgnoreIndexAttr(), op.getReductionAttr());
    SmallVector<Value> results = {loss};
    if (op.getLogProb())
      results.push_back(logProb);
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

std::optional<std::string> mlir::kiln::checkLossLowering(Operation *op) {
  if (!isa<onnx::NegativeLogLikelihoodLossOp, onnx::SoftmaxCrossEntropyLossOp>(
          op))
    return std::string();
  auto input = dyn_cast<RankedTensorType>(op->getOperand(0).getType());
  auto target = dyn_cast<RankedTensorType>(op->getOperand(1).getType());
  if (!input || !target || !input.hasStaticShape() || !target.hasStaticShape())
    return std::string("its shapes must be static for now");
  if (input.getRank() < 2 || target.getRank() != input.getRank() - 1)
    return std::string("its input must be [N, C, d...] and its target "
                       "[N, d...]");
  if (!isa<FloatType>(input.getElementType()))
    return std::string("its input must be floating-point");
  if (!target.getElementType().isSignlessInteger())
    return std::string("its target must be integers");
  StringRef reduction = op->getAttrOfType<StringAttr>("reduction").getValue();
  if (reduction != "none" && reduction != "sum" && reduction != "mean")
    return std::string("its reduction must be none, sum or mean");
  if (op->getNumOperands() > 2 && op->getOperand(2)) {
    auto weight = dyn_cast<RankedTensorType>(op->getOperand(2).getType());
    if (!weight || weight.getRank() != 1 ||
        weight.getElementType() != input.getElementType())
      return std::string("its weight must be a vector of the input's type");
  }
  return std::nullopt;
}

void mlir::kiln::populateLossLowering(RewritePatternSet &patterns) {
  patterns.add<LowerNegativeLogLikelihoodLoss, LowerSoftmaxCrossEntropyLoss>(
      patterns.getContext());
}
