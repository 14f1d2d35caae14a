//===- Attention.cpp - kiln-lower-attention-to-linalg ---------------------===//
//
// kiln.attention in linalg generics, for a target without a fused
// attention kernel (CUDA): the scaled query's products with the keys, the
// softmax over them (maximum, exponentials, sum) and the exponentials'
// weighted sum of the values, normalized, each a kernel the target's
// contraction, reduction and elementwise lowerings already take. With a
// pages table (Quest), the listed pages' keys and values are gathered into
// contiguous rows first, so that the step reads the chosen pages and not
// the whole cache.
//
//===----------------------------------------------------------------------===//

#include "codegen/linalg/LinalgBuilders.h"
#include "codegen/linalg/Passes.h"
#include "dialects/kiln/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

namespace mlir::kiln {
#define GEN_PASS_DEF_LOWERATTENTIONTOLINALGPASS
#include "codegen/linalg/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

using utils::IteratorType;

class AttentionLowering {
public:
  AttentionLowering(AttentionOp op, OpBuilder &b)
      : op(op), b(b), loc(op.getLoc()), f32(b.getF32Type()) {}

  Value lower();

private:
  Value index(int64_t value) {
    return b.create<arith::ConstantIndexOp>(loc, value);
  }
  Value dim(Value tensor, int64_t d) {
    return b.createOrFold<tensor::DimOp>(loc, tensor, d);
  }
  /// `value` as f32 (a bf16 key or value widened).
  Value widened(OpBuilder &nb, Value value) {
    return value.getType().isF32()
               ? value
               : nb.create<arith::ExtFOp>(loc, f32, value).getResult();
  }
  /// An f32 tensor [G, S, ...] of the query's heads and rows, then
  /// `trailing` (a static extent, or dynamic with its size `trailingSize`),
  /// filled with `value` (or left empty); without `trailing`, [G, S].
  Value filled(std::optional<int64_t> trailing, Value trailingSize,
               std::optional<float> value);
  /// Whether the table lists pages (a sparse step) rather than asking for
  /// every key, as an i1.
  Value listsPages();
  /// The cache position of the `key`-th key head `head` attends to.
  Value positionOf(OpBuilder &nb, Value head, Value key);
  /// `source` [G, T, D]'s rows at the positions attended, [G, L, D] f32.
  Value gathered(Value source);
  /// The additive mask of head `head`, row `row`, for its `key`-th key.
  Value maskAt(OpBuilder &nb, Value head, Value row, Value key);
  /// A generic over `iterators` dimensions reading `inputs` through `maps`
  /// (the last one the output's) into `init`, `body` its region.
  Value generic(ValueRange inputs, Value init, ArrayRef<AffineMap> maps,
                ArrayRef<IteratorType> iterators,
                function_ref<Value(OpBuilder &, ValueRange)> body);

  AttentionOp op;
  OpBuilder &b;
  Location loc;
  Type f32;
  Value heads, rows;
  /// With pages: the table, its K slots, the page's tokens, the i1 that
  /// says it lists pages, and the cache's keys T.
  Value table, sparse, cached;
  int64_t slots = 0, pageSize = 0;
  /// The keys attended: T, or with pages listed, their count.
  Value attended;
  /// With a mask: the heads that share a mask head, and its rows.
  Value maskGroup, maskRows;
};

Value AttentionLowering::filled(std::optional<int64_t> trailing,
                                Value trailingSize,
                                std::optional<float> value) {
  auto queryType = cast<RankedTensorType>(op.getQuery().getType());
  SmallVector<int64_t> shape(queryType.getShape().take_front(2));
  SmallVector<Value> sizes;
  for (int64_t d = 0; d < 2; ++d)
    if (ShapedType::isDynamic(shape[d]))
      sizes.push_back(d == 0 ? heads : rows);
  if (trailing) {
    shape.push_back(*trailing);
    if (ShapedType::isDynamic(*trailing))
      sizes.push_back(trailingSize);
  }
  if (!value)
    return b.create<tensor::EmptyOp>(loc, shape, f32, sizes);
  return filledTensor(b, loc, shape, b.getF32FloatAttr(*value), sizes);
}

Value AttentionLowering::listsPages() {
  // Quest's selection decides it from the sizes (the host's arithmetic);
  // any other table says it in its first entry.
  if (auto select = table.getDefiningOp<SelectPagesOp>())
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::uge,
                                   select.getCandidates(), index(slots));
  Value first =
      b.create<tensor::ExtractOp>(loc, table, ValueRange{index(0), index(0)});
  return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, first,
                                 b.create<arith::ConstantIntOp>(loc, 0, 32));
}

