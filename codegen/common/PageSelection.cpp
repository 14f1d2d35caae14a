//===- PageSelection.cpp - kiln-lower-page-selection ----------------------===//
//
// Quest's steps before the sparse attention as plain parallel loops, for
// a target whose threads are many and narrow (CUDA): each page's bounds
// one channel a thread, each page's score a thread, and the selection by
// rank: a page's rank among the scores (how many score higher, ties to
// the lower page) is a sweep over them, a thread per page, and a chosen
// page's slot in the table the count of chosen pages before it. No step
// is serial over the pages, as the CPU's bisection is within a head.
//
//===----------------------------------------------------------------------===//

#include "codegen/common/LoopEmitter.h"
#include "codegen/common/Passes.h"
#include "dialects/kiln/KilnOps.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include <limits>

namespace mlir::kiln {
#define GEN_PASS_DEF_LOWERPAGESELECTIONPASS
#include "codegen/common/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

class PageLoops : public ScalarEmitter {
public:
  PageLoops(Operation *op, OpBuilder &b) : ScalarEmitter(b, op->getLoc()) {}

  void emit(PageBoundsOp op);
  void emit(PageScoresOp op);
  void emit(SelectPagesOp op);

private:
  /// The f32 `score` as an i32 whose signed order is the float order
  /// (NaNs aside); with `keepFirst`, page `page` 0's the largest.
  Value orderedKey(Value score, Value page, bool keepFirst) {
    Value bits = b.create<arith::BitcastOp>(loc, b.getI32Type(), score);
    Value negative =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, bits, i32(0));
    Value key = b.create<arith::SelectOp>(
        loc, negative,
        b.create<arith::XOrIOp>(loc, bits,
                                i32(std::numeric_limits<int32_t>::max())),
        bits);
    if (!keepFirst)
      return key;
    Value first =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, page, index(0));
    return b.create<arith::SelectOp>(
        loc, first, i32(std::numeric_limits<int32_t>::max()), key);
  }
  Value compare(arith::CmpIPredicate predicate, Value x, Value y) {
    return b.create<arith::CmpIOp>(loc, predicate, x, y);
  }
  /// `value` (f32 or bf16) as f32.
  Value widened(Value value) {
    if (value.getType().isF32())
      return value;
    return b.create<arith::ExtFOp>(loc, b.getF32Type(), value);
  }
  /// `counted` + 1 where `hit`.
  Value countIf(Value hit, Value counted) {
    return b.create<arith::AddIOp>(
        loc, counted, b.create<arith::ExtUIOp>(loc, b.getI32Type(), hit));
  }
};

void PageLoops::emit(PageBoundsOp op) {
  Value keys = op.getKeys(), bounds = op.getInit();
  // The pages rows [from, to) fall in, each recomputed from its rows
  // below `to`: a thread per head, page and channel.
  auto [firstPage, pages] = op.buildTouchedPages(b);
  parallel({extent(keys, 0), pages, extent(bounds, 2)}, [&](ValueRange ivs) {
    Value head = ivs[0], p = add(firstPage, ivs[1]), channel = ivs[2];
    auto [begin, end] = op.buildRowsOf(b, p);
    ValueRange range =
        fold(begin, end,
             {f32(std::numeric_limits<float>::max()),
              f32(std::numeric_limits<float>::lowest())},
             [&](Value row, ValueRange range) -> SmallVector<Value> {
               Value key = widened(load(keys, {head, row, channel}));
               return {b.create<arith::MinimumFOp>(loc, range[0], key),
                       b.create<arith::MaximumFOp>(loc, range[1], key)};
             });
    store(op.buildStored(b, range[0], false), bounds,
          {head, mul(p, 2), channel});
    store(op.buildStored(b, range[1], true), bounds,
          {head, add(mul(p, 2), index(1)), channel});
  });
}

