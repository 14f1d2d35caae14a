//===- Quantization.cpp - kiln.quantize and kiln.dequantize to linalg -----===//
//
// The generic forms of quantization and dequantization, for what no packed
// kernel takes: one elementwise linalg.generic each, whose maps read each
// element's scale and zero point (per tensor, per axis or per group).
// Integers are read as signless (tensor.bitcast) and widened with zero or
// sign extension as their type says. ONNX's DynamicQuantizeLinear is a
// reduction to its range, then the same quantization.
//
//===----------------------------------------------------------------------===//

#include "codegen/linalg/LinalgBuilders.h"
#include "codegen/linalg/OnnxToLinalg.h"
#include "codegen/linalg/Passes.h"
#include "dialects/kiln/KilnOps.h"
#include "dialects/onnx/OnnxConstants.h"

#include "mlir/IR/TypeUtilities.h"

#include <cmath>

using namespace mlir;
using namespace mlir::kiln;

namespace {

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
/// there is one; integers read as signless) into `resultType` (signless
/// too), computing each element with `body` (its arguments: element,
/// scale, and zero point if any).
template <typename OpTy>
Value parameterGeneric(
    PatternRewriter &rewriter, OpTy op, Type resultType,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  Location loc = op.getLoc();
  auto signlessResult =
      cast<RankedTensorType>(withSignlessElements(resultType));
  int64_t rank = signlessResult.getRank();
  AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
  AffineMap scaleMap =
      parameterMap(cast<RankedTensorType>(op.getScale().getType()), rank,
                   op.getAxis(), op.getGroupSize(), rewriter.getContext());
  SmallVector<Value> inputs = {signlessTensor(rewriter, loc, op.getInput()),
                               op.getScale()};
  SmallVector<AffineMap> maps = {identity, scaleMap};
  if (Value zeroPoint = op.getZeroPoint()) {
    inputs.push_back(signlessTensor(rewriter, loc, zeroPoint));
    maps.push_back(scaleMap);
  }
  maps.push_back(identity);
  Value init = rewriter.create<tensor::EmptyOp>(
      loc, signlessResult.getShape(), signlessResult.getElementType(),
      dynamicSizesOf(rewriter, loc, op.getInput()));
  Value result = rewriter
                     .create<linalg::GenericOp>(
                         loc, signlessResult, inputs, init, maps,
                         SmallVector<utils::IteratorType>(
                             rank, utils::IteratorType::parallel),
                         [&](OpBuilder &b, Location bodyLoc, ValueRange args) {
                           b.create<linalg::YieldOp>(
                               bodyLoc, body(b, bodyLoc, args.drop_back()));
                         })
                     .getResult(0);
  return bitcastTensor(rewriter, loc, result, resultType);
}

/// `value` (f32) as `type`.
Value fromF32(OpBuilder &b, Location loc, Value value, Type type) {
  if (type.isF32())
    return value;
  return b.create<arith::TruncFOp>(loc, type, value);
}

/// The integer `value` widened to i32 with ONNX's signedness.
Value widenToI32(OpBuilder &b, Location loc, Value value, bool isUnsigned) {
  Type i32 = b.getI32Type();
  if (value.getType() == i32)
    return value;
  if (isUnsigned)
    return b.create<arith::ExtUIOp>(loc, i32, value);
  return b.create<arith::ExtSIOp>(loc, i32, value);
}

struct LowerDequantize : OpRewritePattern<DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &rewriter) const override {
    if (checkQuantizationLowering(op))
      return failure();
    bool isUnsigned = op.isUnsignedInput();
    Type resultElement = getElementTypeOrSelf(op.getType());
    rewriter.replaceOp(
        op, parameterGeneric(
                rewriter, op, op.getType(),
                [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
                  // The difference in i32 (exact for every width), then one
                  // conversion.
                  Value q = widenToI32(b, loc, args[0], isUnsigned);
                  if (args.size() == 3)
                    q = b.create<arith::SubIOp>(
                        loc, q, widenToI32(b, loc, args[2], isUnsigned));
                  Value value =
                      b.create<arith::SIToFPOp>(loc, b.getF32Type(), q);
                  value = b.create<arith::MulFOp>(loc, value,
                                                  floatToF32(b, loc, args[1]));
                  return fromF32(b, loc, value, resultElement);
                }));
    return success();
  }
};

} // namespace