Value AttentionLowering::positionOf(OpBuilder &nb, Value head, Value key) {
  if (!table)
    return key;
  auto constant = [&](int64_t value) {
    return nb.create<arith::ConstantIndexOp>(loc, value);
  };
  Value page = constant(pageSize);
  Value slot = nb.create<arith::MinUIOp>(
      loc, nb.create<arith::DivUIOp>(loc, key, page), constant(slots - 1));
  Value listed = nb.create<arith::IndexCastOp>(
      loc, nb.getIndexType(),
      nb.create<tensor::ExtractOp>(loc, table, ValueRange{head, slot}));
  Value position =
      nb.create<arith::AddIOp>(loc, nb.create<arith::MulIOp>(loc, listed, page),
                               nb.create<arith::RemUIOp>(loc, key, page));
  return nb.create<arith::SelectOp>(loc, sparse, position, key);
}

Value AttentionLowering::gathered(Value source) {
  auto queryType = cast<RankedTensorType>(op.getQuery().getType());
  int64_t depth = queryType.getDimSize(2);
  auto type = RankedTensorType::get(
      {queryType.getDimSize(0), ShapedType::kDynamic, depth}, f32);
  SmallVector<Value> sizes;
  if (queryType.isDynamicDim(0))
    sizes.push_back(heads);
  sizes.push_back(attended);
  return generateTensor(b, loc, type, sizes, [&](OpBuilder &nb, Location) {
    Value head = nb.create<linalg::IndexOp>(loc, 0);
    Value key = nb.create<linalg::IndexOp>(loc, 1);
    Value channel = nb.create<linalg::IndexOp>(loc, 2);
    Value row = positionOf(nb, head, key);
    return widened(nb, nb.create<tensor::ExtractOp>(
                           loc, source, ValueRange{head, row, channel}));
  });
}

Value AttentionLowering::maskAt(OpBuilder &nb, Value head, Value row,
                                Value key) {
  // Consecutive heads share a mask head; rows repeat its rows (the query
  // heads of a group stacked as rows of one head).
  Value maskHead = nb.create<arith::DivUIOp>(loc, head, maskGroup);
  Value maskRow = nb.create<arith::RemUIOp>(loc, row, maskRows);
  return nb.create<tensor::ExtractOp>(
      loc, op.getMask(),
      ValueRange{maskHead, maskRow, positionOf(nb, head, key)});
}

Value AttentionLowering::generic(
    ValueRange inputs, Value init, ArrayRef<AffineMap> maps,
    ArrayRef<IteratorType> iterators,
    function_ref<Value(OpBuilder &, ValueRange)> body) {
  return b
      .create<linalg::GenericOp>(
          loc, init.getType(), inputs, init, maps, iterators,
          [&](OpBuilder &nb, Location, ValueRange arguments) {
            nb.create<linalg::YieldOp>(loc, body(nb, arguments));
          })
      .getResult(0);
}

