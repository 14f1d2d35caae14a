//===- BpeTokenizer.cpp - byte-level BPE, as GPT-2 and SmolLM use ---------===//

#include "compiler/llm/BpeTokenizer.h"

#include <algorithm>
#include <climits>
#include <clocale>
#include <cwctype>

using namespace kiln::llm;

namespace {

/// GGUF's token types.
constexpr int64_t kControlToken = 3;
constexpr int64_t kUserDefinedToken = 4;

/// Pre-tokenizers whose pattern is GPT-2's after splitting off each digit,
/// and those that are GPT-2's alone (llama.cpp's names).
const char *const kDigitsAlone[] = {"smollm",    "starcoder", "refact",
                                    "codeshell", "command-r", "exaone"};
const char *const kPlainGpt2[] = {"default", "gpt2", "gpt-2",
                                  "mpt",     "olmo", "jais"};

std::string utf8(uint32_t codePoint) {
  std::string out;
  if (codePoint < 0x80) {
    out += char(codePoint);
  } else if (codePoint < 0x800) {
    out += char(0xC0 | (codePoint >> 6));
    out += char(0x80 | (codePoint & 0x3F));
  } else if (codePoint < 0x10000) {
    out += char(0xE0 | (codePoint >> 12));
    out += char(0x80 | ((codePoint >> 6) & 0x3F));
    out += char(0x80 | (codePoint & 0x3F));
  } else {
    out += char(0xF0 | (codePoint >> 18));
    out += char(0x80 | ((codePoint >> 12) & 0x3F));
    out += char(0x80 | ((codePoint >> 6) & 0x3F));
    out += char(0x80 | (codePoint & 0x3F));
  }
  return out;
}

/// One character of the text: its code point and its bytes. A byte that
/// starts no valid UTF-8 sequence is a character of its own.
struct Character {
  uint32_t codePoint;
  size_t begin, end;
};

std::vector<Character> characters(const std::string &text) {
  std::vector<Character> out;
  size_t i = 0;
  while (i < text.size()) {
    auto byte = static_cast<uint8_t>(text[i]);
    size_t length = byte < 0x80         ? 1
                    : (byte >> 5) == 6  ? 2
                    : (byte >> 4) == 14 ? 3
                    : (byte >> 3) == 30 ? 4
                                        : 0;
    uint32_t codePoint = length == 1   ? byte
                         : length == 2 ? byte & 0x1F
                         : length == 3 ? byte & 0x0F
                                       : byte & 0x07;
    bool valid = length && i + length <= text.size();
    for (size_t k = 1; valid && k < length; ++k) {
      auto next = static_cast<uint8_t>(text[i + k]);
      valid = (next & 0xC0) == 0x80;
      codePoint = (codePoint << 6) | (next & 0x3F);
    }
    if (!valid) {
      out.push_back({0xFFFD, i, i + 1});
      ++i;
      continue;
    }
    out.push_back({codePoint, i, i + length});
    i += length;
  }
  return out;
}

enum class Class { Letter, Number, Space, Other };

/// Unicode letters and whitespace by the C library's tables for C.UTF-8;
/// numbers are the decimal digits.
Class classify(uint32_t codePoint) {
  static locale_t unicode = newlocale(LC_CTYPE_MASK, "C.UTF-8", locale_t(0));
  if (codePoint < 0x80) {
    if ((codePoint | 0x20) >= 'a' && (codePoint | 0x20) <= 'z')
      return Class::Letter;
    if (codePoint >= '0' && codePoint <= '9')
      return Class::Number;
    if (codePoint == ' ' || (codePoint >= '\t' && codePoint <= '\r'))
      return Class::Space;
    return Class::Other;
  }
  if (!unicode)
    return Class::Other;
  auto wide = static_cast<wint_t>(codePoint);
  if (iswspace_l(wide, unicode))
    return Class::Space;
  if (iswdigit_l(wide, unicode))
    return Class::Number;
  if (iswalpha_l(wide, unicode))
    return Class::Letter;
  return Class::Other;
}

/// GPT-2's pattern over `chars[begin, end)`:
///   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
void splitGpt2(const std::string &text, const std::vector<Character> &chars,
               size_t begin, size_t end, std::vector<std::string> &pieces) {
  auto classAt = [&](size_t i) { return classify(chars[i].codePoint); };
  auto emit = [&](size_t from, size_t to) {
    pieces.push_back(
        text.substr(chars[from].begin, chars[to - 1].end - chars[from].begin));
  };
  auto runOf = [&](size_t from, Class kind) {
    while (from < end && classAt(from) == kind)
      ++from;
    return from;
  };
  size_t i = begin;
  while (i < end) {
    uint32_t c = chars[i].codePoint;
    if (c == '\'' && i + 1 < end) {
      uint32_t next = chars[i + 1].codePoint;
      uint32_t after = i + 2 < end ? chars[i + 2].codePoint : 0;
      size_t length = 0;
      if (next == 's' || next == 't' || next == 'm' || next == 'd')
        length = 2;
      else if ((next == 'r' && after == 'e') || (next == 'v' && after == 'e') ||
               (next == 'l' && after == 'l'))
        length = 3;
      if (length) {
        emit(i, i + length);
        i += length;
        continue;
      }
    }
    Class kind = classAt(i);
    size_t start = i;
    if (c == ' ' && i + 1 < end && classAt(i + 1) != Class::Space) {
      kind = classAt(i + 1);
      ++i;
    }
    if (kind != Class::Space) {
      emit(start, runOf(i, kind));
      i = runOf(i, kind);
      continue;
    }
    size_t stop = runOf(i, Class::Space);
    // Whitespace before a non-space leaves its last character to prefix
    // what follows (\s+(?!\S)); a single one stands alone (\s+).
    if (stop < end && stop - i > 1)
      --stop;
    emit(i, stop);
    i = stop;
  }
}

} // namespace

