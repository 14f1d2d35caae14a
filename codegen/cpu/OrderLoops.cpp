//===- OrderLoops.cpp - kiln-cpu-order-loops ------------------------------===//
//
// Plain loop nests from linalg run their reductions innermost, where a
// convolution's innermost loop is the 3-wide kernel row: nothing for the
// vectorizer. Moving the output's contiguous dimension innermost turns
// matmul into rows of saxpy and convolution into rows of
// output[ow] += input[ow + kw] * w, both of which vectorize.
//
// An elementwise op over whole, contiguous buffers becomes one loop over
// all their elements: a channels-last tensor's innermost dimension may be
// only 16 wide, too short a loop for the vectorizer to pay off.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_CPUORDERLOOPSPASS
#include "codegen/cpu/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The new loop order (old loop numbers, outermost first), or nothing to do.
std::optional<SmallVector<unsigned>> loopOrder(linalg::GenericOp op) {
  if (op.getNumDpsInits() != 1)
    return std::nullopt;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  if (llvm::none_of(iterators, [](utils::IteratorType t) {
        return t == utils::IteratorType::reduction;
      }))
    return std::nullopt;
  AffineMap output = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (output.getNumResults() == 0)
    return std::nullopt;
  auto last = dyn_cast<AffineDimExpr>(output.getResults().back());
  if (!last || iterators[last.getPosition()] != utils::IteratorType::parallel)
    return std::nullopt;
  unsigned inner = last.getPosition();
  SmallVector<unsigned> order;
  for (auto [index, iterator] : llvm::enumerate(iterators))
    if (iterator == utils::IteratorType::parallel && index != inner)
      order.push_back(index);
  for (auto [index, iterator] : llvm::enumerate(iterators))
    if (iterator == utils::IteratorType::reduction)
      order.push_back(index);
  order.push_back(inner);
  if (llvm::equal(order, llvm::seq<unsigned>(0, iterators.size())))
    return std::nullopt;
  return order;
}

/// Whether `op` maps every element of contiguous, static buffers to the
/// same element of the others: all loops parallel, every map the identity.
bool isFlatElementwise(linalg::GenericOp op) {
  if (op.getNumLoops() < 2 || op.getNumReductionLoops() != 0)
    return false;
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type || !type.hasStaticShape() || !type.getLayout().isIdentity() ||
        !op.getMatchingIndexingMap(&operand).isIdentity())
      return false;
  }
  return !op.hasIndexSemantics();
}

struct CpuOrderLoopsPass
    : kiln::impl::CpuOrderLoopsPassBase<CpuOrderLoopsPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<linalg::GenericOp> generics;
    getOperation().walk([&](linalg::GenericOp op) { generics.push_back(op); });
    for (linalg::GenericOp op : generics) {
      if (isFlatElementwise(op)) {
        ReassociationIndices all;
        for (unsigned i = 0; i < op.getNumLoops(); ++i)
          all.push_back(i);
        rewriter.setInsertionPoint(op);
        FailureOr<linalg::CollapseResult> collapsed =
            linalg::collapseOpIterationDims(op, {all}, rewriter);
        if (failed(collapsed))
          return signalPassFailure();
        rewriter.replaceOp(op, collapsed->results);
        continue;
      }
      std::optional<SmallVector<unsigned>> order = loopOrder(op);
      if (!order)
        continue;
      rewriter.setInsertionPoint(op);
      if (failed(linalg::interchangeGenericOp(rewriter, op, *order)))
        return signalPassFailure();
    }
  }
};

} // namespace
