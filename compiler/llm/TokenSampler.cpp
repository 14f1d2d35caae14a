//===- TokenSampler.cpp - the next token from a row of logits -------------===//

#include "compiler/llm/TokenSampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

using namespace kiln::llm;

int64_t TokenSampler::next(const float *logits, int64_t count) {
  int64_t best = 0;
  for (int64_t i = 1; i < count; ++i)
    if (logits[i] > logits[best])
      best = i;
  if (temperature <= 0 || count < 2)
    return best;

  std::vector<double> probabilities(count);
  double sum = 0;
  for (int64_t i = 0; i < count; ++i)
    sum += probabilities[i] =
        std::exp((double(logits[i]) - logits[best]) / temperature);
  std::vector<int64_t> order(count);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return probabilities[a] > probabilities[b];
  });
  // The nucleus: the most likely tokens until their share reaches top-p.
  double kept = 0;
  size_t nucleus = 0;
  while (nucleus < order.size() && (nucleus == 0 || kept < topP * sum))
    kept += probabilities[order[nucleus++]];
  // 53 random bits: a uniform double in [0, kept).
  double target = double(random() >> 11) * (1.0 / 9007199254740992.0) * kept;
  for (size_t i = 0; i < nucleus; ++i) {
    target -= probabilities[order[i]];
    if (target < 0)
      return order[i];
  }
  return order[nucleus - 1];
}
