//===- ArgReductions.cpp - ArgMax, ArgMin and Hardmax to linalg -----------===//
//
// ArgMax and ArgMin are one linalg.generic reducing the axis into two
// outputs, the best value so far and its index; a strict comparison keeps
// the first of equal values, a non-strict one (select_last_index) the last.
// Hardmax marks the first maximum along its axis: the ArgMax index, then an
// elementwise comparison with each position's index.
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

/// The value every element beats (or ties): -inf / +inf, or the integer
/// extremes.
TypedAttr worstValue(Builder &b, Type element, bool isMax) {
  if (auto floatType = dyn_cast<FloatType>(element))
    return b.getFloatAttr(floatType, isMax ? -INFINITY : INFINITY);
  unsigned width = element.getIntOrFloatBitWidth();
  return b.getIntegerAttr(element, isMax ? APInt::getSignedMinValue(width)
                                         : APInt::getSignedMaxValue(width));
}

/// The index (i64) of the largest (`isMax`) or smallest element of `input`
/// along `axis`, which the result drops.
Value argReduce(OpBuilder &b, Location loc, Value input, int64_t axis,
                bool isMax, bool selectLast) {
  MLIRContext *context = b.getContext();
  auto type = cast<RankedTensorType>(input.getType());
  Type element = type.getElementType();
  int64_t rank = type.getRank();
  SmallVector<int64_t> shape;
  SmallVector<AffineExpr> exprs;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t i = 0; i < rank; ++i) {
    iterators.push_back(i == axis ? utils::IteratorType::reduction
                                  : utils::IteratorType::parallel);
    if (i != axis) {
      shape.push_back(type.getDimSize(i));
      exprs.push_back(getAffineDimExpr(i, context));
    }
  }
  Value best = filledTensor(b, loc, shape, worstValue(b, element, isMax));
  Value index = filledTensor(b, loc, shape, b.getI64IntegerAttr(0));
  AffineMap reduced = AffineMap::get(rank, 0, exprs, context);
  bool isFloat = isa<FloatType>(element);
  auto generic = b.create<linalg::GenericOp>(
      loc, TypeRange{best.getType(), index.getType()}, input,
      ValueRange{best, index},
      ArrayRef{b.getMultiDimIdentityMap(rank), reduced, reduced}, iterators,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value x = args[0], current = args[1];
        Value better;
        if (isFloat) {
          auto predicate =
              isMax ? (selectLast ? arith::CmpFPredicate::OGE
                                  : arith::CmpFPredicate::OGT)
                    : (selectLast ? arith::CmpFPredicate::OLE
                                  : arith::CmpFPredicate::OLT);
          better = nb.create<arith::CmpFOp>(l, predicate, x, current);
        } else {
          auto predicate =
              isMax ? (selectLast ? arith::CmpIPredicate::sge
                                  : arith::CmpIPredicate::sgt)
                    : (selectLast ? arith::CmpIPredicate::sle
                                  : arith::CmpIPredicate::slt);
          better = nb.create<arith::CmpIOp>(l, predicate, x, current);
        }
        Value position = nb.create<arith::IndexCastOp>(
            l, nb.getI64Type(), nb.create<linalg::IndexOp>(l, axis));
        nb.create<linalg::YieldOp>(
            l, ValueRange{nb.create<arith::SelectOp>(l, better, x, current),
                          nb.create<arith::SelectOp>(l, better, position,
                                                     args[2])});
      });
  return generic.getResult(1);
}

int64_t normalizedAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

template <typename OpTy>
struct LowerArgReduce : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if (checkArgReductionLowering(op))
      return failure();
    auto type = cast<RankedTensorType>(op.getData().getType());
    int64_t axis = normalizedAxis((int64_t)op.getAxis(), type.getRank());
    Value indices =
        argReduce(rewriter, op.getLoc(), op.getData(), axis,
                  std::is_same_v<OpTy, onnx::ArgMaxOp>,
                  op.getSelectLastIndex() != 0);
    auto resultType = cast<RankedTensorType>(op.getType());
    if (indices.getType() != resultType) {
      // keepdims: the axis comes back with size 1, grouped with a
      // neighbour (or alone for a rank-1 input).
      SmallVector<ReassociationIndices> groups;
      for (int64_t i = 0; i + 1 < type.getRank(); ++i)
        groups.push_back({i < axis ? i : i + 1});
      if (groups.empty()) {
        indices = rewriter.create<tensor::ExpandShapeOp>(
            op.getLoc(), resultType, indices, groups);
      } else {
        if (axis == type.getRank() - 1)
          groups.back().push_back(axis);
        else
          groups[axis].insert(groups[axis].begin(), axis);
        indices = rewriter.create<tensor::ExpandShapeOp>(
            op.getLoc(), resultType, indices, groups);
      }
    }
    rewriter.replaceOp(op, indices);
    return success();
  }
};

struct LowerHardmax : OpRewritePattern<onnx::HardmaxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::HardmaxOp op,
                                PatternRewriter &rewriter) const override {
    if (checkArgReductionLowering(op))
      return failure();
    Location loc = op.getLoc();
    MLIRContext *context = getContext();
    auto type = cast<RankedTensorType>(op.getInput().getType());
    int64_t rank = type.getRank();
    int64_t axis = normalizedAxis((int64_t)op.getAxis(), rank);
    Value indices = argReduce(rewriter, loc, op.getInput(), axis,
                              /*isMax=*/true, /*selectLast=*/false);
    SmallVector<AffineExpr> exprs;
    for (int64_t i = 0; i < rank; ++i)
      if (i != axis)
        exprs.push_back(getAffineDimExpr(i, context));
    Type element = type.getElementType();
    Value empty =
        rewriter.create<tensor::EmptyOp>(loc, type.getShape(), element);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type, indices, empty,
        ArrayRef{AffineMap::get(rank, 0, exprs, context),
                 rewriter.getMultiDimIdentityMap(rank)},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value position = b.create<arith::IndexCastOp>(
              l, b.getI64Type(), b.create<linalg::IndexOp>(l, axis));
          Value isBest = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq,
                                                 position, args[0]);
          b.create<linalg::YieldOp>(
              l, b.create<arith::SelectOp>(l, isBest,
                                           floatConstant(b, l, element, 1.0),
                                           floatConstant(b, l, element, 0.0))
                     .getResult());
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

} // namespace

std::optional<std::string> mlir::kiln::checkArgReductionLowering(Operation *op) {
  if (!isa<onnx::ArgMaxOp, onnx::ArgMinOp, onnx::HardmaxOp>(op))
    return std::string();
  auto type = dyn_cast<RankedTensorType>(op->getOperand(0).getType());
  auto resultType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!type || !resultType || !type.hasStaticShape() ||
      !resultType.hasStaticShape())
    return std::string("its shapes must be static for now");
  Type element = type.getElementType();
  if (isa<onnx::HardmaxOp>(op) ? !isa<FloatType>(element)
                               : !element.isSignlessIntOrFloat())
    return std::string("its element type is not lowered yet");
  if (type.getRank() == 0)
    return std::string("its input must have a rank of 1 or more");
  int64_t axis = op->getAttrOfType<IntegerAttr>("axis").getInt();
  if (axis < -type.getRank() || axis >= type.getRank())
    return std::string("its axis is out of range");
  return std::nullopt;
}

void mlir::kiln::populateArgReductionLowering(RewritePatternSet &patterns) {
  patterns.add<LowerArgReduce<onnx::ArgMaxOp>, LowerArgReduce<onnx::ArgMinOp>,
               LowerHardmax>(patterns.getContext());
}