std::unique_ptr<BpeTokenizer> BpeTokenizer::fromGguf(const GgufMetadata &gguf,
                                                     std::string &error) {
  std::string model = gguf.string("tokenizer.ggml.model");
  if (model != "gpt2") {
    error = model.empty() ? "the GGUF file has no tokenizer"
                          : "tokenizer model '" + model +
                                "' is not supported (Kiln reads byte-level "
                                "BPE, 'gpt2')";
    return nullptr;
  }
  std::string pre = gguf.string("tokenizer.ggml.pre", "default");
  auto tokenizer = std::make_unique<BpeTokenizer>();
  if (std::find(std::begin(kDigitsAlone), std::end(kDigitsAlone), pre) !=
      std::end(kDigitsAlone)) {
    tokenizer->digitsAlone = true;
  } else if (std::find(std::begin(kPlainGpt2), std::end(kPlainGpt2), pre) ==
             std::end(kPlainGpt2)) {
    error = "pre-tokenizer '" + pre + "' is not supported";
    return nullptr;
  }
  const GgufValue *tokens = gguf.find("tokenizer.ggml.tokens");
  const GgufValue *merges = gguf.find("tokenizer.ggml.merges");
  if (!tokens || tokens->strings.empty() || !merges) {
    error = "the GGUF tokenizer lacks its tokens or merges";
    return nullptr;
  }
  tokenizer->tokens = tokens->strings;
  for (size_t id = 0; id < tokenizer->tokens.size(); ++id)
    tokenizer->ids.emplace(tokenizer->tokens[id], int64_t(id));
  for (size_t rank = 0; rank < merges->strings.size(); ++rank) {
    const std::string &merge = merges->strings[rank];
    size_t space = merge.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == merge.size()) {
      error = "the GGUF tokenizer's merge " + std::to_string(rank) +
              " is not two tokens";
      return nullptr;
    }
    tokenizer->mergeRanks.emplace(merge, int64_t(rank));
  }
  if (const GgufValue *types = gguf.find("tokenizer.ggml.token_type"))
    for (size_t id = 0;
         id < types->integers.size() && id < tokens->strings.size(); ++id)
      if ((types->integers[id] == kControlToken ||
           types->integers[id] == kUserDefinedToken) &&
          !tokens->strings[id].empty())
      {
        tokenizer->specials.push_back({tokens->strings[id], int64_t(id)});
        tokenizer->specialIds.insert(int64_t(id));
      }
  std::stable_sort(tokenizer->specials.begin(), tokenizer->specials.end(),
                   [](const auto &a, const auto &b) {
                     return a.first.size() > b.first.size();
                   });
  auto vocabularyId = [&](const char *key) -> int64_t {
    std::optional<int64_t> id = gguf.integer(key);
    return id && *id >= 0 && *id < int64_t(tokens->strings.size()) ? *id : -1;
  };
  tokenizer->bos = vocabularyId("tokenizer.ggml.bos_token_id");
  tokenizer->eos = vocabularyId("tokenizer.ggml.eos_token_id");
  tokenizer->addBos =
      gguf.integer("tokenizer.ggml.add_bos_token").value_or(0) &&
      tokenizer->bos >= 0;

  // GPT-2's printable stand-ins for bytes: the printable Latin-1 bytes are
  // themselves, the others 256, 257, ... in order.
  tokenizer->byteChars.resize(256);
  uint32_t next = 256;
  for (uint32_t byte = 0; byte < 256; ++byte) {
    bool printable = (byte >= 33 && byte <= 126) ||
                     (byte >= 161 && byte <= 172) || byte >= 174;
    tokenizer->byteChars[byte] = utf8(printable ? byte : next++);
    tokenizer->charBytes[tokenizer->byteChars[byte]] = uint8_t(byte);
  }
  return tokenizer;
}

