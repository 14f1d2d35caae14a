//===- PageSelection.cpp - kiln-cpu-lower-page-selection ------------------===//
//
// Quest's steps before the sparse attention: the pages' key bounds kept up
// to date as rows are appended, each page's upper bound of its scores,
// and the best pages. The bounds are read once per step (two rows a page,
// an eighth of the keys at 16 tokens a page); the selection is a bisection
// over the scores' bit patterns, so it costs a few sweeps of one float per
// page and writes the chosen pages already in order.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/KernelHelpers.h"
#include "codegen/cpu/Passes.h"
#include "dialects/kiln/KilnOps.h"

#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

namespace mlir::kiln {
#define GEN_PASS_DEF_CPULOWERPAGESELECTIONPASS
#include "codegen/cpu/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// Pages a work item of the scores takes (its bounds: 2 x 64 x D floats).
constexpr int64_t kPagesPerItem = 64;

class PageEmitter : public KernelEmitterBase {
public:
  PageEmitter(Operation *op, int64_t depth, int64_t vectorBits, OpBuilder &b)
      : KernelEmitterBase(b, op->getLoc()), depth(depth) {
    widest = vectorBits / 32;
    lanes = widest;
    while (depth % lanes)
      lanes /= 2;
    vectorType = VectorType::get({lanes}, b.getF32Type());
  }

  void emit(PageBoundsOp op);
  void emit(PageScoresOp op);
  void emit(SelectPagesOp op);

private:
  Value i32(int64_t value) {
    return b.create<arith::ConstantIntOp>(loc, value, 32);
  }
  Value i64(int64_t value) {
    return b.create<arith::ConstantIntOp>(loc, value, 64);
  }
  Value splat(float value) {
    return b.create<arith::ConstantOp>(
        loc, vectorType, DenseElementsAttr::get(vectorType, value));
  }
  /// Values k..k+L of row [head, row] of `keys` as f32 (bf16 widened, 4-bit
  /// rows dequantized).
  Value loadKeys(Value keys, Value head, Value row, Value k) {
    Type element = getElementTypeOrSelf(keys.getType());
    if (element.isInteger(8))
      return loadFourBitValues(b, loc, keys, head, row, k, lanes, depth);
    Value loaded = b.create<vector::LoadOp>(
        loc, VectorType::get({lanes}, element), keys, ValueRange{head, row, k});
    return element.isF32()
               ? loaded
               : b.create<arith::ExtFOp>(loc, vectorType, loaded).getResult();
  }
  /// `key` (the ordered key of page `p`, or of the vector of pages from
  /// `p`) with page 0's raised above any score's: INT32_MAX.
  Value firstAbove(Value key, Value p) {
    Value top = i32(std::numeric_limits<int32_t>::max());
    Value raised =
        isa<VectorType>(key.getType())
            ? b.create<vector::InsertOp>(loc, top, key, int64_t(0)).getResult()
            : top;
    Value first =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, p, index(0));
    return b.create<arith::SelectOp>(loc, first, raised, key);
  }
  /// `value` (an i32 scalar) as `like`'s type: itself, or a splat.
  Value shaped(Value value, Type like) {
    if (auto vector = dyn_cast<VectorType>(like))
      return b.create<vector::BroadcastOp>(loc, vector, value);
    return value;
  }
  /// `score` (f32, or a vector of them) as i32 whose signed order is the
  /// float order (NaNs aside).
  Value orderedKey(Value score) {
    Type type = b.getI32Type();
    if (auto vector = dyn_cast<VectorType>(score.getType()))
      type = vector.clone(type);
    Value bits = b.create<arith::BitcastOp>(loc, type, score);
    Value negative = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt,
                                             bits, shaped(i32(0), type));
    Value flipped = b.create<arith::XOrIOp>(
        loc, bits, shaped(i32(std::numeric_limits<int32_t>::max()), type));
    return b.create<arith::SelectOp>(loc, negative, flipped, bits);
  }
  /// How many of `head`'s first `count` scores have ordered keys
  /// `predicate` `threshold` (an i32).
  Value countKeys(Value scores, Value head, Value count,
                  arith::CmpIPredicate predicate, Value threshold);
  /// With `keep_first`, page 0's score is above every other.
  bool keepFirst = false;

  /// The head size, and the f32 lanes of a vector of it; the f32 lanes of
  /// the widest vector.
  int64_t depth, lanes, widest;
  VectorType vectorType;
};

