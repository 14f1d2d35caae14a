//===- LowerOnnx.cpp - kiln-lower-onnx-to-linalg --------------------------===//

#include "codegen/linalg/OnnxToLinalg.h"
#include "codegen/linalg/Passes.h"
#include "dialects/kiln/KilnOps.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_LOWERONNXTOLINALGPASS
#include "codegen/linalg/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

struct LowerConstant : OpRewritePattern<onnx::ConstantOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ConstantOp op,
                                PatternRewriter &rewriter) const override {
    ElementsAttr value = op.getValueAttr();
    if (!value || value.getType() != op.getType())
      return failure();
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, cast<TypedAttr>(value));
    return success();
  }
};

/// Why `op` cannot be lowered, or nullopt if it can.
std::optional<std::string> reasonCannotLower(Operation *op) {
  if (auto constant = dyn_cast<onnx::ConstantOp>(op))
    return constant.getValueAttr()
               ? std::nullopt
               : std::optional<std::string>("it has no tensor value");
  for (auto check : {checkIntegerContractionLowering,
                     checkElementwiseLowering,
                     checkMatMulLowering,
                     checkDataMovementLowering,
                     checkSoftmaxLowering,
                     checkWindowLowering,
                     checkReductionLowering,
                     checkIndexingLowering,
                     checkArgReductionLowering,
                     checkGeneratorLowering,
                     checkLossLowering,
                     checkResizeLowering,
                     checkRearrangeLowering,
                     checkConvTransposeLowering,
                     checkReplicateLowering,
                     checkNormalizationLowering,
                     checkScatterLowering,
                     checkTopKLowering,
                     checkQuantizationLowering,
                     checkKv4CacheLowering}) {
    std::optional<std::string> reason = check(op);
    if (!reason || !reason->empty())
      return reason; // The family's verdict.
  }
  return std::string("there is no lowering for this operator yet");
}

struct LowerOnnxToLinalgPass
    : mlir::kiln::impl::LowerOnnxToLinalgPassBase<LowerOnnxToLinalgPass> {
  void runOnOperation() override {
    // Check everything first, so that each op that cannot be lowered is
    // reported, with its node, before anything changes.
    bool lowerable = true;
    getOperation().walk([&](Operation *op) {
      if (!isa<onnx::OnnxDialect>(op->getDialect()) &&
          !isa<DequantizeOp, QuantizeOp, PackKv4Op, UnpackKv4Op>(op))
        return;
      if (std::optional<std::string> reason = reasonCannotLower(op)) {
        op->emitOpError() << "cannot be lowered to linalg for the CPU: "
                          << *reason;
        lowerable = false;
      }
    });
    if (!lowerable)
      return signalPassFailure();

    RewritePatternSet fourBit(&getContext());
    populateFourBitMatMulLowering(fourBit);
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(fourBit))))
      return signalPassFailure();

    RewritePatternSet patterns(&getContext());
    populateConstantLowering(patterns);
    populateElementwiseLowering(patterns);
    populateMatMulLowering(patterns);
    populateDataMovementLowering(patterns);
    populateSoftmaxLowering(patterns);
    populateWindowLowering(patterns);
    populateReductionLowering(patterns);
    populateIndexingLowering(patterns);
    populateArgReductionLowering(patterns);
    populateGeneratorLowering(patterns);
    populateLossLowering(patterns);
    populateResizeLowering(patterns);
    populateRearrangeLowering(patterns);
    populateConvTransposeLowering(patterns);
    populateReplicateLowering(patterns);
    populateNormalizationLowering(patterns);
    populateScatterLowering(patterns);
    populateTopKLowering(patterns);
    populateQuantizationLowering(patterns);
    populateKv4CacheLowering(patterns);
    populateIntegerContractionLowering(patterns);
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      return signalPassFailure();
    WalkResult leftOver = getOperation().walk([](Operation *op) {
      if (!isa<onnx::OnnxDialect>(op->getDialect()) &&
          !isa<DequantizeOp, QuantizeOp, PackKv4Op, UnpackKv4Op>(op))
        return WalkResult::advance();
      op->emitOpError("was not lowered to linalg");
      return WalkResult::interrupt();
    });
    if (leftOver.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace

void mlir::kiln::populateConstantLowering(RewritePatternSet &patterns) {
  patterns.add<LowerConstant>(patterns.getContext());
}
