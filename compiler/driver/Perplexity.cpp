//===- Perplexity.cpp - `kiln perplexity` ---------------------------------===//
//
//   kiln perplexity MODEL.kiln --tokenizer MODEL.gguf --text FILE
//                   [--window N] [--stride S] [--limit N] [--threads N]
//
// Perplexity of a decoder over a text, with a sliding window: windows of
// `window` tokens start every `stride` tokens; each is run from an empty
// cache and scores only the tokens the windows before it have not, each
// predicted from the whole window before it (at least window - stride
// tokens of context, except at the start). The perplexity is exp of the
// mean negative log-likelihood of the scored tokens. `--limit` evaluates
// the text's first N tokens only.
//
//===----------------------------------------------------------------------===//

#include "compiler/driver/Commands.h"
#include "compiler/driver/DecoderRunner.h"
#include "compiler/llm/BpeTokenizer.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>

using namespace mlir::kiln;
namespace cl = llvm::cl;

cl::SubCommand mlir::kiln::perplexityCommand(
    "perplexity", "Perplexity of a decoder over a text, with a sliding window");
cl::OptionCategory mlir::kiln::perplexityCategory("kiln perplexity options");

namespace {

cl::opt<std::string> packagePath(cl::Positional, cl::Required,
                                 cl::desc("<model.kiln>"),
                                 cl::sub(perplexityCommand),
                                 cl::cat(perplexityCategory));
cl::opt<std::string>
    tokenizerPath("tokenizer",
                  cl::desc("The GGUF file whose tokenizer reads the text"),
                  cl::value_desc("model.gguf"), cl::Required,
                  cl::sub(perplexityCommand), cl::cat(perplexityCategory));
cl::opt<std::string> textPath("text", cl::desc("The text to evaluate"),
                              cl::value_desc("file"), cl::Required,
                              cl::sub(perplexityCommand),
                              cl::cat(perplexityCategory));
cl::opt<int64_t> window("window",
                        cl::desc("Tokens per window (512, at most the "
                                 "session cache's capacity)"),
                        cl::init(512), cl::sub(perplexityCommand),
                        cl::cat(perplexityCategory));
cl::opt<int64_t> stride("stride",
                        cl::desc("Tokens between window starts (256)"),
                        cl::init(256), cl::sub(perplexityCommand),
                        cl::cat(perplexityCategory));
cl::opt<int64_t> limit("limit",
                       cl::desc("Evaluate the text's first N tokens (0: all)"),
                       cl::init(0), cl::sub(perplexityCommand),
                       cl::cat(perplexityCategory));
cl::opt<int> threadCount("threads",
                         cl::desc("Threads to run on (0: every core)"),
                         cl::init(0), cl::sub(perplexityCommand),
                         cl::cat(perplexityCategory));
cl::opt<DeviceChoice>
    device("device",
           cl::desc("Where to run (by default, the package's target)"),
           deviceValues(), cl::init(DeviceChoice::Default),
           cl::sub(perplexityCommand), cl::cat(perplexityCategory));

int fail(const std::string &message) {
  llvm::errs() << "kiln: error: " << message << "\n";
  return 1;
}

/// -log softmax(row)[target], in double precision.
double negativeLogLikelihood(const float *row, int64_t width, int64_t target) {
  float largest = row[0];
  for (int64_t i = 1; i < width; ++i)
    largest = std::max(largest, row[i]);
  double sum = 0;
  for (int64_t i = 0; i < width; ++i)
    sum += std::exp(double(row[i]) - largest);
  return std::log(sum) + largest - row[target];
}

} // namespace

int mlir::kiln::runPerplexityCommand() {
  if (window < 2 || stride < 1 || stride > window || limit < 0)
    return fail("--window must be at least 2 and --stride between 1 and the "
                "window");
  std::optional<std::string> contents = readFileBytes(textPath);
  if (!contents)
    return fail(textPath + ": cannot read the text");

  std::string error;
  std::unique_ptr<::kiln::llm::BpeTokenizer> tokenizer =
      ::kiln::llm::BpeTokenizer::fromGgufFile(tokenizerPath, error);
  if (!tokenizer)
    return fail(error);
  std::vector<int64_t> tokens = tokenizer->encode(*contents);
  if (limit && int64_t(tokens.size()) > limit)
    tokens.resize(limit);
  if (tokens.size() < 2)
    return fail(textPath + ": the text has fewer than two tokens");

  try {
    std::unique_ptr<DecoderRunner> decoder = DecoderRunner::open(
        packagePath, static_cast<kiln_device_t>(device.getValue()), threadCount,
        error);
    if (!decoder)
      return fail(packagePath + ": " + error);
    if (decoder->capacity() && window > decoder->capacity())
      return fail("--window " + std::to_string(window) +
                  " exceeds the package's cache of " +
                  std::to_string(decoder->capacity()) + " tokens");
    int64_t vocabulary = decoder->vocabulary();
    if (std::optional<std::string> outside =
            decoder->tokenOutsideVocabulary(tokens, "the text's token"))
      return fail(*outside);

    double total = 0;
    int64_t scored = 0, windows = 0;
    int64_t size = int64_t(tokens.size());
    // Targets up to `done` (exclusive) are scored.
    int64_t done = 1;
    auto start = std::chrono::steady_clock::now();
    for (int64_t begin = 0; done < size; begin += stride) {
      int64_t end = std::min(begin + window, size);
      std::vector<int64_t> chunk(tokens.begin() + begin, tokens.begin() + end);
      decoder->reset();
      const float *logits = decoder->run(chunk);
      ++windows;
      // Row i predicts token begin + i + 1.
      for (int64_t target = std::max(done, begin + 1); target < end; ++target)
        total +=
            negativeLogLikelihood(logits + (target - begin - 1) * vocabulary,
                                  vocabulary, tokens[target]);
      scored += end - std::max(done, begin + 1);
      done = end;
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    llvm::outs() << llvm::format(
        "perplexity %.4f over %lld tokens (mean negative log-likelihood "
        "%.6f; %lld windows of %lld tokens, stride %lld; %.1f s)\n",
        std::exp(total / scored), (long long)scored, total / scored,
        (long long)windows, (long long)window, (long long)stride, seconds);
  } catch (const ::kiln::Error &error) {
    return fail(error.what());
  }
  return 0;
}