Value AttentionLowering::lower() {
  Value query = op.getQuery(), keys = op.getKeys(), values = op.getValues();
  heads = dim(query, 0);
  rows = dim(query, 1);
  cached = dim(keys, op.getKeyPositionsDim());
  attended = cached;
  if (Value mask = op.getMask()) {
    maskGroup = b.create<arith::DivUIOp>(loc, heads, dim(mask, 0));
    maskRows = dim(mask, 1);
  }
  if ((table = op.getPages())) {
    slots = cast<ShapedType>(table.getType()).getDimSize(1);
    pageSize = *op.getPageSize();
    sparse = listsPages();
    // Every listed page is full but the last, the cache's last page.
    Value lastStart = b.create<arith::MulIOp>(
        loc,
        b.create<arith::DivUIOp>(loc,
                                 b.create<arith::SubIOp>(loc, cached, index(1)),
                                 index(pageSize)),
        index(pageSize));
    Value listed = b.create<arith::AddIOp>(
        loc, index((slots - 1) * pageSize),
        b.create<arith::SubIOp>(loc, cached, lastStart));
    attended = b.create<arith::SelectOp>(loc, sparse, listed, cached);
    keys = gathered(keys);
    values = gathered(values);
  }

  MLIRContext *context = b.getContext();
  auto map = [&](int64_t dims, ArrayRef<int64_t> results) {
    SmallVector<AffineExpr> exprs;
    for (int64_t d : results)
      exprs.push_back(getAffineDimExpr(d, context));
    return AffineMap::get(dims, 0, exprs, context);
  };
  const IteratorType parallel = IteratorType::parallel,
                     reduction = IteratorType::reduction;

  // The query scaled once: [G, S, D].
  float scale = op.getScale().convertToFloat();
  Value scaled = generic(
      query,
      filled(cast<ShapedType>(query.getType()).getDimSize(2), {}, std::nullopt),
      {map(3, {0, 1, 2}), map(3, {0, 1, 2})}, {parallel, parallel, parallel},
      [&](OpBuilder &nb, ValueRange x) -> Value {
        return nb.create<arith::MulFOp>(
            loc, x[0],
            nb.create<arith::ConstantOp>(loc, nb.getF32FloatAttr(scale)));
      });

  // scores[g, s, j] = sum over d of query[g, s, d] key[g, j, d]; keys not
  // in rows are [G, D, T].
  bool keyRows = op.getKeyRows() || table;
  Value scores = generic(
      {scaled, keys}, filled(ShapedType::kDynamic, attended, 0),
      {map(4, {0, 1, 3}), keyRows ? map(4, {0, 2, 3}) : map(4, {0, 3, 2}),
       map(4, {0, 1, 2})},
      {parallel, parallel, parallel, reduction},
      [&](OpBuilder &nb, ValueRange x) -> Value {
        return nb.create<arith::AddFOp>(
            loc, x[2], nb.create<arith::MulFOp>(loc, x[0], widened(nb, x[1])));
      });
  // The logits: the scores with the mask added.
  auto logitAt = [&](OpBuilder &nb, Value score) -> Value {
    if (!op.getMask())
      return score;
    Value head = nb.create<linalg::IndexOp>(loc, 0);
    Value row = nb.create<linalg::IndexOp>(loc, 1);
    Value key = nb.create<linalg::IndexOp>(loc, 2);
    return nb.create<arith::AddFOp>(loc, score, maskAt(nb, head, row, key));
  };
  Value largest = generic(
      scores, filled(std::nullopt, {}, -std::numeric_limits<float>::infinity()),
      {map(3, {0, 1, 2}), map(3, {0, 1})}, {parallel, parallel, reduction},
      [&](OpBuilder &nb, ValueRange x) -> Value {
        return nb.create<arith::MaximumFOp>(loc, x[1], logitAt(nb, x[0]));
      });
  Value exponentials = generic(
      {scores, largest}, filled(ShapedType::kDynamic, attended, 0),
      {map(3, {0, 1, 2}), map(3, {0, 1}), map(3, {0, 1, 2})},
      {parallel, parallel, parallel},
      [&](OpBuilder &nb, ValueRange x) -> Value {
        return nb.create<math::ExpOp>(
            loc, nb.create<arith::SubFOp>(loc, logitAt(nb, x[0]), x[1]));
      });
  Value sums = generic(exponentials, filled(std::nullopt, {}, 0),
                       {map(3, {0, 1, 2}), map(3, {0, 1})},
                       {parallel, parallel, reduction},
                       [&](OpBuilder &nb, ValueRange x) -> Value {
                         return nb.create<arith::AddFOp>(loc, x[1], x[0]);
                       });

  // result[g, s, d] = sum over j of exponential[g, s, j] value[g, j, d],
  // over the exponentials' sum.
  int64_t depth = cast<ShapedType>(query.getType()).getDimSize(2);
  Value weighted = generic(
      {exponentials, values}, filled(depth, {}, 0),
      {map(4, {0, 1, 3}), map(4, {0, 3, 2}), map(4, {0, 1, 2})},
      {parallel, parallel, parallel, reduction},
      [&](OpBuilder &nb, ValueRange x) -> Value {
        return nb.create<arith::AddFOp>(
            loc, x[2], nb.create<arith::MulFOp>(loc, x[0], widened(nb, x[1])));
      });
  return generic({weighted, sums}, op.getInit(),
                 {map(3, {0, 1, 2}), map(3, {0, 1}), map(3, {0, 1, 2})},
                 {parallel, parallel, parallel},
                 [&](OpBuilder &nb, ValueRange x) -> Value {
                   return nb.create<arith::DivFOp>(loc, x[0], x[1]);
                 });
}

struct LowerAttentionToLinalgPass
    : kiln::impl::LowerAttentionToLinalgPassBase<LowerAttentionToLinalgPass> {
  using LowerAttentionToLinalgPassBase::LowerAttentionToLinalgPassBase;

  /// Whether the target's fused kernel takes `op`.
  bool staysFused(AttentionOp op) {
    return op.hasF32KeysAndValues() && op.getDepth() <= fusedDepth;
  }

  void runOnOperation() override {
    SmallVector<AttentionOp> attentions;
    getOperation().walk([&](AttentionOp op) {
      if (isa<RankedTensorType>(op.getInit().getType()) && !staysFused(op))
        attentions.push_back(op);
    });
    for (AttentionOp op : attentions) {
      if (op.hasPast()) {
        op.emitOpError("with past keys and values, which only the CPU's "
                       "attention kernel reads");
        return signalPassFailure();
      }
      if (op.getKeysType().isInteger(8) ||
          getElementTypeOrSelf(op.getValues().getType()).isInteger(8)) {
        op.emitOpError("has 4-bit keys or values, which only the CPU's "
                       "attention kernel reads");
        return signalPassFailure();
      }
      OpBuilder b(op);
      Value result = AttentionLowering(op, b).lower();
      op->getResult(0).replaceAllUsesWith(result);
      op.erase();
    }
  }
};

} // namespace
