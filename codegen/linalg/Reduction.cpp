//===- Reduction.cpp - reductions and normalizations to linalg ------------===//
//
// Reduce{Sum,Mean,Max,Min,Prod,SumSquare,L1,L2,LogSum,LogSumExp} with
// constant axes become one reducing linalg.generic (then expand_shape back
// for keepdims) and an elementwise finish where the operator needs one
// (mean, square root, log). LogSumExp subtracts the maximum first, so that
// exp cannot overflow. Reductions take symbolic dimensions (a mean over
// an image of run-time size divides by their product).
// BatchNormalization in inference mode is one elementwise generic reading
// its per-channel vectors broadcast; LayerNormalization reduces the mean
// and the variance over the trailing axes, then normalizes.
//
//===----------------------------------------------------------------------===//

#include "codegen/linalg/LinalgBuilders.h"
#include "codegen/linalg/OnnxToLinalg.h"
#include "codegen/linalg/Passes.h"

#include "dialects/onnx/OnnxConstants.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

#include "llvm/ADT/SmallBitVector.h"
#include "llvm/ADT/StringSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::kiln;

namespace {

bool isFloatElement(Type type) {
  return type.isF16() || type.isBF16() || type.isF32() || type.isF64();
}

/// 1 / sqrt(x), spelled so every CPU lowering of math handles it.
Value reciprocalSqrt(OpBuilder &b, Location loc, Value x) {
  return b.create<arith::DivFOp>(loc, floatConstant(b, loc, x.getType(), 1.0),
                                 b.create<math::SqrtOp>(loc, x));
}

/// The axes a Reduce* op reduces, normalized, or nullopt if not constant.
std::optional<llvm::SmallBitVector> reducedAxes(Operation *op, int64_t rank) {
  llvm::SmallBitVector axes(rank);
  std::optional<SmallVector<int64_t>> given;
  if (op->getNumOperands() > 1 && op->getOperand(1))
    given = onnx::getConstantInts(op->getOperand(1));
  else
    given = SmallVector<int64_t>();
  if (!given)
    return std::nullopt;
  if (given->empty()) {
    auto noop = op->getAttrOfType<IntegerAttr>("noop_with_empty_axes");
    if (!noop || noop.getInt() == 0)
      axes.set();
    return axes;
  }
  for (int64_t axis : *given) {
    if (axis < 0)
      axis += rank;
    if (axis < 0 || axis >= rank)
      return std::nullopt;
    axes.set(axis);
  }
  return axes;
}

enum class Combine { Sum, Max, Min, Prod };

struct ReductionKind {
  Combine combine;
  /// Applied to each element before combining: |x| or x^2.
  enum { Identity, Abs, Square } pre = Identity;
  /// Applied to the result: mean, square root or log.
  enum { None, Mean, Sqrt, Log } post = None;
  /// Reduces exp(x - max) and adds the max back after the log.
  bool stableExp = false;
};

std::optional<ReductionKind> kindOf(StringRef name) {
  return llvm::StringSwitch<std::optional<ReductionKind>>(name)
      .Case("ReduceSum", ReductionKind{Combine::Sum})
      .Case("ReduceMean", ReductionKind{Combine::Sum, ReductionKind::Identity,
                                        ReductionKind::Mean})
      .Case("ReduceMax", ReductionKind{Combine::Max})
      .Case("ReduceMin", ReductionKind{Combine::Min})
      .Case("ReduceProd", ReductionKind{Combine::Prod})
      .Case("ReduceSumSquare", ReductionKind{Combine::Sum, ReductionKind::Square})
      .Case("ReduceL1", ReductionKind{Combine::Sum, ReductionKind::Abs})
      .Case("ReduceL2", ReductionKind{Combine::Sum, ReductionKind::Square,
                                      ReductionKind::Sqrt})
      .Case("ReduceLogSum", ReductionKind{Combine::Sum,
                                          ReductionKind::Identity,
                                          ReductionKind::Log})
      .Case("ReduceLogSumExp",
            ReductionKind{Combine::Sum, ReductionKind::Identity,
                          ReductionKind::Log, /*stableExp=*/true})
      .Default(std::nullopt);
}

/// Reduces `input` over `axes` with `kind`; the result drops those axes.
/// With `shift` (shaped like the result), exp(x - shift) is reduced.
Value reduce(OpBuilder &b, Location loc, Value input,
             const llvm::SmallBitVector &axes, ReductionKind kind,
             Value shift = {}) {
  auto type = cast<RankedTensorType>(input.getType());
  Type element = type.getElementType();
  MLIRContext *context = b.getContext();
  int64_t rank = type.getRank();
  SmallVector<int64_t> shape;
  SmallVector<Value> dynamicSizes;
  SmallVector<AffineExpr> exprs;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t i = 0; i < rank; ++i) {
    iterators.push_back(axes.test(i) ? utils::IteratorType::reduction
                                     : utils::IteratorType::parallel);
    if (!axes.test(i)) {
      shape.push_back(type.getDimSize(i));
      exprs.push_back(getAffineDimExpr(i, context));
      if (type.isDynamicDim(i))
        dynamicSizes.push_back(b.create<tensor::DimOp>(loc, input, i));
    }
  }
  auto resultType = RankedTensorType::get(shape, element);
  double start = kind.combine == Combine::Sum    ? 0.0
                 : kind.combine == Combine::Prod ? 1.0
                 : kind.combine == Combine::Max  ? -INFINITY
                                                 : INFINITY;
  Value init = filledTensor(b, loc, shape, b.getFloatAttr(element, start),
                            dynamicSizes);
  AffineMap reduced = AffineMap::get(rank, 0, exprs, context);
  SmallVector<Value> inputs = {input};
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank)};
  if (shift) {
    inputs.push_back(shift);
    maps.push_back(reduced);
  }
  maps.push_back(reduced);
  return b
      .create<linalg::GenericOp>(
          loc, resultType, inputs, init, maps, iterators,
          [kind, shift](OpBuilder &nb, Location l, ValueRange args) {
            Value x = args[0];
            if (shift)
              x = nb.create<math::ExpOp>(
                  l, nb.create<arith::SubFOp>(l, x, args[1]));
            if (kind.pre == ReductionKind::Abs)
              x = nb.create<math::AbsFOp>(l, x);
            else if (kind.pre == ReductionKind::Square)
              x = nb.create<arith::MulFOp>(l, x, x);
            Value out, acc = args.back();
            switch (kind.combine) {
            case Combine::Sum: out = nb.create<arith::AddFOp>(l, x, acc); break;
            case Combine::Prod: out = nb.create<arith::MulFOp>(l, x, acc); break;
            case Combine::Max: out = nb.create<arith::MaximumFOp>(l, x, acc); break;
            case Combine::Min: out = nb.create<arith::MinimumFOp>(l, x, acc); break;
            }
            nb.create<linalg::YieldOp>(l, out);
          })
      .getResult(0);
}

