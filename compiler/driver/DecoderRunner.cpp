//===- DecoderRunner.cpp - running a decoder package token by token -------===//

#include "compiler/driver/DecoderRunner.h"

#include "llvm/ADT/StringRef.h"

using namespace mlir::kiln;

std::unique_ptr<DecoderRunner> DecoderRunner::open(const std::string &path,
                                                   kiln_device_t device,
                                                   int threads,
                                                   std::string &error) {
  ::kiln::Model model = ::kiln::Model::load(path, device);
  std::unique_ptr<DecoderRunner> runner(
      new DecoderRunner(std::move(model), threads));
  const ::kiln::Model &m = runner->model;
  bool plain = !m.cacheCapacity();
  for (size_t i = 0; i < m.inputCount(); ++i) {
    kiln_tensor_info_t info = m.input(i);
    llvm::StringRef name = info.name;
    if (plain && name.starts_with("past_key_values.") && info.rank == 4 &&
        info.shape[1] > 0 && info.shape[3] > 0) {
      runner->pastInputs.push_back(int(i));
      runner->pastShapes.push_back({1, info.shape[1], 0, info.shape[3]});
      continue;
    }
    int *slot = name == "input_ids"        ? &runner->inputIds
                : name == "attention_mask" ? &runner->attentionMask
                : name == "position_ids"   ? &runner->positionIds
                                           : nullptr;
    if (!slot || info.dtype != KILN_DTYPE_INT64 || info.rank != 2) {
      error = "input '" + name.str() +
              "' is not a decoder's (int64 [batch, tokens] input_ids, "
              "attention_mask, position_ids; past_key_values.*)";
      return nullptr;
    }
    *slot = int(i);
  }
  if (runner->inputIds < 0) {
    error = "the model has no input 'input_ids'";
    return nullptr;
  }
  runner->logits = m.outputCount();
  for (size_t i = 0; i < m.outputCount(); ++i)
    if (llvm::StringRef(m.output(i).name) == "logits")
      runner->logits = i;
  if (runner->logits == m.outputCount() ||
      m.output(runner->logits).dtype != KILN_DTYPE_FLOAT32 ||
      m.output(runner->logits).rank != 3 ||
      m.output(runner->logits).shape[2] <= 0) {
    error = "the model has no float32 output 'logits' [batch, tokens, "
            "vocabulary]";
    return nullptr;
  }
  runner->vocabularySize = m.output(runner->logits).shape[2];
  return runner;
}

const float *DecoderRunner::run(const std::vector<int64_t> &tokens) {
  if (!capacity() && cachedTokens)
    throw ::kiln::Error(KILN_STATUS_INVALID_ARGUMENT,
                        "a package without --kv-cache=session runs each "
                        "sequence from the start");
  int64_t count = int64_t(tokens.size());
  int64_t total = cachedTokens + count;
  if (int64_t(ones.size()) < total)
    ones.resize(size_t(total), 1);
  positions.resize(size_t(count));
  for (int64_t i = 0; i < count; ++i)
    positions[i] = cachedTokens + i;
  int64_t tokenShape[2] = {1, count}, maskShape[2] = {1, total};
  std::vector<kiln_tensor_t> inputs(model.inputCount());
  // The runtime only reads inputs.
  auto bind = [&](int slot, const int64_t *data, const int64_t *shape) {
    if (slot >= 0)
      inputs[slot] = {nullptr, KILN_DTYPE_INT64, 2, shape,
                      const_cast<int64_t *>(data),
                      size_t(shape[1]) * sizeof(int64_t)};
  };
  bind(inputIds, tokens.data(), tokenShape);
  bind(attentionMask, ones.data(), maskShape);
  bind(positionIds, positions.data(), tokenShape);
  for (size_t i = 0; i < pastInputs.size(); ++i)
    inputs[pastInputs[i]] = {nullptr, model.input(pastInputs[i]).dtype,
                             4,       pastShapes[i].data(),
                             nullptr, 0};
  std::vector<kiln_tensor_t> outputs(model.outputCount());
  session.run(inputs, outputs);
  if (capacity())
    cachedTokens += count;
  return static_cast<const float *>(outputs[logits].data);
}

std::optional<std::string>
DecoderRunner::tokenOutsideVocabulary(const std::vector<int64_t> &tokens,
                                      const std::string &what) const {
  for (int64_t token : tokens)
    if (token < 0 || token >= vocabularySize)
      return what + " " + std::to_string(token) +
             " is outside the model's vocabulary of " +
             std::to_string(vocabularySize);
  return std::nullopt;
}

void DecoderRunner::reset() {
  session.reset();
  cachedTokens = 0;
}
