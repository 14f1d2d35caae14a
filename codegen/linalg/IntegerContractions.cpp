//===- IntegerContractions.cpp - ONNX's integer matmuls and convs ---------===//
//
// MatMulInteger, ConvInteger, QLinearMatMul and QLinearConv, generically:
// each operand widened to i32 less its zero point (one elementwise
// generic; signed bytes without zero points are read as they are, widened
// in the contraction's body), the product in i32 (an onnx.MatMul of i32
// tensors, which the MatMul lowering takes, or the Conv lowering's
// contraction), and for the QLinear ops the requantization of every accumulator
// as ONNX's reference computes it: acc * (scale_a * scale_b / scale_y) in
// double precision, rounded half to even, plus the output's zero point,
// saturated. Zero points and scales are per tensor, per row of A / per column
// of B (1-D, or of the operand's rank), or per output channel of a filter.
//
// (A graph whose integer products the layout passes pack never reaches
// these: they are what the other graphs, and the CUDA target, run.)
//
//===----------------------------------------------------------------------===//

#include "codegen/linalg/LinalgBuilders.h"
#include "codegen/linalg/OnnxToLinalg.h"
#include "codegen/linalg/Passes.h"
#include "dialects/onnx/OnnxConstants.h"

#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The map reading a quantization parameter `parameter` (a zero point or
/// scale) for each element of an iteration space shaped `shape`: one value
/// for a parameter of one element, `vectorDim` for a 1-D parameter of that
/// dimension's extent, numpy broadcasting for one of the same rank; null
/// for any other parameter.
AffineMap parameterMapOf(Value parameter, ArrayRef<int64_t> shape,
                         int64_t vectorDim, MLIRContext *context) {
  auto type = dyn_cast<RankedTensorType>(parameter.getType());
  int64_t rank = shape.size();
  if (!type || !type.hasStaticShape())
    return {};
  if (type.getNumElements() == 1)
    return AffineMap::get(
        rank, 0,
        SmallVector<AffineExpr>(type.getRank(),
                                getAffineConstantExpr(0, context)),
        context);
  if (type.getRank() == 1 && vectorDim >= 0 &&
      type.getDimSize(0) == shape[vectorDim])
    return AffineMap::get(rank, 0, getAffineDimExpr(vectorDim, context),
                          context);
  if (type.getRank() == rank) {
    for (auto [size, extent] : llvm::zip(type.getShape(), shape))
      if (size != 1 && size != extent)
        return {};
    return broadcastMap(type.getShape(), shape, context);
  }
  return {};
}

/// `value` widened to i32 with its signedness, less `zeroPoint` (if any)
/// read through `zeroMap`.
Value centered(OpBuilder &b, Location loc, Value value, Value zeroPoint,
               int64_t vectorDim) {
  auto type = cast<RankedTensorType>(value.getType());
  bool isUnsigned = hasUnsignedElements(type);
  Type i32 = b.getI32Type();
  auto widen = [&](OpBuilder &nested, Location at, Value v) -> Value {
    if (isUnsigned)
      return nested.create<arith::ExtUIOp>(at, i32, v);
    return nested.create<arith::ExtSIOp>(at, i32, v);
  };
  AffineMap identity = b.getMultiDimIdentityMap(type.getRank());
  SmallVector<Value> inputs = {signlessTensor(b, loc, value)};
  SmallVector<AffineMap> maps = {identity};
  if (zeroPoint) {
    inputs.push_back(signlessTensor(b, loc, zeroPoint));
    maps.push_back(parameterMapOf(zeroPoint, type.getShape(), vectorDim,
                                  b.getContext()));
  }
  maps.push_back(identity);
  Value init = b.create<tensor::EmptyOp>(loc, type.getShape(), i32,
                                         dynamicSizesOf(b, loc, value));
  return b
      .create<linalg::GenericOp>(
          loc, init.getType(), inputs, init, maps,
          SmallVector<utils::IteratorType>(type.getRank(),
                                           utils::IteratorType::parallel),
          [&](OpBuilder &nested, Location at, ValueRange args) {
            Value x = widen(nested, at, args[0]);
            if (zeroPoint)
              x = nested.create<arith::SubIOp>(at, x,
                                               widen(nested, at, args[1]));
            nested.create<linalg::YieldOp>(at, x);
          })
      .getResult(0);
}