Value mlir::kiln::quantizeScalar(OpBuilder &b, Location loc, Value value,
                                 Value zeroPoint, IntegerType integer) {
  Type floatType = value.getType();
  Value q = b.create<math::RoundEvenOp>(loc, value);
  bool isUnsigned = integer.isUnsigned();
  if (zeroPoint)
    q = b.create<arith::AddFOp>(
        loc, q,
        isUnsigned
            ? b.create<arith::UIToFPOp>(loc, floatType, zeroPoint).getResult()
            : b.create<arith::SIToFPOp>(loc, floatType, zeroPoint).getResult());
  unsigned width = integer.getWidth();
  double low = isUnsigned ? 0 : -std::ldexp(1.0, width - 1);
  double high =
      isUnsigned ? std::ldexp(1.0, width) - 1 : std::ldexp(1.0, width - 1) - 1;
  auto bound = [&](double v) -> Value {
    return b.create<arith::ConstantOp>(loc, b.getFloatAttr(floatType, v));
  };
  q = b.create<arith::MaximumFOp>(loc, q, bound(low));
  q = b.create<arith::MinimumFOp>(loc, q, bound(high));
  Type signless = b.getIntegerType(width);
  if (isUnsigned)
    return b.create<arith::FPToUIOp>(loc, signless, q);
  return b.create<arith::FPToSIOp>(loc, signless, q);
}

namespace {

/// To integers: round(x / scale) (half to even) plus the zero point,
/// saturated to the result's range, in f32 (which holds every value of
/// the range exactly) before the one conversion.
struct LowerQuantize : OpRewritePattern<QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QuantizeOp op,
                                PatternRewriter &rewriter) const override {
    if (checkQuantizationLowering(op))
      return failure();
    auto integer = cast<IntegerType>(getElementTypeOrSelf(op.getType()));
    rewriter.replaceOp(
        op, parameterGeneric(
                rewriter, op, op.getType(),
                [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
                  Value scaled =
                      b.create<arith::DivFOp>(loc, floatToF32(b, loc, args[0]),
                                              floatToF32(b, loc, args[1]));
                  return quantizeScalar(b, loc, scaled,
                                        args.size() == 3 ? args[2] : Value(),
                                        integer);
                }));
    return success();
  }
};

/// DynamicQuantizeLinear: the range [min(x, 0), max(x, 0)] onto 0..255,
/// as ONNX defines it: scale = (max - min) / 255 (1 / 255 for an empty
/// range), zero point = saturate(round(-min / scale)), then x quantized.
struct LowerDynamicQuantize : OpRewritePattern<onnx::DynamicQuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::DynamicQuantizeLinearOp op,
                                PatternRewriter &rewriter) const override {
    if (checkQuantizationLowering(op))
      return failure();
    Location loc = op.getLoc();
    Value x = op.getX();
    auto type = cast<RankedTensorType>(x.getType());
    Type f32 = rewriter.getF32Type();
    auto scalarType = RankedTensorType::get({}, f32);
    auto constant = [&](OpBuilder &b, Location at, double v) -> Value {
      return b.create<arith::ConstantOp>(at, b.getF32FloatAttr(v));
    };
    // min and max of x and 0, in one reduction.
    SmallVector<int64_t> all =
        llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()));
    Value zeros = filledTensor(rewriter, loc, {}, rewriter.getF32FloatAttr(0));
    auto reduce = rewriter.create<linalg::ReduceOp>(
        loc, ValueRange{x, x}, ValueRange{zeros, zeros}, all,
        [&](OpBuilder &b, Location at, ValueRange args) {
          b.create<linalg::YieldOp>(
              at,
              ValueRange{b.create<arith::MinimumFOp>(at, args[0], args[2]),
                         b.create<arith::MaximumFOp>(at, args[1], args[3])});
        });
    Value low = reduce.getResult(0), high = reduce.getResult(1);
    auto i8 = rewriter.getI8Type();
    // The scale and the zero point, as a float (an integer already) for
    // the quantization and as the byte it returns.
    auto byteType = RankedTensorType::get({}, i8);
    Value emptyScalar =
        rewriter.create<tensor::EmptyOp>(loc, ArrayRef<int64_t>{}, f32);
    Value emptyByte =
        rewriter.create<tensor::EmptyOp>(loc, ArrayRef<int64_t>{}, i8);
    AffineMap scalarMap = AffineMap::get(0, 0, {}, getContext());
    auto parameters = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{scalarType, scalarType, byteType}, ValueRange{low, high},
        ValueRange{emptyScalar, emptyScalar, emptyByte},
        SmallVector<AffineMap>(5, scalarMap), ArrayRef<utils::IteratorType>{},
        [&](OpBuilder &b, Location at, ValueRange args) {
          Value range = b.create<arith::SubFOp>(at, args[1], args[0]);
          Value empty = b.create<arith::CmpFOp>(at, arith::CmpFPredicate::OEQ,
                                                args[1], args[0]);
          range =
              b.create<arith::SelectOp>(at, empty, constant(b, at, 1), range);
          Value scale =
              b.create<arith::DivFOp>(at, range, constant(b, at, 255));
          Value zero = b.create<arith::SubFOp>(
              at, constant(b, at, 0),
              b.create<arith::DivFOp>(at, args[0], scale));
          zero = b.create<arith::MinimumFOp>(
              at, b.create<arith::MaximumFOp>(at, zero, constant(b, at, 0)),
              constant(b, at, 255));
          zero = b.create<math::RoundEvenOp>(at, zero);
          Value byte = b.create<arith::FPToUIOp>(at, i8, zero);
          b.create<linalg::YieldOp>(at, ValueRange{scale, zero, byte});
        });
    Value scale = parameters.getResult(0), zero = parameters.getResult(1);
    auto bytes = RankedTensorType::get(type.getShape(), i8);
    Value init = rewriter.create<tensor::EmptyOp>(
        loc, type.getShape(), i8, dynamicSizesOf(rewriter, loc, x));
    AffineMap identity = rewriter.getMultiDimIdentityMap(type.getRank());
    AffineMap broadcast = AffineMap::get(type.getRank(), 0, {}, getContext());
    Value y =
        rewriter
            .create<linalg::GenericOp>(
                loc, bytes, ValueRange{x, scale, zero}, init,
                ArrayRef{identity, broadcast, broadcast, identity},
                SmallVector<utils::IteratorType>(type.getRank(),
                                                 utils::IteratorType::parallel),
                [&](OpBuilder &b, Location at, ValueRange args) {
                  Value q = b.create<math::RoundEvenOp>(
                      at, b.create<arith::DivFOp>(at, args[0], args[1]));
                  q = b.create<arith::AddFOp>(at, q, args[2]);
                  q = b.create<arith::MinimumFOp>(
                      at,
                      b.create<arith::MaximumFOp>(at, q, constant(b, at, 0)),
                      constant(b, at, 255));
                  b.create<linalg::YieldOp>(
                      at, b.create<arith::FPToUIOp>(at, i8, q).getResult());
                })
            .getResult(0);
    Value zeroByte = parameters.getResult(2);
    rewriter.replaceOp(
        op,
        {bitcastTensor(rewriter, loc, y, op.getY().getType()), scale,
         bitcastTensor(rewriter, loc, zeroByte, op.getYZeroPoint().getType())});
    return success();
  }
};

} // namespace

