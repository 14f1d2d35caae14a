//===- SparseRefine.cpp - kiln-lower-sparse-refine --------------------===//
//
// SparseRefine's steps around the model's two runs: the entropy cut of a
// pixel fraction, the table of tiles to refine, the windows gathered
// around them and the logits merged back. Each is a sweep or two over a
// low-resolution map or a copy of pixels, in plain loops whose innermost
// one (along a row) LLVM vectorizes: the merge picks between the refined
// and the upsampled logits with a select, not a branch, and looks a tile
// up once per row segment rather than per pixel.
//
//===----------------------------------------------------------------------===//

#include "codegen/common/LoopEmitter.h"
#include "codegen/common/Passes.h"
#include "dialects/kiln/KernelForms.h"
#include "dialects/kiln/KilnOps.h"

#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <limits>

namespace mlir::kiln {
#define GEN_PASS_DEF_LOWERSPARSEREFINEPASS
#include "codegen/common/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

class RefineEmitter : public ScalarEmitter {
public:
  RefineEmitter(Operation *op, OpBuilder &b, bool interleave)
      : ScalarEmitter(b, op->getLoc()), interleave(interleave) {}

  void emit(EntropyCutOp op);
  void emit(RefineTilesOp op);
  void emit(GatherWindowsOp op);
  void emit(MergeRefinedOp op);

private:
  /// Whether parallel sweeps take every n-th element (a GPU's threads,
  /// neighbours reading neighbouring elements) rather than runs (a CPU
  /// thread's vector sweep).
  bool interleave;

  /// How many of the elements `from`, `from` + `step`, ... before `to` of
  /// the 1-D `buffer` pass `test` (an i1 of the element), as an i32: with
  /// a step of 1 a sweep LLVM vectorizes.
  Value countWhere(Value buffer, Value from, Value to, Value step,
                   function_ref<Value(Value)> test) {
    return fold(from, to, step, {i32(0)},
                [&](Value i, ValueRange counted) -> SmallVector<Value> {
                  Value hit = b.create<arith::ExtUIOp>(loc, b.getI32Type(),
                                                       test(load(buffer, {i})));
                  return {b.create<arith::AddIOp>(loc, counted[0], hit)};
                })[0];
  }
  Value countWhere(Value buffer, Value from, int64_t count,
                   function_ref<Value(Value)> test) {
    return countWhere(buffer, from, add(from, index(count)), index(1), test);
  }
  /// The middle of the bisection's bounds [below, above], rounded up.
  Value middleOf(Value below, Value above) {
    Value span = b.create<arith::SubIOp>(loc, above, below);
    return b.create<arith::AddIOp>(
        loc, below,
        b.create<arith::ShRUIOp>(
            loc, b.create<arith::AddIOp>(loc, span, i32(1)), i32(1)));
  }
  /// The largest i32 v in [low, high] that `atLeast(v)` (a count of the
  /// values at or above v) finds `wanted` times, by bisection; `low` when
  /// none does.
  Value largestReached(int64_t low, int64_t high, int64_t wanted,
                       function_ref<Value(Value)> atLeast) {
    int64_t halvings = llvm::Log2_64_Ceil(high - low + 1);
    auto bisection = b.create<scf::ForOp>(
        loc, index(0), index(halvings), index(1),
        ValueRange{i32(low), i32(high)},
        [&](OpBuilder &, Location, Value, ValueRange bounds) {
          Value below = bounds[0], above = bounds[1];
          Value middle = middleOf(below, above);
          Value enough = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge,
                                                 atLeast(middle), i32(wanted));
          b.create<scf::YieldOp>(
              loc,
              ValueRange{b.create<arith::SelectOp>(loc, enough, middle, below),
                         b.create<arith::SelectOp>(
                             loc, enough, above,
                             b.create<arith::SubIOp>(loc, middle, i32(1)))});
        });
    return bisection.getResult(0);
  }
  /// The origin (row or column) of the window around the tile at `origin`
  /// with `halo` pixels each side: moved inside [0, `image` - `window`].
  Value windowOrigin(Value origin, int64_t halo, int64_t image,
                     int64_t window) {
    Value start = b.create<arith::SubIOp>(loc, origin, index(halo));
    Value low = b.create<arith::MaxSIOp>(loc, start, index(0));
    return b.create<arith::MinSIOp>(loc, low, index(image - window));
  }
};

