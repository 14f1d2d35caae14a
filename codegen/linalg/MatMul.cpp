//===- MatMul.cpp - MatMul and Gemm to linalg -----------------------------===//
//
// A 2-D MatMul is linalg.matmul. Batched and vector forms follow numpy: a
// 1-D operand gains and then loses a unit dimension, batch dimensions
// broadcast; they become one linalg.generic contraction whose maps encode
// the broadcast. Gemm is a contraction whose maps encode transA/transB,
// then an elementwise epilogue alpha * AB + beta * C with C broadcast.
//
//===----------------------------------------------------------------------===//

#include "codegen/linalg/LinalgBuilders.h"
#include "codegen/linalg/OnnxToLinalg.h"
#include "codegen/linalg/Passes.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

bool isSupportedElement(Type type) {
  if (auto integer = dyn_cast<IntegerType>(type))
    return integer.isSignless() && integer.getWidth() > 1;
  return type.isF16() || type.isBF16() || type.isF32() || type.isF64();
}

Value zeroFilled(OpBuilder &b, Location loc, RankedTensorType type,
                 ValueRange dynamicSizes) {
  return filledTensor(b, loc, type.getShape(),
                      cast<TypedAttr>(b.getZeroAttr(type.getElementType())),
                      dynamicSizes);
}

} // namespace

void mlir::kiln::multiplyAccumulate(OpBuilder &b, Location loc,
                                    ValueRange args) {
  Value product, sum;
  if (isa<FloatType>(args[0].getType())) {
    product = b.create<arith::MulFOp>(loc, args[0], args[1]);
    sum = b.create<arith::AddFOp>(loc, args[2], product);
  } else {
    // Narrower (signed) operands widen to the accumulator's type.
    Type accumulator = args[2].getType();
    auto widened = [&](Value operand) -> Value {
      if (operand.getType() == accumulator)
        return operand;
      return b.create<arith::ExtSIOp>(loc, accumulator, operand);
    };
    Value x = widened(args[0]);
    Value y = widened(args[1]);
    product = b.create<arith::MulIOp>(loc, x, y);
    sum = b.create<arith::AddIOp>(loc, args[2], product);
  }
  b.create<linalg::YieldOp>(loc, sum);
}

namespace {

/// The size of dimension `dim` of the result as a value, for tensor.empty.
SmallVector<Value> dynamicSizesFrom(OpBuilder &b, Location loc,
                                    RankedTensorType resultType,
                                    function_ref<Value(int64_t)> sourceOf) {
  SmallVector<Value> sizes;
  for (int64_t dim = 0; dim < resultType.getRank(); ++dim)
    if (resultType.isDynamicDim(dim))
      sizes.push_back(sourceOf(dim));
  return sizes;
}

} // namespace

