//===- Gptq.cpp - rounding that compensates its own error -----------------===//

#include "passes/quant/Gptq.h"

#include "llvm/Support/Parallel.h"

#include <cmath>

using namespace mlir;
using namespace mlir::kiln;

std::vector<double> quant::gramOf(const std::vector<float> &rows, int64_t t,
                                  int64_t k) {
  std::vector<double> gram(k * k, 0.0);
  // Each row of the Gram matrix (its upper part) from every data row; the
  // lower part mirrored after.
  llvm::parallelFor(0, size_t(k), [&](size_t ii) {
    int64_t i = int64_t(ii);
    double *out = gram.data() + i * k;
    for (int64_t r = 0; r < t; ++r) {
      const float *x = rows.data() + r * k;
      double xi = x[i];
      if (xi == 0)
        continue;
      for (int64_t j = i; j < k; ++j)
        out[j] += xi * double(x[j]);
    }
  });
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < i; ++j)
      gram[i * k + j] = gram[j * k + i];
  return gram;
}

namespace {

/// Lower triangular L with L L^T = `a` [K, K], in place (the upper part
/// left as it was); false when `a` is not positive definite.
bool choleskyInPlace(std::vector<double> &a, int64_t k) {
  for (int64_t j = 0; j < k; ++j) {
    double *rowJ = a.data() + j * k;
    double diagonal = rowJ[j];
    for (int64_t m = 0; m < j; ++m)
      diagonal -= rowJ[m] * rowJ[m];
    if (!(diagonal > 0))
      return false;
    double root = std::sqrt(diagonal);
    rowJ[j] = root;
    llvm::parallelFor(size_t(j + 1), size_t(k), [&](size_t ii) {
      double *rowI = a.data() + ii * k;
      double sum = rowI[j];
      for (int64_t m = 0; m < j; ++m)
        sum -= rowI[m] * rowJ[m];
      rowI[j] = sum / root;
    });
  }
  return true;
}

} // namespace

std::vector<double> quant::inverseHessianFactor(std::vector<double> hessian,
                                                int64_t k, double damp) {
  double mean = 0;
  for (int64_t i = 0; i < k; ++i) {
    double &diagonal = hessian[i * k + i];
    if (diagonal == 0)
      diagonal = 1;
    mean += diagonal / double(k);
  }
  // (H + dI)^-1 = U^T U asks for H + dI = V V^T with V = U^-1 upper
  // triangular: the usual factorization of H with its channels reversed.
  std::vector<double> reversed(k * k);
  for (double scale = damp;; scale *= 10) {
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j)
        reversed[i * k + j] = hessian[(k - 1 - i) * k + (k - 1 - j)];
    for (int64_t i = 0; i < k; ++i)
      reversed[i * k + i] += scale * mean;
    if (choleskyInPlace(reversed, k))
      break;
  }
  auto v = [&](int64_t i, int64_t j) {
    return reversed[(k - 1 - i) * k + (k - 1 - j)];
  };
  // U = V^-1 row by row from the last: U[i, i] = 1 / V[i, i] and, for j > i,
  // U[i, j] = -(sum over m in (i, j] of V[i, m] U[m, j]) / V[i, i].
  std::vector<double> upper(k * k, 0.0);
  for (int64_t i = k - 1; i >= 0; --i) {
    double *row = upper.data() + i * k;
    for (int64_t m = i + 1; m < k; ++m) {
      double coefficient = v(i, m);
      const double *rowM = upper.data() + m * k;
      for (int64_t j = m; j < k; ++j)
        row[j] -= coefficient * rowM[j];
    }
    double inverse = 1.0 / v(i, i);
    for (int64_t j = i + 1; j < k; ++j)
      row[j] *= inverse;
    row[i] = inverse;
  }
  return upper;
}

quant::GroupQuantized
quant::roundCompensated(std::vector<float> weight, int64_t k, int64_t n,
                        int64_t groupSize,
                        const std::vector<double> &inverseFactor, int bits) {
  GroupQuantized q;
  q.k = k;
  q.n = n;
  q.groupSize = groupSize;
  q.bits = bits;
  q.values.resize(k * n);
  q.scales.resize(k / groupSize * n);
  q.zeros.resize(k / groupSize * n);
  std::vector<GroupParameters> parameters(n);
  std::vector<float> error(n);
  for (int64_t i = 0; i < k; ++i) {
    if (i % groupSize == 0) {
      int64_t g = i / groupSize;
      for (int64_t j = 0; j < n; ++j) {
        parameters[j] =
            groupParametersOf(weight.data() + i * n + j, groupSize, n, bits);
        q.scales[g * n + j] = parameters[j].scaleBits;
        q.zeros[g * n + j] = uint8_t(parameters[j].zero);
      }
    }
    const double *factor = inverseFactor.data() + i * k;
    float *row = weight.data() + i * n;
    for (int64_t j = 0; j < n; ++j) {
      float level = parameters[j].level(row[j]);
      q.values[i * n + j] = uint8_t(level);
      error[j] = float((row[j] - parameters[j].value(level)) / factor[i]);
    }
    // The later channels absorb this one's error, in parallel over them.
    constexpr int64_t kChannelsPerTask = 32;
    int64_t later = k - i - 1;
    llvm::parallelFor(
        0, size_t((later + kChannelsPerTask - 1) / kChannelsPerTask),
        [&](size_t task) {
          int64_t first = i + 1 + int64_t(task) * kChannelsPerTask;
          int64_t last = std::min(k, first + kChannelsPerTask);
          for (int64_t c = first; c < last; ++c) {
            float coefficient = float(factor[c]);
            if (coefficient == 0)
              continue;
            float *target = weight.data() + c * n;
            for (int64_t j = 0; j < n; ++j)
              target[j] -= coefficient * error[j];
          }
        });
  }
  return q;
}