void PageEmitter::emit(PageBoundsOp op) {
  Value keys = op.getKeys(), bounds = op.getInit();
  int64_t page = op.getPageSize();
  // The pages rows [from, to) fall in, each recomputed from its rows
  // below `to`.
  auto [firstPage, pages] = op.buildTouchedPages(b);
  Value heads = extent(keys, 0);
  auto loop = b.create<scf::ParallelOp>(loc, ValueRange{index(0), index(0)},
                                        ValueRange{heads, pages},
                                        ValueRange{index(1), index(1)});
  markThreaded(loop, operationsOf({heads, pages}, 2 * page * depth));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value head = loop.getInductionVars()[0];
  Value p = add(firstPage, loop.getInductionVars()[1]);
  auto [begin, end] = op.buildRowsOf(b, p);
  int64_t vectors = depth / lanes;
  SmallVector<Value> start(vectors, splat(std::numeric_limits<float>::max()));
  start.append(vectors, splat(std::numeric_limits<float>::lowest()));
  auto rows = b.create<scf::ForOp>(
      loc, begin, end, index(1), start,
      [&](OpBuilder &, Location, Value row, ValueRange state) {
        SmallVector<Value> next;
        SmallVector<Value> loaded;
        for (int64_t w = 0; w < vectors; ++w)
          loaded.push_back(loadKeys(keys, head, row, index(w * lanes)));
        for (int64_t w = 0; w < vectors; ++w)
          next.push_back(b.create<arith::MinimumFOp>(loc, state[w], loaded[w]));
        for (int64_t w = 0; w < vectors; ++w)
          next.push_back(
              b.create<arith::MaximumFOp>(loc, state[vectors + w], loaded[w]));
        b.create<scf::YieldOp>(loc, next);
      });
  for (int64_t w = 0; w < vectors; ++w) {
    b.create<vector::StoreOp>(loc, rows.getResult(w), bounds,
                              ValueRange{head, mul(p, 2), index(w * lanes)});
    b.create<vector::StoreOp>(
        loc, rows.getResult(vectors + w), bounds,
        ValueRange{head, add(mul(p, 2), index(1)), index(w * lanes)});
  }
}

void PageEmitter::emit(PageScoresOp op) {
  Value query = op.getQuery(), bounds = op.getBounds(), scores = op.getInit();
  Value heads = extent(query, 0), rows = extent(query, 1);
  Value count = op.getCount();
  // Work items of kPagesPerItem pages of one head.
  Value items =
      dividedBy(plus(count, index(kPagesPerItem - 1)), index(kPagesPerItem));
  auto loop = b.create<scf::ParallelOp>(loc, ValueRange{index(0), index(0)},
                                        ValueRange{heads, items},
                                        ValueRange{index(1), index(1)});
  markThreaded(loop, operationsOf({heads, rows, count}, 4 * depth));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value head = loop.getInductionVars()[0];
  Value begin = mul(loop.getInductionVars()[1], kPagesPerItem);
  Value end =
      b.create<arith::MinUIOp>(loc, add(begin, index(kPagesPerItem)), count);
  int64_t vectors = depth / lanes;
  // Rows outside pages: a row's query vectors and their signs stay in
  // registers while its pages stream by (a page's bounds are 2 D floats,
  // L1- or L2-resident across the few rows).
  auto clear = b.create<scf::ForOp>(loc, begin, end, index(1));
  {
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(clear.getBody());
    b.create<memref::StoreOp>(loc, f32(0.0f), scores,
                              ValueRange{head, clear.getInductionVar()});
  }
  auto overRows = b.create<scf::ForOp>(loc, index(0), rows, index(1));
  b.setInsertionPointToStart(overRows.getBody());
  Value row = overRows.getInductionVar();
  SmallVector<Value> q, positive;
  for (int64_t w = 0; w < vectors; ++w) {
    q.push_back(b.create<vector::LoadOp>(
        loc, vectorType, query, ValueRange{head, row, index(w * lanes)}));
    positive.push_back(b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT,
                                               q.back(), splat(0.0f)));
  }
  // sum_i max(q_i M_i, q_i m_i) = sum_i q_i (q_i > 0 ? M_i : m_i); summed
  // over the rows (the query heads that share the page).
  auto pages = b.create<scf::ForOp>(loc, begin, end, index(1));
  b.setInsertionPointToStart(pages.getBody());
  Value p = pages.getInductionVar();
  Value sum = splat(0.0f);
  for (int64_t w = 0; w < vectors; ++w) {
    Value lowest = b.create<vector::LoadOp>(
        loc, vectorType, bounds, ValueRange{head, mul(p, 2), index(w * lanes)});
    Value highest = b.create<vector::LoadOp>(
        loc, vectorType, bounds,
        ValueRange{head, add(mul(p, 2), index(1)), index(w * lanes)});
    Value bound = b.create<arith::SelectOp>(loc, positive[w], highest, lowest);
    sum = b.create<vector::FMAOp>(loc, q[w], bound, sum);
  }
  // Reassociated: an ordered sum of the lanes would be a chain of L adds.
  Value score = b.create<vector::ReductionOp>(
      loc, vector::CombiningKind::ADD, sum, arith::FastMathFlags::reassoc);
  Value earlier = b.create<memref::LoadOp>(loc, scores, ValueRange{head, p});
  b.create<memref::StoreOp>(loc, b.create<arith::AddFOp>(loc, earlier, score),
                            scores, ValueRange{head, p});
}