/// Whether `zeroPoint` is absent or a constant of zeros.
bool isAbsentOrZero(Value zeroPoint) {
  if (!zeroPoint)
    return true;
  std::optional<SmallVector<int64_t>> values = onnx::getConstantInts(zeroPoint);
  return values && llvm::all_of(*values, [](int64_t v) { return v == 0; });
}

/// Whether `value` takes part in a product as it is: signed bytes without
/// a zero point (or zeros), which the contraction widens itself (what the
/// integer GEMM kernels read, at a quarter of the i32 operand's bytes).
bool readsSignedBytes(Value value, Value zeroPoint) {
  auto type = cast<RankedTensorType>(value.getType());
  return isAbsentOrZero(zeroPoint) &&
         type.getElementType().isSignlessInteger(8);
}

/// `bytes` as signed bytes: unsigned ones with their top bit flipped (the
/// same values less 128).
Value asSignedBytes(PatternRewriter &rewriter, Location loc, Value bytes) {
  auto type = cast<RankedTensorType>(bytes.getType());
  Value signless = signlessTensor(rewriter, loc, bytes);
  if (!hasUnsignedElements(type))
    return signless;
  AffineMap identity = rewriter.getMultiDimIdentityMap(type.getRank());
  Value init = rewriter.create<tensor::EmptyOp>(
      loc, type.getShape(), rewriter.getI8Type(),
      dynamicSizesOf(rewriter, loc, bytes));
  return rewriter
      .create<linalg::GenericOp>(
          loc, init.getType(), signless, init, ArrayRef{identity, identity},
          SmallVector<utils::IteratorType>(type.getRank(),
                                           utils::IteratorType::parallel),
          [&](OpBuilder &nested, Location at, ValueRange args) {
            Value top = nested.create<arith::ConstantIntOp>(at, 0x80, 8);
            Value flipped = nested.create<arith::XOrIOp>(at, args[0], top);
            nested.create<linalg::YieldOp>(at, flipped);
          })
      .getResult(0);
}

/// The i32 sums of the signed bytes `weight` over every dimension but
/// `kept` (a product's columns, a convolution's filters).
Value sumsAlong(PatternRewriter &rewriter, Location loc, Value weight,
                int64_t kept) {
  auto type = cast<RankedTensorType>(weight.getType());
  Type i32 = rewriter.getI32Type();
  MLIRContext *context = rewriter.getContext();
  SmallVector<Value> size;
  if (type.isDynamicDim(kept))
    size.push_back(rewriter.create<tensor::DimOp>(loc, weight, kept));
  Value init =
      rewriter
          .create<linalg::FillOp>(
              loc,
              ValueRange{rewriter.create<arith::ConstantIntOp>(loc, 0, 32)},
              ValueRange{rewriter.create<tensor::EmptyOp>(
                  loc, ArrayRef<int64_t>{type.getDimSize(kept)}, i32, size)})
          .getResult(0);
  SmallVector<utils::IteratorType> iterators(type.getRank(),
                                             utils::IteratorType::reduction);
  iterators[kept] = utils::IteratorType::parallel;
  return rewriter
      .create<linalg::GenericOp>(
          loc, init.getType(), weight, init,
          ArrayRef{rewriter.getMultiDimIdentityMap(type.getRank()),
                   AffineMap::get(type.getRank(), 0,
                                  getAffineDimExpr(kept, context), context)},
          iterators,
          [&](OpBuilder &nested, Location at, ValueRange args) {
            Value wide = nested.create<arith::ExtSIOp>(at, i32, args[0]);
            Value sum = nested.create<arith::AddIOp>(at, args[1], wide);
            nested.create<linalg::YieldOp>(at, sum);
          })
      .getResult(0);
}

