//===- WarpReduction.cpp - reductions one warp computes -------------------===//

#include "codegen/cuda/WarpReduction.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace mlir::kiln::cuda;

namespace {
/// Fewer elements than lanes would leave lanes idle; the per-element
/// kernel is then as good.
constexpr int64_t kMinExtent = 32;
constexpr int64_t kMaxOutputs = int64_t(2147483647) * 8;
} // namespace

std::optional<WarpReduction>
mlir::kiln::cuda::matchWarpReduction(linalg::LinalgOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() == 0 || op->getNumRegions() != 1)
    return std::nullopt;
  auto outputType = dyn_cast<MemRefType>(op.getDpsInitOperand(0)->get().getType());
  if (!outputType || !outputType.getElementType().isF32())
    return std::nullopt;
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type || !type.hasStaticShape())
      return std::nullopt;
    SmallVector<int64_t> strides;
    int64_t offset;
    if (failed(getStridesAndOffset(type, strides, offset)) ||
        llvm::any_of(strides, ShapedType::isDynamic) ||
        ShapedType::isDynamic(offset))
      return std::nullopt;
  }
  // Plain reductions over tensor dimensions (softmax, normalization
  // statistics, global pooling): every operand indexed by loops directly.
  // Window reductions (convolutions, pooling) keep one thread per output,
  // which reuses neighbouring inputs better.
  for (AffineMap map : op.getIndexingMapsArray())
    if (!map.isProjectedPermutation())
      return std::nullopt;

  Block &body = op->getRegion(0).front();
  for (Operation &nested : body.without_terminator())
    if (!isa<arith::ArithDialect, math::MathDialect>(nested.getDialect()) ||
        nested.getNumRegions())
      return std::nullopt;
  BlockArgument accumulator = body.getArguments().back();
  if (!accumulator.hasOneUse())
    return std::nullopt;
  Operation *combiner = body.getTerminator()->getOperand(0).getDefiningOp();
  if (!combiner || *accumulator.getUsers().begin() != combiner ||
      !isa<arith::AddFOp, arith::MulFOp, arith::MaximumFOp, arith::MinimumFOp,
           arith::MaxNumFOp, arith::MinNumFOp>(combiner))
    return std::nullopt;

  WarpReduction match;
  match.combiner = combiner;
  match.contribution = combiner->getOperand(0) == accumulator
                           ? combiner->getOperand(1)
                           : combiner->getOperand(0);
  if (match.contribution == accumulator)
    return std::nullopt;
  match.loopSizes = op.getStaticLoopRanges();
  if (llvm::any_of(match.loopSizes, ShapedType::isDynamic))
    return std::nullopt;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  for (unsigned loop = 0; loop < iterators.size(); ++loop) {
    if (iterators[loop] == utils::IteratorType::parallel) {
      match.parallelLoops.push_back(loop);
      match.outputs *= match.loopSizes[loop];
    } else {
      match.reductionLoops.push_back(loop);
      match.extent *= match.loopSizes[loop];
    }
  }
  if (match.extent < kMinExtent || match.outputs == 0 ||
      match.outputs > kMaxOutputs)
    return std::nullopt;
  return match;
}