std::optional<std::string>
mlir::kiln::checkQuantizationLowering(Operation *op) {
  // The integers computed on: 8, 16 and 32 bits (narrower ones only as
  // constants, until packed).
  auto lowerableIntegers = [](Value value) {
    unsigned width =
        getElementTypeOrSelf(value.getType()).getIntOrFloatBitWidth();
    return width >= 8 ||
           onnx::getConstantElements(
               value, cast<RankedTensorType>(value.getType()).getNumElements());
  };
  if (auto quantize = dyn_cast<QuantizeOp>(op)) {
    if (getElementTypeOrSelf(quantize.getType()).getIntOrFloatBitWidth() < 8)
      return std::string("quantizing to fewer than 8 bits is not lowered yet");
    return std::nullopt;
  }
  if (auto dequantize = dyn_cast<DequantizeOp>(op)) {
    if (!lowerableIntegers(dequantize.getInput()))
      return std::string("dequantizing computed integers of fewer than 8 "
                         "bits is not lowered yet");
    return std::nullopt;
  }
  if (auto dynamic = dyn_cast<onnx::DynamicQuantizeLinearOp>(op)) {
    if (!isa<RankedTensorType>(dynamic.getX().getType()))
      return std::string("the rank of its input is unknown");
    return std::nullopt;
  }
  // What kiln-graph-quantize-linear left as ONNX ops.
  if (isa<onnx::QuantizeLinearOp, onnx::DequantizeLinearOp>(op)) {
    SmallVector<Type> types(op->getOperandTypes());
    llvm::append_range(types, op->getResultTypes());
    for (Type type : types)
      if (isa<FloatType>(getElementTypeOrSelf(type)) &&
          getElementTypeOrSelf(type).getIntOrFloatBitWidth() == 8)
        return std::string("8-bit float types are not lowered yet");
    return std::string("its types or quantization parameters are not "
                       "lowered yet (integers of 2 to 16 bits, f32, f16 or "
                       "bf16 floats, ranked tensors, blocks that divide the "
                       "axis)");
  }
  return std::string();
}

void mlir::kiln::populateQuantizationLowering(RewritePatternSet &patterns) {
  patterns.add<LowerDequantize, LowerQuantize, LowerDynamicQuantize>(
      patterns.getContext());
}
