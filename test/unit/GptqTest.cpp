//===- GptqTest.cpp - GPTQ's error-compensating rounding ------------------===//

#include "passes/quant/Gptq.h"
#include "passes/quant/HostMath.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace mlir::kiln::quant;

namespace {

/// `t` rows of `k` channels that are mostly a mix of `rank` shared
/// factors: correlated, as a layer's inputs are.
std::vector<float> correlatedRows(int64_t t, int64_t k, int64_t rank,
                                  std::mt19937 &random) {
  std::normal_distribution<float> normal;
  std::vector<float> mixing(rank * k), rows(t * k);
  for (float &value : mixing)
    value = normal(random);
  for (int64_t r = 0; r < t; ++r) {
    std::vector<float> factors(rank);
    for (float &value : factors)
      value = normal(random);
    for (int64_t c = 0; c < k; ++c) {
      float sum = 0.3f * normal(random);
      for (int64_t f = 0; f < rank; ++f)
        sum += factors[f] * mixing[f * k + c];
      rows[r * k + c] = sum;
    }
  }
  return rows;
}

double outputError(const std::vector<float> &rows, int64_t t, int64_t k,
                   const std::vector<float> &weight,
                   const std::vector<float> &quantized, int64_t n) {
  std::vector<float> reference(t * n), out(t * n);
  multiply(rows.data(), weight.data(), reference.data(), t, k, n);
  multiply(rows.data(), quantized.data(), out.data(), t, k, n);
  return squaredDistance(out.data(), reference.data(), t * n);
}

} // namespace

// U^T U is the damped Hessian's inverse: (H + dI) U^T U = I.
TEST(Gptq, InverseFactorInvertsTheDampedHessian) {
  std::mt19937 random(1);
  int64_t t = 64, k = 24;
  std::vector<float> rows = correlatedRows(t, k, 4, random);
  for (int64_t r = 0; r < t; ++r)
    rows[r * k + 5] = 0; // A channel never used.
  std::vector<double> h = gramOf(rows, t, k);
  std::vector<double> u = inverseHessianFactor(h, k, 0.01);
  double mean = 0;
  h[5 * k + 5] = 1;
  for (int64_t i = 0; i < k; ++i)
    mean += h[i * k + i] / double(k);
  for (int64_t i = 0; i < k; ++i) {
    h[i * k + i] += 0.01 * mean;
    for (int64_t j = 0; j < i; ++j)
      EXPECT_EQ(u[i * k + j], 0.0);
  }
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < k; ++j) {
      double sum = 0;
      for (int64_t m = 0; m < k; ++m) {
        double inverse = 0; // (U^T U)[m, j]
        for (int64_t p = 0; p < k; ++p)
          inverse += u[p * k + m] * u[p * k + j];
        sum += h[i * k + m] * inverse;
      }
      EXPECT_NEAR(sum, i == j ? 1.0 : 0.0, 1e-8) << i << ", " << j;
    }
}

// On correlated rows the compensated rounding's output error is a
// fraction of round to nearest's; its integers and group parameters are
// well formed, and a group's values lie on its own grid.
TEST(Gptq, CompensationBeatsRoundToNearestOnCorrelatedRows) {
  std::mt19937 random(2);
  int64_t t = 512, k = 128, n = 48, groupSize = 32;
  std::vector<float> rows = correlatedRows(t, k, 16, random);
  std::normal_distribution<float> normal;
  std::vector<float> weight(k * n);
  for (float &value : weight)
    value = normal(random);
  GroupQuantized nearest = quantizeGroups(weight, k, n, groupSize);
  double nearestError = outputError(rows, t, k, weight, dequantize(nearest), n);
  std::vector<double> gram = gramOf(rows, t, k);
  for (bool activationOrder : {false, true}) {
    GroupQuantized compensated = roundGroupsCompensated(
        weight, k, n, groupSize, planCompensation(gram, k, activationOrder));
    double compensatedError =
        outputError(rows, t, k, weight, dequantize(compensated), n);
    EXPECT_LT(compensatedError, 0.25 * nearestError)
        << compensatedError << " against " << nearestError
        << (activationOrder ? " (activation order)" : "");
    ASSERT_EQ(compensated.values.size(), size_t(k * n));
    ASSERT_EQ(compensated.scales.size(), size_t(k / groupSize * n));
    for (uint8_t value : compensated.values)
      EXPECT_LE(value, 15);
    for (uint8_t zero : compensated.zeros)
      EXPECT_LE(zero, 15);
  }
}

// Activation order: by decreasing diagonal, ties in channel order, and
// the factor is the permuted matrix's.
TEST(Gptq, ActivationOrderGoesByDecreasingDiagonal) {
  int64_t k = 4;
  std::vector<double> gram = {1, 0, 0, 0, //
                              0, 5, 0, 1, //
                              0, 0, 3, 0, //
                              0, 1, 0, 3};
  CompensationPlan plan = planCompensation(gram, k, true, 0.0);
  EXPECT_EQ(plan.order, (std::vector<int64_t>{1, 2, 3, 0}));
  std::vector<double> permuted = {5, 0, 1, 0, //
                                  0, 3, 0, 0, //
                                  1, 0, 3, 0, //
                                  0, 0, 0, 1};
  EXPECT_EQ(plan.inverseFactor, inverseHessianFactor(permuted, k, 0.0));
  EXPECT_TRUE(planCompensation(gram, k, false, 0.0).order.empty());
}

// Rows that are independent and of equal scale (a Hessian proportional
// to the identity) leave nothing to compensate: round to nearest.
TEST(Gptq, IdentityHessianIsRoundToNearest) {
  std::mt19937 random(3);
  int64_t k = 64, n = 16, groupSize = 16;
  std::normal_distribution<float> normal;
  std::vector<float> weight(k * n);
  for (float &value : weight)
    value = normal(random);
  std::vector<double> identity(k * k, 0.0);
  for (int64_t i = 0; i < k; ++i)
    identity[i * k + i] = 2.0;
  GroupQuantized nearest = quantizeGroups(weight, k, n, groupSize);
  for (bool activationOrder : {false, true}) {
    GroupQuantized compensated =
        roundGroupsCompensated(weight, k, n, groupSize,
                               planCompensation(identity, k, activationOrder));
    EXPECT_EQ(compensated.values, nearest.values);
    EXPECT_EQ(compensated.scales, nearest.scales);
    EXPECT_EQ(compensated.zeros, nearest.zeros);
  }
}
