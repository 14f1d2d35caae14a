//===- Gptq.h - rounding that compensates its own error ---------*- C++ -*-===//
//
// GPTQ's rounding (Frantar et al., 2022): a weight's input channels are
// rounded one at a time, and each channel's rounding error is spread over
// the channels not rounded yet so that the product's output on the
// calibration rows changes least. What it needs of the rows is their Gram
// matrix X^T X, the Hessian of the output's squared error.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_QUANT_GPTQ_H
#define KILN_PASSES_QUANT_GPTQ_H

#include "passes/quant/GroupQuantization.h"

#include "llvm/ADT/STLFunctionalExtras.h"

#include <cstdint>
#include <vector>

namespace mlir::kiln::quant {

/// Adds X^T X of `rows` [T, K] (row-major; a few hundred rows: one f32
/// product) to `gram` [K, K], which accumulates in double across calls.
void addGram(const std::vector<float> &rows, int64_t t, int64_t k,
             std::vector<double> &gram);

/// The Gram matrix X^T X [K, K] of `rows` [T, K] (row-major), in double.
std::vector<double> gramOf(const std::vector<float> &rows, int64_t t,
                           int64_t k);

/// The upper triangular U with U^T U = (H + d I)^-1, for `hessian` H [K, K]
/// symmetric positive semi-definite and d = `damp` times the mean of H's
/// diagonal (raised tenfold until H + d I factors); a channel whose
/// diagonal is zero (never active) gets 1 there. Row-major [K, K].
std::vector<double> inverseHessianFactor(std::vector<double> hessian, int64_t k,
                                         double damp = 0.01);

/// The order GPTQ rounds a weight's input channels in, and the factor of
/// the inverse Hessian in that order.
struct CompensationPlan {
  /// Input channels in rounding order; empty for 0, 1, ..., K - 1.
  std::vector<int64_t> order;
  /// inverseHessianFactor of the Gram matrix permuted to `order`.
  std::vector<double> inverseFactor;
};

/// The plan for a weight whose input has the Gram matrix `gram` [K, K]:
/// in channel order, or with `activationOrder` by decreasing diagonal
/// (GPTQ's "act-order": the channels with the most input energy first,
/// while the most channels remain to absorb their error; ties in channel
/// order).
CompensationPlan planCompensation(std::vector<double> gram, int64_t k,
                                  bool activationOrder, double damp = 0.01);

/// How a group's grid is chosen: the parameters of `count` values
/// `stride` apart.
using GroupGridChooser = llvm::function_ref<GroupParameters(
    const float *values, int64_t count, int64_t stride)>;

/// A weight [K, N] rounded onto grids of groups of input channels.
struct CompensatedRounding {
  std::vector<uint8_t> levels;         // [K, N]
  std::vector<GroupParameters> groups; // [K / G, N]
};

/// `weight` [K, N] rounded onto the grids `choose` gives its groups of
/// `groupSize` input channels, with GPTQ's error compensation: the
/// channels are rounded to nearest one at a time in the plan's order, and
/// after channel i (step s of the order) each channel still to come, at
/// step t, moves by -U[s, t] / U[s, s] times i's rounding error. In
/// channel order a group's grid is chosen from its weights as they are
/// when its first channel is reached; in another order, every group's from
/// the weights as given, before any rounding (so a grid sees only values
/// of the input's range). A channel the rows never use (a zero diagonal)
/// is rounded to nearest and moves no other.
CompensatedRounding roundCompensated(std::vector<float> weight, int64_t k,
                                     int64_t n, int64_t groupSize,
                                     const CompensationPlan &plan,
                                     GroupGridChooser choose);

/// roundCompensated onto quantizeGroups' grids: `bits`-bit asymmetric
/// groups with f16 scales.
GroupQuantized roundGroupsCompensated(const std::vector<float> &weight,
                                      int64_t k, int64_t n, int64_t groupSize,
                                      const CompensationPlan &plan,
                                      int bits = 4);

} // namespace mlir::kiln::quant

#endif // KILN_PASSES_QUANT_GPTQ_H