struct LowerReduce : RewritePattern {
  LowerReduce(MLIRContext *context)
      : RewritePattern(MatchAnyOpTypeTag(), 1, context) {}
  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    std::optional<ReductionKind> kind =
        isa<onnx::OnnxDialect>(op->getDialect())
            ? kindOf(op->getName().stripDialect())
            : std::nullopt;
    if (!kind || checkReductionLowering(op))
      return failure();
    Location loc = op->getLoc();
    Value input = op->getOperand(0);
    auto type = cast<RankedTensorType>(input.getType());
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    Type element = type.getElementType();
    llvm::SmallBitVector axes = *reducedAxes(op, type.getRank());
    Value maximum;
    if (kind->stableExp)
      maximum = reduce(rewriter, loc, input, axes, ReductionKind{Combine::Max});
    Value result = reduce(rewriter, loc, input, axes, *kind, maximum);
    if (kind->post == ReductionKind::Mean) {
      Value count = rewriter.create<arith::ConstantIndexOp>(loc, 1);
      for (int axis : axes.set_bits())
        count = rewriter.createOrFold<arith::MulIOp>(
            loc, count, rewriter.createOrFold<tensor::DimOp>(loc, input, axis));
      Value divisor = rewriter.createOrFold<arith::UIToFPOp>(
          loc, element,
          rewriter.createOrFold<arith::IndexCastUIOp>(
              loc, rewriter.getI64Type(), count));
      result = mapElements(rewriter, loc, result,
                           [&](OpBuilder &b, Location l, Value x) -> Value {
                             return b.create<arith::DivFOp>(l, x, divisor);
                           });
    } else if (kind->post == ReductionKind::Sqrt) {
      result = mapElements(rewriter, loc, result,
                           [](OpBuilder &b, Location l, Value x) -> Value {
                             return b.create<math::SqrtOp>(l, x);
                           });
    } else if (kind->post == ReductionKind::Log) {
      result = mapElements(rewriter, loc, result,
                           [](OpBuilder &b, Location l, Value x) -> Value {
                             return b.create<math::LogOp>(l, x);
                           });
    }
    if (maximum) {
      auto reducedType = cast<RankedTensorType>(result.getType());
      SmallVector<AffineMap> maps(3, rewriter.getMultiDimIdentityMap(
                                         reducedType.getRank()));
      result =
          rewriter
              .create<linalg::GenericOp>(
                  loc, reducedType, ValueRange{result, maximum},
                  rewriter
                      .create<tensor::EmptyOp>(
                          loc, reducedType.getShape(), element,
                          dynamicSizesOf(rewriter, loc, result))
                      .getResult(),
                  maps,
                  SmallVector<utils::IteratorType>(
                      reducedType.getRank(), utils::IteratorType::parallel),
                  [](OpBuilder &b, Location l, ValueRange args) {
                    b.create<linalg::YieldOp>(
                        l, b.create<arith::AddFOp>(l, args[0], args[1])
                               .getResult());
                  })
              .getResult(0);
    }
    // keepdims: the reduced axes come back as size 1.
    auto reducedType = cast<RankedTensorType>(result.getType());
    if (reducedType != resultType) {
      SmallVector<ReassociationIndices> groups;
      if (reducedType.getRank() == 0) {
        result = rewriter.create<tensor::ExpandShapeOp>(
            loc, resultType, result, SmallVector<ReassociationIndices>{});
      } else {
        // Each kept axis takes the reduced axes before it (and the last one
        // those after it).
        ReassociationIndices current;
        for (int64_t i = 0; i < resultType.getRank(); ++i) {
          current.push_back(i);
          if (!axes.test(i)) {
            groups.push_back(current);
            current.clear();
          }
        }
        if (!current.empty())
          groups.back().append(current.begin(), current.end());
        result = rewriter.create<tensor::ExpandShapeOp>(loc, resultType, result,
                                                        groups);
      }
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LowerBatchNorm : OpRewritePattern<onnx::BatchNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::BatchNormalizationOp op,
                                PatternRewriter &rewriter) const override {
    if (checkReductionLowering(op))
      return failure();
    Location loc = op.getLoc();
    MLIRContext *context = getContext();
    auto type = cast<RankedTensorType>(op.getY().getType());
    Type element = type.getElementType();
    int64_t rank = type.getRank();
    double epsilon = op.getEpsilon().convertToDouble();
    AffineMap full = rewriter.getMultiDimIdentityMap(rank);
    AffineMap channel = AffineMap::get(rank, 0, getAffineDimExpr(1, context));
    Value empty = rewriter.create<tensor::EmptyOp>(loc, type.getShape(), element);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type,
        ValueRange{op.getX(), op.getScale(), op.getB(), op.getInputMean(),
                   op.getInputVar()},
        empty, ArrayRef{full, channel, channel, channel, channel, full},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange args) {
          // scale * (x - mean) / sqrt(var + epsilon) + bias
          Value eps = floatConstant(b, l, element, epsilon);
          Value invStd =
              reciprocalSqrt(b, l, b.create<arith::AddFOp>(l, args[4], eps));
          Value centered = b.create<arith::SubFOp>(l, args[0], args[3]);
          Value scaled = b.create<arith::MulFOp>(
              l, b.create<arith::MulFOp>(l, centered, invStd), args[1]);
          b.create<linalg::YieldOp>(
              l, b.create<arith::AddFOp>(l, scaled, args[2]).getResult());
        });
    rewriter.replaceOp(op, {generic.getResult(0)});
    return success();
  }
};

