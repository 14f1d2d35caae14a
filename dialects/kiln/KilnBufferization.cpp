//===- KilnBufferization.cpp - One-Shot Bufferize for Kiln's ops ----------===//
//
// Kiln's kernel ops are in destination-passing style: the result is the
// init operand's buffer, written in place (and read first with
// `accumulate`, kiln.page_bounds, which updates some of its pages, and
// kiln.scatter_sites, which writes only its sites' pixels);
// everything else is only read.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/KilnOps.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::bufferization;

namespace {

/// Whether a kernel op reads its init before writing it.
bool readsInit(Operation *op) {
  if (isa<kiln::PageBoundsOp, kiln::ScatterSitesOp>(op))
    return true;
  auto conv = dyn_cast<kiln::PackedConv2DOp>(op);
  return conv && conv.getAccumulate();
}

template <typename OpTy>
struct KernelBufferization
    : DstBufferizableOpInterfaceExternalModel<KernelBufferization<OpTy>, OpTy> {
  bool bufferizesToMemoryRead(Operation *op, OpOperand &operand,
                              const AnalysisState &) const {
    return !cast<OpTy>(op).isDpsInit(&operand) || readsInit(op);
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options) const {
    SmallVector<Value> buffers;
    for (OpOperand &operand : op->getOpOperands()) {
      // Index scalars stay as they are.
      if (!isa<TensorType>(operand.get().getType())) {
        buffers.push_back(operand.get());
        continue;
      }
      FailureOr<Value> buffer = getBuffer(rewriter, operand.get(), options);
      if (failed(buffer))
        return failure();
      buffers.push_back(*buffer);
    }
    rewriter.setInsertionPoint(op);
    rewriter.create<OpTy>(op->getLoc(), TypeRange{}, buffers, op->getAttrs());
    replaceOpWithBufferizedValues(rewriter, op, buffers.back());
    return success();
  }
};

} // namespace

void mlir::kiln::registerKilnBufferizationModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, KilnDialect *) {
    PackedConv2DOp::attachInterface<KernelBufferization<PackedConv2DOp>>(
        *context);
    DepthwiseConv2DOp::attachInterface<
        KernelBufferization<DepthwiseConv2DOp>>(*context);
    MaxPool2DOp::attachInterface<KernelBufferization<MaxPool2DOp>>(*context);
    AttentionOp::attachInterface<KernelBufferization<AttentionOp>>(*context);
    LayerNormOp::attachInterface<KernelBufferization<LayerNormOp>>(*context);
    SoftmaxOp::attachInterface<KernelBufferization<SoftmaxOp>>(*context);
    RowAbsMaxOp::attachInterface<KernelBufferization<RowAbsMaxOp>>(*context);
    ResizeLinearOp::attachInterface<KernelBufferization<ResizeLinearOp>>(
        *context);
    PageBoundsOp::attachInterface<KernelBufferization<PageBoundsOp>>(*context);
    PageScoresOp::attachInterface<KernelBufferization<PageScoresOp>>(*context);
    SelectPagesOp::attachInterface<KernelBufferization<SelectPagesOp>>(
        *context);
    EntropyCutOp::attachInterface<KernelBufferization<EntropyCutOp>>(*context);
    RefineTilesOp::attachInterface<KernelBufferization<RefineTilesOp>>(
        *context);
    GatherWindowsOp::attachInterface<KernelBufferization<GatherWindowsOp>>(
        *context);
    MergeRefinedOp::attachInterface<KernelBufferization<MergeRefinedOp>>(
        *context);
    ListSitesOp::attachInterface<KernelBufferization<ListSitesOp>>(*context);
    CoarseSitesOp::attachInterface<KernelBufferization<CoarseSitesOp>>(
        *context);
    KernelMapOp::attachInterface<KernelBufferization<KernelMapOp>>(*context);
    GatherSitesOp::attachInterface<KernelBufferization<GatherSitesOp>>(
        *context);
    ScatterSitesOp::attachInterface<KernelBufferization<ScatterSitesOp>>(
        *context);
    SparseIm2ColOp::attachInterface<KernelBufferization<SparseIm2ColOp>>(
        *context);
    SparseCol2ImOp::attachInterface<KernelBufferization<SparseCol2ImOp>>(
        *context);
  });
}
