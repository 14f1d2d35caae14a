//===- DecomposeLlmOps.cpp - kiln-graph-decompose-llm-ops -----------------===//

#include "passes/graph/DecomposeLlmOps.h"
#include "passes/graph/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_GRAPHDECOMPOSELLMOPSPASS
#include "passes/graph/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

struct GraphDecomposeLlmOpsPass
    : kiln::impl::GraphDecomposeLlmOpsPassBase<GraphDecomposeLlmOpsPass> {
  void runOnOperation() override {
    // Each op that cannot be decomposed is reported, with its node, before
    // anything changes.
    bool decomposable = true;
    getOperation().walk([&](Operation *op) {
      std::optional<std::string> why =
          llvm::TypeSwitch<Operation *, std::optional<std::string>>(op)
              .Case<onnx::AttentionOp, onnx::RMSNormalizationOp,
                    onnx::RotaryEmbeddingOp>(
                  [](auto op) { return whyNotDecomposed(op); })
              .Default([](Operation *) { return std::nullopt; });
      if (why) {
        op->emitOpError("cannot be compiled: ") << *why;
        decomposable = false;
      }
    });
    if (!decomposable)
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    populateAttentionDecomposition(patterns);
    populateRmsNormalizationDecomposition(patterns);
    populateRotaryEmbeddingDecomposition(patterns);
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
