//===- SelectParallelLoops.cpp - kiln-cpu-select-parallel-loops -----------===//
//
// Starting threads costs microseconds; a loop nest gets them only when it
// has enough iterations to amortize that. Nested parallel loops would start
// nested teams, so only the outermost loop of a nest is ever parallel.
//
// A nest whose trip counts are symbolic decides at run time: threads when
// its iterations turn out to be enough, else a serial copy.
//
// The OpenMP lowering collapses a multi-dimensional parallel loop into one
// index that it divides back into coordinates, which LLVM cannot
// vectorize. So an elementwise nest's innermost dimension (contiguous in
// memory) stays a plain loop inside the parallel ones.
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

/// Parallel iterations enough to keep a team busy once the innermost
/// dimension runs serially inside them.
constexpr int64_t kMinOuterTrips = 8;

/// Whether `loop` is an elementwise nest: a body without loops of its own.
bool isFlatNest(scf::ParallelOp loop) {
  return llvm::none_of(loop.getBody()->without_terminator(),
                       [](Operation &op) { return op.getNumRegions() > 0; });
}

/// scf.parallel (i0, ..., in) -> scf.parallel (i0, ..., in-1) { scf.for in },
/// when the outer dimensions alone have iterations enough for threads.
void keepInnermostSerial(scf::ParallelOp loop) {
  int64_t dims = loop.getNumLoops();
  if (dims < 2 || !isFlatNest(loop))
    return;
  int64_t outerTrips = 1;
  for (int64_t d = 0; d < dims - 1; ++d)
    outerTrips = saturatingMul(
        outerTrips, tripCount(loop.getLowerBound()[d], loop.getUpperBound()[d],
                              loop.getStep()[d]));
  if (outerTrips < kMinOuterTrips)
    return;
  IRRewriter rewriter(loop.getContext());
  rewriter.setInsertionPoint(loop);
  Location loc = loop.getLoc();
  auto outer = rewriter.create<scf::ParallelOp>(
      loc, loop.getLowerBound().drop_back(), loop.getUpperBound().drop_back(),
      loop.getStep().drop_back());
  rewriter.setInsertionPointToStart(outer.getBody());
  auto inner = rewriter.create<scf::ForOp>(loc, loop.getLowerBound().back(),
                                           loop.getUpperBound().back(),
                                           loop.getStep().back());
  SmallVector<Value> inductionVariables(outer.getInductionVars());
  inductionVariables.push_back(inner.getInductionVar());
  Block *body = loop.getBody();
  rewriter.eraseOp(body->getTerminator()); // the empty scf.reduce
  rewriter.inlineBlockBefore(body, inner.getBody()->getTerminator(),
                             inductionVariables);
  rewriter.eraseOp(loop);
}

/// For a nest whose iterations are only known at run time: threads when
/// there are at least `minWork` of them, else a serial copy of the nest
/// (a decode step's small kernels over symbolic lengths would otherwise
/// pay for starting a team every time).
void chooseAtRunTime(scf::ParallelOp loop, int64_t minWork) {
  OpBuilder b(loop);
  Location loc = loop.getLoc();
  int64_t nested = nestedWork(loop);
  Value work = b.create<arith::ConstantIndexOp>(
      loc, nested == kUnknownWork ? 1 : nested);
  Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
  for (auto [lo, hi, st] :
       llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    Value span = b.create<arith::MaxSIOp>(
        loc, b.create<arith::SubIOp>(loc, hi, lo), zero);
    work = b.create<arith::MulIOp>(loc, work,
                                   b.create<arith::CeilDivUIOp>(loc, span, st));
  }
  Value enough = b.create<arith::CmpIOp>(
      loc, arith::CmpIPredicate::sge, work,
      b.create<arith::ConstantIndexOp>(loc, minWork));
  auto branch = b.create<scf::IfOp>(loc, enough, /*withElseRegion=*/true);
  loop->moveBefore(branch.thenBlock()->getTerminator());
  b.setInsertionPoint(branch.elseBlock()->getTerminator());
  serialize(cast<scf::ParallelOp>(b.clone(*loop)));
}

struct CpuSelectParallelLoopsPass
    : kiln::impl::CpuSelectParallelLoopsPassBase<CpuSelectParallelLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<scf::ParallelOp> serial, parallel, atRunTime;
    getOperation().walk([&](scf::ParallelOp loop) {
      if (!loop.getInitVals().empty())
        return; // reductions: left alone (linalg lowering makes none)
      bool nested = loop->getParentOfType<scf::ParallelOp>() != nullptr;
      int64_t work = nestedWork(loop);
      for (auto [lo, hi, st] : llvm::zip(loop.getLowerBound(),
                                         loop.getUpperBound(), loop.getStep()))
        work = saturatingMul(work, tripCount(lo, hi, st));
      // A kernel lowering knows its work better than a count of loop
      // iterations does.
      if (loop->hasAttr(kThreadedAttrName) && !nested)
        work = minWork;
      if (nested || work < minWork)
        serial.push_back(loop);
      else
        parallel.push_back(loop);
      if (!nested && work == kUnknownWork)
        atRunTime.push_back(loop);
    });
    // The walk visits inner loops first; serializing moves bodies, so the
    // collected ops stay valid.
    for (scf::ParallelOp loop : serial)
      serialize(loop);
    for (scf::ParallelOp loop : atRunTime)
      chooseAtRunTime(loop, minWork);
    for (scf::ParallelOp loop : parallel)
      keepInnermostSerial(loop);
  }
};

} // namespace
