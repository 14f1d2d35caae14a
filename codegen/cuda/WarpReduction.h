//===- WarpReduction.h - reductions one warp computes -----------*- C++ -*-===//

#ifndef KILN_CODEGEN_CUDA_WARPREDUCTION_H
#define KILN_CODEGEN_CUDA_WARPREDUCTION_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <optional>

namespace mlir::kiln::cuda {

/// A linalg reduction out[p] = combine(out[p], f(inputs at (p, r))) over
/// reduction loops r, with `combine` an associative float op (add, mul,
/// max, min) and at least a warp's worth of elements per output (or a
/// count known only at run time): each output is then computed by one
/// warp, its lanes striding over r and combining their partial results with
/// shuffles. Sizes known only at run time are allowed: matrix-vector
/// products and attention over a growing context take a warp per output.
struct WarpReduction {
  /// The op of the body that folds each element into the accumulator.
  Operation *combiner = nullptr;
  /// Its operand that is not the accumulator: the element's contribution.
  Value contribution;
  llvm::SmallVector<unsigned> parallelLoops, reductionLoops;
  /// Each loop's size, ShapedType::kDynamic where it is known only at run
  /// time; then `outputs` or `extent` is kDynamic too.
  llvm::SmallVector<int64_t> loopSizes;
  int64_t outputs = 1, extent = 1;
  /// Where each loop's size can be read: an operand (by number) and its
  /// dimension indexed by the loop alone.
  llvm::SmallVector<std::pair<unsigned, unsigned>> loopSources;
};

std::optional<WarpReduction> matchWarpReduction(linalg::LinalgOp op);

} // namespace mlir::kiln::cuda

#endif // KILN_CODEGEN_CUDA_WARPREDUCTION_H