Value mlir::kiln::matMulContraction(OpBuilder &builder, Location loc, Value lhs,
                                    Value rhs, RankedTensorType resultType) {
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  bool sameTypes = lhsType.getElementType() == resultType.getElementType() &&
                   rhsType.getElementType() == resultType.getElementType();
  if (lhsType.getRank() == 2 && rhsType.getRank() == 2 && sameTypes) {
    SmallVector<Value> sizes =
        dynamicSizesFrom(builder, loc, resultType, [&](int64_t dim) -> Value {
          return dim == 0 ? builder.create<tensor::DimOp>(loc, lhs, 0)
                          : builder.create<tensor::DimOp>(loc, rhs, 1);
        });
    Value init = zeroFilled(builder, loc, resultType, sizes);
    return builder
        .create<linalg::MatmulOp>(loc, resultType, ValueRange{lhs, rhs}, init)
        .getResult(0);
  }

  // General numpy matmul as one contraction. Iteration space: the
  // result's dimensions, then k. A 1-D lhs has no m, a 1-D rhs no n.
  MLIRContext *context = builder.getContext();
  int64_t resultRank = resultType.getRank();
  bool lhsVector = lhsType.getRank() == 1, rhsVector = rhsType.getRank() == 1;
  int64_t batchRank = resultRank - (lhsVector ? 0 : 1) - (rhsVector ? 0 : 1);
  int64_t mDim = batchRank, nDim = batchRank + (lhsVector ? 0 : 1);
  int64_t kDim = resultRank;
  auto d = [&](int64_t i) { return getAffineDimExpr(i, context); };
  auto batchExprs = [&](RankedTensorType type, int64_t matrixRank) {
    SmallVector<AffineExpr> exprs;
    int64_t own = type.getRank() - matrixRank;
    for (int64_t i = 0; i < own; ++i) {
      int64_t at = batchRank - own + i;
      bool broadcast =
          type.getDimSize(i) == 1 && resultType.getDimSize(at) != 1;
      exprs.push_back(broadcast ? getAffineConstantExpr(0, context) : d(at));
    }
    return exprs;
  };
  SmallVector<AffineExpr> lhsExprs = batchExprs(lhsType, lhsVector ? 1 : 2);
  if (!lhsVector)
    lhsExprs.push_back(d(mDim));
  lhsExprs.push_back(d(kDim));
  SmallVector<AffineExpr> rhsExprs = batchExprs(rhsType, rhsVector ? 1 : 2);
  rhsExprs.push_back(d(kDim));
  if (!rhsVector)
    rhsExprs.push_back(d(nDim));
  SmallVector<AffineExpr> resultExprs;
  for (int64_t i = 0; i < resultRank; ++i)
    resultExprs.push_back(d(i));
  SmallVector<AffineMap> maps = {
      AffineMap::get(resultRank + 1, 0, lhsExprs, context),
      AffineMap::get(resultRank + 1, 0, rhsExprs, context),
      AffineMap::get(resultRank + 1, 0, resultExprs, context)};
  SmallVector<utils::IteratorType> iterators(resultRank,
                                             utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);

  SmallVector<Value> sizes =
      dynamicSizesFrom(builder, loc, resultType, [&](int64_t dim) -> Value {
        // m and n come from their operand; batch dimensions from an
        // operand that does not broadcast along them.
        if (!lhsVector && dim == mDim)
          return builder.create<tensor::DimOp>(loc, lhs, lhsType.getRank() - 2);
        if (!rhsVector && dim == nDim)
          return builder.create<tensor::DimOp>(loc, rhs, rhsType.getRank() - 1);
        for (auto [value, type, matrixRank] :
             {std::tuple{lhs, lhsType, lhsVector ? 1 : 2},
              std::tuple{rhs, rhsType, rhsVector ? 1 : 2}}) {
          int64_t at = dim - (batchRank - (type.getRank() - matrixRank));
          if (at >= 0 && type.getDimSize(at) != 1)
            return builder.create<tensor::DimOp>(loc, value, at);
        }
        return builder.create<tensor::DimOp>(loc, lhs, 0);
      });
  Value init = zeroFilled(builder, loc, resultType, sizes);
  auto generic = builder.create<linalg::GenericOp>(
      loc, resultType, ValueRange{lhs, rhs}, init, maps, iterators,
      [](OpBuilder &b, Location bodyLoc, ValueRange args) {
        multiplyAccumulate(b, bodyLoc, args);
      });
  return generic.getResult(0);
}

namespace {

struct LowerMatMul : OpRewritePattern<onnx::MatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::MatMulOp op,
                                PatternRewriter &rewriter) const override {
    if (checkMatMulLowering(op))
      return failure();
    rewriter.replaceOp(
        op, matMulContraction(rewriter, op.getLoc(), op.getA(), op.getB(),
                              cast<RankedTensorType>(op.getType())));
    return success();
  }
};

