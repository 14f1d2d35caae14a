//===- Softmax.cpp - Softmax and LogSoftmax to linalg ---------------------===//
//
// The numerically stable form, as four linalg.generic ops over the axis:
//   m = max(x), e = exp(x - m), s = sum(e), y = e / s
// (LogSoftmax: y = (x - m) - log(s)). The reductions keep every dimension
// but the axis; the elementwise steps read them broadcast along it.
//
//===----------------------------------------------------------------------===//

#include "codegen/linalg/LinalgBuilders.h"
#include "codegen/linalg/OnnxToLinalg.h"
#include "codegen/linalg/Passes.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

#include <cmath>

using namespace mlir;
using namespace mlir::kiln;

namespace {

template <typename OpTy>
struct LowerSoftmax : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if (checkSoftmaxLowering(op))
      return failure();
    constexpr bool isLog = std::is_same_v<OpTy, onnx::LogSoftmaxOp>;
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    Value input = op.getInput();
    auto type = cast<RankedTensorType>(input.getType());
    Type element = type.getElementType();
    int64_t rank = type.getRank();
    int64_t axis = (int64_t)op.getAxis();
    if (axis < 0)
      axis += rank;

    // Shapes and maps: the full space, and the space without the axis.
    SmallVector<int64_t> reducedShape;
    SmallVector<Value> reducedSizes, fullSizes;
    SmallVector<AffineExpr> reducedExprs;
    for (int64_t i = 0; i < rank; ++i) {
      if (type.isDynamicDim(i))
        fullSizes.push_back(rewriter.create<tensor::DimOp>(loc, input, i));
      if (i == axis)
        continue;
      reducedShape.push_back(type.getDimSize(i));
      reducedExprs.push_back(getAffineDimExpr(i, context));
      if (type.isDynamicDim(i))
        reducedSizes.push_back(fullSizes.back());
    }
    auto reducedType = RankedTensorType::get(reducedShape, element);
    AffineMap full = rewriter.getMultiDimIdentityMap(rank);
    AffineMap reduced = AffineMap::get(rank, 0, reducedExprs, context);
    SmallVector<utils::IteratorType> parallel(rank,
                                              utils::IteratorType::parallel);
    SmallVector<utils::IteratorType> reducing = parallel;
    reducing[axis] = utils::IteratorType::reduction;

    auto filled = [&](double value) {
      return filledTensor(rewriter, loc, reducedShape,
                          rewriter.getFloatAttr(element, value), reducedSizes);
    };
    auto emptyFull = [&]() -> Value {
      return rewriter.create<tensor::EmptyOp>(loc, type.getShape(), element,
                                              fullSizes);
    };

    Value maximum =
        rewriter
            .create<linalg::GenericOp>(
                loc, reducedType, input, filled(-INFINITY),
                ArrayRef{full, reduced}, reducing,
                [](OpBuilder &b, Location l, ValueRange args) {
                  b.create<linalg::YieldOp>(
                      l, b.create<arith::MaximumFOp>(l, args[0], args[1])
                             .getResult());
                })
            .getResult(0);
    // shifted = x - m; for Softmax, exp(shifted).
    Value shifted =
        rewriter
            .create<linalg::GenericOp>(
                loc, type, ValueRange{input, maximum}, emptyFull(),
                ArrayRef{full, reduced, full}, parallel,
                [](OpBuilder &b, Location l, ValueRange args) {
                  Value difference = b.create<arith::SubFOp>(l, args[0], args[1]);
                  b.create<linalg::YieldOp>(
                      l, isLog ? difference
                               : b.create<math::ExpOp>(l, difference).getResult());
                })
            .getResult(0);
    Value sum =
        rewriter
            .create<linalg::GenericOp>(
                loc, reducedType, shifted, filled(0.0), ArrayRef{full, reduced},
                reducing,
                [](OpBuilder &b, Location l, ValueRange args) {
                  Value term = isLog ? b.create<math::ExpOp>(l, args[0]).getResult()
                                     : args[0];
                  b.create<linalg::YieldOp>(
                      l, b.create<arith::AddFOp>(l, term, args[1]).getResult());
                })
            .getResult(0);
    Value result =
        rewriter
            .create<linalg::GenericOp>(
                loc, type, ValueRange{shifted, sum}, emptyFull(),
                ArrayRef{full, reduced, full}, parallel,
                [](OpBuilder &b, Location l, ValueRange args) {
                  Value out =
                      isLog ? b.create<arith::SubFOp>(
                                   l, args[0], b.create<math::LogOp>(l, args[1]))
                                  .getResult()
                            : b.create<arith::DivFOp>(l, args[0], args[1])
                                  .getResult();
                  b.create<linalg::YieldOp>(l, out);
                })
            .getResult(0);
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

std::optional<std::string> mlir::kiln::checkSoftmaxLowering(Operation *op) {
  if (!isa<onnx::SoftmaxOp, onnx::LogSoftmaxOp>(op))
    return std::string();
  auto type = dyn_cast<RankedTensorType>(op->getOperand(0).getType());
  if (!type || type != op->getResult(0).getType())
    return std::string("its input and result must have the same ranked type");
  if (type.getRank() == 0)
    return std::string("it needs an input of rank 1 or more");
  Type element = type.getElementType();
  if (!element.isF16() && !element.isBF16() && !element.isF32() &&
      !element.isF64())
    return std::string("its element type is not lowered yet");
  return std::nullopt;
}

void mlir::kiln::populateSoftmaxLowering(RewritePatternSet &patterns) {
  patterns.add<LowerSoftmax<onnx::SoftmaxOp>, LowerSoftmax<onnx::LogSoftmaxOp>>(
      patterns.getContext());
}
