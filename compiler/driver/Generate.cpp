//===- Generate.cpp - `kiln generate` -------------------------------------===//
//
//   kiln generate MODEL.kiln --tokenizer MODEL.gguf --prompt TEXT
//                 [--max-tokens N] [--temperature T] [--top-p P] [--seed S]
//                 [--threads N] [--ignore-eos] [--ids] [--save-logits F.npy]
//   kiln generate MODEL.kiln --prompt-ids 1,2,3 ...
//
// Text generation with a decoder compiled with --kv-cache=session: the
// prompt runs once (prefill), then one token per run (decode), each
// appending its keys and values to the session's cache. Tokens stream to
// stdout as they come; a last line on stderr gives the prefill and decode
// speeds.
//
//===----------------------------------------------------------------------===//

#include "compiler/driver/Commands.h"
#include "compiler/driver/DecoderRunner.h"
#include "compiler/driver/Npy.h"
#include "compiler/driver/Trace.h"
#include "compiler/llm/BpeTokenizer.h"
#include "compiler/llm/TokenSampler.h"

#include "kiln/runtime.hpp"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstring>

using namespace mlir::kiln;
namespace cl = llvm::cl;

cl::SubCommand mlir::kiln::generateCommand(
    "generate",
    "Generate text with a decoder compiled with --kv-cache=session");
cl::OptionCategory mlir::kiln::generateCategory("kiln generate options");

