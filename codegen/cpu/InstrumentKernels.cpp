//===- InstrumentKernels.cpp - kiln-cpu-instrument-kernels ----------------===//

#include "codegen/common/NodeNames.h"
#include "codegen/cpu/Passes.h"
#include "dialects/kiln/KilnOps.h"

#include "mlir/Dialect/Math/IR/Math.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_CPUINSTRUMENTKERNELSPASS
#include "codegen/cpu/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

constexpr llvm::StringLiteral kBeginName = "kiln_kernel_begin";
constexpr llvm::StringLiteral kEndName = "kiln_kernel_end";

/// Whether a top-level op of @main does work worth a profile event.
bool isKernel(Operation &op) {
  return isa<linalg::LinalgOp, PackedConv2DOp, DepthwiseConv2DOp, MaxPool2DOp,
             AttentionOp, PageBoundsOp, PageScoresOp, SelectPagesOp,
             EntropyCutOp, RefineTilesOp, GatherWindowsOp, MergeRefinedOp,
             ListSitesOp, CoarseSitesOp, KernelMapOp, GatherSitesOp,
             ScatterSitesOp, SparseIm2ColOp, SparseCol2ImOp, memref::CopyOp>(
             op) ||
         op.getNumRegions() > 0;
}

/// Float operations of one evaluation of a linalg body.
int64_t bodyFlops(Block &body) {
  int64_t flops = 0;
  for (Operation &op : body) {
    bool isFloat = op.getNumResults() == 1 &&
                   isa<FloatType>(getElementTypeOrSelf(op.getResult(0)));
    if (!isFloat)
      continue;
    if (isa<math::FmaOp>(op))
      flops += 2;
    else if (isa<arith::ArithDialect, math::MathDialect>(op.getDialect()) &&
             !isa<arith::ConstantOp, arith::SelectOp>(op) &&
             op.getNumOperands() > 0 &&
             !isa<arith::ExtFOp, arith::TruncFOp, arith::SIToFPOp,
                  arith::UIToFPOp, arith::BitcastOp>(op))
      flops += 1;
  }
  return flops;
}

/// The product of `values`, 0 (unknown) if one is symbolic.
int64_t product(ArrayRef<int64_t> values) {
  int64_t result = 1;
  for (int64_t value : values) {
    if (ShapedType::isDynamic(value))
      return 0;
    result *= value;
  }
  return result;
}

/// Floating-point operations per run of a kernel (0 where unknown, as over
/// symbolic dimensions).
int64_t flopsOf(Operation &op) {
  if (auto conv = dyn_cast<PackedConv2DOp>(op)) {
    auto out = cast<ShapedType>(conv.getInit().getType()).getShape();
    auto input = cast<ShapedType>(conv.getInput().getType()).getShape();
    auto w = cast<ShapedType>(conv.getFilter().getType()).getShape();
    return 2 * product(out) * w[1] * w[2] * input[3];
  }
  if (auto attention = dyn_cast<AttentionOp>(op)) {
    // Two products of G x S x T x D multiply-adds.
    auto q = cast<ShapedType>(attention.getQuery().getType()).getShape();
    auto k = cast<ShapedType>(attention.getKeys().getType()).getShape();
    int64_t positions = k[attention.getKeyPositionsDim()];
    if (Value past = attention.getPastKeys()) {
      int64_t before = cast<ShapedType>(past.getType()).getDimSize(1);
      positions =
          ShapedType::isDynamic(before) || ShapedType::isDynamic(positions)
              ? ShapedType::kDynamic
              : before + positions;
    }
    return 4 * product({q[0], q[1], q[2], positions});
  }
  if (auto conv = dyn_cast<DepthwiseConv2DOp>(op)) {
    auto out = cast<ShapedType>(conv.getInit().getType()).getShape();
    auto w = cast<ShapedType>(conv.getFilter().getType()).getShape();
    return 2 * product(out) * w[0] * w[1];
  }
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
    SmallVector<int64_t> ranges = linalgOp.getStaticLoopRanges();
    if (llvm::any_of(ranges, ShapedType::isDynamic))
      return 0;
    return product(ranges) * bodyFlops(*linalgOp.getBlock());
  }
  return 0;
}

struct CpuInstrumentKernelsPass
    : kiln::impl::CpuInstrumentKernelsPassBase<CpuInstrumentKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp main = lookupModelFunction(module);
    if (!main)
      return signalPassFailure();
    OpBuilder builder(&getContext());
    builder.setInsertionPointToStart(module.getBody());
    auto hookType = builder.getFunctionType({builder.getI32Type()}, {});
    for (StringRef name : {kBeginName, kEndName})
      if (!module.lookupSymbol(name))
        builder.create<func::FuncOp>(module.getLoc(), name, hookType)
            .setPrivate();

    SmallVector<Attribute> kernels;
    for (Operation &op : llvm::make_early_inc_range(main.getBody().front())) {
      if (!isKernel(op))
        continue;
      Location loc = op.getLoc();
      builder.setInsertionPoint(&op);
      Value index = builder.create<arith::ConstantIntOp>(
          loc, int64_t(kernels.size()), 32);
      builder.create<func::CallOp>(loc, kBeginName, TypeRange{},
                                   ValueRange{index});
      builder.setInsertionPointAfter(&op);
      builder.create<func::CallOp>(loc, kEndName, TypeRange{},
                                   ValueRange{index});
      std::string name = nodeNamesOf({&op});
      if (name.empty())
        name = op.getName().getStringRef().str();
      // Quest's steps come from the attention's nodes: say which they are.
      else if (isa<PageBoundsOp, PageScoresOp, SelectPagesOp>(op))
        name += " (" + op.getName().getStringRef().str() + ")";
      kernels.push_back(builder.getDictionaryAttr(
          {builder.getNamedAttr("name", builder.getStringAttr(name)),
           builder.getNamedAttr("flops",
                                builder.getI64IntegerAttr(flopsOf(op)))}));
    }
    module->setAttr(kKernelsAttrName, builder.getArrayAttr(kernels));
  }
};

} // namespace
