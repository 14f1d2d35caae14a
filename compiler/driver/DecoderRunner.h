//===- DecoderRunner.h - running a decoder package token by token -*- C++
//-*-===//
//
// What `kiln generate` and `kiln perplexity` share: a package exported as
// Hugging Face exports decoders (input_ids, attention_mask, position_ids,
// logits), run on a batch of one. With the session cache each run appends
// to what the session holds; a plain package runs from an empty past each
// time (its past_key_values.* inputs empty).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_DRIVER_DECODERRUNNER_H
#define KILN_COMPILER_DRIVER_DECODERRUNNER_H

#include "kiln/runtime.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mlir::kiln {

class DecoderRunner {
public:
  /// Fails with a one-line `error` for a package whose inputs and outputs
  /// are not a decoder's.
  static std::unique_ptr<DecoderRunner> open(const std::string &path,
                                             kiln_device_t device, int threads,
                                             std::string &error);

  /// Tokens the session cache holds at most; 0 for a plain package.
  int64_t capacity() const { return model.cacheCapacity(); }
  int64_t vocabulary() const { return vocabularySize; }
  /// Tokens cached before the next run.
  int64_t cached() const { return cachedTokens; }

  /// A one-line error naming the first of `tokens` the model's vocabulary
  /// lacks (`what` says what the tokens are), or nothing.
  std::optional<std::string>
  tokenOutsideVocabulary(const std::vector<int64_t> &tokens,
                         const std::string &what) const;

  /// Runs `tokens` after the cached ones and returns their logits, one row
  /// of vocabulary() per token, valid until the next run. Throws
  /// ::kiln::Error (a plain package can only start from empty).
  const float *run(const std::vector<int64_t> &tokens);
  /// Forgets the cached tokens.
  void reset();

  /// Frees the last run's logits (see kiln_session_release_outputs).
  void releaseOutputs() { session.releaseOutputs(); }
  /// Records the kernels of the next runs (see kiln_session_set_profiling).
  void setProfiling(bool enabled) { session.setProfiling(enabled); }
  /// The kernels of the last run, when profiling.
  std::vector<kiln_profile_event_t> profile() { return session.profile(); }

private:
  DecoderRunner(::kiln::Model model, int threads)
      : model(std::move(model)), session(this->model, threads) {}

  ::kiln::Model model;
  ::kiln::Session session;
  int inputIds = -1, attentionMask = -1, positionIds = -1;
  size_t logits = 0;
  int64_t vocabularySize = 0;
  int64_t cachedTokens = 0;
  /// A plain package's past inputs: [1, heads, 0, head_dim] each.
  std::vector<int> pastInputs;
  std::vector<std::vector<int64_t>> pastShapes;
  /// The attention mask (all ones) and positions, kept between runs.
  std::vector<int64_t> ones, positions;
};

} // namespace mlir::kiln

#endif // KILN_COMPILER_DRIVER_DECODERRUNNER_H