Value PageEmitter::countKeys(Value scores, Value head, Value count,
                             arith::CmpIPredicate predicate, Value threshold) {
  // Whole vectors of scores, then the rest one at a time.
  auto countType = VectorType::get({widest}, b.getI32Type());
  Value whole = mul(dividedBy(count, index(widest)), widest);
  auto vectors = b.create<scf::ForOp>(
      loc, index(0), whole, index(widest),
      ValueRange{shaped(i32(0), countType)},
      [&](OpBuilder &, Location, Value p, ValueRange counted) {
        Value key = orderedKey(b.create<vector::LoadOp>(
            loc, VectorType::get({widest}, b.getF32Type()), scores,
            ValueRange{head, p}));
        if (keepFirst)
          key = firstAbove(key, p);
        Value hit = b.create<arith::CmpIOp>(loc, predicate, key,
                                            shaped(threshold, countType));
        b.create<scf::YieldOp>(
            loc, ValueRange{b.create<arith::AddIOp>(
                     loc, counted[0],
                     b.create<arith::ExtUIOp>(loc, countType, hit))});
      });
  Value counted = b.create<vector::ReductionOp>(loc, vector::CombiningKind::ADD,
                                                vectors.getResult(0));
  auto rest = b.create<scf::ForOp>(
      loc, whole, count, index(1), ValueRange{counted},
      [&](OpBuilder &, Location, Value p, ValueRange counted) {
        Value key = orderedKey(
            b.create<memref::LoadOp>(loc, scores, ValueRange{head, p}));
        if (keepFirst)
          key = firstAbove(key, p);
        Value hit = b.create<arith::CmpIOp>(loc, predicate, key, threshold);
        b.create<scf::YieldOp>(
            loc, ValueRange{b.create<arith::AddIOp>(
                     loc, counted[0],
                     b.create<arith::ExtUIOp>(loc, b.getI32Type(), hit))});
      });
  return rest.getResult(0);
}