struct LowerLayerNorm : OpRewritePattern<onnx::LayerNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::LayerNormalizationOp op,
                                PatternRewriter &rewriter) const override {
    if (checkReductionLowering(op))
      return failure();
    Location loc = op.getLoc();
    MLIRContext *context = getContext();
    Value input = op.getX();
    auto type = cast<RankedTensorType>(input.getType());
    Type element = type.getElementType();
    int64_t rank = type.getRank();
    int64_t axis = (int64_t)op.getAxis();
    if (axis < 0)
      axis += rank;
    llvm::SmallBitVector axes(rank);
    int64_t count = 1;
    for (int64_t i = axis; i < rank; ++i) {
      axes.set(i);
      count *= type.getDimSize(i);
    }
    SmallVector<AffineExpr> keptExprs;
    for (int64_t i = 0; i < axis; ++i)
      keptExprs.push_back(getAffineDimExpr(i, context));
    AffineMap full = rewriter.getMultiDimIdentityMap(rank);
    AffineMap kept = AffineMap::get(rank, 0, keptExprs, context);
    // scale and bias broadcast against the normalized (trailing) axes.
    auto trailingMap = [&](Value value) {
      return broadcastMap(cast<RankedTensorType>(value.getType()).getShape(),
                          type.getShape(), context);
    };
    SmallVector<utils::IteratorType> parallel(rank,
                                              utils::IteratorType::parallel);
    Value divisor = floatConstant(rewriter, loc, element, (double)count);

    Value sum = reduce(rewriter, loc, input, axes, ReductionKind{Combine::Sum});
    Value mean = mapElements(rewriter, loc, sum,
                             [&](OpBuilder &b, Location l, Value x) -> Value {
                               return b.create<arith::DivFOp>(l, x, divisor);
                             });
    // Variance as the mean of squared deviations.
    auto keptType = cast<RankedTensorType>(mean.getType());
    Value zeros = filledTensor(rewriter, loc, keptType.getShape(),
                               rewriter.getFloatAttr(element, 0.0));
    SmallVector<utils::IteratorType> reducing = parallel;
    for (int64_t i = axis; i < rank; ++i)
      reducing[i] = utils::IteratorType::reduction;
    Value squares =
        rewriter
            .create<linalg::GenericOp>(
                loc, keptType, ValueRange{input, mean}, zeros,
                ArrayRef{full, kept, kept}, reducing,
                [](OpBuilder &b, Location l, ValueRange args) {
                  Value d = b.create<arith::SubFOp>(l, args[0], args[1]);
                  b.create<linalg::YieldOp>(
                      l, b.create<arith::AddFOp>(
                                 l, b.create<arith::MulFOp>(l, d, d), args[2])
                             .getResult());
                })
            .getResult(0);
    double epsilon = op.getEpsilon().convertToDouble();
    Value invStd = mapElements(
        rewriter, loc, squares, [&](OpBuilder &b, Location l, Value x) {
          Value variance = b.create<arith::DivFOp>(l, x, divisor);
          return reciprocalSqrt(
              b, l, b.create<arith::AddFOp>(
                        l, variance, floatConstant(b, l, element, epsilon)));
        });
    SmallVector<Value> inputs = {input, mean, invStd, op.getScale()};
    SmallVector<AffineMap> maps = {full, kept, kept, trailingMap(op.getScale())};
    if (Value bias = op.getB()) {
      inputs.push_back(bias);
      maps.push_back(trailingMap(bias));
    }
    maps.push_back(full);
    Value empty = rewriter.create<tensor::EmptyOp>(loc, type.getShape(), element);
    auto normalized = rewriter.create<linalg::GenericOp>(
        loc, type, inputs, empty, maps, parallel,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value y = b.create<arith::MulFOp>(
              l, b.create<arith::MulFOp>(
                     l, b.create<arith::SubFOp>(l, args[0], args[1]), args[2]),
              args[3]);
          if (args.size() == 6)
            y = b.create<arith::AddFOp>(l, y, args[4]);
          b.create<linalg::YieldOp>(l, y);
        });
    // Mean and InvStdDev keep the normalized axes with size 1.
    SmallVector<Value> results = {normalized.getResult(0)};
    SmallVector<Value> statistics = {mean, invStd};
    for (auto [statistic, result] :
         llvm::zip(statistics, op->getResults().drop_front())) {
      if (!result)
        continue;
      SmallVector<ReassociationIndices> groups;
      for (int64_t i = 0; i < axis; ++i)
        groups.push_back({i});
      for (int64_t i = axis; i < rank && !groups.empty(); ++i)
        groups.back().push_back(i);
      results.push_back(rewriter.create<tensor::ExpandShapeOp>(
          loc, result.getType(), statistic, groups));
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

std::optional<std::string> mlir::kiln::checkReductionLowering(Operation *op) {
  bool isReduce = isa<onnx::OnnxDialect>(op->getDialect()) &&
                  kindOf(op->getName().stripDialect());
  if (!isReduce &&
      !isa<onnx::BatchNormalizationOp, onnx::LayerNormalizationOp>(op))
    return std::string();
  SmallVector<Type> types(op->getOperandTypes());
  types.append(op->getResultTypes().begin(), op->getResultTypes().end());
  for (Type valueType : types) {
    auto type = dyn_cast<RankedTensorType>(valueType);
    // Reductions take symbolic sizes; the normalizations not yet.
    if (!type || (!isReduce && !type.hasStaticShape()))
      return std::string("its shapes must be static for now");
  }
  Type element = getElementTypeOrSelf(op->getOperand(0).getType());
  if (!isFloatElement(element))
    return std::string("it is lowered for floating-point types only");
  if (isReduce) {
    auto type = cast<RankedTensorType>(op->getOperand(0).getType());
    if (!reducedAxes(op, type.getRank()))
      return std::string("its axes must be constant");
    return std::nullopt;
  }
  if (auto batchNorm = dyn_cast<onnx::BatchNormalizationOp>(op)) {
    if (batchNorm.getTrainingMode() != 0 || op->getNumResults() != 1)
      return std::string("training mode is not lowered");
    if (cast<RankedTensorType>(batchNorm.getX().getType()).getRank() < 2)
      return std::string("its input needs a rank of 2 or more");
    for (Value value : op->getOperands().drop_front())
      if (getElementTypeOrSelf(value.getType()) != element)
        return std::string("its statistics must have the input's element type");
  }
  if (auto layerNorm = dyn_cast<onnx::LayerNormalizationOp>(op))
    for (Value statistic : op->getResults().drop_front())
      if (statistic && getElementTypeOrSelf(statistic.getType()) != element)
        return std::string("its Mean and InvStdDev in another element type "
                           "(stash_type) are not lowered yet");
  return std::nullopt;
}

void mlir::kiln::populateReductionLowering(RewritePatternSet &patterns) {
  patterns.add<LowerReduce>(patterns.getContext());
  patterns.add<LowerBatchNorm, LowerLayerNorm>(patterns.getContext());
}
