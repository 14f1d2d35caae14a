//===- Gptq.cpp - rounding that compensates its own error -----------------===//

#include "passes/quant/Gptq.h"

#include "passes/quant/HostMath.h"

#include "llvm/Support/Parallel.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::kiln;

void quant::addGram(const std::vector<float> &rows, int64_t t, int64_t k,
                    std::vector<double> &gram) {
  std::vector<float> transposed(k * t), product(k * k);
  for (int64_t r = 0; r < t; ++r)
    for (int64_t c = 0; c < k; ++c)
      transposed[c * t + r] = rows[r * k + c];
  // Blocks of the Gram matrix's rows in parallel, each one f32 product.
  constexpr int64_t kRowsPerTask = 64;
  llvm::parallelFor(0, size_t((k + kRowsPerTask - 1) / kRowsPerTask),
                    [&](size_t task) {
                      int64_t first = int64_t(task) * kRowsPerTask;
                      int64_t count = std::min(kRowsPerTask, k - first);
                      multiply(transposed.data() + first * t, rows.data(),
                               product.data() + first * k, count, t, k);
                    });
  for (int64_t i = 0; i < k * k; ++i)
    gram[i] += product[i];
}

std::vector<double> quant::gramOf(const std::vector<float> &rows, int64_t t,
                                  int64_t k) {
  std::vector<double> gram(k * k, 0.0);
  addGram(rows, t, k, gram);
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

quant::CompensationPlan quant::planCompensation(std::vector<double> gram,
                                                int64_t k, bool activationOrder,
                                                double damp) {
  CompensationPlan plan;
  if (activationOrder) {
    plan.order.resize(k);
    for (int64_t i = 0; i < k; ++i)
      plan.order[i] = i;
    std::stable_sort(plan.order.begin(), plan.order.end(),
                     [&](int64_t a, int64_t b) {
                       return gram[a * k + a] > gram[b * k + b];
                     });
    std::vector<double> permuted(k * k);
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j)
        permuted[i * k + j] = gram[plan.order[i] * k + plan.order[j]];
    gram = std::move(permuted);
  }
  plan.inverseFactor = inverseHessianFactor(std::move(gram), k, damp);
  return plan;
}

quant::CompensatedRounding quant::roundCompensated(std::vector<float> weight,
                                                   int64_t k, int64_t n,
                                                   int64_t groupSize,
                                                   const CompensationPlan &plan,
                                                   GroupGridChooser choose) {
  ArrayRef<int64_t> order = plan.order;
  bool ordered = !order.empty();
  CompensatedRounding result;
  result.levels.resize(k * n);
  result.groups.resize(k / groupSize * n);
  auto chooseGroup = [&](int64_t g) {
    for (int64_t j = 0; j < n; ++j)
      result.groups[g * n + j] =
          choose(weight.data() + g * groupSize * n + j, groupSize, n);
  };
  // Out of order, every group's grid comes first, from the weights as
  // they are.
  if (ordered)
    for (int64_t g = 0; g < k / groupSize; ++g)
      chooseGroup(g);
  std::vector<float> error(n);
  for (int64_t step = 0; step < k; ++step) {
    int64_t i = ordered ? order[step] : step;
    if (!ordered && i % groupSize == 0)
      chooseGroup(i / groupSize);
    const GroupParameters *grid = result.groups.data() + (i / groupSize) * n;
    const double *factor = plan.inverseFactor.data() + step * k;
    float *row = weight.data() + i * n;
    for (int64_t j = 0; j < n; ++j) {
      float level = grid[j].level(row[j]);
      result.levels[i * n + j] = uint8_t(level);
      error[j] = float((row[j] - grid[j].value(level)) / factor[step]);
    }
    // The channels still to come absorb this one's error, in parallel
    // over them.
    constexpr int64_t kChannelsPerTask = 32;
    int64_t later = k - step - 1;
    llvm::parallelFor(
        0, size_t((later + kChannelsPerTask - 1) / kChannelsPerTask),
        [&](size_t task) {
          int64_t first = step + 1 + int64_t(task) * kChannelsPerTask;
          int64_t last = std::min(k, first + kChannelsPerTask);
          for (int64_t t = first; t < last; ++t) {
            float coefficient = float(factor[t]);
            if (coefficient == 0)
              continue;
            float *target = weight.data() + (ordered ? order[t] : t) * n;
            for (int64_t j = 0; j < n; ++j)
              target[j] -= coefficient * error[j];
          }
        });
  }
  return result;
}

quant::GroupQuantized
quant::roundGroupsCompensated(const std::vector<float> &weight, int64_t k,
                              int64_t n, int64_t groupSize,
                              const CompensationPlan &plan, int bits) {
  CompensatedRounding rounded =
      roundCompensated(weight, k, n, groupSize, plan,
                       [&](const float *values, int64_t count, int64_t stride) {
                         return groupParametersOf(values, count, stride, bits);
                       });
  GroupQuantized q;
  q.k = k;
  q.n = n;
  q.groupSize = groupSize;
  q.bits = bits;
  q.values = std::move(rounded.levels);
  for (const GroupParameters &group : rounded.groups) {
    q.scales.push_back(group.scaleBits);
    q.zeros.push_back(uint8_t(group.zero));
  }
  return q;
}
