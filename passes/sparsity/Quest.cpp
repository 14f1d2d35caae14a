//===- Quest.cpp - kiln-sparsity-quest ------------------------------------===//
//
// A decode step's attention reads every cached key and value, though its
// softmax weighs a few of them. Quest keeps, per page of the key cache,
// the channel-wise minimum and maximum of its keys; their products with
// the query bound every key's score in the page from above, so the pages
// with the highest bounds are the ones that can matter, and the attention
// reads only those (and the current one). Memory traffic falls from the
// whole cache to the bounds (two rows per page) and the chosen pages.
//
//===----------------------------------------------------------------------===//

#include "passes/sparsity/Passes.h"

#include "dialects/kiln/KilnAttributes.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_SPARSITYQUESTPASS
#include "passes/sparsity/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// An attention's keys as kiln-graph-session-kv-cache wrote them: the
/// session's cache `state`, the `write` of the run's rows into it and the
/// `view` of its filled prefix that the attention reads.
struct CachedKeys {
  BlockArgument state;
  tensor::InsertSliceOp write;
  tensor::ExtractSliceOp view;
};

/// The session cache `keys` (an attention's keys operand) is a view of,
/// through reshapes and casts.
std::optional<CachedKeys> cachedKeysOf(func::FuncOp function, Value keys) {
  Value value = keys;
  while (Operation *op = value.getDefiningOp()) {
    if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op))
      value = collapse.getSrc();
    else if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op))
      value = expand.getSrc();
    else if (auto cast = dyn_cast<tensor::CastOp>(op))
      value = cast.getSource();
    else
      break;
  }
  auto view = value.getDefiningOp<tensor::ExtractSliceOp>();
  auto write =
      view ? view.getSource().getDefiningOp<tensor::InsertSliceOp>() : nullptr;
  auto state = write ? dyn_cast<BlockArgument>(write.getDest()) : nullptr;
  if (!state || state.getOwner() != &function.getBody().front() ||
      !function.getArgAttr(state.getArgNumber(), kKvCacheStateAttrName) ||
      view.getSourceType().getRank() != 4 ||
      !llvm::all_of(view.getMixedOffsets(),
                    [](OpFoldResult offset) { return isZeroIndex(offset); }))
    return std::nullopt;
  return CachedKeys{state, write, view};
}

struct QuestPass : kiln::impl::SparsityQuestPassBase<QuestPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  /// Rewrites `attention` over `keys` to read the pages Quest selects.
  void rewrite(AttentionOp attention, CachedKeys keys);
};

void QuestPass::runOnOperation() {
  func::FuncOp function = getOperation();
  if (function.isExternal())
    return;
  if (page < 16 || page % 16) {
    function.emitError() << "Quest's pages are a positive multiple of 16 "
                            "tokens, not "
                         << int64_t(page);
    return signalPassFailure();
  }
  if (budget < page) {
    function.emitError() << "a Quest budget of " << int64_t(budget)
                         << " tokens is less than one page of "
                         << int64_t(page);
    return signalPassFailure();
  }
  if (denseLayers < 0) {
    function.emitError() << "the dense layers cannot be "
                         << int64_t(denseLayers);
    return signalPassFailure();
  }
  SmallVector<std::pair<AttentionOp, CachedKeys>> attentions;
  function.walk([&](AttentionOp attention) {
    if (!attention.getKeyRows() || attention.getPages())
      return;
    if (std::optional<CachedKeys> keys =
            cachedKeysOf(function, attention.getKeys()))
      attentions.push_back({attention, *keys});
  });
  if (int64_t(attentions.size()) <= denseLayers) {
    if (warn)
      function.emitWarning()
          << "Quest has no decode attention to make sparse: "
          << attentions.size()
          << " attention(s) over the session's key cache, and the first "
          << int64_t(denseLayers) << " stay dense";
    return;
  }
  for (auto &[attention, keys] :
       llvm::drop_begin(attentions, size_t(denseLayers)))
    rewrite(attention, keys);
}

