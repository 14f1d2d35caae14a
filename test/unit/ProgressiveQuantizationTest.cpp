//===- ProgressiveQuantizationTest.cpp - QoQ's two-level weights ----------===//

#include "passes/quant/ProgressiveQuantization.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace mlir::kiln::quant;

namespace {

/// The first (min, max) pair of level-1 integers within [-range, range]
/// whose group, holding every integer between them, dequantizes outside
/// [-128, 127]; (0, 0) when none does.
std::pair<int, int> firstOverflow(int range) {
  for (int low = -range; low <= range; ++low)
    for (int high = low; high <= range; ++high) {
      std::vector<float> group;
      for (int v = low; v <= high; ++v)
        group.push_back(float(v));
      std::vector<float> out(group.size());
      fakeQuantizeIntegerGroup(group.data(), int64_t(group.size()), 1,
                               out.data());
      for (float value : out)
        if (value < -128 || value > 127)
          return {low, high};
    }
  return {0, 0};
}

} // namespace

// Every pair of extremes a group of level-1 integers can have: 119 keeps
// the dequantized integers within a signed byte (ALGORITHMS.md §3).
TEST(ProgressiveQuantization, ProtectiveRangeIsExhaustivelySafe) {
  EXPECT_EQ(firstOverflow(kProtectiveRange), std::make_pair(0, 0));
}

// And it is the largest: at 120 some group overflows.
TEST(ProgressiveQuantization, ProtectiveRangeIsTheLargest) {
  std::pair<int, int> overflow = firstOverflow(kProtectiveRange + 1);
  EXPECT_NE(overflow, std::make_pair(0, 0));
}

// Level 2 on a hand-checked group: [-119, 0, 7, 119]: s2 = round(238 / 15)
// = 16, z = round(119 / 16) = 7 (7.44), q = [round(-7.44) + 7, 7,
// round(0.44) + 7, round(7.44) + 7] = [0, 7, 7, 14].
TEST(ProgressiveQuantization, IntegerGroupByHand) {
  float group[] = {-119, 0, 7, 119};
  uint8_t q[4], scale, zero;
  quantizeIntegerGroup(group, 4, 1, q, scale, zero);
  EXPECT_EQ(scale, 16);
  EXPECT_EQ(zero, 7);
  EXPECT_EQ(std::vector<uint8_t>(q, q + 4),
            std::vector<uint8_t>({0, 7, 7, 14}));
}

// A random weight through both levels: level 1 within half of s1; level 2
// within half of s2 of each integer its group's range covers, the others
// (s2 rounded down leaves the extremes out) at the nearest end; the
// dequantized weight s1 times 8-bit integers.
TEST(ProgressiveQuantization, RoundTripWithinHalfAStep) {
  std::mt19937 generator(7);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  int64_t k = 128, n = 24, groupSize = 32;
  std::vector<float> weight(k * n);
  for (float &w : weight)
    w = normal(generator);
  weight[5 * n + 3] = 0.5f; // an outlier in one group
  ChannelQuantized level1 = quantizeChannels(weight, k, n);
  ProgressiveQuantized quantized = quantizeIntegerGroups(level1, groupSize);
  std::vector<float> restored = dequantize(quantized);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int64_t group = (i / groupSize) * n + j;
      float s1 = quantized.channelScales[j];
      float s2 = quantized.groupScales[group];
      float zero = quantized.zeros[group];
      ASSERT_GE(s2, 1);
      ASSERT_LE(s2, 16);
      float w8 = level1.integers[i * n + j];
      EXPECT_LE(std::fabs(w8 * s1 - weight[i * n + j]), s1 / 2 * (1 + 1e-5f));
      EXPECT_LE(std::fabs(w8), kProtectiveRange);
      float integer = restored[i * n + j] / s1;
      ASSERT_NEAR(integer, std::nearbyint(integer), 1e-3);
      EXPECT_GE(integer, -128);
      EXPECT_LE(integer, 127);
      float low = -zero * s2, high = (15 - zero) * s2;
      if (w8 >= low && w8 <= high)
        EXPECT_LE(std::fabs(integer - w8), s2 / 2 + 1e-3) << i << ", " << j;
      else
        EXPECT_NEAR(integer, w8 < low ? low : high, 1e-3) << i << ", " << j;
    }
}
