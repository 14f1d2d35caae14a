//===- AttentionKernel.cpp - kiln.attention as the fused CUDA kernel ------===//
//
// A kiln.attention left on buffers becomes a launch of the device header's
// kiln::cuda::attention (kiln/cuda/attention.h): the kernel is written once
// by hand, and the emitter passes it each operand's address arithmetic and
// the sizes, which may be the host's at run time.
//
//===----------------------------------------------------------------------===//

#include "codegen/cuda/CudaEmitter.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::cuda;

/// A kiln::cuda::AttentionView initializer of `memref`, its dimensions in
/// `order` (head, row or key, channel).
FailureOr<std::string> CudaEmitter::attentionView(Value memref,
                                                  ArrayRef<unsigned> order) {
  FailureOr<BufferView> buffer = view(memref);
  if (failed(buffer))
    return failure();
  std::string text = "{" + basePointer(*buffer) + ", " + buffer->offset;
  for (unsigned d : order)
    text += ", " + buffer->strides[d];
  return text + "}";
}

LogicalResult CudaEmitter::emitAttentionKernel(AttentionOp op) {
  if (!op.hasF32KeysAndValues() || op.getDepth() > kMostFusedAttentionDepth)
    return op.emitOpError("takes the fused CUDA kernel only with f32 keys and "
                          "values and a head size of at most ")
           << kMostFusedAttentionDepth;
  // The CPU pipeline alone attends to a past cache where it is.
  if (op.hasPast())
    return op.emitOpError("with past keys and values has no CUDA kernel");
  std::string kernelName = nextKernelName();
  std::string header = kernelHeader(kernelName, {op.getOperation()});
  line(header + " {");
  ++indent;
  if (failed(materializeOutsideValues({op.getOperation()})))
    return failure();
  Value query = op.getQuery(), keys = op.getKeys(), mask = op.getMask(),
        pages = op.getPages();
  FailureOr<std::string> heads = dimName(query, 0), rows = dimName(query, 1),
                         keyCount = dimName(keys, op.getKeyPositionsDim());
  if (failed(heads) || failed(rows) || failed(keyCount))
    return failure();
  SmallVector<unsigned> rowsOrder = {0, 1, 2};
  SmallVector<unsigned> keysOrder =
      op.getKeyRows() ? rowsOrder : SmallVector<unsigned>{0, 2, 1};
  FailureOr<std::string> queryView = attentionView(query, rowsOrder),
                         outputView = attentionView(op.getInit(), rowsOrder),
                         keysView = attentionView(keys, keysOrder),
                         valuesView = attentionView(op.getValues(), rowsOrder);
  if (failed(queryView) || failed(outputView) || failed(keysView) ||
      failed(valuesView))
    return failure();
  line("kiln::cuda::AttentionArgs args = {};");
  line("args.query = " + *queryView + ";");
  line("args.output = " + *outputView + ";");
  line("args.keys = " + *keysView + ";");
  line("args.values = " + *valuesView + ";");
  if (mask) {
    FailureOr<std::string> maskView = attentionView(mask, rowsOrder);
    FailureOr<std::string> maskHeads = dimName(mask, 0),
                           maskRows = dimName(mask, 1);
    if (failed(maskView) || failed(maskHeads) || failed(maskRows))
      return failure();
    line("args.mask = " + *maskView + ";");
    line("args.maskHeads = " + *maskHeads + ";");
    line("args.maskRows = " + *maskRows + ";");
  }
  if (pages) {
    FailureOr<BufferView> table = view(pages);
    FailureOr<std::string> slots = dimName(pages, 1);
    if (failed(table) || failed(slots))
      return failure();
    line("args.pages = " + basePointer(*table) + ";");
    line("args.pageOffset = " + table->offset + ";");
    line("args.pageHead = " + table->strides[0] + ";");
    line("args.pageSlot = " + table->strides[1] + ";");
    line("args.slots = " + *slots + ";");
    line("args.pageSize = " + std::to_string(*op.getPageSize()) + ";");
  }
  line("args.heads = " + *heads + ";");
  line("args.rows = " + *rows + ";");
  line("args.keyCount = " + *keyCount + ";");
  line(
      "args.scale = kiln::cuda::bitsFloat(" +
      std::to_string(llvm::bit_cast<uint32_t>(op.getScale().convertToFloat())) +
      "u);");
  line("kiln::cuda::attention<" + std::to_string(op.getDepth()) + ">(args);");
  --indent;
  line("}");

  // A block per head and tile of query rows.
  uint32_t blockThreads = kFusedAttentionWarps * 32;
  auto queryType = cast<MemRefType>(query.getType());
  if (queryType.hasStaticShape() || !sizedAtRunTime) {
    int64_t tiles = (queryType.getDimSize(1) + kFusedAttentionRows - 1) /
                    kFusedAttentionRows;
    uint32_t grid[3] = {uint32_t(queryType.getDimSize(0) * tiles), 1, 1};
    finishKernel(kernelName, /*cooperative=*/true, {op.getOperation()},
                 blockThreads, grid);
    return success();
  }
  FailureOr<uint32_t> headSlot = hostDim(query, 0), rowSlot = hostDim(query, 1);
  if (failed(headSlot) || failed(rowSlot))
    return failure();
  uint32_t tiles = host->arith(HostArith::CeilDivS, *rowSlot,
                               host->constant(kFusedAttentionRows));
  uint32_t blocks = host->arith(HostArith::Mul, *headSlot, tiles);
  uint32_t one = host->constant(1);
  finishKernel(kernelName, /*cooperative=*/true, {op.getOperation()},
               blockThreads, SmallVector<uint32_t>{blocks, one, one});
  return success();
}