/// `acc` less the zero point z of the bytes it summed times `sums` (read
/// along `sumsDim`): z read through `zeroMap` (0 when absent), less 128
/// when those bytes were unsigned (they were summed as signed ones).
Value lessZeroPointTimesSums(PatternRewriter &rewriter, Location loc, Value acc,
                             Value sums, int64_t sumsDim, Value zeroPoint,
                             bool isUnsigned) {
  auto accType = cast<RankedTensorType>(acc.getType());
  int64_t rank = accType.getRank();
  MLIRContext *context = rewriter.getContext();
  Type i32 = rewriter.getI32Type();
  SmallVector<Value> inputs = {acc, sums};
  SmallVector<AffineMap> maps = {
      rewriter.getMultiDimIdentityMap(rank),
      AffineMap::get(rank, 0, getAffineDimExpr(sumsDim, context), context)};
  if (zeroPoint) {
    inputs.push_back(signlessTensor(rewriter, loc, zeroPoint));
    maps.push_back(
        parameterMapOf(zeroPoint, accType.getShape(), rank - 2, context));
  }
  maps.push_back(rewriter.getMultiDimIdentityMap(rank));
  Value init = rewriter.create<tensor::EmptyOp>(
      loc, accType.getShape(), i32, dynamicSizesOf(rewriter, loc, acc));
  return rewriter
      .create<linalg::GenericOp>(
          loc, accType, inputs, init, maps,
          SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
          [&](OpBuilder &nested, Location at, ValueRange args) {
            Value zero = nested.create<arith::ConstantIntOp>(at, 0, 32);
            if (zeroPoint && isUnsigned)
              zero = nested.create<arith::ExtUIOp>(at, i32, args[2]);
            else if (zeroPoint)
              zero = nested.create<arith::ExtSIOp>(at, i32, args[2]);
            if (isUnsigned)
              zero = nested.create<arith::SubIOp>(
                  at, zero, nested.create<arith::ConstantIntOp>(at, 128, 32));
            Value term = nested.create<arith::MulIOp>(at, zero, args[1]);
            Value result = nested.create<arith::SubIOp>(at, args[0], term);
            nested.create<linalg::YieldOp>(at, result);
          })
      .getResult(0);
}

/// The i32 product of bytes `a` [..., M, K] less `aZero` (per tensor or
/// row; 0 when absent) by signed bytes `b` [K, N], as onnxruntime's
/// quantize_dynamic and QOperator forms write it: the bytes (as signed
/// ones, a - z = (a - 128) - (z - 128)) multiply `b` as they are, and z
/// times each column's sum of `b` is taken off.
Value bytesBySignedBytes(PatternRewriter &rewriter, Location loc, Value a,
                         Value b, Value aZero, RankedTensorType accType) {
  Value acc = matMulContraction(rewriter, loc, asSignedBytes(rewriter, loc, a),
                                b, accType);
  return lessZeroPointTimesSums(
      rewriter, loc, acc, sumsAlong(rewriter, loc, b, /*kept=*/1),
      accType.getRank() - 1, aZero, hasUnsignedElements(a.getType()));
}

/// The i32 product of the matrices `a` and `b` (ONNX MatMul's batching),
/// each less its zero point: per tensor or row for `a`, per tensor or
/// column for `b`.
Value integerMatMul(PatternRewriter &rewriter, Location loc, Value a, Value b,
                    Value aZero, Value bZero, RankedTensorType resultType) {
  auto aType = cast<RankedTensorType>(a.getType());
  auto bType = cast<RankedTensorType>(b.getType());
  if (readsSignedBytes(a, aZero) && readsSignedBytes(b, bZero))
    return matMulContraction(rewriter, loc, a, b,
                             resultType.clone(rewriter.getI32Type()));
  if (aType.getElementType().getIntOrFloatBitWidth() == 8 &&
      bType.getRank() == 2 && readsSignedBytes(b, bZero))
    return bytesBySignedBytes(rewriter, loc, a, b, aZero,
                              resultType.clone(rewriter.getI32Type()));
  Value lhs = centered(rewriter, loc, a, aZero, aType.getRank() - 2);
  Value rhs = centered(rewriter, loc, b, bZero, bType.getRank() - 1);
  return rewriter.create<onnx::MatMulOp>(
      loc, resultType.clone(rewriter.getI32Type()), lhs, rhs);
}

/// `x` rounded to `like`'s float type and back to f32: the multiplier's
/// arithmetic in the scales' own precision, as the reference does it.
Value roundedAs(OpBuilder &b, Location loc, Value x, Type like) {
  if (like.isF32())
    return x;
  return floatToF32(b, loc, b.create<arith::TruncFOp>(loc, like, x));
}

