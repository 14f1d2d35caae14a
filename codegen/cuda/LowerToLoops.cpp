//===- LowerToLoops.cpp - kiln-cuda-lower-to-loops ------------------------===//

#include "codegen/cuda/Gemm.h"
#include "codegen/cuda/Passes.h"
#include "codegen/cuda/WarpReduction.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_CUDALOWERTOLOOPSPASS
#include "codegen/cuda/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// A reduction loop outside a parallel one would make the whole nest
/// sequential (one GPU thread); moving the parallel loops outermost gives
/// each output element its own thread, with the reductions inside it.
linalg::LinalgOp parallelLoopsFirst(RewriterBase &rewriter,
                                    linalg::LinalgOp op) {
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!generic)
    return op;
  SmallVector<unsigned> parallel, reduction;
  for (auto [loop, iterator] : llvm::enumerate(op.getIteratorTypesArray()))
    (iterator == utils::IteratorType::parallel ? parallel : reduction)
        .push_back(loop);
  SmallVector<unsigned> order = parallel;
  order.append(reduction);
  if (llvm::equal(order, llvm::seq<unsigned>(0, order.size())))
    return op;
  FailureOr<linalg::GenericOp> interchanged =
      linalg::interchangeGenericOp(rewriter, generic, order);
  return succeeded(interchanged) ? *interchanged : op;
}

struct CudaLowerToLoopsPass
    : kiln::impl::CudaLowerToLoopsPassBase<CudaLowerToLoopsPass> {
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> toLower;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (!cuda::matchGemm(op) && !cuda::matchWarpReduction(op))
        toLower.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : toLower) {
      rewriter.setInsertionPoint(op);
      op = parallelLoopsFirst(rewriter, op);
      if (failed(linalg::linalgOpToParallelLoops(rewriter, op))) {
        op.emitError("cannot lower this operation to loops");
        return signalPassFailure();
      }
      rewriter.eraseOp(op);
    }
  }
};

} // namespace
