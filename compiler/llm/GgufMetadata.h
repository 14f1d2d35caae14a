//===- GgufMetadata.h - the key/value metadata of a GGUF file ---*- C++ -*-===//
//
// GGUF (llama.cpp's model format) starts with a header and key/value pairs
// that describe the model, its tokenizer included: the vocabulary, the BPE
// merges, the special tokens. Kiln reads that metadata, never the tensors
// that follow, to tokenize text for `kiln generate` and `kiln perplexity`.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_LLM_GGUFMETADATA_H
#define KILN_COMPILER_LLM_GGUFMETADATA_H

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kiln::llm {

/// One metadata value: a scalar (integers, floats and booleans widened) or
/// an array of them, or a string or an array of strings.
struct GgufValue {
  std::optional<int64_t> integer;
  std::optional<double> real;
  std::optional<std::string> string;
  std::vector<int64_t> integers;
  std::vector<std::string> strings;
};

class GgufMetadata {
public:
  /// Reads the metadata of the GGUF file at `path` (versions 2 and 3).
  /// Fails with a one-line `error` for a file that is not GGUF, is
  /// truncated or holds impossible sizes; never reads out of bounds.
  static std::optional<GgufMetadata> read(const std::string &path,
                                          std::string &error);

  const GgufValue *find(const std::string &key) const;
  std::string string(const std::string &key,
                     const std::string &fallback = "") const;
  std::optional<int64_t> integer(const std::string &key) const;

private:
  std::map<std::string, GgufValue> values;
};

} // namespace kiln::llm

#endif // KILN_COMPILER_LLM_GGUFMETADATA_H