/// The QLinear ops' output from the i32 accumulators `acc`: for each, with
/// its scales read through `maps`, acc * (sa * sb / sy) in f64 to the
/// output's integers.
Value requantize(PatternRewriter &rewriter, Location loc, Value acc,
                 Value aScale, Value bScale, Value yScale, Value yZero,
                 ArrayRef<AffineMap> maps, RankedTensorType resultType) {
  auto accType = cast<RankedTensorType>(acc.getType());
  auto integer = cast<IntegerType>(resultType.getElementType());
  auto signless = cast<RankedTensorType>(withSignlessElements(resultType));
  Type scaleType = getElementTypeOrSelf(aScale.getType());
  SmallVector<Value> inputs = {acc, aScale, bScale, yScale,
                               signlessTensor(rewriter, loc, yZero)};
  SmallVector<AffineMap> allMaps = {
      rewriter.getMultiDimIdentityMap(accType.getRank())};
  allMaps.append(maps.begin(), maps.end());
  allMaps.push_back(rewriter.getMultiDimIdentityMap(accType.getRank()));
  Value init = rewriter.create<tensor::EmptyOp>(
      loc, signless.getShape(), signless.getElementType(),
      dynamicSizesOf(rewriter, loc, acc));
  Value result =
      rewriter
          .create<linalg::GenericOp>(
              loc, signless, inputs, init, allMaps,
              SmallVector<utils::IteratorType>(accType.getRank(),
                                               utils::IteratorType::parallel),
              [&](OpBuilder &b, Location at, ValueRange args) {
                Value product = roundedAs(
                    b, at,
                    b.create<arith::MulFOp>(at, floatToF32(b, at, args[1]),
                                            floatToF32(b, at, args[2])),
                    scaleType);
                Value multiplier =
                    roundedAs(b, at,
                              b.create<arith::DivFOp>(
                                  at, product, floatToF32(b, at, args[3])),
                              scaleType);
                Type f64 = b.getF64Type();
                Value value = b.create<arith::MulFOp>(
                    at, b.create<arith::SIToFPOp>(at, f64, args[0]),
                    b.create<arith::ExtFOp>(at, f64, multiplier));
                b.create<linalg::YieldOp>(
                    at, quantizeScalar(b, at, value, args[4], integer));
              })
          .getResult(0);
  return bitcastTensor(rewriter, loc, result, resultType);
}

struct LowerMatMulInteger : OpRewritePattern<onnx::MatMulIntegerOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::MatMulIntegerOp op,
                                PatternRewriter &rewriter) const override {
    if (checkIntegerContractionLowering(op))
      return failure();
    rewriter.replaceOp(
        op, integerMatMul(rewriter, op.getLoc(), op.getA(), op.getB(),
                          op.getAZeroPoint(), op.getBZeroPoint(),
                          cast<RankedTensorType>(op.getType())));
    return success();
  }
};

struct LowerQLinearMatMul : OpRewritePattern<onnx::QLinearMatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::QLinearMatMulOp op,
                                PatternRewriter &rewriter) const override {
    if (checkIntegerContractionLowering(op))
      return failure();
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    Value acc = integerMatMul(rewriter, loc, op.getA(), op.getB(),
                              op.getAZeroPoint(), op.getBZeroPoint(),
                              resultType);
    ArrayRef<int64_t> shape = resultType.getShape();
    int64_t rank = shape.size();
    MLIRContext *context = getContext();
    rewriter.replaceOp(
        op, requantize(rewriter, loc, acc, op.getAScale(), op.getBScale(),
                       op.getYScale(), op.getYZeroPoint(),
                       {parameterMapOf(op.getAScale(), shape, rank - 2, context),
                        parameterMapOf(op.getBScale(), shape, rank - 1, context),
                        parameterMapOf(op.getYScale(), shape, -1, context),
                        parameterMapOf(op.getYZeroPoint(), shape, -1, context)},
                       resultType));
    return success();
  }
};