void PageEmitter::emit(SelectPagesOp op) {
  keepFirst = op.getKeepFirst();
  Value scores = op.getScores(), table = op.getInit();
  Value candidates = op.getCandidates();
  Value heads = extent(table, 0), slots = extent(table, 1);
  auto loop = b.create<scf::ParallelOp>(
      loc, ValueRange{index(0)}, ValueRange{heads}, ValueRange{index(1)});
  markThreaded(loop, operationsOf({heads, candidates}, 40));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value head = loop.getInductionVars()[0];
  // Fewer candidates than slots: the context fits, attend to every key.
  Value fits = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult,
                                       candidates, slots);
  auto branch = b.create<scf::IfOp>(loc, fits, /*withElseRegion=*/true);
  b.setInsertionPointToStart(&branch.getThenRegion().front());
  b.create<memref::StoreOp>(loc, i32(-1), table, ValueRange{head, index(0)});
  b.setInsertionPointToStart(&branch.getElseRegion().front());

  // The largest threshold t with at least `wanted` keys >= t, by bisection
  // over the 32-bit keys (in i64, so that the bounds cannot overflow).
  Value wanted =
      b.create<arith::IndexCastOp>(loc, b.getI32Type(), sub(slots, 1));
  auto bisection = b.create<scf::ForOp>(
      loc, index(0), index(32), index(1),
      ValueRange{i64(std::numeric_limits<int32_t>::min()),
                 i64(std::numeric_limits<int32_t>::max())},
      [&](OpBuilder &, Location, Value, ValueRange range) {
        Value low = range[0], high = range[1];
        Value mid = b.create<arith::AddIOp>(
            loc, low,
            b.create<arith::ShRSIOp>(
                loc,
                b.create<arith::AddIOp>(
                    loc, b.create<arith::SubIOp>(loc, high, low), i64(1)),
                i64(1)));
        Value counted =
            countKeys(scores, head, candidates, arith::CmpIPredicate::sge,
                      b.create<arith::TruncIOp>(loc, b.getI32Type(), mid));
        Value enough = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge,
                                               counted, wanted);
        b.create<scf::YieldOp>(
            loc, ValueRange{b.create<arith::SelectOp>(loc, enough, mid, low),
                            b.create<arith::SelectOp>(
                                loc, enough, high,
                                b.create<arith::SubIOp>(loc, mid, i64(1)))});
      });
  Value threshold =
      b.create<arith::TruncIOp>(loc, b.getI32Type(), bisection.getResult(0));
  // Every key above t, and of those equal to t the first ones, in order.
  Value above =
      countKeys(scores, head, candidates, arith::CmpIPredicate::sgt, threshold);
  Value ties = b.create<arith::SubIOp>(loc, wanted, above);
  b.create<scf::ForOp>(
      loc, index(0), candidates, index(1), ValueRange{index(0), ties},
      [&](OpBuilder &, Location, Value p, ValueRange state) {
        Value filled = state[0], tiesLeft = state[1];
        Value key = orderedKey(
            b.create<memref::LoadOp>(loc, scores, ValueRange{head, p}));
        if (keepFirst)
          key = firstAbove(key, p);
        Value over = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt,
                                             key, threshold);
        Value tie = b.create<arith::AndIOp>(
            loc,
            b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, key,
                                    threshold),
            b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt, tiesLeft,
                                    i32(0)));
        Value take = b.create<arith::OrIOp>(loc, over, tie);
        b.create<scf::IfOp>(loc, take, [&](OpBuilder &, Location) {
          b.create<memref::StoreOp>(
              loc, b.create<arith::IndexCastOp>(loc, b.getI32Type(), p), table,
              ValueRange{head, filled});
          b.create<scf::YieldOp>(loc);
        });
        b.create<scf::YieldOp>(
            loc, ValueRange{b.create<arith::SelectOp>(
                                loc, take, add(filled, index(1)), filled),
                            b.create<arith::SelectOp>(
                                loc, tie,
                                b.create<arith::SubIOp>(loc, tiesLeft, i32(1)),
                                tiesLeft)});
      });
  // The current page last.
  b.create<memref::StoreOp>(
      loc, b.create<arith::IndexCastOp>(loc, b.getI32Type(), candidates), table,
      ValueRange{head, sub(slots, 1)});
}

struct CpuLowerPageSelectionPass
    : kiln::impl::CpuLowerPageSelectionPassBase<CpuLowerPageSelectionPass> {
  using Base::Base;

  void runOnOperation() override {
    if (failed(checkVectorBits(getOperation(), vectorBits)))
      return signalPassFailure();
    auto depthOf = [](Value bounds) {
      return cast<MemRefType>(bounds.getType()).getShape().back();
    };
    for (PageBoundsOp op : bufferForms<PageBoundsOp>(getOperation())) {
      OpBuilder b(op);
      PageEmitter(op, depthOf(op.getInit()), vectorBits, b).emit(op);
      op.erase();
    }
    for (PageScoresOp op : bufferForms<PageScoresOp>(getOperation())) {
      OpBuilder b(op);
      PageEmitter(op, depthOf(op.getBounds()), vectorBits, b).emit(op);
      op.erase();
    }
    for (SelectPagesOp op : bufferForms<SelectPagesOp>(getOperation())) {
      OpBuilder b(op);
      PageEmitter(op, /*depth=*/1, vectorBits, b).emit(op);
      op.erase();
    }
  }
};

} // namespace