void RefineEmitter::emit(EntropyCutOp op) {
  Value entropy = flattenBuffer(b, loc, op.getEntropy());
  int64_t count = cast<ShapedType>(op.getEntropy().getType()).getNumElements();
  int64_t wanted =
      (int64_t)std::ceil(op.getFraction().convertToDouble() * (double)count);
  wanted = std::min(wanted, count);
  if (wanted == 0) {
    store(b.create<arith::ConstantOp>(
              loc, b.getF32FloatAttr(std::numeric_limits<float>::infinity())),
          op.getInit(), {index(0)});
    return;
  }
  // Entropies are not negative, so their bit patterns order as they do
  // (a -0 counts as 0): the cut is the largest pattern in [0, +inf] that
  // `wanted` entropies reach, found by bisection. Each halving counts in
  // parallel, per chunk of the entropies, those at or above the middle of
  // the bounds (kept in memory), then one thread sums the chunks' counts
  // and halves the bounds: on a GPU two kernels per halving rather than
  // one thread for the whole bisection.
  constexpr int64_t kHigh = 0x7f800000;
  int64_t halvings = llvm::Log2_64_Ceil(kHigh + 1);
  int64_t chunks = std::min<int64_t>(llvm::divideCeil(count, 1024), 1024);
  int64_t run = llvm::divideCeil(count, chunks);
  auto i32Buffer = [&](int64_t size) {
    return b.create<memref::AllocOp>(loc,
                                     MemRefType::get({size}, b.getI32Type()));
  };
  Value bounds = i32Buffer(2), counts = i32Buffer(chunks);
  store(i32(0), bounds, {index(0)});
  store(i32(kHigh), bounds, {index(1)});
  for (int64_t halving = 0; halving < halvings; ++halving) {
    auto perChunk = b.create<scf::ParallelOp>(loc, ValueRange{index(0)},
                                              ValueRange{index(chunks)},
                                              ValueRange{index(1)});
    markThreaded(perChunk, count);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(perChunk.getBody());
      Value chunk = perChunk.getInductionVars()[0];
      Value middle =
          middleOf(load(bounds, {index(0)}), load(bounds, {index(1)}));
      Value from = interleave ? chunk : mul(chunk, run);
      Value to = interleave ? index(count)
                            : b.create<arith::MinSIOp>(
                                  loc, add(from, index(run)), index(count));
      Value step = index(interleave ? chunks : 1);
      store(countWhere(entropy, from, to, step,
                       [&](Value value) {
                         Value bits = b.create<arith::BitcastOp>(
                             loc, b.getI32Type(), value);
                         return b.create<arith::CmpIOp>(
                             loc, arith::CmpIPredicate::sge, bits, middle);
                       }),
            counts, {chunk});
    }
    auto total = b.create<scf::ForOp>(
        loc, index(0), index(chunks), index(1), ValueRange{i32(0)},
        [&](OpBuilder &, Location, Value chunk, ValueRange sum) {
          b.create<scf::YieldOp>(loc, ValueRange{b.create<arith::AddIOp>(
                                          loc, sum[0], load(counts, {chunk}))});
        });
    Value below = load(bounds, {index(0)}), above = load(bounds, {index(1)});
    Value middle = middleOf(below, above);
    Value enough = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge,
                                           total.getResult(0), i32(wanted));
    store(b.create<arith::SelectOp>(loc, enough, middle, below), bounds,
          {index(0)});
    store(b.create<arith::SelectOp>(
              loc, enough, above, b.create<arith::SubIOp>(loc, middle, i32(1))),
          bounds, {index(1)});
  }
  store(
      b.create<arith::BitcastOp>(loc, b.getF32Type(), load(bounds, {index(0)})),
      op.getInit(), {index(0)});
  b.create<memref::DeallocOp>(loc, bounds);
  b.create<memref::DeallocOp>(loc, counts);
}