/// The convolution of `x` and `w` less their zero points (the filter's
/// per tensor or per output channel), from `bias`, in i32. Bytes by signed
/// bytes are read as bytes (unsigned ones with their top bit flipped); an
/// input zero point z pads the input, so that it stands for 0 everywhere
/// the filter reads, and z times each filter's sum is taken off after.
Value integerConv(PatternRewriter &rewriter, Operation *op, Value x, Value w,
                  Value xZero, Value wZero, Value bias,
                  RankedTensorType resultType) {
  Location loc = op->getLoc();
  auto xType = cast<RankedTensorType>(x.getType());
  auto accType = resultType.clone(rewriter.getI32Type());
  bool bytes =
      xType.getElementType().getIntOrFloatBitWidth() == 8 &&
      readsSignedBytes(w, wZero) &&
      (!xZero || cast<RankedTensorType>(xZero.getType()).getNumElements() == 1);
  if (!bytes) {
    Value input = centered(rewriter, loc, x, xZero, -1);
    Value filter = centered(rewriter, loc, w, wZero, 0);
    return convolve(rewriter, op, input, filter, bias, accType);
  }
  if (readsSignedBytes(x, xZero))
    return convolve(rewriter, op, x, w, bias, accType);
  bool isUnsigned = hasUnsignedElements(xType);
  // The zero point as the input's signed bytes pads the input.
  Value padding = rewriter.create<arith::ConstantIntOp>(loc, 0, 8);
  if (xZero) {
    auto zeroType = cast<RankedTensorType>(xZero.getType());
    SmallVector<Value> origin(zeroType.getRank(),
                              rewriter.create<arith::ConstantIndexOp>(loc, 0));
    padding = rewriter.create<tensor::ExtractOp>(
        loc, signlessTensor(rewriter, loc, xZero), origin);
  }
  if (isUnsigned)
    padding = rewriter.create<arith::XOrIOp>(
        loc, padding, rewriter.create<arith::ConstantIntOp>(loc, 0x80, 8));
  Value acc = convolve(rewriter, op, asSignedBytes(rewriter, loc, x), w, bias,
                       accType, padding);
  return lessZeroPointTimesSums(rewriter, loc, acc,
                                sumsAlong(rewriter, loc, w, /*kept=*/0),
                                /*sumsDim=*/1, xZero, isUnsigned);
}

struct LowerConvInteger : OpRewritePattern<onnx::ConvIntegerOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ConvIntegerOp op,
                                PatternRewriter &rewriter) const override {
    if (checkIntegerContractionLowering(op))
      return failure();
    rewriter.replaceOp(op, integerConv(rewriter, op, op.getX(), op.getW(),
                                       op.getXZeroPoint(), op.getWZeroPoint(),
                                       Value(),
                                       cast<RankedTensorType>(op.getType())));
    return success();
  }
};

struct LowerQLinearConv : OpRewritePattern<onnx::QLinearConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::QLinearConvOp op,
                                PatternRewriter &rewriter) const override {
    if (checkIntegerContractionLowering(op))
      return failure();
    auto resultType = cast<RankedTensorType>(op.getType());
    Value acc = integerConv(rewriter, op, op.getX(), op.getW(),
                            op.getXZeroPoint(), op.getWZeroPoint(), op.getB(),
                            resultType);
    ArrayRef<int64_t> shape = resultType.getShape();
    MLIRContext *context = getContext();
    rewriter.replaceOp(
        op, requantize(rewriter, op.getLoc(), acc, op.getXScale(),
                       op.getWScale(), op.getYScale(), op.getYZeroPoint(),
                       {parameterMapOf(op.getXScale(), shape, -1, context),
                        parameterMapOf(op.getWScale(), shape, 1, context),
                        parameterMapOf(op.getYScale(), shape, -1, context),
                        parameterMapOf(op.getYZeroPoint(), shape, -1, context)},
                       resultType));
    return success();
  }
};

/// Why a parameter of `op` cannot be read for each element of `shape`
/// (with `vectorDim` for a 1-D one), or nullopt.
std::optional<std::string> checkParameter(Value parameter, StringRef name,
                                          ArrayRef<int64_t> shape,
                                          int64_t vectorDim) {
  if (!parameter ||
      parameterMapOf(parameter, shape, vectorDim, parameter.getContext()))
    return std::nullopt;
  return "its " + name.str() +
         " is neither per tensor nor along the dimension it may follow";
}

} // namespace

