//===- TokenSampler.h - the next token from a row of logits -----*- C++ -*-===//
//
// Greedy (temperature 0: the highest logit, the lowest id of equals), or
// sampling from softmax(logits / temperature) restricted to the smallest
// set of most likely tokens whose probability reaches `topP` (nucleus
// sampling). A seed makes the sequence reproducible.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_LLM_TOKENSAMPLER_H
#define KILN_COMPILER_LLM_TOKENSAMPLER_H

#include <cstdint>
#include <random>

namespace kiln::llm {

class TokenSampler {
public:
  TokenSampler(double temperature, double topP, uint64_t seed)
      : temperature(temperature), topP(topP), random(seed) {}

  int64_t next(const float *logits, int64_t count);

private:
  double temperature;
  double topP;
  std::mt19937_64 random;
};

} // namespace kiln::llm

#endif // KILN_COMPILER_LLM_TOKENSAMPLER_H