void QuestPass::rewrite(AttentionOp attention, CachedKeys keys) {
  func::FuncOp function = getOperation();
  OpBuilder b(attention);
  Location loc = attention.getLoc();
  auto stateType = cast<RankedTensorType>(keys.state.getType());
  int64_t heads = stateType.getDimSize(1), capacity = stateType.getDimSize(2);
  int64_t depth =
      cast<ShapedType>(attention.getQuery().getType()).getShape().back();
  int64_t pages = llvm::divideCeil(capacity, page), chosen = budget / page;

  // The bounds: one more state of the session, beside the cache's, in
  // bf16 (rounded outward) for half the bytes to score.
  auto names = function.getArgAttrOfType<DictionaryAttr>(
      keys.state.getArgNumber(), kKvCacheStateAttrName);
  auto boundsType =
      RankedTensorType::get({1, heads, 2 * pages, depth}, b.getBF16Type());
  unsigned boundsIndex = function.getNumArguments();
  function.insertArgument(
      boundsIndex, boundsType,
      b.getDictionaryAttr(b.getNamedAttr(
          kKvCacheStateAttrName,
          b.getDictionaryAttr(
              {b.getNamedAttr("past", names.get("past")),
               b.getNamedAttr("present", names.get("present")),
               b.getNamedAttr("page_bounds", b.getI64IntegerAttr(page))}))),
      loc);
  Value boundsState = function.getArgument(boundsIndex);

  // [1, H, X, Y] as [H, X, Y].
  auto headsOf = [&](Value value) -> Value {
    return b.create<tensor::CollapseShapeOp>(
        loc, value, ArrayRef<ReassociationIndices>{{0, 1}, {2}, {3}});
  };
  auto indexOf = [&](OpFoldResult value) {
    return getValueOrCreateConstantIndexOp(b, loc, value);
  };
  auto constant = [&](int64_t value) -> Value {
    return b.create<arith::ConstantIndexOp>(loc, value);
  };
  Value from = indexOf(keys.write.getMixedOffsets()[2]);
  Value written = indexOf(keys.write.getMixedSizes()[2]);
  Value to = indexOf(keys.view.getMixedSizes()[2]);
  Value bounds = headsOf(boundsState);
  Value updated = b.create<PageBoundsOp>(loc, bounds.getType(),
                                         headsOf(keys.write.getResult()), from,
                                         to, bounds, b.getI64IntegerAttr(page))
                      .getResult()[0];

  // A decode step (one new token) over more pages than the budget scores
  // the pages before the current one; anything else, none.
  Value spanned = b.create<arith::DivUIOp>(
      loc, b.create<arith::AddIOp>(loc, to, constant(page - 1)),
      constant(page));
  Value decode = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, written,
                                         constant(1));
  Value over = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ugt, spanned,
                                       constant(chosen));
  Value candidates = b.create<arith::SelectOp>(
      loc, b.create<arith::AndIOp>(loc, decode, over),
      b.create<arith::SubIOp>(loc, spanned, constant(1)), constant(0));
  Value scoresInit = b.create<tensor::EmptyOp>(
      loc, ArrayRef<int64_t>{heads, pages}, b.getF32Type());
  Value scores =
      b.create<PageScoresOp>(loc, scoresInit.getType(), attention.getQuery(),
                             updated, candidates, scoresInit)
          .getResult()[0];
  Value tableInit = b.create<tensor::EmptyOp>(
      loc, ArrayRef<int64_t>{heads, chosen}, b.getI32Type());
  Value table = b.create<SelectPagesOp>(
                     loc, tableInit.getType(), scores, candidates, tableInit,
                     keepFirst ? b.getUnitAttr() : UnitAttr())
                    .getResult()[0];

  auto sparse = b.create<AttentionOp>(
      loc, attention->getResultTypes(), attention.getQuery(),
      attention.getKeys(), attention.getValues(), attention.getPastKeys(),
      attention.getPastValues(), attention.getMask(), table,
      attention.getInit(), attention.getScaleAttr(), attention.getKeyRowsAttr(),
      b.getI64IntegerAttr(page));
  attention->replaceAllUsesWith(sparse);
  attention->erase();
}

} // namespace