std::unique_ptr<BpeTokenizer>
BpeTokenizer::fromGgufFile(const std::string &path, std::string &error) {
  std::optional<GgufMetadata> gguf = GgufMetadata::read(path, error);
  if (!gguf)
    return nullptr;
  std::unique_ptr<BpeTokenizer> tokenizer = fromGguf(*gguf, error);
  if (!tokenizer)
    error = path + ": " + error;
  return tokenizer;
}

std::vector<std::string>
BpeTokenizer::preTokenize(const std::string &text) const {
  std::vector<Character> chars = characters(text);
  std::vector<std::string> pieces;
  size_t begin = 0;
  for (size_t i = 0; i <= chars.size(); ++i) {
    bool digit = i < chars.size() && digitsAlone &&
                 classify(chars[i].codePoint) == Class::Number;
    if (i < chars.size() && !digit)
      continue;
    if (i > begin)
      splitGpt2(text, chars, begin, i, pieces);
    if (digit)
      pieces.push_back(
          text.substr(chars[i].begin, chars[i].end - chars[i].begin));
    begin = i + 1;
  }
  return pieces;
}

std::vector<int64_t> BpeTokenizer::encodePiece(const std::string &piece) const {
  auto cached = pieceCache.find(piece);
  if (cached != pieceCache.end())
    return cached->second;
  std::vector<std::string> symbols;
  for (char byte : piece)
    symbols.push_back(byteChars[static_cast<uint8_t>(byte)]);
  // Merge the adjacent pair of lowest rank (the leftmost of equals) until
  // no pair has a merge.
  while (symbols.size() > 1) {
    int64_t bestRank = INT64_MAX;
    size_t best = 0;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      auto rank = mergeRanks.find(symbols[i] + " " + symbols[i + 1]);
      if (rank != mergeRanks.end() && rank->second < bestRank) {
        bestRank = rank->second;
        best = i;
      }
    }
    if (bestRank == INT64_MAX)
      break;
    symbols[best] += symbols[best + 1];
    symbols.erase(symbols.begin() + best + 1);
  }
  std::vector<int64_t> out;
  for (const std::string &symbol : symbols) {
    auto id = ids.find(symbol);
    if (id != ids.end()) {
      out.push_back(id->second);
      continue;
    }
    // A merge result the vocabulary lacks: its bytes one by one.
    for (const auto &[character, byte] : charBytes)
      if (symbol.find(character) != std::string::npos && ids.count(character))
        out.push_back(ids.at(character));
  }
  pieceCache.emplace(piece, out);
  return out;
}

std::vector<int64_t> BpeTokenizer::encode(const std::string &text) const {
  std::vector<int64_t> out;
  if (addBos)
    out.push_back(bos);
  size_t cursor = 0;
  while (cursor < text.size()) {
    // The next special token, the longest where several start together.
    size_t found = std::string::npos;
    const std::pair<std::string, int64_t> *special = nullptr;
    for (const auto &candidate : specials) {
      size_t at = text.find(candidate.first, cursor);
      if (at < found) {
        found = at;
        special = &candidate;
      }
    }
    std::string plain =
        text.substr(cursor, found == std::string::npos ? std::string::npos
                                                       : found - cursor);
    for (const std::string &piece : preTokenize(plain)) {
      std::vector<int64_t> ids = encodePiece(piece);
      out.insert(out.end(), ids.begin(), ids.end());
    }
    if (!special)
      break;
    out.push_back(special->second);
    cursor = found + special->first.size();
  }
  return out;
}

std::string BpeTokenizer::decode(int64_t token) const {
  if (token < 0 || token >= int64_t(tokens.size()))
    return "";
  const std::string &text = tokens[token];
  if (specialIds.count(token))
    return text;
  std::string bytes;
  for (const Character &c : characters(text)) {
    auto byte = charBytes.find(text.substr(c.begin, c.end - c.begin));
    if (byte != charBytes.end())
      bytes += char(byte->second);
    else
      bytes += text.substr(c.begin, c.end - c.begin);
  }
  return bytes;
}
