//===- KilnBufferization.cpp - One-Shot Bufferize for Kiln's ops ----------===//
//
// Kiln's kernel ops are in destination-passing style: the result is the
// init operand's buffer, written in place (and read first with
// `accumulate`); everything else is only read.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/KilnOps.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::bufferization;

namespace {

struct PackedConv2DBufferization
    : DstBufferizableOpInterfaceExternalModel<PackedConv2DBufferization,
                                              kiln::PackedConv2DOp> {
  bool bufferizesToMemoryRead(Operation *op, OpOperand &operand,
                              const AnalysisState &) const {
    auto conv = cast<kiln::PackedConv2DOp>(op);
    return !conv.isDpsInit(&operand) || conv.getAccumulate();
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options) const {
    SmallVector<Value> buffers;
    for (OpOperand &operand : op->getOpOperands()) {
      FailureOr<Value> buffer = getBuffer(rewriter, operand.get(), options);
      if (failed(buffer))
        return failure();
      buffers.push_back(*buffer);
    }
    rewriter.setInsertionPoint(op);
    rewriter.create<kiln::PackedConv2DOp>(op->getLoc(), TypeRange{}, buffers,
                                          op->getAttrs());
    replaceOpWithBufferizedValues(rewriter, op, buffers.back());
    return success();
  }
};

} // namespace

void mlir::kiln::registerKilnBufferizationModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, KilnDialect *) {
    PackedConv2DOp::attachInterface<PackedConv2DBufferization>(*context);
  });
}
