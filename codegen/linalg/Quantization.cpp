//===- Quantization.cpp - kiln.quantize and kiln.dequantize to linalg -----===//
//
// The generic forms of quantization and dequantization, for what no packed
// kernel takes: one elementwise linalg.generic each, whose maps read each
// element's scale and zero point (per tensor, per axis or per group).
// Constants of unsigned and signed integers become signless ones, which
// arith computes on, widened with zero or sign extension as their type
// says.
//
//===----------------------------------------------------------------------===//

#include "codegen/linalg/LinalgBuilders.h"
#include "codegen/linalg/OnnxToLinalg.h"
#include "codegen/linalg/Passes.h"
#include "dialects/kiln/KilnOps.h"
#include "dialects/onnx/OnnxConstants.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// An integer constant's elements as signless integers of the same width.
Value signlessConstant(OpBuilder &b, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  auto integer = cast<IntegerType>(type.getElementType());
  DenseElementsAttr elements =
      onnx::getConstantElements(value, type.getNumElements());
  Type signless = b.getIntegerType(integer.getWidth());
  return b.create<arith::ConstantOp>(loc, elements.bitcast(signless));
}

/// Whether `value` can be read as signless integers: a signless (ONNX's
/// signed) tensor, or a constant of any signedness.
bool readableAsSignless(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  return type.getElementType().isSignlessInteger() ||
         onnx::getConstantElements(value, type.getNumElements());
}

Value asSignless(OpBuilder &b, Location loc, Value value) {
  if (cast<RankedTensorType>(value.getType())
          .getElementType()
          .isSignlessInteger())
    return value;
  return signlessConstant(b, loc, value);
}

/// The map from a tensor of `rank` to its quantization parameters of
/// `scaleType`: () per tensor, (d_axis) per axis, every dimension with
/// d_axis / group in groups.
AffineMap parameterMap(RankedTensorType scaleType, int64_t rank, int64_t axis,
                       int64_t group, MLIRContext *context) {
  SmallVector<AffineExpr> exprs;
  if (scaleType.getRank() == 1)
    exprs.push_back(getAffineDimExpr(axis, context));
  else if (scaleType.getRank() > 0)
    for (int64_t d = 0; d < rank; ++d)
      exprs.push_back(d == axis ? getAffineDimExpr(d, context).floorDiv(group)
                                : getAffineDimExpr(d, context));
  return AffineMap::get(rank, 0, exprs, context);
}

/// The generic over `op`'s input and parameters (scale, zero point when
/// there is one) into `resultType`, computing each element with `body`
/// (its arguments: element, scale, and zero point if any).
template <typename OpTy>
linalg::GenericOp
parameterGeneric(PatternRewriter &rewriter, OpTy op,
                 RankedTensorType resultType, Value input, Value zeroPoint,
                 function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  Location loc = op.getLoc();
  int64_t rank = resultType.getRank();
  AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
  AffineMap scaleMap =
      parameterMap(cast<RankedTensorType>(op.getScale().getType()), rank,
                   op.getAxis(), op.getGroupSize(), rewriter.getContext());
  SmallVector<Value> inputs = {input, op.getScale()};
  SmallVector<AffineMap> maps = {identity, scaleMap};
  if (zeroPoint) {
    inputs.push_back(zeroPoint);
    maps.push_back(scaleMap);
  }
  maps.push_back(identity);
  Value init = rewriter.create<tensor::EmptyOp>(
      loc, resultType.getShape(), resultType.getElementType(),
      dynamicSizesOf(rewriter, loc, op.getInput()));
  return rewriter.create<linalg::GenericOp>(
      loc, resultType, inputs, init, maps,
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &b, Location bodyLoc, ValueRange args) {
        b.create<linalg::YieldOp>(bodyLoc, body(b, bodyLoc, args.drop_back()));
      });
}

struct LowerDequantize : OpRewritePattern<DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &rewriter) const override {
    if (checkQuantizationLowering(op))
      return failure();
    Location loc = op.getLoc();
    bool isUnsigned = op.isUnsignedInput();
    Value zeroPoint = op.getZeroPoint()
                          ? asSignless(rewriter, loc, op.getZeroPoint())
                          : Value();
    Type i32 = rewriter.getI32Type(), f32 = rewriter.getF32Type();
    auto generic = parameterGeneric(
        rewriter, op, cast<RankedTensorType>(op.getType()),
        asSignless(rewriter, loc, op.getInput()), zeroPoint,
        [&](OpBuilder &b, Location bodyLoc, ValueRange args) -> Value {
          auto widen = [&](Value v) -> Value {
            if (isUnsigned)
              return b.create<arith::ExtUIOp>(bodyLoc, i32, v);
            return b.create<arith::ExtSIOp>(bodyLoc, i32, v);
          };
          Value q = widen(args[0]);
          if (args.size() == 3)
            q = b.create<arith::SubIOp>(bodyLoc, q, widen(args[2]));
          Value scale = args[1];
          if (!scale.getType().isF32())
            scale = b.create<arith::ExtFOp>(bodyLoc, f32, scale);
          Value value = b.create<arith::SIToFPOp>(bodyLoc, f32, q);
          return b.create<arith::MulFOp>(bodyLoc, value, scale);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

/// To signed integers: round(x / scale) (half to even) plus the zero
/// point, saturated to [-128, 127], in f32 (which holds every value of
/// the range exactly) before the one conversion.
struct LowerQuantize : OpRewritePattern<QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QuantizeOp op,
                                PatternRewriter &rewriter) const override {
    if (checkQuantizationLowering(op))
      return failure();
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    Type f32 = rewriter.getF32Type();
    Type element = resultType.getElementType();
    auto generic = parameterGeneric(
        rewriter, op, resultType, op.getInput(), op.getZeroPoint(),
        [&](OpBuilder &b, Location bodyLoc, ValueRange args) -> Value {
          Value q = b.create<math::RoundEvenOp>(
              bodyLoc, b.create<arith::DivFOp>(bodyLoc, args[0], args[1]));
          if (args.size() == 3)
            q = b.create<arith::AddFOp>(
                bodyLoc, q, b.create<arith::SIToFPOp>(bodyLoc, f32, args[2]));
          auto bound = [&](double value) -> Value {
            return b.create<arith::ConstantOp>(bodyLoc,
                                               b.getF32FloatAttr(value));
          };
          q = b.create<arith::MaximumFOp>(bodyLoc, q, bound(-128));
          q = b.create<arith::MinimumFOp>(bodyLoc, q, bound(127));
          return b.create<arith::FPToSIOp>(bodyLoc, element, q);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

} // namespace

std::optional<std::string>
mlir::kiln::checkQuantizationLowering(Operation *op) {
  if (auto quantize = dyn_cast<QuantizeOp>(op)) {
    if (!cast<RankedTensorType>(quantize.getType())
             .getElementType()
             .isSignlessInteger())
      return std::string("quantizing to unsigned integers is not lowered "
                         "yet (only to signed ones)");
    return std::nullopt;
  }
  auto dequantize = dyn_cast<DequantizeOp>(op);
  if (!dequantize)
    return std::string();
  if (!readableAsSignless(dequantize.getInput()) ||
      (dequantize.getZeroPoint() &&
       !readableAsSignless(dequantize.getZeroPoint())))
    return std::string("dequantizing computed signed or unsigned integers "
                       "is not lowered yet (only constants, and signless "
                       "integers)");
  return std::nullopt;
}

void mlir::kiln::populateQuantizationLowering(RewritePatternSet &patterns) {
  patterns.add<LowerDequantize, LowerQuantize>(patterns.getContext());
}
