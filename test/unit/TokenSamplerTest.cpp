//===- TokenSamplerTest.cpp - greedy and nucleus sampling -----------------===//

#include "compiler/llm/TokenSampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using namespace kiln::llm;

namespace {

TEST(TokenSampler, GreedyTakesTheLowestIdOfTheLargest) {
  TokenSampler greedy(0.0, 1.0, 0);
  std::vector<float> logits{0.5f, 2.0f, -1.0f, 2.0f};
  EXPECT_EQ(greedy.next(logits.data(), 4), 1);
}

TEST(TokenSampler, ATinyNucleusIsTheLikeliestToken) {
  TokenSampler sampler(1.0, 1e-6, 3);
  std::vector<float> logits{0.1f, 0.3f, 0.2f};
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(sampler.next(logits.data(), 3), 1);
}

TEST(TokenSampler, SamplesFollowTheSoftmaxAndTheSeed) {
  // Probabilities 0.5, 0.25, 0.25 at temperature 1.
  std::vector<float> logits{std::log(2.0f), 0.0f, 0.0f};
  TokenSampler sampler(1.0, 1.0, 42), same(1.0, 1.0, 42);
  std::vector<int> counts(3);
  for (int i = 0; i < 20000; ++i) {
    int64_t token = sampler.next(logits.data(), 3);
    EXPECT_EQ(token, same.next(logits.data(), 3));
    ++counts[token];
  }
  EXPECT_NEAR(counts[0] / 20000.0, 0.5, 0.02);
  EXPECT_NEAR(counts[1] / 20000.0, 0.25, 0.02);
  // A nucleus of 0.6 keeps the two likeliest tokens only (0.5, then 0.25).
  TokenSampler nucleus(1.0, 0.6, 1);
  for (int i = 0; i < 2000; ++i)
    EXPECT_NE(nucleus.next(logits.data(), 3), 2);
}

} // namespace
