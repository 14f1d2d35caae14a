//===- Normalization.cpp - InstanceNormalization and LRN to linalg --------===//
//
// InstanceNormalization normalizes each (n, c) plane over its spatial
// axes: two reductions (mean, then the mean squared deviation) and one
// elementwise generic applying scale[c] and B[c]. LRN divides each element
// by (bias + alpha / size * sum of squares over `size` neighbouring
// channels)^beta; the channel window is a reduction dimension whose reads
// outside [0, C) count as 0.
//
//===----------------------------------------------------------------------===//

#include "codegen/linalg/LinalgBuilders.h"
#include "codegen/linalg/OnnxToLinalg.h"
#include "codegen/linalg/Passes.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The sum over the spatial axes (2..rank) of f(x, per-plane operands).
Value planeSum(OpBuilder &b, Location loc, Value input, ValueRange perPlane,
               function_ref<Value(OpBuilder &, Location, ValueRange)> term) {
  MLIRContext *context = b.getContext();
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  AffineMap plane = AffineMap::get(
      rank, 0, {getAffineDimExpr(0, context), getAffineDimExpr(1, context)},
      context);
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank)};
  for (size_t i = 0; i < perPlane.size(); ++i)
    maps.push_back(plane);
  maps.push_back(plane);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::reduction);
  iterators[0] = iterators[1] = utils::IteratorType::parallel;
  SmallVector<Value> inputs = {input};
  inputs.append(perPlane.begin(), perPlane.end());
  Value zeros = filledTensor(
      b, loc, {type.getDimSize(0), type.getDimSize(1)},
      b.getFloatAttr(type.getElementType(), 0.0));
  return b
      .create<linalg::GenericOp>(
          loc, zeros.getType(), inputs, zeros, maps, iterators,
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value value = term(nb, l, args.drop_back());
            nb.create<linalg::YieldOp>(
                l, nb.create<arith::AddFOp>(l, value, args.back()).getResult());
          })
      .getResult(0);
}

