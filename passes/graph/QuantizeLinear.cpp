//===- QuantizeLinear.cpp - kiln-graph-quantize-linear --------------------===//

#include "passes/graph/Passes.h"

#include "dialects/onnx/OnnxConstants.h"

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

/// The kiln ops' (axis, group size) for ONNX's parameters of `scale` over
/// `data`, or nullopt where the kiln ops cannot say them.
std::optional<std::pair<int64_t, int64_t>> granularityOf(RankedTensorType data,
                                                         Type scaleType,
                                                         int64_t axis,
                                                         int64_t blockSize) {
  auto scale = dyn_cast<RankedTensorType>(scaleType);
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

/// Whether the zero point of type `zeroType` (null when absent) has the
/// integers' type `integer` and the scale's shape, as the kiln ops take it.
bool fitsZeroPoint(Type zeroType, Type integer, Type scaleType) {
  if (!zeroType)
    return true;
  auto type = dyn_cast<RankedTensorType>(zeroType);
  return type && type.getElementType() == integer &&
         type.getShape() == cast<RankedTensorType>(scaleType).getShape();
}

/// Whether `value` is a constant of one element in a tensor of rank 1 or
/// more: per tensor, as onnxruntime writes a bias's scale ([1]).
bool isSingleConstant(Value value) {
  auto type =
      value ? dyn_cast<RankedTensorType>(value.getType()) : RankedTensorType();
  return type && type.getRank() > 0 && type.hasStaticShape() &&
         type.getNumElements() == 1 && onnx::getConstantElements(value);
}

/// The type of `value` in the kiln ops: 0-D for a single constant.
Type perTensorType(Value value) {
  if (!value)
    return Type();
  if (!isSingleConstant(value))
    return value.getType();
  return RankedTensorType::get({}, getElementTypeOrSelf(value.getType()));
}

/// `value` as perTensorType says.
Value perTensorForm(PatternRewriter &rewriter, Value value) {
  if (!value || !isSingleConstant(value))
    return value;
  return onnx::createConstant(rewriter, value.getLoc(),
                              onnx::getConstantElements(value).reshape(
                                  cast<ShapedType>(perTensorType(value))));
}

struct QuantizeAsKiln : OpRewritePattern<onnx::QuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::QuantizeLinearOp op,
                                PatternRewriter &rewriter) const override {
    auto input = dyn_cast<RankedTensorType>(op.getX().getType());
    auto result = dyn_cast<RankedTensorType>(op.getType());
    if (!input || !result || !isQuantizationFloat(input.getElementType()) ||
        !isQuantizedInteger(result.getElementType(), /*allowWide=*/false))
      return failure();
    Type scaleType = perTensorType(op.getYScale());
    auto granularity =
        granularityOf(input, scaleType, op.getAxis(), op.getBlockSize());
    if (!granularity || !fitsZeroPoint(perTensorType(op.getYZeroPoint()),
                                       result.getElementType(), scaleType))
      return failure();
    Value scale = perTensorForm(rewriter, op.getYScale());
    Value zeroPoint = perTensorForm(rewriter, op.getYZeroPoint());
    rewriter.replaceOpWithNewOp<QuantizeOp>(op, result, op.getX(), scale,
                                            zeroPoint, granularity->first,
                                            granularity->second);
    return success();
  }
};

/// The f32 values of a per-tensor or per-axis dequantization of constants
/// with f32 scales, or nullopt.
std::optional<std::vector<float>>
dequantizedConstant(onnx::DequantizeLinearOp op, int64_t axis) {
  auto type = cast<RankedTensorType>(op.getX().getType());
  std::optional<SmallVector<int64_t>> values = onnx::getConstantInts(op.getX());
  std::optional<std::vector<float>> scales =
      onnx::getConstantFloats(op.getXScale());
  std::optional<SmallVector<int64_t>> zeros =
      op.getXZeroPoint() ? onnx::getConstantInts(op.getXZeroPoint())
                         : SmallVector<int64_t>(scales ? scales->size() : 0, 0);
  if (!values || !scales || !zeros || zeros->size() != scales->size())
    return std::nullopt;
  int64_t inner = 1;
  for (int64_t d = axis + 1; d < type.getRank(); ++d)
    inner *= type.getDimSize(d);
  std::vector<float> result(values->size());
  for (size_t i = 0; i < values->size(); ++i) {
    size_t at = scales->size() == 1 ? 0 : (i / inner) % scales->size();
    result[i] = float(double((*values)[i] - (*zeros)[at]) * (*scales)[at]);
  }
  return result;
}

struct DequantizeAsKiln : OpRewritePattern<onnx::DequantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::DequantizeLinearOp op,
                                PatternRewriter &rewriter) const override {
    auto input = dyn_cast<RankedTensorType>(op.getX().getType());
    auto result = dyn_cast<RankedTensorType>(op.getType());
    if (!input || !result || !isQuantizationFloat(result.getElementType()) ||
        !isQuantizedInteger(input.getElementType(), /*allowWide=*/true))
      return failure();
    Type scaleType = perTensorType(op.getXScale());
    auto granularity =
        granularityOf(input, scaleType, op.getAxis(), op.getBlockSize());
    if (!granularity || !fitsZeroPoint(perTensorType(op.getXZeroPoint()),
                                       input.getElementType(), scaleType))
      return failure();
    // 32-bit constants (the biases of quantized graphs) are floats to the
    // kernels: dequantized here, once.
    if (input.getElementType().isInteger(32) &&
        result.getElementType().isF32() && granularity->second == 0)
      if (std::optional<std::vector<float>> floats =
              dequantizedConstant(op, granularity->first)) {
        rewriter.replaceOp(op, onnx::createFloatConstant(rewriter, op.getLoc(),
                                                         result, *floats,
                                                         "dequantized_bias"));
        return success();
      }
    Value scale = perTensorForm(rewriter, op.getXScale());
    Value zeroPoint = perTensorForm(rewriter, op.getXZeroPoint());
    rewriter.replaceOpWithNewOp<DequantizeOp>(op, result, op.getX(), scale,
                                              zeroPoint, granularity->first,
                                              granularity->second);
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
