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

/// Whether `expr` is a loop, or a loop's quotient or remainder by a
/// constant.
bool isLoopOrLoopByConstant(AffineExpr expr) {
  if (isa<AffineDimExpr>(expr))
    return true;
  auto binary = dyn_cast<AffineBinaryOpExpr>(expr);
  return binary &&
         (binary.getKind() == AffineExprKind::FloorDiv ||
          binary.getKind() == AffineExprKind::Mod) &&
         isa<AffineDimExpr>(binary.getLHS()) &&
         isa<AffineConstantExpr>(binary.getRHS());
}
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
    SmallVector<int64_t> strides;
    int64_t offset;
    if (!type || failed(getStridesAndOffset(type, strides, offset)))
      return std::nullopt;
  }
  // Plain reductions over tensor dimensions (softmax, normalization
  // statistics, global pooling): every operand indexed by loops directly,
  // or by a loop divided by a constant (a 4-bit weight's byte and group).
  // Window reductions (convolutions, pooling) keep one thread per output,
  // which reuses neighbouring inputs better.
  for (AffineMap map : op.getIndexingMapsArray())
    if (!llvm::all_of(map.getResults(), isLoopOrLoopByConstant))
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
  match.loopSources.assign(match.loopSizes.size(), {0, 0});
  SmallVector<bool> sourced(match.loopSizes.size(), false);
  for (OpOperand &operand : op->getOpOperands())
    for (auto [d, expr] : llvm::enumerate(
             op.getMatchingIndexingMap(&operand).getResults()))
      if (auto dim = dyn_cast<AffineDimExpr>(expr);
          dim && !sourced[dim.getPosition()]) {
        sourced[dim.getPosition()] = true;
        match.loopSources[dim.getPosition()] = {operand.getOperandNumber(),
                                                unsigned(d)};
      }
  if (!llvm::all_of(sourced, [](bool found) { return found; }))
    return std::nullopt;
  auto multiply = [](int64_t &product, int64_t size) {
    product = ShapedType::isDynamic(product) || ShapedType::isDynamic(size)
                  ? ShapedType::kDynamic
                  : product * size;
  };
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  for (unsigned loop = 0; loop < iterators.size(); ++loop) {
    if (iterators[loop] == utils::IteratorType::parallel) {
      match.parallelLoops.push_back(loop);
      multiply(match.outputs, match.loopSizes[loop]);
    } else {
      match.reductionLoops.push_back(loop);
      multiply(match.extent, match.loopSizes[loop]);
    }
  }
  bool dynamicExtent = ShapedType::isDynamic(match.extent);
  bool dynamicOutputs = ShapedType::isDynamic(match.outputs);
  if ((!dynamicExtent && match.extent < kMinExtent) ||
      (!dynamicOutputs && (match.outputs == 0 || match.outputs > kMaxOutputs)))
    return std::nullopt;
  return match;
}
