//===- PageSelection.cpp - kiln-cpu-lower-page-selection ------------------===//
//
// Quest's steps before the sparse attention: the pages' key bounds kept up
// to date as rows are appended, each page's upper bound of its scores,
// and the best pages. The bounds are read once per step (two bf16 rows a
// page: a sixteenth of the keys' f32 bytes at 16 tokens a page), each
// page's once for all the query rows that share it; the selection is a
// bisection over the scores' bit patterns, so it costs a few sweeps of one
// float per page and writes the chosen pages already in order.
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
/// Query rows the scores take at once (the heads that share a key/value
/// head: SmolLM2's 3, Llama-3-8B's 4).
constexpr int64_t kRowsAtOnce = 8;

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
    if (getElementTypeOrSelf(keys.getType()).isInteger(8))
      return loadFourBitValues(b, loc, keys, head, row, k, lanes, depth);
    return loadWidened(keys, head, row, k);
  }
  /// Values k..k+L of row [head, row] of `buffer` (f32 or bf16: keys, or
  /// the bounds [G, 2 N, D]) as f32.
  Value loadWidened(Value buffer, Value head, Value row, Value k) {
    Type element = getElementTypeOrSelf(buffer.getType());
    Value loaded =
        b.create<vector::LoadOp>(loc, VectorType::get({lanes}, element), buffer,
                                 ValueRange{head, row, k});
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
  /// The ordered keys of `head`'s first `count` scores folded into
  /// `start` (i32 scalars, each its `kinds`' identity): `step(keys,
  /// state)` takes whole vectors of keys with states of vectors (their
  /// lanes then combined by `kinds`), then the keys left one at a time.
  SmallVector<Value>
  foldKeys(Value scores, Value head, Value count, ArrayRef<Value> start,
           ArrayRef<vector::CombiningKind> kinds,
           function_ref<SmallVector<Value>(Value, ValueRange)> step);
  /// How many of `head`'s first `count` scores have ordered keys
  /// `predicate` `threshold` (an i32).
  Value countKeys(Value scores, Value head, Value count,
                  arith::CmpIPredicate predicate, Value threshold);
  /// The least and the greatest ordered key of `head`'s first `count`
  /// scores.
  std::pair<Value, Value> keyRange(Value scores, Value head, Value count);
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
    b.create<vector::StoreOp>(loc, op.buildStored(b, rows.getResult(w), false),
                              bounds,
                              ValueRange{head, mul(p, 2), index(w * lanes)});
    b.create<vector::StoreOp>(
        loc, op.buildStored(b, rows.getResult(vectors + w), true), bounds,
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
  // Each row's query split by sign, q+ = max(q, 0) and q- = min(q, 0), so
  // that max(q_i M_i, q_i m_i) = q+_i M_i + q-_i m_i: two FMAs, no
  // select. Up to kRowsAtOnce rows at a time sit in a scratch that the
  // FMAs read from L1, and each page's bounds are loaded (and widened)
  // once for all of them: per page and row, then, only the FMAs.
  auto clear = b.create<scf::ForOp>(loc, begin, end, index(1));
  {
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(clear.getBody());
    b.create<memref::StoreOp>(loc, f32(0.0f), scores,
                              ValueRange{head, clear.getInductionVar()});
  }
  Value split = b.create<memref::AllocaOp>(
      loc, MemRefType::get({kRowsAtOnce * 2 * depth}, b.getF32Type()));
  auto groups = b.create<scf::ForOp>(loc, index(0), rows, index(kRowsAtOnce));
  b.setInsertionPointToStart(groups.getBody());
  Value firstRow = groups.getInductionVar();
  Value groupRows = b.create<arith::MinUIOp>(
      loc, index(kRowsAtOnce), b.create<arith::SubIOp>(loc, rows, firstRow));
  auto splitAt = [&](Value r, int64_t offset) {
    return add(mul(r, 2 * depth), index(offset));
  };
  {
    OpBuilder::InsertionGuard inner(b);
    auto overRows = b.create<scf::ForOp>(loc, index(0), groupRows, index(1));
    b.setInsertionPointToStart(overRows.getBody());
    Value r = overRows.getInductionVar();
    for (int64_t w = 0; w < vectors; ++w) {
      Value q = b.create<vector::LoadOp>(
          loc, vectorType, query,
          ValueRange{head, add(firstRow, r), index(w * lanes)});
      b.create<vector::StoreOp>(
          loc, b.create<arith::MaximumFOp>(loc, q, splat(0.0f)), split,
          ValueRange{splitAt(r, w * lanes)});
      b.create<vector::StoreOp>(
          loc, b.create<arith::MinimumFOp>(loc, q, splat(0.0f)), split,
          ValueRange{splitAt(r, depth + w * lanes)});
    }
  }
  auto pages = b.create<scf::ForOp>(loc, begin, end, index(1));
  b.setInsertionPointToStart(pages.getBody());
  Value p = pages.getInductionVar();
  SmallVector<Value> lowest, highest;
  for (int64_t w = 0; w < vectors; ++w) {
    lowest.push_back(loadWidened(bounds, head, mul(p, 2), index(w * lanes)));
    highest.push_back(
        loadWidened(bounds, head, add(mul(p, 2), index(1)), index(w * lanes)));
  }
  auto summed = b.create<scf::ForOp>(
      loc, index(0), groupRows, index(1), ValueRange{splat(0.0f)},
      [&](OpBuilder &, Location, Value r, ValueRange sum) {
        Value next = sum[0];
        for (int64_t w = 0; w < vectors; ++w) {
          auto half = [&](int64_t offset) {
            return b.create<vector::LoadOp>(loc, vectorType, split,
                                            ValueRange{splitAt(r, offset)});
          };
          next =
              b.create<vector::FMAOp>(loc, half(w * lanes), highest[w], next);
          next = b.create<vector::FMAOp>(loc, half(depth + w * lanes),
                                         lowest[w], next);
        }
        b.create<scf::YieldOp>(loc, next);
      });
  // Reassociated: an ordered sum of the lanes would be a chain of L adds.
  Value score = b.create<vector::ReductionOp>(loc, vector::CombiningKind::ADD,
                                              summed.getResult(0),
                                              arith::FastMathFlags::reassoc);
  Value earlier = b.create<memref::LoadOp>(loc, scores, ValueRange{head, p});
  b.create<memref::StoreOp>(loc, b.create<arith::AddFOp>(loc, earlier, score),
                            scores, ValueRange{head, p});
}

SmallVector<Value> PageEmitter::foldKeys(
    Value scores, Value head, Value count, ArrayRef<Value> start,
    ArrayRef<vector::CombiningKind> kinds,
    function_ref<SmallVector<Value>(Value, ValueRange)> step) {
  auto keyVector = VectorType::get({widest}, b.getI32Type());
  SmallVector<Value> spread;
  for (Value value : start)
    spread.push_back(shaped(value, keyVector));
  Value whole = mul(dividedBy(count, index(widest)), widest);
  auto vectors = b.create<scf::ForOp>(
      loc, index(0), whole, index(widest), spread,
      [&](OpBuilder &, Location, Value p, ValueRange state) {
        Value keys = orderedKey(b.create<vector::LoadOp>(
            loc, VectorType::get({widest}, b.getF32Type()), scores,
            ValueRange{head, p}));
        if (keepFirst)
          keys = firstAbove(keys, p);
        b.create<scf::YieldOp>(loc, step(keys, state));
      });
  SmallVector<Value> combined;
  for (auto [lanesOf, kind] : llvm::zip(vectors.getResults(), kinds))
    combined.push_back(b.create<vector::ReductionOp>(loc, kind, lanesOf));
  auto rest = b.create<scf::ForOp>(
      loc, whole, count, index(1), combined,
      [&](OpBuilder &, Location, Value p, ValueRange state) {
        Value key = orderedKey(
            b.create<memref::LoadOp>(loc, scores, ValueRange{head, p}));
        if (keepFirst)
          key = firstAbove(key, p);
        b.create<scf::YieldOp>(loc, step(key, state));
      });
  return SmallVector<Value>(rest.getResults());
}

Value PageEmitter::countKeys(Value scores, Value head, Value count,
                             arith::CmpIPredicate predicate, Value threshold) {
  return foldKeys(
      scores, head, count, {i32(0)}, {vector::CombiningKind::ADD},
      [&](Value keys, ValueRange counted) -> SmallVector<Value> {
        Value hit = b.create<arith::CmpIOp>(loc, predicate, keys,
                                            shaped(threshold, keys.getType()));
        return {b.create<arith::AddIOp>(
            loc, counted[0],
            b.create<arith::ExtUIOp>(loc, counted[0].getType(), hit))};
      })[0];
}

std::pair<Value, Value> PageEmitter::keyRange(Value scores, Value head,
                                              Value count) {
  SmallVector<Value> range =
      foldKeys(scores, head, count,
               {i32(std::numeric_limits<int32_t>::max()),
                i32(std::numeric_limits<int32_t>::min())},
               {vector::CombiningKind::MINSI, vector::CombiningKind::MAXSI},
               [&](Value keys, ValueRange range) -> SmallVector<Value> {
                 return {b.create<arith::MinSIOp>(loc, range[0], keys),
                         b.create<arith::MaxSIOp>(loc, range[1], keys)};
               });
  return {range[0], range[1]};
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
  // over the 32-bit keys between the least and the greatest (in i64, so
  // that the bounds cannot overflow). A t with exactly `wanted` keys >= t
  // ends it early: the same pages are chosen.
  Value wanted =
      b.create<arith::IndexCastOp>(loc, b.getI32Type(), sub(slots, 1));
  auto [least, greatest] = keyRange(scores, head, candidates);
  auto widened = [&](Value key) {
    return b.create<arith::ExtSIOp>(loc, b.getI64Type(), key).getResult();
  };
  auto bisection = b.create<scf::WhileOp>(
      loc, TypeRange{b.getI64Type(), b.getI64Type()},
      ValueRange{widened(least), widened(greatest)},
      [&](OpBuilder &, Location, ValueRange range) {
        b.create<scf::ConditionOp>(
            loc,
            b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, range[0],
                                    range[1]),
            range);
      },
      [&](OpBuilder &, Location, ValueRange range) {
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
        Value exact = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                              counted, wanted);
        Value below = b.create<arith::SubIOp>(loc, mid, i64(1));
        b.create<scf::YieldOp>(
            loc, ValueRange{
                     b.create<arith::SelectOp>(loc, enough, mid, low),
                     b.create<arith::SelectOp>(
                         loc, exact, mid,
                         b.create<arith::SelectOp>(loc, enough, high, below))});
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
