//===- ScaleSearch.h - AWQ's per-channel input scales, searched -*- C++ -*-===//
//
// AWQ's scale search (ALGORITHMS.md §2), shared by the 4-bit methods: the
// input channels whose activations are large are scaled up in the weights
// (and down in the input), so that their weights round more finely; how
// strongly is chosen on the calibration rows by the products' output
// error once quantized.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_QUANT_SCALESEARCH_H
#define KILN_PASSES_QUANT_SCALESEARCH_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <cstdint>
#include <vector>

namespace mlir::kiln::quant {

/// What a quantization makes of a weight [K, N]: the f32 weight it stands
/// for, same layout.
using WeightRoundTrip = llvm::function_ref<std::vector<float>(
    const std::vector<float> &weight, int64_t k, int64_t n)>;

/// What a quantization makes of rows [T, K] of a product's input, in place
/// (none: the rows stay f32).
using RowsRoundTrip =
    llvm::function_ref<void(std::vector<float> &rows, int64_t t, int64_t k)>;

/// What the products' outputs (one [T, N_i] each, in the weights' order)
/// make of the module they belong to, whose output the search holds to
/// the f32 module's (none: the outputs themselves, side by side).
using ModuleOutput = llvm::function_ref<std::vector<float>(
    ArrayRef<std::vector<float>> outputs, int64_t t)>;

/// The input scales of products sharing one input: per channel
/// `s = absMean^a`, normalized by sqrt(max s * min s), for a in {0,
/// 1/grid, ..., (grid - 1)/grid}; the a for which the products, their
/// weights' rows times s through `roundTrip`, give the least squared error
/// on `samples` [T, K] divided by s (through `roundRows`, if any) against
/// the f32 products, or, with `module`, the module's output the least
/// error against the f32 module's. All ones for a = 0. The round trips and
/// the module are called from several threads.
std::vector<float> searchInputScales(const std::vector<float> &samples,
                                     int64_t t, ArrayRef<float> absMean,
                                     ArrayRef<std::vector<float>> weights,
                                     int64_t grid, WeightRoundTrip roundTrip,
                                     RowsRoundTrip roundRows = nullptr,
                                     ModuleOutput module = nullptr);

} // namespace mlir::kiln::quant

#endif // KILN_PASSES_QUANT_SCALESEARCH_H
