//===- TopK.cpp - TopK to scf loops and linalg ----------------------------===//
//
// For every position outside the axis, k selection passes over the axis:
// pass j picks the best element ranked after pass j-1's pick, where the
// ranking is (value, then lower index first), so ties keep the lower
// index as ONNX asks, without marking taken elements. The indices fill an
// i64 tensor carried through scf.for loops; the values are then gathered
// from the input at those indices by one linalg.generic. O(k * n) per row:
// meant for the small k of classification heads and sampling.
//
//===----------------------------------------------------------------------===//

#include "codegen/linalg/LinalgBuilders.h"
#include "codegen/linalg/OnnxToLinalg.h"
#include "codegen/linalg/Passes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

struct LowerTopK : OpRewritePattern<onnx::TopKOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::TopKOp op,
                                PatternRewriter &rewriter) const override {
    if (checkTopKLowering(op))
      return failure();
    Location loc = op.getLoc();
    Value input = op.getX();
    auto type = cast<RankedTensorType>(input.getType());
    auto indicesType = cast<RankedTensorType>(op.getIndices().getType());
    auto valuesType = cast<RankedTensorType>(op.getValues().getType());
    Type element = type.getElementType();
    bool isFloat = isa<FloatType>(element);
    int64_t rank = type.getRank();
    int64_t axis = (int64_t)op.getAxis();
    if (axis < 0)
      axis += rank;
    int64_t k = indicesType.getDimSize(axis);
    int64_t n = type.getDimSize(axis);
    bool largest = op.getLargest() != 0;

    // a ranks before b: larger (smaller) value, ties by lower index.
    auto before = [&](OpBuilder &b, Location l, Value va, Value ia, Value vb,
                      Value ib) -> Value {
      Value strictly, equal;
      if (isFloat) {
        strictly = b.create<arith::CmpFOp>(
            l, largest ? arith::CmpFPredicate::OGT : arith::CmpFPredicate::OLT,
            va, vb);
        equal = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, va, vb);
      } else {
        strictly = b.create<arith::CmpIOp>(
            l, largest ? arith::CmpIPredicate::sgt : arith::CmpIPredicate::slt,
            va, vb);
        equal = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, va, vb);
      }
      Value lowerIndex =
          b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, ia, ib);
      return b.create<arith::OrIOp>(
          l, strictly, b.create<arith::AndIOp>(l, equal, lowerIndex));
    };

    SmallVector<int64_t> rows(type.getShape());
    rows[axis] = 1;
    Value indicesInit = rewriter.create<tensor::EmptyOp>(
        loc, indicesType.getShape(), rewriter.getI64Type());
    Value indices = forEachPosition(
        rewriter, loc, rows, indicesInit,
        [&](OpBuilder &b, Location l, ValueRange position, Value carried) {
          Value zero = b.create<arith::ConstantIndexOp>(l, 0);
          Value one = b.create<arith::ConstantIndexOp>(l, 1);
          Value none = b.create<arith::ConstantIntOp>(l, -1, 64);
          Value anyValue = b.create<arith::ConstantOp>(l, b.getZeroAttr(element));
          auto passes = b.create<scf::ForOp>(
              l, zero, b.create<arith::ConstantIndexOp>(l, k), one,
              ValueRange{carried, anyValue, none},
              [&](OpBuilder &pb, Location pl, Value j, ValueRange state) {
                Value previousValue = state[1], previousIndex = state[2];
                Value first = pb.create<arith::CmpIOp>(
                    pl, arith::CmpIPredicate::eq, j, zero);
                auto scan = pb.create<scf::ForOp>(
                    pl, zero, pb.create<arith::ConstantIndexOp>(pl, n), one,
                    ValueRange{anyValue, none},
                    [&](OpBuilder &sb, Location sl, Value e, ValueRange best) {
                      SmallVector<Value> at(position.begin(), position.end());
                      at[axis] = e;
                      Value v = sb.create<tensor::ExtractOp>(sl, input, at);
                      Value index = sb.create<arith::IndexCastOp>(
                          sl, sb.getI64Type(), e);
                      Value after = sb.create<arith::OrIOp>(
                          sl, first,
                          before(sb, sl, previousValue, previousIndex, v,
                                 index));
                      Value noBest = sb.create<arith::CmpIOp>(
                          sl, arith::CmpIPredicate::eq, best[1], none);
                      Value better = sb.create<arith::OrIOp>(
                          sl, noBest, before(sb, sl, v, index, best[0], best[1]));
                      Value take = sb.create<arith::AndIOp>(sl, after, better);
                      sb.create<scf::YieldOp>(
                          sl, ValueRange{
                                  sb.create<arith::SelectOp>(sl, take, v, best[0]),
                                  sb.create<arith::SelectOp>(sl, take, index,
                                                             best[1])});
                    });
                SmallVector<Value> at(position.begin(), position.end());
                at[axis] = j;
                Value written = pb.create<tensor::InsertOp>(
                    pl, scan.getResult(1), state[0], at);
                pb.create<scf::YieldOp>(
                    pl, ValueRange{written, scan.getResult(0),
                                   scan.getResult(1)});
              });
          return passes.getResult(0);
        });

    // The values, gathered at the indices.
    Value values = generateTensor(
        rewriter, loc, valuesType, {}, [&](OpBuilder &b, Location l) -> Value {
          SmallVector<Value> at;
          for (int64_t i = 0; i < rank; ++i)
            at.push_back(b.create<linalg::IndexOp>(l, i));
          Value index = b.create<tensor::ExtractOp>(l, indices, at);
          at[axis] = b.create<arith::IndexCastOp>(l, b.getIndexType(), index);
          return b.create<tensor::ExtractOp>(l, input, at);
        });
    rewriter.replaceOp(op, {values, indices});
    return success();
  }
};

} // namespace

std::optional<std::string> mlir::kiln::checkTopKLowering(Operation *op) {
  auto topK = dyn_cast<onnx::TopKOp>(op);
  if (!topK)
    return std::string();
  auto type = dyn_cast<RankedTensorType>(topK.getX().getType());
  auto values = dyn_cast<RankedTensorType>(topK.getValues().getType());
  auto indices = dyn_cast<RankedTensorType>(topK.getIndices().getType());
  if (!type || !values || !indices || !type.hasStaticShape() ||
      !values.hasStaticShape() || !indices.hasStaticShape())
    return std::string("its shapes must be static (a constant K) for now");
  int64_t rank = type.getRank();
  int64_t axis = (int64_t)topK.getAxis();
  if (rank == 0 || axis < -rank || axis >= rank)
    return std::string("its axis is out of range");
  if (axis < 0)
    axis += rank;
  if (values.getShape() != indices.getShape() || values.getRank() != rank ||
      values.getElementType() != type.getElementType() ||
      !indices.getElementType().isInteger(64))
    return std::string("its outputs do not fit its input");
  for (int64_t d = 0; d < rank; ++d)
    if (d != axis && values.getDimSize(d) != type.getDimSize(d))
      return std::string("its outputs do not fit its input");
  if (values.getDimSize(axis) > type.getDimSize(axis))
    return std::string("its k exceeds the axis length");
  if (!type.getElementType().isSignlessIntOrFloat())
    return std::string("its element type is not lowered yet");
  return std::nullopt;
}

void mlir::kiln::populateTopKLowering(RewritePatternSet &patterns) {
  patterns.add<LowerTopK>(patterns.getContext());
}