void PageLoops::emit(PageScoresOp op) {
  Value query = op.getQuery(), bounds = op.getBounds(), scores = op.getInit();
  Value rows = extent(query, 1), depth = extent(query, 2);
  // A thread per head and page: the sum over the rows (the query heads
  // that share the page) of sum_i q_i (q_i > 0 ? M_i : m_i).
  parallel({extent(query, 0), op.getCount()}, [&](ValueRange ivs) {
    Value head = ivs[0], p = ivs[1];
    Value lowest = mul(p, 2), highest = add(mul(p, 2), index(1));
    auto rowBound = [&](Value row) {
      return fold(index(0), depth, {f32(0)},
                  [&](Value i, ValueRange sum) -> SmallVector<Value> {
                    Value q = load(query, {head, row, i});
                    Value positive = b.create<arith::CmpFOp>(
                        loc, arith::CmpFPredicate::OGT, q, f32(0));
                    Value bound = b.create<arith::SelectOp>(
                        loc, positive,
                        widened(load(bounds, {head, highest, i})),
                        widened(load(bounds, {head, lowest, i})));
                    return {b.create<math::FmaOp>(loc, q, bound, sum[0])};
                  })[0];
    };
    Value total =
        fold(index(0), rows, {f32(0)},
             [&](Value row, ValueRange total) -> SmallVector<Value> {
               return {b.create<arith::AddFOp>(loc, total[0], rowBound(row))};
             })[0];
    store(total, scores, {head, p});
  });
}

void PageLoops::emit(SelectPagesOp op) {
  bool keepFirst = op.getKeepFirst();
  Value scores = op.getScores(), table = op.getInit();
  Value candidates = op.getCandidates();
  Value heads = extent(table, 0), slots = extent(table, 1);
  // Fewer candidates than slots: the context fits, attend to every key.
  // Otherwise the current page goes last, after the best slots - 1.
  Value fits = compare(arith::CmpIPredicate::ult, candidates, slots);
  parallel({heads}, [&](ValueRange ivs) {
    Value entry = b.create<arith::SelectOp>(loc, fits, index(0), sub(slots, 1));
    Value listed =
        b.create<arith::SelectOp>(loc, fits, i32(-1), toI32(candidates));
    store(listed, table, {ivs[0], entry});
  });
  Value ranked = b.create<arith::SelectOp>(loc, fits, index(0), candidates);
  Value wanted = toI32(sub(slots, 1));

  // Each page's rank: the pages that score higher, or as high and lower.
  auto ranks = b.create<memref::AllocOp>(
      loc,
      MemRefType::get({ShapedType::kDynamic, ShapedType::kDynamic},
                      b.getI32Type()),
      ValueRange{heads, ranked});
  parallel({heads, ranked}, [&](ValueRange ivs) {
    Value head = ivs[0], p = ivs[1];
    Value key = orderedKey(load(scores, {head, p}), p, keepFirst);
    Value rank =
        fold(index(0), ranked, {i32(0)},
             [&](Value q, ValueRange counted) -> SmallVector<Value> {
               Value other = orderedKey(load(scores, {head, q}), q, keepFirst);
               Value above = b.create<arith::OrIOp>(
                   loc, compare(arith::CmpIPredicate::sgt, other, key),
                   b.create<arith::AndIOp>(
                       loc, compare(arith::CmpIPredicate::eq, other, key),
                       compare(arith::CmpIPredicate::ult, q, p)));
               return {countIf(above, counted[0])};
             })[0];
    store(rank, ranks, {head, p});
  });
  // A chosen page's slot: the chosen pages before it (so in order).
  parallel({heads, ranked}, [&](ValueRange ivs) {
    Value head = ivs[0], p = ivs[1];
    Value chosen =
        compare(arith::CmpIPredicate::slt, load(ranks, {head, p}), wanted);
    b.create<scf::IfOp>(loc, chosen, [&](OpBuilder &, Location) {
      Value slot =
          fold(index(0), p, {i32(0)},
               [&](Value q, ValueRange counted) -> SmallVector<Value> {
                 return {countIf(compare(arith::CmpIPredicate::slt,
                                         load(ranks, {head, q}), wanted),
                                 counted[0])};
               })[0];
      store(toI32(p), table, {head, toIndex(slot)});
      b.create<scf::YieldOp>(loc);
    });
  });
  b.create<memref::DeallocOp>(loc, ranks);
}

struct LowerPageSelectionPass
    : kiln::impl::LowerPageSelectionPassBase<LowerPageSelectionPass> {
  void runOnOperation() override {
    auto lower = [&](auto op) {
      OpBuilder b(op);
      PageLoops(op, b).emit(op);
      op.erase();
    };
    for (PageBoundsOp op : bufferForms<PageBoundsOp>(getOperation())) {
      if (getElementTypeOrSelf(op.getKeys().getType()).isInteger(8)) {
        op.emitOpError("has 4-bit key rows, which only the CPU's page "
                       "selection reads");
        return signalPassFailure();
      }
      lower(op);
    }
    for (PageScoresOp op : bufferForms<PageScoresOp>(getOperation()))
      lower(op);
    for (SelectPagesOp op : bufferForms<SelectPagesOp>(getOperation()))
      lower(op);
  }
};

} // namespace
