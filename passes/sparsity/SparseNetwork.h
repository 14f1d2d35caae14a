//===- SparseNetwork.h - a convolutional network run on sites ---*- C++ -*-===//

#ifndef KILN_PASSES_SPARSITY_SPARSENETWORK_H
#define KILN_PASSES_SPARSITY_SPARSENETWORK_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace mlir::kiln {

/// The sites a sparse network runs on: a site table (`kiln.list_sites`)
/// of a grid of `height` x `width` pixels, and their count (an index).
struct SiteSet {
  Value table;
  int64_t height, width;
  Value count;
};

/// Entry 0 of a site table (or of `kiln.refine_tiles`'s table), the count
/// it lists, as an index.
Value tableCount(OpBuilder &b, Location loc, Value table);

/// Builds, at `b`'s insertion point, the convolutional network `network`
/// (written for dense images [1, C, H, W]) run sparsely on `sites`: its
/// inputs are `inputs`, their rows [n, C] at the sites, and every tensor
/// becomes the rows [n_l, C] of the sites of a grid: a stride-1 Conv a
/// submanifold sparse convolution (the input's sites), a strided Conv one
/// onto the coarse sites, a ConvTranspose back onto the finer sites the
/// coarse ones came from; each the dense convolution of an input zero but
/// at its sites, at the output's sites. BatchNormalization, Concat of
/// channels and elementwise ops act row by row. Returns the rows of the
/// network's one output, at `sites`; fails after an error at a node that
/// has no sparse form.
FailureOr<Value> buildSparseNetwork(OpBuilder &b, func::FuncOp network,
                                    const SiteSet &sites, ValueRange inputs);

} // namespace mlir::kiln

#endif // KILN_PASSES_SPARSITY_SPARSENETWORK_H