struct LowerInstanceNorm : OpRewritePattern<onnx::InstanceNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::InstanceNormalizationOp op,
                                PatternRewriter &rewriter) const override {
    if (checkNormalizationLowering(op))
      return failure();
    Location loc = op.getLoc();
    MLIRContext *context = getContext();
    Value input = op.getInput();
    auto type = cast<RankedTensorType>(input.getType());
    Type element = type.getElementType();
    int64_t rank = type.getRank();
    int64_t count = type.getNumElements() / (type.getDimSize(0) * type.getDimSize(1));
    Value divisor = floatConstant(rewriter, loc, element, double(count));
    Value sum = planeSum(rewriter, loc, input, {},
                         [](OpBuilder &, Location, ValueRange args) {
                           return args[0];
                         });
    Value mean = mapElements(rewriter, loc, sum,
                             [&](OpBuilder &b, Location l, Value x) -> Value {
                               return b.create<arith::DivFOp>(l, x, divisor);
                             });
    Value squares = planeSum(
        rewriter, loc, input, mean, [](OpBuilder &b, Location l, ValueRange args) {
          Value d = b.create<arith::SubFOp>(l, args[0], args[1]);
          return b.create<arith::MulFOp>(l, d, d).getResult();
        });
    double epsilon = op.getEpsilon().convertToDouble();
    AffineMap full = rewriter.getMultiDimIdentityMap(rank);
    AffineMap plane = AffineMap::get(
        rank, 0, {getAffineDimExpr(0, context), getAffineDimExpr(1, context)},
        context);
    AffineMap channel = AffineMap::get(rank, 0, getAffineDimExpr(1, context));
    Value empty = rewriter.create<tensor::EmptyOp>(loc, type.getShape(), element);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type, ValueRange{input, mean, squares, op.getScale(), op.getB()},
        empty, ArrayRef{full, plane, plane, channel, channel, full},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value variance = b.create<arith::DivFOp>(l, args[2], divisor);
          Value denominator = b.create<math::SqrtOp>(
              l, b.create<arith::AddFOp>(l, variance,
                                         floatConstant(b, l, element, epsilon)));
          Value normalized = b.create<arith::DivFOp>(
              l, b.create<arith::SubFOp>(l, args[0], args[1]), denominator);
          b.create<linalg::YieldOp>(
              l, b.create<arith::AddFOp>(
                      l, b.create<arith::MulFOp>(l, normalized, args[3]),
                      args[4])
                     .getResult());
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

struct LowerLrn : OpRewritePattern<onnx::LRNOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::LRNOp op,
                                PatternRewriter &rewriter) const override {
    if (checkNormalizationLowering(op))
      return failure();
    Location loc = op.getLoc();
    MLIRContext *context = getContext();
    Value input = op.getX();
    auto type = cast<RankedTensorType>(input.getType());
    Type element = type.getElementType();
    int64_t rank = type.getRank();
    int64_t size = (int64_t)op.getSize();
    int64_t before = (size - 1) / 2;
    int64_t channels = type.getDimSize(1);

    // Sum of squares over the channel window: loops (dims..., window).
    Value window = rewriter.create<tensor::EmptyOp>(
        loc, ArrayRef<int64_t>{size}, element);
    Value zeros = filledTensor(rewriter, loc, type.getShape(),
                               rewriter.getFloatAttr(element, 0.0));
    SmallVector<AffineExpr> outputExprs;
    for (int64_t i = 0; i < rank; ++i)
      outputExprs.push_back(getAffineDimExpr(i, context));
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    iterators.push_back(utils::IteratorType::reduction);
    Value squares =
        rewriter
            .create<linalg::GenericOp>(
                loc, type, window, zeros,
                ArrayRef{AffineMap::get(rank + 1, 0,
                                        getAffineDimExpr(rank, context)),
                         AffineMap::get(rank + 1, 0, outputExprs, context)},
                iterators,
                [&](OpBuilder &b, Location l, ValueRange args) {
                  // channel = c - before + w, counted only inside [0, C).
                  Value c = b.create<linalg::IndexOp>(l, 1);
                  Value w = b.create<linalg::IndexOp>(l, rank);
                  Value shifted = b.create<arith::AddIOp>(l, c, w);
                  Value start = b.create<arith::ConstantIndexOp>(l, before);
                  Value limit =
                      b.create<arith::ConstantIndexOp>(l, channels + before);
                  Value inside = b.create<arith::AndIOp>(
                      l,
                      b.create<arith::CmpIOp>(l, arith::CmpIPredicate::uge,
                                              shifted, start),
                      b.create<arith::CmpIOp>(l, arith::CmpIPredicate::ult,
                                              shifted, limit));
                  Value channel = b.create<arith::SelectOp>(
                      l, inside, b.create<arith::SubIOp>(l, shifted, start),
                      b.create<arith::ConstantIndexOp>(l, 0));
                  SmallVector<Value> at;
                  for (int64_t i = 0; i < rank; ++i)
                    at.push_back(i == 1 ? channel
                                        : b.create<linalg::IndexOp>(l, i)
                                              .getResult());
                  Value x = b.create<tensor::ExtractOp>(l, input, at);
                  Value sum = b.create<arith::AddFOp>(
                      l, args[1], b.create<arith::MulFOp>(l, x, x));
                  b.create<linalg::YieldOp>(
                      l,
                      b.create<arith::SelectOp>(l, inside, sum, args[1])
                          .getResult());
                })
            .getResult(0);
    double alpha = op.getAlpha().convertToDouble();
    double beta = op.getBeta().convertToDouble();
    double bias = op.getBias().convertToDouble();
    AffineMap full = rewriter.getMultiDimIdentityMap(rank);
    Value empty = rewriter.create<tensor::EmptyOp>(loc, type.getShape(), element);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type, ValueRange{input, squares}, empty,
        ArrayRef{full, full, full},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value scaled = b.create<arith::AddFOp>(
              l, floatConstant(b, l, element, bias),
              b.create<arith::MulFOp>(
                  l, floatConstant(b, l, element, alpha / double(size)),
                  args[1]));
          Value denominator = b.create<math::PowFOp>(
              l, scaled, floatConstant(b, l, element, beta));
          b.create<linalg::YieldOp>(
              l, b.create<arith::DivFOp>(l, args[0], denominator).getResult());
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

} // namespace

std::optional<std::string>
mlir::kiln::checkNormalizationLowering(Operation *op) {
  if (!isa<onnx::InstanceNormalizationOp, onnx::LRNOp>(op))
    return std::string();
  for (Type valueType : op->getOperandTypes()) {
    auto type = dyn_cast<RankedTensorType>(valueType);
    if (!type || !type.hasStaticShape())
      return std::string("its shapes must be static for now");
  }
  auto type = cast<RankedTensorType>(op->getOperand(0).getType());
  if (!isa<FloatType>(type.getElementType()))
    return std::string("it is lowered for floating-point types only");
  if (type.getRank() < 3 && isa<onnx::InstanceNormalizationOp>(op))
    return std::string("its input needs a rank of 3 or more");
  if (type.getRank() < 2)
    return std::string("its input needs a rank of 2 or more");
  if (op->getResult(0).getType() != type)
    return std::string("its result type differs from its input type");
  if (auto instanceNorm = dyn_cast<onnx::InstanceNormalizationOp>(op))
    for (Value vector : {instanceNorm.getScale(), instanceNorm.getB()}) {
      auto vectorType = cast<RankedTensorType>(vector.getType());
      if (vectorType.getRank() != 1 ||
          vectorType.getDimSize(0) != type.getDimSize(1) ||
          vectorType.getElementType() != type.getElementType())
        return std::string("its scale and B must have one value per channel");
    }
  if (auto lrn = dyn_cast<onnx::LRNOp>(op))
    if (lrn.getSize() < 1)
      return std::string("its size must be positive");
  return std::nullopt;
}

void mlir::kiln::populateNormalizationLowering(RewritePatternSet &patterns) {
  patterns.add<LowerInstanceNorm, LowerLrn>(patterns.getContext());
}
