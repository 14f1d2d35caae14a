//===- SelectParallelLoops.cpp - kiln-cpu-select-parallel-loops -----------===//
//
// Starting threads costs microseconds; a loop nest gets them only when it
// has enough iterations to amortize that. Nested parallel loops would start
// nested teams, so only the outermost loop of a nest is ever parallel.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/Passes.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"

#include <limits>

namespace mlir::kiln {
#define GEN_PASS_DEF_CPUSELECTPARALLELLOOPSPASS
#include "codegen/cpu/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

constexpr int64_t kUnknownWork = std::numeric_limits<int64_t>::max() / 4;

int64_t saturatingMul(int64_t a, int64_t b) {
  if (a == 0 || b == 0)
    return 0;
  return a > kUnknownWork / b ? kUnknownWork : a * b;
}

int64_t tripCount(Value lower, Value upper, Value step) {
  std::optional<int64_t> lo = getConstantIntValue(lower);
  std::optional<int64_t> hi = getConstantIntValue(upper);
  std::optional<int64_t> st = getConstantIntValue(step);
  if (!lo || !hi || !st || *st <= 0)
    return kUnknownWork;
  return *hi > *lo ? (*hi - *lo + *st - 1) / *st : 0;
}

/// Innermost iterations of the deepest loop nest under `op` (1 if none).
int64_t nestedWork(Operation *op) {
  int64_t deepest = 1;
  for (Region &region : op->getRegions())
    for (Operation &inner : region.getOps()) {
      int64_t work = 1;
      if (auto loop = dyn_cast<scf::ForOp>(inner))
        work = saturatingMul(tripCount(loop.getLowerBound(),
                                       loop.getUpperBound(), loop.getStep()),
                             nestedWork(loop));
      else if (auto loop = dyn_cast<scf::ParallelOp>(inner)) {
        work = nestedWork(loop);
        for (auto [lo, hi, st] : llvm::zip(loop.getLowerBound(),
                                           loop.getUpperBound(),
                                           loop.getStep()))
          work = saturatingMul(work, tripCount(lo, hi, st));
      } else if (inner.getNumRegions())
        work = nestedWork(&inner);
      deepest = std::max(deepest, work);
    }
  return deepest;
}

/// Replaces a reduction-free scf.parallel by a nest of scf.for.
void serialize(scf::ParallelOp loop) {
  IRRewriter rewriter(loop.getContext());
  rewriter.setInsertionPoint(loop);
  Location loc = loop.getLoc();
  SmallVector<Value> inductionVariables;
  Block *innermost = nullptr;
  for (auto [lo, hi, st] :
       llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    auto forOp = rewriter.create<scf::ForOp>(loc, lo, hi, st);
    inductionVariables.push_back(forOp.getInductionVar());
    innermost = forOp.getBody();
    rewriter.setInsertionPointToStart(innermost);
  }
  Block *body = loop.getBody();
  rewriter.eraseOp(body->getTerminator()); // the empty scf.reduce
  rewriter.inlineBlockBefore(body, innermost->getTerminator(),
                             inductionVariables);
  rewriter.eraseOp(loop);
}

struct CpuSelectParallelLoopsPass
    : kiln::impl::CpuSelectParallelLoopsPassBase<CpuSelectParallelLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<scf::ParallelOp> serial;
    getOperation().walk([&](scf::ParallelOp loop) {
      if (!loop.getInitVals().empty())
        return; // reductions: left alone (linalg lowering makes none)
      bool nested = loop->getParentOfType<scf::ParallelOp>() != nullptr;
      int64_t work = nestedWork(loop);
      for (auto [lo, hi, st] : llvm::zip(loop.getLowerBound(),
                                         loop.getUpperBound(), loop.getStep()))
        work = saturatingMul(work, tripCount(lo, hi, st));
      if (nested || work < minWork)
        serial.push_back(loop);
    });
    // The walk visits inner loops first; serializing moves bodies, so the
    // collected ops stay valid.
    for (scf::ParallelOp loop : serial)
      serialize(loop);
  }
};

} // namespace
