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
      if (failed(linalg::linalgOpToParallelLoops(rewriter, op))) {
        op.emitError("cannot lower this operation to loops");
        return signalPassFailure();
      }
      rewriter.eraseOp(op);
    }
  }
};

} // namespace