void RefineEmitter::emit(RefineTilesOp op) {
  Value mask = op.getMask(), table = op.getInit();
  ArrayRef<int64_t> shape = shapeOf(mask), tile = op.getTile();
  int64_t height = shape[2], width = shape[3];
  int64_t rows = llvm::divideCeil(height, tile[0]),
          columns = llvm::divideCeil(width, tile[1]), tiles = rows * columns;
  Value slots = index(1 + tiles);
  // Each tile: how many of its pixels are marked, in its slot.
  auto perTile = b.create<scf::ParallelOp>(
      loc, ValueRange{index(0), index(0)},
      ValueRange{index(rows), index(columns)}, ValueRange{index(1), index(1)});
  markThreaded(perTile, height * width);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(perTile.getBody());
    Value ty = perTile.getInductionVars()[0],
          tx = perTile.getInductionVars()[1];
    Value y0 = mul(ty, tile[0]), x0 = mul(tx, tile[1]);
    Value y1 =
        b.create<arith::MinSIOp>(loc, add(y0, index(tile[0])), index(height));
    Value x1 =
        b.create<arith::MinSIOp>(loc, add(x0, index(tile[1])), index(width));
    auto overRows = b.create<scf::ForOp>(
        loc, y0, y1, index(1), ValueRange{i32(0)},
        [&](OpBuilder &, Location, Value y, ValueRange rowCount) {
          auto overColumns = b.create<scf::ForOp>(
              loc, x0, x1, index(1), ValueRange{rowCount[0]},
              [&](OpBuilder &, Location, Value x, ValueRange count) {
                Value marked = b.create<arith::ExtUIOp>(
                    loc, b.getI32Type(),
                    load(mask, {index(0), index(0), y, x}));
                b.create<scf::YieldOp>(loc, ValueRange{b.create<arith::AddIOp>(
                                                loc, count[0], marked)});
              });
          b.create<scf::YieldOp>(loc, overColumns.getResults());
        });
    store(overRows.getResult(0), table,
          {add(slots, add(mul(ty, columns), tx))});
  }
  // The tiles taken: a count above `least`, and the first `ties` of those
  // at it. Without a budget, every tile with a marked pixel.
  Value least = i32(1), ties = i32(std::numeric_limits<int32_t>::max());
  auto countsWhere = [&](arith::CmpIPredicate predicate, Value threshold) {
    return countWhere(table, slots, tiles, [&](Value count) {
      return b.create<arith::CmpIOp>(loc, predicate, count, threshold);
    });
  };
  int64_t budget = op.getMaxTilesAttr().getInt();
  if (budget > 0 && budget < tiles) {
    // The budget-th largest count (at least 1).
    least = largestReached(1, tile[0] * tile[1], budget, [&](Value middle) {
      return countsWhere(arith::CmpIPredicate::sge, middle);
    });
    ties = b.create<arith::SubIOp>(
        loc, i32(budget), countsWhere(arith::CmpIPredicate::sgt, least));
  }
  // In tile order: each tile taken gets the next window, and its number
  // the next entry of the list.
  auto scan = b.create<scf::ForOp>(
      loc, index(0), index(tiles), index(1), ValueRange{index(0), ties},
      [&](OpBuilder &, Location, Value t, ValueRange state) {
        Value filled = state[0], tiesLeft = state[1];
        Value slot = add(slots, t);
        Value count = load(table, {slot});
        Value above = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt,
                                              count, least);
        Value tie = b.create<arith::AndIOp>(
            loc,
            b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, count,
                                    least),
            b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt, tiesLeft,
                                    i32(0)));
        Value taken = b.create<arith::OrIOp>(loc, above, tie);
        store(b.create<arith::SelectOp>(loc, taken, toI32(filled), i32(-1)),
              table, {slot});
        auto ifTaken = b.create<scf::IfOp>(loc, taken, false);
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(ifTaken.thenBlock());
          store(toI32(t), table, {add(filled, index(1))});
        }
        b.create<scf::YieldOp>(
            loc, ValueRange{b.create<arith::SelectOp>(
                                loc, taken, add(filled, index(1)), filled),
                            b.create<arith::SelectOp>(
                                loc, tie,
                                b.create<arith::SubIOp>(loc, tiesLeft, i32(1)),
                                tiesLeft)});
      });
  Value listed = scan.getResult(0);
  store(toI32(listed), table, {index(0)});
  // The unused entries of the list: -1, so the table is the same for the
  // same mask.
  loop(add(listed, index(1)), slots,
       [&](Value i) { store(i32(-1), table, {i}); });
}

void RefineEmitter::emit(GatherWindowsOp op) {
  Value image = op.getImage(), table = op.getTable(), windows = op.getInit();
  ArrayRef<int64_t> shape = shapeOf(image), tile = op.getTile(),
                    halo = op.getHalo();
  int64_t channels = shape[1], height = shape[2], width = shape[3];
  int64_t columns = llvm::divideCeil(width, tile[1]);
  int64_t windowHeight = tile[0] + 2 * halo[0],
          windowWidth = tile[1] + 2 * halo[1];
  Value count = extent(windows, 0);
  auto perRow = b.create<scf::ParallelOp>(
      loc, ValueRange{index(0), index(0), index(0)},
      ValueRange{count, index(channels), index(windowHeight)},
      ValueRange{index(1), index(1), index(1)});
  markThreaded(perRow, channels * windowHeight * windowWidth);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(perRow.getBody());
  Value i = perRow.getInductionVars()[0], c = perRow.getInductionVars()[1],
        r = perRow.getInductionVars()[2];
  Value t = toIndex(load(table, {add(i, index(1))}));
  Value top = windowOrigin(mul(dividedBy(t, index(columns)), tile[0]), halo[0],
                           height, windowHeight);
  Value left = windowOrigin(mul(remainder(t, index(columns)), tile[1]), halo[1],
                            width, windowWidth);
  Value y = add(top, r);
  loop(index(0), index(windowWidth), [&](Value x) {
    store(load(image, {index(0), c, y, add(left, x)}), windows, {i, c, r, x});
  });
}