std::optional<std::string>
mlir::kiln::checkIntegerContractionLowering(Operation *op) {
  if (!isa<onnx::MatMulIntegerOp, onnx::QLinearMatMulOp, onnx::ConvIntegerOp,
           onnx::QLinearConvOp>(op))
    return std::string();
  SmallVector<Type> types(op->getOperandTypes());
  llvm::append_range(types, op->getResultTypes());
  for (Type type : types) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor)
      return std::string("the rank of an operand or result is unknown");
    if (isa<FloatType>(tensor.getElementType()) &&
        tensor.getElementType().getIntOrFloatBitWidth() == 8)
      return std::string("8-bit float types are not lowered yet");
  }
  if (isa<onnx::ConvIntegerOp, onnx::QLinearConvOp>(op)) {
    if (std::optional<std::string> reason = checkWindowLowering(op))
      return reason;
    auto shape = cast<RankedTensorType>(op->getResult(0).getType()).getShape();
    auto xShape = cast<RankedTensorType>(op->getOperand(0).getType()).getShape();
    if (auto conv = dyn_cast<onnx::ConvIntegerOp>(op)) {
      auto wShape = cast<RankedTensorType>(conv.getW().getType()).getShape();
      for (auto reason :
           {checkParameter(conv.getXZeroPoint(), "x_zero_point", xShape, -1),
            checkParameter(conv.getWZeroPoint(), "w_zero_point", wShape, 0)})
        if (reason)
          return reason;
      return std::nullopt;
    }
    auto conv = cast<onnx::QLinearConvOp>(op);
    auto wShape = cast<RankedTensorType>(conv.getW().getType()).getShape();
    for (auto reason :
         {checkParameter(conv.getXZeroPoint(), "x_zero_point", xShape, -1),
          checkParameter(conv.getWZeroPoint(), "w_zero_point", wShape, 0),
          checkParameter(conv.getXScale(), "x_scale", shape, -1),
          checkParameter(conv.getWScale(), "w_scale", shape, 1),
          checkParameter(conv.getYScale(), "y_scale", shape, -1),
          checkParameter(conv.getYZeroPoint(), "y_zero_point", shape, -1)})
      if (reason)
        return reason;
    return std::nullopt;
  }
  // The products: A [..., M, K] and B [..., K, N].
  Value a = op->getOperand(0);
  Value b = op->getOperand(isa<onnx::QLinearMatMulOp>(op) ? 3 : 1);
  auto aShape = cast<RankedTensorType>(a.getType()).getShape();
  auto bShape = cast<RankedTensorType>(b.getType()).getShape();
  if (aShape.size() < 2 || bShape.size() < 2)
    return std::string("its operands need a rank of 2 or more (1-D products "
                       "are not lowered yet)");
  if (auto matmul = dyn_cast<onnx::MatMulIntegerOp>(op)) {
    for (auto reason : {checkParameter(matmul.getAZeroPoint(), "a_zero_point",
                                       aShape, aShape.size() - 2),
                        checkParameter(matmul.getBZeroPoint(), "b_zero_point",
                                       bShape, bShape.size() - 1)})
      if (reason)
        return reason;
    return std::nullopt;
  }
  auto matmul = cast<onnx::QLinearMatMulOp>(op);
  auto shape = cast<RankedTensorType>(matmul.getType()).getShape();
  int64_t rank = shape.size();
  for (auto reason :
       {checkParameter(matmul.getAZeroPoint(), "a_zero_point", aShape,
                       aShape.size() - 2),
        checkParameter(matmul.getBZeroPoint(), "b_zero_point", bShape,
                       bShape.size() - 1),
        checkParameter(matmul.getAScale(), "a_scale", shape, rank - 2),
        checkParameter(matmul.getBScale(), "b_scale", shape, rank - 1),
        checkParameter(matmul.getYScale(), "y_scale", shape, -1),
        checkParameter(matmul.getYZeroPoint(), "y_zero_point", shape, -1)})
    if (reason)
      return reason;
  return std::nullopt;
}

void mlir::kiln::populateIntegerContractionLowering(
    RewritePatternSet &patterns) {
  patterns.add<LowerMatMulInteger, LowerQLinearMatMul, LowerConvInteger,
               LowerQLinearConv>(patterns.getContext());
}
