//===- Generators.cpp - ConstantOfShape, Range and EyeLike to linalg ------===//
//
// Operators that make a tensor from little more than its shape.
// ConstantOfShape fills a tensor whose (possibly run-time) sizes come from
// its shape input. Range computes its length at run time,
// max(ceil((limit - start) / delta), 0), and fills start + i * delta.
// EyeLike puts ones on the k-th diagonal; OneHot puts `on` where the
// position along the axis is the index, `off` elsewhere.
//
//===----------------------------------------------------------------------===//

#include "codegen/linalg/LinalgBuilders.h"
#include "codegen/linalg/OnnxToLinalg.h"
#include "codegen/linalg/Passes.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// `value` converted to `type` (an integer or float element type).
Value castElement(OpBuilder &b, Location loc, Value value, Type type) {
  Type from = value.getType();
  if (from == type)
    return value;
  if (isa<FloatType>(from) && isa<FloatType>(type))
    return from.getIntOrFloatBitWidth() < type.getIntOrFloatBitWidth()
               ? b.create<arith::ExtFOp>(loc, type, value).getResult()
               : b.create<arith::TruncFOp>(loc, type, value).getResult();
  if (isa<FloatType>(type))
    return b.create<arith::SIToFPOp>(loc, type, value);
  if (isa<FloatType>(from))
    return b.create<arith::FPToSIOp>(loc, type, value);
  return from.getIntOrFloatBitWidth() < type.getIntOrFloatBitWidth()
             ? b.create<arith::ExtSIOp>(loc, type, value).getResult()
             : b.create<arith::TruncIOp>(loc, type, value).getResult();
}

/// The scalar in a rank-0 or one-element tensor.
Value scalarOf(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<Value> zeros(type.getRank(),
                           b.create<arith::ConstantIndexOp>(loc, 0));
  return b.create<tensor::ExtractOp>(loc, tensor, zeros);
}

struct LowerConstantOfShape : OpRewritePattern<onnx::ConstantOfShapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ConstantOfShapeOp op,
                                PatternRewriter &rewriter) const override {
    if (checkGeneratorLowering(op))
      return failure();
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    Type element = type.getElementType();
    TypedAttr fill;
    if (std::optional<ElementsAttr> value = op.getValue())
      fill = cast<TypedAttr>(*value->value_begin<Attribute>());
    else
      fill = rewriter.getZeroAttr(element);
    SmallVector<Value> sizes;
    for (int64_t i = 0; i < type.getRank(); ++i) {
      if (!type.isDynamicDim(i))
        continue;
      Value at = rewriter.create<arith::ConstantIndexOp>(loc, i);
      Value size = rewriter.create<tensor::ExtractOp>(loc, op.getInput(), at);
      sizes.push_back(rewriter.create<arith::IndexCastOp>(
          loc, rewriter.getIndexType(), size));
    }
    rewriter.replaceOp(op, filledTensor(rewriter, loc, type.getShape(), fill,
                                        sizes));
    return success();
  }
};

