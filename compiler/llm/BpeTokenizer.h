//===- BpeTokenizer.h - byte-level BPE, as GPT-2 and SmolLM use -*- C++ -*-===//
//
// Text -> token ids and back, from a GGUF file's tokenizer metadata
// (tokenizer.ggml.model "gpt2": a vocabulary, ranked merges and special
// tokens). Encoding: special tokens found verbatim in the text are taken
// whole; the rest is split by the pre-tokenizer (each digit alone for the
// "smollm" family, then GPT-2's pattern of contractions, letter runs,
// number runs, other runs and whitespace), each piece's bytes are written
// as GPT-2's printable characters, and the merges are applied lowest rank
// first. Decoding maps the characters back to bytes.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_LLM_BPETOKENIZER_H
#define KILN_COMPILER_LLM_BPETOKENIZER_H

#include "compiler/llm/GgufMetadata.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace kiln::llm {

class BpeTokenizer {
public:
  /// The tokenizer a GGUF file describes; a one-line `error` for one that
  /// is not byte-level BPE, has a pre-tokenizer this class does not
  /// implement, or is inconsistent (a merge of unknown tokens).
  static std::unique_ptr<BpeTokenizer> fromGguf(const GgufMetadata &metadata,
                                                std::string &error);

  /// The tokenizer of the GGUF file at `path`; the error names the file.
  static std::unique_ptr<BpeTokenizer> fromGgufFile(const std::string &path,
                                                    std::string &error);

  /// Token ids of `text` (UTF-8), with the beginning-of-sequence token
  /// first when the model asks for one.
  std::vector<int64_t> encode(const std::string &text) const;
  /// The bytes of one token (its text for special tokens).
  std::string decode(int64_t token) const;

  int64_t vocabularySize() const { return int64_t(tokens.size()); }
  /// -1 when the model has none.
  int64_t endOfSequence() const { return eos; }
  int64_t beginningOfSequence() const { return bos; }

  /// Splits text without special tokens into the pieces BPE merges within.
  std::vector<std::string> preTokenize(const std::string &text) const;

private:
  std::vector<int64_t> encodePiece(const std::string &piece) const;

  std::vector<std::string> tokens;
  std::unordered_map<std::string, int64_t> ids;
  /// "left right" -> rank.
  std::unordered_map<std::string, int64_t> mergeRanks;
  /// Control and user-defined tokens, longest first.
  std::vector<std::pair<std::string, int64_t>> specials;
  /// Their ids, for decoding.
  std::unordered_set<int64_t> specialIds;
  bool digitsAlone = false;
  bool addBos = false;
  int64_t bos = -1, eos = -1;
  /// Byte -> GPT-2's printable character (UTF-8), and back.
  std::vector<std::string> byteChars;
  std::map<std::string, uint8_t> charBytes;
  mutable std::unordered_map<std::string, std::vector<int64_t>> pieceCache;
};

} // namespace kiln::llm

#endif // KILN_COMPILER_LLM_BPETOKENIZER_H
