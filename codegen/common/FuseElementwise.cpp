//===- FuseElementwise.cpp - kiln-fuse-elementwise --------------------===//

#include "codegen/common/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_FUSEELEMENTWISEPASS
#include "codegen/common/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

bool isElementwise(Operation *op) {
  auto linalgOp = dyn_cast_or_null<linalg::LinalgOp>(op);
  return linalgOp && linalgOp.getNumLoops() == linalgOp.getNumParallelLoops();
}

/// Whether `op` only moves elements: one input, yielded unchanged.
bool onlyMovesElements(Operation *op) {
  auto generic = dyn_cast_or_null<linalg::GenericOp>(op);
  if (!generic || generic.getNumDpsInputs() != 1 ||
      !isElementwise(generic.getOperation()))
    return false;
  Block &body = generic.getRegion().front();
  return body.getOperations().size() == 1 &&
         body.getTerminator()->getNumOperands() == 1 &&
         body.getTerminator()->getOperand(0) == body.getArgument(0);
}

struct FuseElementwisePass
    : kiln::impl::FuseElementwisePassBase<FuseElementwisePass> {
  using FuseElementwisePassBase::FuseElementwisePassBase;

  void runOnOperation() override {
    if (fuseMoves) {
      // Transposes as generics, which the fusion takes.
      IRRewriter rewriter(&getContext());
      getOperation().walk([&](linalg::TransposeOp transpose) {
        rewriter.setInsertionPoint(transpose);
        (void)linalg::generalizeNamedOp(rewriter, transpose);
      });
    }
    RewritePatternSet patterns(&getContext());
    bool moves = fuseMoves;
    linalg::populateElementwiseOpsFusionPatterns(
        patterns, [moves](OpOperand *fused) {
          Operation *producer = fused->get().getDefiningOp();
          return producer && producer->hasOneUse() &&
                 (isElementwise(fused->getOwner()) ||
                  (moves && onlyMovesElements(producer)));
        });
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
