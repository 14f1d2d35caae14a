//===- ClipSearch.h - per-group clipping ranges chosen on data --*- C++ -*-===//
//
// AWQ's clipping search (ALGORITHMS.md §2), shared by the 4-bit methods:
// a group whose largest weight is an outlier quantizes the rest coarsely;
// clamping it may cost less on the layer's output than it saves.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_QUANT_CLIPSEARCH_H
#define KILN_PASSES_QUANT_CLIPSEARCH_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <cstdint>
#include <vector>

namespace mlir::kiln::quant {

/// What a quantizer makes of one group: `count` consecutive values into
/// `out`, quantized and dequantized.
using GroupFakeQuantizer =
    llvm::function_ref<void(const float *values, int64_t count, float *out)>;

/// Clamps each group of `groupSize` rows of each column of `weight` [K, N]
/// for good to the range [-m, m], m = (1 - i/20) max|w| for i = 0..9, whose
/// values through `fakeQuantize` give the least squared error of that
/// column's output on `rows` [T, K]. `fakeQuantize` is called from several
/// threads.
void clipGroups(std::vector<float> &weight, int64_t n, int64_t groupSize,
                const std::vector<float> &rows, int64_t t,
                GroupFakeQuantizer fakeQuantize);

} // namespace mlir::kiln::quant

#endif // KILN_PASSES_QUANT_CLIPSEARCH_H
