//===- OutlineKernels.cpp - kiln-cpu-outline-kernels ----------------------===//
//
// After lowering, the model function holds every kernel's loop nest one
// after the other: for an LLM of 30 layers, thousands of nests in one
// function, which LLVM's code generation (scheduling, register allocation)
// handles in time worse than linear in the function's size. Each top-level
// loop nest (an op with regions and no results) moves into a function of
// its own, called once, marked noinline so that LLVM keeps it apart. The
// call costs nanoseconds against a kernel's microseconds.
//
//===----------------------------------------------------------------------===//

#include "codegen/common/Passes.h"
#include "codegen/cpu/Passes.h"

#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_CPUOUTLINEKERNELSPASS
#include "codegen/cpu/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

struct CpuOutlineKernelsPass
    : kiln::impl::CpuOutlineKernelsPassBase<CpuOutlineKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp main = lookupModelFunction(module);
    if (!main)
      return signalPassFailure();
    IRRewriter rewriter(&getContext());
    SmallVector<Operation *> kernels;
    for (Operation &op : main.getBody().front())
      if (op.getNumRegions() > 0 && op.getNumResults() == 0)
        kernels.push_back(&op);
    for (auto [index, kernel] : llvm::enumerate(kernels)) {
      // The nest alone in a region, which becomes the function's body.
      rewriter.setInsertionPoint(kernel);
      auto region =
          rewriter.create<scf::ExecuteRegionOp>(kernel->getLoc(), TypeRange{});
      Block *body = rewriter.createBlock(&region.getRegion());
      rewriter.setInsertionPointToEnd(body);
      auto yield = rewriter.create<scf::YieldOp>(kernel->getLoc());
      kernel->moveBefore(yield);
      // Constants are copied in rather than passed as arguments.
      rewriter.setInsertionPointToStart(body);
      DenseMap<Value, Value> copies;
      kernel->walk([&](Operation *nested) {
        for (OpOperand &operand : nested->getOpOperands()) {
          Operation *definition = operand.get().getDefiningOp();
          if (!definition || !definition->hasTrait<OpTrait::ConstantLike>() ||
              kernel->isAncestor(definition))
            continue;
          auto [copy, inserted] = copies.try_emplace(operand.get());
          if (inserted)
            copy->second = rewriter.clone(*definition)->getResult(0);
          operand.set(copy->second);
        }
      });
      FailureOr<func::FuncOp> outlined = outlineSingleBlockRegion(
          rewriter, kernel->getLoc(), region.getRegion(),
          (main.getName() + "_kernel_" + Twine(index)).str());
      if (failed(outlined)) {
        kernel->emitError("cannot move this loop nest into a function");
        return signalPassFailure();
      }
      outlined->setPrivate();
      (*outlined)->setAttr(
          "passthrough",
          rewriter.getArrayAttr({rewriter.getStringAttr("noinline")}));
      // The call replaced the region's body; the region itself is empty.
      rewriter.setInsertionPoint(region);
      Block &inner = region.getRegion().front();
      for (Operation &op :
           llvm::make_early_inc_range(inner.without_terminator()))
        op.moveBefore(region);
      rewriter.eraseOp(region);
    }
  }
};

} // namespace
