//===- BpeTokenizerTest.cpp - GGUF metadata and byte-level BPE ------------===//

#include "compiler/llm/BpeTokenizer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <unistd.h>

using namespace kiln::llm;

namespace {

/// Writes a GGUF (version 3) holding only tokenizer metadata.
class GgufWriter {
public:
  void string(const std::string &key, const std::string &value) {
    header(key, 8);
    text(value);
  }
  void u32(const std::string &key, uint32_t value) {
    header(key, 4);
    raw(&value, 4);
  }
  void strings(const std::string &key, const std::vector<std::string> &values) {
    header(key, 9);
    arrayHeader(8, values.size());
    for (const std::string &value : values)
      text(value);
  }
  void ints(const std::string &key, const std::vector<int32_t> &values) {
    header(key, 9);
    arrayHeader(5, values.size());
    for (int32_t value : values)
      raw(&value, 4);
  }
  /// The file's path; removed with the writer.
  std::string write() {
    char name[] = "/tmp/kiln-gguf-XXXXXX";
    int fd = mkstemp(name);
    close(fd);
    path = name;
    std::ofstream file(path, std::ios::binary);
    uint32_t version = 3;
    uint64_t tensors = 0;
    file.write("GGUF", 4);
    file.write(reinterpret_cast<const char *>(&version), 4);
    file.write(reinterpret_cast<const char *>(&tensors), 8);
    file.write(reinterpret_cast<const char *>(&count), 8);
    file << body;
    return path;
  }
  ~GgufWriter() {
    if (!path.empty())
      std::remove(path.c_str());
  }

private:
  void raw(const void *data, size_t size) {
    body.append(static_cast<const char *>(data), size);
  }
  void text(const std::string &value) {
    uint64_t size = value.size();
    raw(&size, 8);
    body += value;
  }
  void header(const std::string &key, uint32_t type) {
    ++count;
    text(key);
    raw(&type, 4);
  }
  void arrayHeader(uint32_t type, uint64_t size) {
    raw(&type, 4);
    raw(&size, 8);
  }
  std::string body, path;
  uint64_t count = 0;
};

/// A vocabulary of the printable ASCII bytes (GPT-2's stand-in 'Ġ' for the
/// space, 'Ċ' for the newline), merges making "Ġt", "he", "Ġthe", and a
/// control token.
std::unique_ptr<BpeTokenizer> tinyTokenizer(GgufWriter &gguf,
                                            const std::string &pre) {
  std::vector<std::string> tokens{"\xC4\xA0", "\xC4\x8A"};
  for (char c = '!'; c <= '~'; ++c)
    tokens.push_back(std::string(1, c));
  tokens.push_back("\xC4\xA0t");     // 96
  tokens.push_back("he");            // 97
  tokens.push_back("\xC4\xA0the");   // 98
  tokens.push_back("<|endoftext|>"); // 99
  std::vector<int32_t> types(tokens.size(), 1);
  types[99] = 3;
  gguf.string("tokenizer.ggml.model", "gpt2");
  gguf.string("tokenizer.ggml.pre", pre);
  gguf.strings("tokenizer.ggml.tokens", tokens);
  gguf.strings("tokenizer.ggml.merges", {"\xC4\xA0 t", "h e", "\xC4\xA0t he"});
  gguf.ints("tokenizer.ggml.token_type", types);
  gguf.u32("tokenizer.ggml.eos_token_id", 99);
  std::string error;
  std::optional<GgufMetadata> metadata =
      GgufMetadata::read(gguf.write(), error);
  EXPECT_TRUE(metadata) << error;
  std::unique_ptr<BpeTokenizer> tokenizer =
      metadata ? BpeTokenizer::fromGguf(*metadata, error) : nullptr;
  EXPECT_TRUE(tokenizer) << error;
  return tokenizer;
}

TEST(BpeTokenizer, PreTokenizesAsGpt2WithDigitsAlone) {
  GgufWriter gguf;
  auto tokenizer = tinyTokenizer(gguf, "smollm");
  ASSERT_TRUE(tokenizer);
  EXPECT_EQ(
      tokenizer->preTokenize("He's  at 2024, ok?\n\nyes  "),
      (std::vector<std::string>{"He", "'s", " ", " at", " ", "2", "0", "2", "4",
                                ",", " ok", "?", "\n", "\n", "yes", "  "}));
  GgufWriter plain;
  auto gpt2 = tinyTokenizer(plain, "gpt2");
  ASSERT_TRUE(gpt2);
  EXPECT_EQ(gpt2->preTokenize("at 2024"),
            (std::vector<std::string>{"at", " 2024"}));
}

TEST(BpeTokenizer, MergesByRankAndDecodesBack) {
  GgufWriter gguf;
  auto tokenizer = tinyTokenizer(gguf, "smollm");
  ASSERT_TRUE(tokenizer);
  // " the" merges to one token; "he" in "hex" too; "t" alone stays a byte.
  std::vector<int64_t> ids = tokenizer->encode("a the hex<|endoftext|>t");
  int64_t a = 2 + ('a' - '!'), x = 2 + ('x' - '!'), t = 2 + ('t' - '!');
  EXPECT_EQ(ids, (std::vector<int64_t>{a, 98, 0, 97, x, 99, t}));
  std::string text;
  for (int64_t id : ids)
    text += tokenizer->decode(id);
  EXPECT_EQ(text, "a the hex<|endoftext|>t");
  EXPECT_EQ(tokenizer->endOfSequence(), 99);
}

TEST(BpeTokenizer, RefusesWhatItCannotRead) {
  std::string error;
  char name[] = "/tmp/kiln-not-gguf-XXXXXX";
  int fd = mkstemp(name);
  ASSERT_EQ(write(fd, "not a model", 11), 11);
  close(fd);
  EXPECT_FALSE(GgufMetadata::read(name, error));
  EXPECT_EQ(error, std::string(name) + ": not a GGUF file");
  std::remove(name);

  GgufWriter sentencePiece;
  sentencePiece.string("tokenizer.ggml.model", "llama");
  std::optional<GgufMetadata> metadata =
      GgufMetadata::read(sentencePiece.write(), error);
  ASSERT_TRUE(metadata) << error;
  EXPECT_FALSE(BpeTokenizer::fromGguf(*metadata, error));
  EXPECT_EQ(error, "tokenizer model 'llama' is not supported (Kiln reads "
                   "byte-level BPE, 'gpt2')");

  // A file cut inside its metadata.
  GgufWriter full;
  tinyTokenizer(full, "gpt2");
  std::string path = full.write();
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  EXPECT_FALSE(GgufMetadata::read(path, error));
  EXPECT_NE(error.find("truncated or corrupt"), std::string::npos) << error;
}

} // namespace
