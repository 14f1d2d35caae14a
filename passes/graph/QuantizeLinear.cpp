//===- QuantizeLinear.cpp - kiln-graph-quantize-linear --------------------===//

#include "passes/graph/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_GRAPHQUANTIZELINEARPASS
#include "passes/graph/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

bool isQuantizationFloat(Type type) {
  return type.isF32() || type.isF16() || type.isBF16();
}

bool isIntegerOfWidth(Type type, unsigned lowest, unsigned highest) {
  auto integer = dyn_cast<IntegerType>(type);
  return integer && integer.getWidth() >= lowest &&
         integer.getWidth() <= highest;
}

/// The kiln ops' (axis, group size) for ONNX's parameters of `scale` over
/// `data`, or nullopt where the kiln ops cannot say them.
std::optional<std::pair<int64_t, int64_t>>
granularityOf(RankedTensorType data, Value scaleValue, int64_t axis,
              int64_t blockSize) {
  auto scale = dyn_cast<RankedTensorType>(scaleValue.getType());
  if (!scale || !isQuantizationFloat(scale.getElementType()))
    return std::nullopt;
  if (scale.getRank() == 0)
    return std::make_pair(int64_t(0), int64_t(0));
  if (axis < 0)
    axis += data.getRank();
  if (axis < 0 || axis >= data.getRank())
    return std::nullopt;
  int64_t extent = data.getDimSize(axis);
  if (scale.getRank() == 1 && blockSize == 0)
    return scale.getDimSize(0) == extent && !ShapedType::isDynamic(extent)
               ? std::optional(std::make_pair(axis, int64_t(0)))
               : std::nullopt;
  if (blockSize <= 0 || scale.getRank() != data.getRank() ||
      ShapedType::isDynamic(extent) || extent % blockSize)
    return std::nullopt;
  for (int64_t d = 0; d < data.getRank(); ++d)
    if (scale.getDimSize(d) !=
        (d == axis ? extent / blockSize : data.getDimSize(d)))
      return std::nullopt;
  return std::make_pair(axis, blockSize);
}

/// Whether `zeroPoint` is absent or has the integers' type `integer` and
/// the scale's shape, as the kiln ops take it.
bool fitsZeroPoint(Value zeroPoint, Type integer, Value scale) {
  if (!zeroPoint)
    return true;
  auto type = dyn_cast<RankedTensorType>(zeroPoint.getType());
  return type && type.getElementType() == integer &&
         type.getShape() ==
             cast<RankedTensorType>(scale.getType()).getShape();
}

struct QuantizeAsKiln : OpRewritePattern<onnx::QuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::QuantizeLinearOp op,
                                PatternRewriter &rewriter) const override {
    auto input = dyn_cast<RankedTensorType>(op.getX().getType());
    auto result = dyn_cast<RankedTensorType>(op.getType());
    if (!input || !result || !isQuantizationFloat(input.getElementType()) ||
        !isIntegerOfWidth(result.getElementType(), 2, 16))
      return failure();
    auto granularity = granularityOf(input, op.getYScale(), op.getAxis(),
                                     op.getBlockSize());
    if (!granularity || !fitsZeroPoint(op.getYZeroPoint(),
                                       result.getElementType(), op.getYScale()))
      return failure();
    rewriter.replaceOpWithNewOp<QuantizeOp>(
        op, result, op.getX(), op.getYScale(), op.getYZeroPoint(),
        granularity->first, granularity->second);
    return success();
  }
};

struct DequantizeAsKiln : OpRewritePattern<onnx::DequantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::DequantizeLinearOp op,
                                PatternRewriter &rewriter) const override {
    auto input = dyn_cast<RankedTensorType>(op.getX().getType());
    auto result = dyn_cast<RankedTensorType>(op.getType());
    if (!input || !result || !isQuantizationFloat(result.getElementType()) ||
        !isIntegerOfWidth(input.getElementType(), 2, 32))
      return failure();
    auto granularity = granularityOf(input, op.getXScale(), op.getAxis(),
                                     op.getBlockSize());
    if (!granularity || !fitsZeroPoint(op.getXZeroPoint(),
                                       input.getElementType(), op.getXScale()))
      return failure();
    rewriter.replaceOpWithNewOp<DequantizeOp>(
        op, result, op.getX(), op.getXScale(), op.getXZeroPoint(),
        granularity->first, granularity->second);
    return success();
  }
};

struct GraphQuantizeLinearPass
    : mlir::kiln::impl::GraphQuantizeLinearPassBase<GraphQuantizeLinearPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<QuantizeAsKiln, DequantizeAsKiln>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