namespace {

cl::opt<std::string> packagePath(cl::Positional, cl::Required,
                                 cl::desc("<model.kiln>"),
                                 cl::sub(generateCommand),
                                 cl::cat(generateCategory));
cl::opt<std::string> tokenizerPath(
    "tokenizer",
    cl::desc("The GGUF file whose tokenizer turns text into tokens and back"),
    cl::value_desc("model.gguf"), cl::sub(generateCommand),
    cl::cat(generateCategory));
cl::opt<std::string> prompt("prompt", cl::desc("The prompt, as text"),
                            cl::sub(generateCommand),
                            cl::cat(generateCategory));
cl::opt<std::string> promptFile("prompt-file",
                                cl::desc("The prompt, from a file"),
                                cl::sub(generateCommand),
                                cl::cat(generateCategory));
cl::opt<std::string> promptIds(
    "prompt-ids",
    cl::desc("The prompt as token ids, comma-separated (no tokenizer needed)"),
    cl::sub(generateCommand), cl::cat(generateCategory));
cl::opt<unsigned> maxTokens("max-tokens",
                            cl::desc("Tokens to generate at most (64)"),
                            cl::init(64), cl::sub(generateCommand),
                            cl::cat(generateCategory));
cl::opt<double> temperature(
    "temperature",
    cl::desc("Sampling temperature; 0 (the default) picks the likeliest "
             "token"),
    cl::init(0.0), cl::sub(generateCommand), cl::cat(generateCategory));
cl::opt<double> topP("top-p",
                     cl::desc("Sample from the likeliest tokens whose "
                              "probability reaches P (1: all)"),
                     cl::init(1.0), cl::sub(generateCommand),
                     cl::cat(generateCategory));
cl::opt<uint64_t> seed("seed", cl::desc("Seed of the sampler (0)"), cl::init(0),
                       cl::sub(generateCommand), cl::cat(generateCategory));
cl::opt<int> threadCount("threads",
                         cl::desc("Threads to run on (0: every core)"),
                         cl::init(0), cl::sub(generateCommand),
                         cl::cat(generateCategory));
cl::opt<DeviceChoice>
    device("device",
           cl::desc("Where to run (by default, the package's target)"),
           deviceValues(), cl::init(DeviceChoice::Default),
           cl::sub(generateCommand), cl::cat(generateCategory));
cl::opt<bool> ignoreEos("ignore-eos",
                        cl::desc("Go on past the end-of-sequence token"),
                        cl::init(false), cl::sub(generateCommand),
                        cl::cat(generateCategory));
cl::opt<bool> printIds("ids", cl::desc("Print token ids instead of text"),
                       cl::init(false), cl::sub(generateCommand),
                       cl::cat(generateCategory));
cl::opt<std::string> profilePath(
    "profile",
    cl::desc("Write each kernel of every run to FILE as a Chrome trace (the "
             "prefill is run 0) and print the decode runs' slowest"),
    cl::value_desc("file.json"), cl::sub(generateCommand),
    cl::cat(generateCategory));
cl::opt<std::string> saveLogits(
    "save-logits",
    cl::desc("Write the logits each generated token was chosen from, "
             "float32 [tokens, vocabulary], to a .npy file"),
    cl::value_desc("file.npy"), cl::sub(generateCommand),
    cl::cat(generateCategory));

int fail(const std::string &message) {
  llvm::errs() << "kiln: error: " << message << "\n";
  return 1;
}

bool parseIds(const std::string &text, std::vector<int64_t> &ids) {
  llvm::SmallVector<llvm::StringRef> parts;
  llvm::StringRef(text).split(parts, ',', -1, false);
  for (llvm::StringRef part : parts) {
    int64_t id;
    if (part.trim().getAsInteger(10, id) || id < 0)
      return false;
    ids.push_back(id);
  }
  return !ids.empty();
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

} // namespace

int mlir::kiln::runGenerateCommand() {
  int sources = !prompt.empty() + !promptFile.empty() + !promptIds.empty();
  if (sources != 1)
    return fail("give the prompt once: --prompt, --prompt-file or "
                "--prompt-ids");
  if (promptIds.empty() && tokenizerPath.empty())
    return fail("a text prompt needs --tokenizer MODEL.gguf");
  if (temperature < 0 || topP <= 0 || topP > 1)
    return fail("--temperature must be >= 0 and --top-p in (0, 1]");

  std::unique_ptr<::kiln::llm::BpeTokenizer> tokenizer;
  if (!tokenizerPath.empty()) {
    std::string error;
    tokenizer = ::kiln::llm::BpeTokenizer::fromGgufFile(tokenizerPath, error);
    if (!tokenizer)
      return fail(error);
  }
  std::vector<int64_t> tokens;
  if (!promptIds.empty()) {
    if (!parseIds(promptIds, tokens))
      return fail("--prompt-ids '" + promptIds +
                  "' is not a comma-separated list of token ids");
  } else {
    std::string text = prompt;
    if (!promptFile.empty()) {
      std::optional<std::string> contents = readFileBytes(promptFile);
      if (!contents)
        return fail(promptFile + ": cannot read the prompt file");
      text = std::move(*contents);
    }
    tokens = tokenizer->encode(text);
    if (tokens.empty())
      return fail("the prompt is empty");
  }

  try {
    std::string error;
    std::unique_ptr<DecoderRunner> decoder = DecoderRunner::open(
        packagePath, static_cast<kiln_device_t>(device.getValue()), threadCount,
        error);
    if (!decoder)
      return fail(packagePath + ": " + error);
    int64_t capacity = decoder->capacity();
    if (!capacity)
      return fail(packagePath +
                  ": the package keeps its key/value cache as inputs and "
                  "outputs; compile it with --kv-cache=session to generate");
    int64_t vocabulary = decoder->vocabulary();
    if (std::optional<std::string> outside =
            decoder->tokenOutsideVocabulary(tokens, "prompt token"))
      return fail(*outside);
    if (int64_t(tokens.size()) > capacity)
      return fail("the prompt has " + std::to_string(tokens.size()) +
                  " tokens; the package's cache holds " +
                  std::to_string(capacity) +
                  " (compile with a larger --max-context)");
    // The last token generated is never run, so it needs no room.
    int64_t budget =
        std::min<int64_t>(maxTokens, capacity - int64_t(tokens.size()) + 1);

    ::kiln::llm::TokenSampler sampler(temperature, topP, seed);
    std::vector<float> savedLogits;
    std::vector<int64_t> step = tokens;
    int64_t generated = 0;
    double prefillSeconds = 0, decodeSeconds = 0;
    bool hitEos = false;
    // The trace holds every run (the prefill is run 0); the summary, the
    // decode runs.
    std::vector<TracedEvent> traced, decodeEvents;
    unsigned runs = 0;
    auto first = std::chrono::steady_clock::now();
    while (generated < budget) {
      bool prefill = decoder->cached() == 0;
      bool profiling = !profilePath.empty();
      decoder->setProfiling(profiling);
      auto start = std::chrono::steady_clock::now();
      const float *logits = decoder->run(step);
      (prefill ? prefillSeconds : decodeSeconds) += secondsSince(start);
      if (profiling) {
        double runStartUs =
            std::chrono::duration<double, std::micro>(start - first).count();
        for (const kiln_profile_event_t &event : decoder->profile()) {
          traced.push_back({event, runStartUs, runs});
          if (!prefill)
            decodeEvents.push_back({event, runStartUs, runs});
        }
        ++runs;
      }
      const float *last = logits + (step.size() - 1) * vocabulary;
      int64_t token = sampler.next(last, vocabulary);
      if (!saveLogits.empty())
        savedLogits.insert(savedLogits.end(), last, last + vocabulary);
      if (prefill) {
        // The prefill's logits (every position's: 800 MB for 4,096 tokens)
        // are freed as part of it, not by the first decode run.
        auto release = std::chrono::steady_clock::now();
        decoder->releaseOutputs();
        prefillSeconds += secondsSince(release);
      }
      ++generated;
      if (tokenizer && token == tokenizer->endOfSequence() && !ignoreEos) {
        hitEos = true;
        break;
      }
      if (printIds || !tokenizer)
        llvm::outs() << (generated > 1 ? " " : "") << token;
      else
        llvm::outs() << tokenizer->decode(token);
      llvm::outs().flush();
      step.assign(1, token);
    }
    llvm::outs() << "\n";
    llvm::outs().flush();
    if (!saveLogits.empty()) {
      int64_t shape[2] = {generated, vocabulary};
      if (!writeNpy(saveLogits, KILN_DTYPE_FLOAT32, shape, 2,
                    savedLogits.data(), error))
        return fail(error);
    }
    if (!hitEos && generated < int64_t(maxTokens))
      return fail("the key/value cache is full after " +
                  std::to_string(generated) + " generated tokens (it holds " +
                  std::to_string(capacity) +
                  "; compile with a larger --max-context)");
    // The first token comes from the prefill; the others from decode runs.
    int64_t decoded = generated - 1;
    llvm::errs() << llvm::format(
        "kiln: prefill %zu tokens in %.1f ms (%.1f tokens/s), decode %lld "
        "tokens in %.1f ms (%.1f tokens/s)%s\n",
        tokens.size(), prefillSeconds * 1e3,
        prefillSeconds > 0 ? tokens.size() / prefillSeconds : 0.0,
        (long long)decoded, decodeSeconds * 1e3,
        decodeSeconds > 0 ? decoded / decodeSeconds : 0.0,
        hitEos ? ", stopped at end of sequence" : "");
    if (!profilePath.empty()) {
      if (!writeTrace(profilePath, traced, error))
        return fail(error);
      if (runs > 1)
        printSlowestKernels(decodeEvents, runs - 1,
                            decodeSeconds * 1e3 / (runs - 1), llvm::errs());
    }
  } catch (const ::kiln::Error &error) {
    return fail(error.what());
  }
  return 0;
}