struct LowerGemm : OpRewritePattern<onnx::GemmOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::GemmOp op,
                                PatternRewriter &rewriter) const override {
    if (checkMatMulLowering(op))
      return failure();
    Location loc = op.getLoc();
    MLIRContext *context = getContext();
    auto resultType = cast<RankedTensorType>(op.getType());
    Type element = resultType.getElementType();
    bool transA = op.getTransA(), transB = op.getTransB();

    // A x B with the transposes folded into the maps: (m, n, k).
    auto d = [&](int64_t i) { return getAffineDimExpr(i, context); };
    AffineMap lhsMap = AffineMap::get(3, 0, transA ? ArrayRef{d(2), d(0)}
                                                   : ArrayRef{d(0), d(2)},
                                      context);
    AffineMap rhsMap = AffineMap::get(3, 0, transB ? ArrayRef{d(1), d(2)}
                                                   : ArrayRef{d(2), d(1)},
                                      context);
    AffineMap outMap = AffineMap::get(3, 0, {d(0), d(1)}, context);
    SmallVector<Value> sizes = dynamicSizesFrom(
        rewriter, loc, resultType, [&](int64_t dim) -> Value {
          if (dim == 0)
            return rewriter.create<tensor::DimOp>(loc, op.getA(), transA ? 1 : 0);
          return rewriter.create<tensor::DimOp>(loc, op.getB(), transB ? 0 : 1);
        });
    Value init = zeroFilled(rewriter, loc, resultType, sizes);
    Value product =
        rewriter
            .create<linalg::GenericOp>(
                loc, resultType, ValueRange{op.getA(), op.getB()}, init,
                ArrayRef{lhsMap, rhsMap, outMap},
                ArrayRef{utils::IteratorType::parallel,
                         utils::IteratorType::parallel,
                         utils::IteratorType::reduction},
                [](OpBuilder &b, Location bodyLoc, ValueRange args) {
                  multiplyAccumulate(b, bodyLoc, args);
                })
            .getResult(0);

    double alpha = op.getAlpha().convertToDouble();
    double beta = op.getBeta().convertToDouble();
    Value bias = op.getC();
    if (alpha == 1.0 && (!bias || beta == 0.0)) {
      rewriter.replaceOp(op, product);
      return success();
    }
    // Epilogue: alpha * AB (+ beta * C, C broadcast to [M, N]).
    SmallVector<Value> inputs = {product};
    SmallVector<AffineMap> maps = {rewriter.getMultiDimIdentityMap(2)};
    if (bias && beta != 0.0) {
      inputs.push_back(bias);
      maps.push_back(
          broadcastMap(cast<RankedTensorType>(bias.getType()).getShape(),
                       resultType.getShape(), context));
    }
    maps.push_back(rewriter.getMultiDimIdentityMap(2));
    Value out = rewriter.create<tensor::EmptyOp>(loc, resultType.getShape(),
                                                 element, sizes);
    bool isFloat = isa<FloatType>(element);
    auto scalar = [&](OpBuilder &b, Location l, double value) -> Value {
      return isFloat ? b.create<arith::ConstantOp>(l, b.getFloatAttr(element, value))
                     : b.create<arith::ConstantOp>(
                           l, b.getIntegerAttr(element, (int64_t)value));
    };
    auto epilogue = rewriter.create<linalg::GenericOp>(
        loc, resultType, inputs, out, maps,
        ArrayRef{utils::IteratorType::parallel, utils::IteratorType::parallel},
        [&](OpBuilder &b, Location l, ValueRange args) {
          auto mulOf = [&](Value x, Value y) -> Value {
            return isFloat ? b.create<arith::MulFOp>(l, x, y).getResult()
                           : b.create<arith::MulIOp>(l, x, y).getResult();
          };
          Value result = args[0];
          if (alpha != 1.0)
            result = mulOf(scalar(b, l, alpha), result);
          if (args.size() == 3) {
            Value c = beta == 1.0 ? args[1] : mulOf(scalar(b, l, beta), args[1]);
            result = isFloat ? b.create<arith::AddFOp>(l, result, c).getResult()
                             : b.create<arith::AddIOp>(l, result, c).getResult();
          }
          b.create<linalg::YieldOp>(l, result);
        });
    rewriter.replaceOp(op, epilogue.getResults());
    return success();
  }
};

} // namespace

std::optional<std::string> mlir::kiln::checkMatMulLowering(Operation *op) {
  if (!isa<onnx::MatMulOp, onnx::GemmOp>(op))
    return std::string();
  auto resultType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!resultType)
    return std::string("the rank of its result is unknown");
  if (!isSupportedElement(resultType.getElementType()))
    return std::string("its element type is not lowered yet");
  for (Value operand : op->getOperands()) {
    auto type = dyn_cast<RankedTensorType>(operand.getType());
    if (!type)
      return std::string("the rank of an operand is unknown");
    if (type.getElementType() != resultType.getElementType())
      return std::string("its operands and result differ in element type");
  }
  if (auto matmul = dyn_cast<onnx::MatMulOp>(op)) {
    auto lhs = cast<RankedTensorType>(matmul.getA().getType());
    auto rhs = cast<RankedTensorType>(matmul.getB().getType());
    int64_t expected = std::max(lhs.getRank(), rhs.getRank()) -
                       (lhs.getRank() == 1) - (rhs.getRank() == 1);
    if (lhs.getRank() == 1 && rhs.getRank() == 1)
      expected = 0;
    if (resultType.getRank() != expected)
      return std::string("its result rank does not follow numpy matmul");
  }
  return std::nullopt;
}

void mlir::kiln::populateMatMulLowering(RewritePatternSet &patterns) {
  patterns.add<LowerMatMul, LowerGemm>(patterns.getContext());
}
