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

#include <cstdint>
#include <vector>

namespace mlir::kiln::quant {

/// The Gram matrix X^T X [K, K] of `rows` [T, K] (row-major), in double.
std::vector<double> gramOf(const std::vector<float> &rows, int64_t t,
                           int64_t k);

/// The upper triangular U with U^T U = (H + d I)^-1, for `hessian` H [K, K]
/// symmetric positive semi-definite and d = `damp` times the mean of H's
/// diagonal (raised tenfold until H + d I factors); a channel whose
/// diagonal is zero (never active) gets 1 there. Row-major [K, K].
std::vector<double> inverseHessianFactor(std::vector<double> hessian, int64_t k,
                                         double damp = 0.01);

/// `weight` [K, N] as `bits`-bit asymmetric groups of `groupSize` input
/// channels, rounded with GPTQ's error compensation given
/// `inverseFactor` (inverseHessianFactor of the rows' Gram matrix): input
/// channel i is rounded to nearest, then each later channel j moves by
/// -U[i, j] / U[i, i] times i's rounding error. A group's scale and zero
/// point are chosen (as quantizeGroups does) from its weights as they are
/// when its first channel is reached. A channel the rows never use (a zero
/// diagonal) is rounded to nearest and moves no other.
GroupQuantized roundCompensated(std::vector<float> weight, int64_t k, int64_t n,
                                int64_t groupSize,
                                const std::vector<double> &inverseFactor,
                                int bits = 4);

} // namespace mlir::kiln::quant

#endif // KILN_PASSES_QUANT_GPTQ_H
