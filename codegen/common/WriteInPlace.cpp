//===- WriteInPlace.cpp - kiln-write-in-place -----------------------------===//
//
// A Concat's pieces are computed into tensors of their own and then copied
// into the result, unless bufferization sees that each piece's
// destination can be its slice of the result. Three steps make it see:
//
//   1. every insertion chain gets a tensor.empty of its own (CSE merged
//      the per-layer destinations of one type into one), the static ones
//      at the start of the function;
//   2. a reshape that only adds unit dimensions between a piece and the
//      insert_slice that places it (the exporters' stack of per-layer KV
//      caches: Unsqueeze, then Concat) folds into a rank-reducing
//      insert_slice of the piece itself;
//   3. each insertion of a piece into a chain of insertions (a Concat's)
//      moves up to just after its operands and the piece's last reader,
//      so that the chain so far is defined before the next piece is
//      computed (and no read of the piece follows it), and bufferization's
//      empty tensor elimination turns each piece's tensor.empty into its
//      slice of the chain.
//
//===----------------------------------------------------------------------===//

#include "codegen/common/Passes.h"

#include "mlir/Dialect/Bufferization/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/IR/Dominance.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_WRITEINPLACEPASS
#include "codegen/common/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// An empty tensor of its own for every insertion chain (a Concat's) that
/// starts from a shared one; those without sizes at the entry block's
/// start. Other uses (elementwise destinations, which bufferization may
/// share on purpose) keep the shared one.
void separateConcatDestinations(func::FuncOp function) {
  SmallVector<tensor::EmptyOp> empties;
  function.walk([&](tensor::EmptyOp empty) { empties.push_back(empty); });
  Block &entry = function.getBody().front();
  OpBuilder builder(function.getContext());
  for (tensor::EmptyOp empty : empties) {
    bool hoist = empty.getDynamicSizes().empty();
    for (OpOperand &use : llvm::make_early_inc_range(empty->getUses())) {
      auto insert = dyn_cast<tensor::InsertSliceOp>(use.getOwner());
      if (!insert || use.get() != insert.getDest())
        continue;
      if (hoist)
        builder.setInsertionPointToStart(&entry);
      else
        builder.setInsertionPoint(insert);
      use.set(builder.clone(*empty)->getResult(0));
    }
    if (empty->use_empty())
      empty.erase();
  }
}

/// The tensor.empty whose contents `value` carries (through insert_slice
/// destinations and destination-style inits), or null.
tensor::EmptyOp rootEmpty(Value value) {
  while (value) {
    Operation *op = value.getDefiningOp();
    if (auto empty = dyn_cast_or_null<tensor::EmptyOp>(op))
      return empty;
    if (auto insert = dyn_cast_or_null<tensor::InsertSliceOp>(op)) {
      value = insert.getDest();
      continue;
    }
    auto destination = dyn_cast_or_null<DestinationStyleOpInterface>(op);
    if (!destination)
      return {};
    value = destination.getTiedOpOperand(cast<OpResult>(value))->get();
  }
  return {};
}

/// Whether `op` only gives another view of its tensor operand (its result
/// shares the operand's buffer after bufferization).
bool isTensorView(Operation *op) {
  return isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp,
             tensor::ExtractSliceOp, tensor::CastOp>(op);
}

/// The last operation of `block` that reads `piece`, directly or through
/// views of it, other than `except`; null if none.
Operation *lastReaderInBlock(Value piece, Operation *except, Block *block) {
  Operation *last = nullptr;
  SmallVector<Value> worklist{piece};
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (Operation *user : value.getUsers()) {
      if (user == except)
        continue;
      if (isTensorView(user))
        llvm::append_range(worklist, user->getResults());
      Operation *reader = block->findAncestorOpInBlock(*user);
      if (reader && (!last || last->isBeforeInBlock(reader)))
        last = reader;
    }
  }
  return last;
}

/// Each insertion of a piece (a tensor computed into an empty one) into a
/// chain of insertions rooted at an empty tensor (a Concat's) moves up to
/// just after its operands and the piece's last reader: then the chain so
/// far is defined before the next piece is computed, and empty tensor
/// elimination can make the piece's destination its slice of the chain.
/// (Placed before a reader that sees the piece through a reshape, the
/// insertion would count as a write under that read, and bufferization
/// would copy the pieces out of place.)
void insertPiecesEarly(func::FuncOp function) {
  SmallVector<tensor::InsertSliceOp> inserts;
  function.walk([&](tensor::InsertSliceOp insert) { inserts.push_back(insert); });
  DominanceInfo dominance(function);
  for (tensor::InsertSliceOp insert : inserts) {
    if (insert->getBlock() != &function.getBody().front() ||
        !rootEmpty(insert.getDest()) || !rootEmpty(insert.getSource()))
      continue;
    // The latest definition among the operands, in this block.
    Operation *last = nullptr;
    for (Value operand : insert->getOperands()) {
      Operation *definition = operand.getDefiningOp();
      if (!definition)
        continue;
      definition = insert->getBlock()->findAncestorOpInBlock(*definition);
      if (definition && (!last || last->isBeforeInBlock(definition)))
        last = definition;
    }
    Operation *reader =
        lastReaderInBlock(insert.getSource(), insert, insert->getBlock());
    if (reader && (!last || last->isBeforeInBlock(reader)))
      last = reader;
    if (last && last->isBeforeInBlock(insert))
      insert->moveAfter(last);
  }
}

struct WriteInPlacePass : kiln::impl::WriteInPlacePassBase<WriteInPlacePass> {
  void runOnOperation() override {
    func::FuncOp function = getOperation();
    if (function.isExternal())
      return;
    separateConcatDestinations(function);
    RewritePatternSet patterns(&getContext());
    // Among them: insert_slice(expand_shape(x)) with only unit dimensions
    // added becomes a rank-reducing insert_slice(x).
    tensor::populateReassociativeReshapeFoldingPatterns(patterns);
    GreedyRewriteConfig config;
    config.enableRegionSimplification = GreedySimplifyRegionLevel::Disabled;
    if (failed(applyPatternsAndFoldGreedily(function, std::move(patterns),
                                            config)))
      return signalPassFailure();
    insertPiecesEarly(function);
    IRRewriter rewriter(&getContext());
    if (failed(bufferization::eliminateEmptyTensors(rewriter, function)))
      signalPassFailure();
  }
};

} // namespace
