//===- ScaleSearchTest.cpp - AWQ's scale search and its objective ---------===//

#include "passes/quant/ScaleSearch.h"
#include "passes/quant/GroupQuantization.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace mlir;
using namespace mlir::kiln::quant;

namespace {

std::vector<float> roundTrip(const std::vector<float> &weight, int64_t k,
                             int64_t n) {
  return dequantize(quantizeGroups(weight, k, n, 8));
}

std::vector<float> randomValues(int64_t count, float spread,
                                std::mt19937 &random) {
  std::normal_distribution<float> normal(0.0f, spread);
  std::vector<float> values(count);
  for (float &value : values)
    value = normal(random);
  return values;
}

} // namespace

// With a module whose output is the second product's alone, the search
// chooses what it chooses for that product alone, not for both.
TEST(ScaleSearch, ModuleOutputIsWhatTheSearchHolds) {
  std::mt19937 random(3);
  int64_t t = 32, k = 16, n = 4;
  std::vector<float> rows = randomValues(t * k, 1.0f, random);
  std::vector<float> absMean(k, 0.0f);
  // A few channels whose activations stand out, as AWQ's salient ones.
  for (int64_t r = 0; r < t; ++r)
    for (int64_t c : {1, 9})
      rows[r * k + c] *= 8.0f;
  for (int64_t r = 0; r < t; ++r)
    for (int64_t c = 0; c < k; ++c)
      absMean[c] += std::fabs(rows[r * k + c]) / float(t);
  // The first product's weights are large where the activations are: it
  // prefers no scaling; the second's are small there.
  std::vector<float> first = randomValues(k * n, 1.0f, random);
  std::vector<float> second = randomValues(k * n, 0.05f, random);
  for (int64_t j = 0; j < n; ++j) {
    first[1 * n + j] *= 20.0f;
    first[9 * n + j] *= 20.0f;
  }
  std::vector<std::vector<float>> both = {first, second};
  std::vector<float> bothScales =
      searchInputScales(rows, t, absMean, both, 10, roundTrip);
  std::vector<float> secondScales =
      searchInputScales(rows, t, absMean, {second}, 10, roundTrip);
  ASSERT_NE(bothScales, secondScales) << "the case does not tell them apart";
  std::vector<float> moduleScales = searchInputScales(
      rows, t, absMean, both, 10, roundTrip, nullptr,
      [](ArrayRef<std::vector<float>> outputs, int64_t) { return outputs[1]; });
  EXPECT_EQ(moduleScales, secondScales);
}