struct LowerRange : OpRewritePattern<onnx::RangeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::RangeOp op,
                                PatternRewriter &rewriter) const override {
    if (checkGeneratorLowering(op))
      return failure();
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    Type element = type.getElementType();
    Value start = scalarOf(rewriter, loc, op.getStart());
    Value delta = scalarOf(rewriter, loc, op.getDelta());
    SmallVector<Value> sizes;
    if (type.isDynamicDim(0)) {
      Value limit = scalarOf(rewriter, loc, op.getLimit());
      Value count;
      if (isa<FloatType>(element)) {
        Value span = rewriter.create<arith::SubFOp>(loc, limit, start);
        Value steps = rewriter.create<math::CeilOp>(
            loc, rewriter.create<arith::DivFOp>(loc, span, delta));
        count = rewriter.create<arith::FPToSIOp>(loc, rewriter.getI64Type(),
                                                 steps);
      } else {
        // ceil((limit - start) / delta) for either sign of delta; a zero
        // delta (invalid) gives an empty range rather than a division trap.
        Value span = rewriter.create<arith::SubIOp>(loc, limit, start);
        Value zeroDelta = rewriter.create<arith::CmpIOp>(
            loc, arith::CmpIPredicate::eq, delta,
            rewriter.create<arith::ConstantOp>(
                loc, rewriter.getZeroAttr(delta.getType())));
        Value safeDelta = rewriter.create<arith::SelectOp>(
            loc, zeroDelta,
            rewriter.create<arith::ConstantOp>(
                loc, rewriter.getIntegerAttr(delta.getType(), 1)),
            delta);
        count = rewriter.create<arith::CeilDivSIOp>(loc, span, safeDelta);
        count = rewriter.create<arith::SelectOp>(
            loc, zeroDelta,
            rewriter.create<arith::ConstantOp>(loc,
                                               rewriter.getZeroAttr(span.getType())),
            count);
        count = castElement(rewriter, loc, count, rewriter.getI64Type());
      }
      Value zero = rewriter.create<arith::ConstantIntOp>(loc, 0, 64);
      count = rewriter.create<arith::MaxSIOp>(loc, count, zero);
      sizes.push_back(rewriter.create<arith::IndexCastOp>(
          loc, rewriter.getIndexType(), count));
    }
    Value result = generateTensor(
        rewriter, loc, type, sizes, [&](OpBuilder &b, Location l) -> Value {
          Value index = b.create<arith::IndexCastOp>(
              l, b.getI64Type(), b.create<linalg::IndexOp>(l, 0));
          Value step = castElement(b, l, index, element);
          Value value =
              isa<FloatType>(element)
                  ? b.create<arith::AddFOp>(
                         l, start, b.create<arith::MulFOp>(l, step, delta))
                        .getResult()
                  : b.create<arith::AddIOp>(
                         l, start, b.create<arith::MulIOp>(l, step, delta))
                        .getResult();
          return value;
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LowerEyeLike : OpRewritePattern<onnx::EyeLikeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::EyeLikeOp op,
                                PatternRewriter &rewriter) const override {
    if (checkGeneratorLowering(op))
      return failure();
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    Type element = type.getElementType();
    int64_t k = (int64_t)op.getK();
    Value result = generateTensor(
        rewriter, loc, type, {}, [&](OpBuilder &b, Location l) -> Value {
          Value row = b.create<linalg::IndexOp>(l, 0);
          Value column = b.create<linalg::IndexOp>(l, 1);
          Value diagonal = b.create<arith::AddIOp>(
              l, row, b.create<arith::ConstantIndexOp>(l, k));
          Value onDiagonal = b.create<arith::CmpIOp>(
              l, arith::CmpIPredicate::eq, column, diagonal);
          Value one = b.create<arith::ConstantOp>(
              l, cast<TypedAttr>(isa<FloatType>(element)
                                     ? TypedAttr(b.getFloatAttr(element, 1.0))
                                     : TypedAttr(b.getIntegerAttr(element, 1))));
          Value zero = b.create<arith::ConstantOp>(l, b.getZeroAttr(element));
          return b.create<arith::SelectOp>(l, onDiagonal, one, zero);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LowerOneHot : OpRewritePattern<onnx::OneHotOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::OneHotOp op,
                                PatternRewriter &rewriter) const override {
    if (checkGeneratorLowering(op))
      return failure();
    Location loc = op.getLoc();
    MLIRContext *context = getContext();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    int64_t axis = (int64_t)op.getAxis();
    if (axis < 0)
      axis += rank;
    int64_t depth = type.getDimSize(axis);
    Value values = op.getValues();
    Value off = rewriter.create<tensor::ExtractOp>(
        loc, values, ValueRange{rewriter.create<arith::ConstantIndexOp>(loc, 0)});
    Value on = rewriter.create<tensor::ExtractOp>(
        loc, values, ValueRange{rewriter.create<arith::ConstantIndexOp>(loc, 1)});
    SmallVector<AffineExpr> indexExprs;
    for (int64_t i = 0; i < rank; ++i)
      if (i != axis)
        indexExprs.push_back(getAffineDimExpr(i, context));
    Value empty = rewriter.create<tensor::EmptyOp>(loc, type.getShape(),
                                                   type.getElementType());
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type, op.getIndices(), empty,
        ArrayRef{AffineMap::get(rank, 0, indexExprs, context),
                 rewriter.getMultiDimIdentityMap(rank)},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange args) {
          // The class, as an integer; negative ones count from depth.
          Value label = castElement(b, l, args[0], b.getI64Type());
          Value zero = b.create<arith::ConstantIntOp>(l, 0, 64);
          Value size = b.create<arith::ConstantIntOp>(l, depth, 64);
          Value negative =
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, label, zero);
          label = b.create<arith::SelectOp>(
              l, negative, b.create<arith::AddIOp>(l, label, size), label);
          Value position = b.create<arith::IndexCastOp>(
              l, b.getI64Type(), b.create<linalg::IndexOp>(l, axis));
          Value hot = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq,
                                              position, label);
          b.create<linalg::YieldOp>(
              l, b.create<arith::SelectOp>(l, hot, on, off).getResult());
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

} // namespace

std::optional<std::string> mlir::kiln::checkGeneratorLowering(Operation *op) {
  if (auto oneHot = dyn_cast<onnx::OneHotOp>(op)) {
    auto type = dyn_cast<RankedTensorType>(oneHot.getType());
    auto indices = dyn_cast<RankedTensorType>(oneHot.getIndices().getType());
    auto values = dyn_cast<RankedTensorType>(oneHot.getValues().getType());
    if (!type || !indices || !values || !type.hasStaticShape() ||
        !indices.hasStaticShape())
      return std::string("its depth must be constant and its shapes static");
    int64_t axis = (int64_t)oneHot.getAxis();
    if (axis < -type.getRank() || axis >= type.getRank())
      return std::string("its axis is out of range");
    if (type.getRank() != indices.getRank() + 1 ||
        values.getNumElements() != 2 ||
        values.getElementType() != type.getElementType())
      return std::string("its indices, values and result do not fit");
    if (!indices.getElementType().isSignlessIntOrFloat() ||
        !type.getElementType().isSignlessIntOrFloat())
      return std::string("its element types are not lowered yet");
    return std::nullopt;
  }
  if (!isa<onnx::ConstantOfShapeOp, onnx::RangeOp, onnx::EyeLikeOp>(op))
    return std::string();
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!type)
    return std::string("the rank of its result is unknown");
  Type element = type.getElementType();
  if (!element.isSignlessIntOrFloat() && !element.isInteger(1))
    return std::string("its element type is not lowered yet");
  if (isa<onnx::EyeLikeOp>(op) &&
      (type.getRank() != 2 || !type.hasStaticShape()))
    return std::string("it is lowered for static 2-D shapes only");
  if (isa<onnx::RangeOp>(op) && element.isInteger(1))
    return std::string("its element type is not lowered yet");
  if (auto constantOfShape = dyn_cast<onnx::ConstantOfShapeOp>(op)) {
    auto shapeType =
        dyn_cast<RankedTensorType>(constantOfShape.getInput().getType());
    if (!type.hasStaticShape() &&
        (!shapeType || shapeType.getRank() != 1 ||
         shapeType.getDimSize(0) != type.getRank()))
      return std::string("its shape input must have the result's rank");
  }
  return std::nullopt;
}

void mlir::kiln::populateGeneratorLowering(RewritePatternSet &patterns) {
  patterns.add<LowerConstantOfShape, LowerRange, LowerEyeLike, LowerOneHot>(
      patterns.getContext());
}