void RefineEmitter::emit(MergeRefinedOp op) {
  Value low = op.getLow(), mask = op.getMask(), refined = op.getRefined(),
        table = op.getTable(), logits = op.getInit();
  ArrayRef<int64_t> shape = shapeOf(logits), lowShape = shapeOf(low),
                    tile = op.getTile(), halo = op.getHalo();
  int64_t channels = shape[1], height = shape[2], width = shape[3];
  int64_t scaleY = height / lowShape[2], scaleX = width / lowShape[3];
  int64_t columns = llvm::divideCeil(width, tile[1]);
  int64_t tiles = llvm::divideCeil(height, tile[0]) * columns;
  int64_t windowHeight = tile[0] + 2 * halo[0],
          windowWidth = tile[1] + 2 * halo[1];
  auto perRow =
      b.create<scf::ParallelOp>(loc, ValueRange{index(0), index(0)},
                                ValueRange{index(channels), index(height)},
                                ValueRange{index(1), index(1)});
  markThreaded(perRow, channels * height * width);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(perRow.getBody());
  Value c = perRow.getInductionVars()[0], y = perRow.getInductionVars()[1];
  Value lowY = dividedBy(y, index(scaleY));
  Value ty = dividedBy(y, index(tile[0]));
  Value top = windowOrigin(mul(ty, tile[0]), halo[0], height, windowHeight);
  Value windowRow = b.create<arith::SubIOp>(loc, y, top);
  // One segment of the row per tile: its window looked up once.
  loop(index(0), index(columns), [&](Value tx) {
    Value t = add(mul(ty, columns), tx);
    Value slot = load(table, {add(index(1 + tiles), t)});
    Value x0 = mul(tx, tile[1]);
    Value x1 =
        b.create<arith::MinSIOp>(loc, add(x0, index(tile[1])), index(width));
    Value refinedTile =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, slot, i32(0));
    auto ifRefined = b.create<scf::IfOp>(loc, refinedTile, true);
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(ifRefined.thenBlock());
      Value window = toIndex(slot);
      Value left = windowOrigin(x0, halo[1], width, windowWidth);
      loop(x0, x1, [&](Value x) {
        Value lowX = dividedBy(x, index(scaleX));
        Value upsampled = load(low, {index(0), c, lowY, lowX});
        Value better = load(refined, {window, c, windowRow,
                                      b.create<arith::SubIOp>(loc, x, left)});
        Value marked = load(mask, {index(0), index(0), lowY, lowX});
        store(b.create<arith::SelectOp>(loc, marked, better, upsampled), logits,
              {index(0), c, y, x});
      });
      b.setInsertionPointToStart(ifRefined.elseBlock());
      loop(x0, x1, [&](Value x) {
        Value lowX = dividedBy(x, index(scaleX));
        store(load(low, {index(0), c, lowY, lowX}), logits,
              {index(0), c, y, x});
      });
    }
  });
}

struct LowerSparseRefinePass
    : kiln::impl::LowerSparseRefinePassBase<LowerSparseRefinePass> {
  using LowerSparseRefinePassBase::LowerSparseRefinePassBase;
  void runOnOperation() override {
    auto lower = [&](auto op) {
      OpBuilder b(op);
      RefineEmitter(op, b, interleave).emit(op);
      op.erase();
    };
    for (EntropyCutOp op : bufferForms<EntropyCutOp>(getOperation()))
      lower(op);
    for (RefineTilesOp op : bufferForms<RefineTilesOp>(getOperation()))
      lower(op);
    for (GatherWindowsOp op : bufferForms<GatherWindowsOp>(getOperation()))
      lower(op);
    for (MergeRefinedOp op : bufferForms<MergeRefinedOp>(getOperation()))
      lower(op);
  }
};

} // namespace
