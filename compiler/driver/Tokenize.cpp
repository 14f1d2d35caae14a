//===- Tokenize.cpp - `kiln tokenize` -------------------------------------===//
//
//   kiln tokenize MODEL.gguf (--text FILE | --string TEXT) [--decode]
//
// Prints the token ids of a text under a GGUF file's tokenizer, space-
// separated on one line; with --decode, reads ids and prints their text.
// The tokenizer `kiln generate` and `kiln perplexity` use, on its own.
//
//===----------------------------------------------------------------------===//

#include "compiler/driver/Commands.h"
#include "compiler/llm/BpeTokenizer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"


using namespace mlir::kiln;
namespace cl = llvm::cl;

cl::SubCommand mlir::kiln::tokenizeCommand(
    "tokenize", "Print the token ids of a text under a GGUF file's tokenizer");
cl::OptionCategory mlir::kiln::tokenizeCategory("kiln tokenize options");

namespace {

cl::opt<std::string> ggufPath(cl::Positional, cl::Required,
                              cl::desc("<model.gguf>"),
                              cl::sub(tokenizeCommand),
                              cl::cat(tokenizeCategory));
cl::opt<std::string> textPath("text", cl::desc("The text, from a file"),
                              cl::value_desc("file"), cl::sub(tokenizeCommand),
                              cl::cat(tokenizeCategory));
cl::opt<std::string> text("string", cl::desc("The text itself"),
                          cl::sub(tokenizeCommand), cl::cat(tokenizeCategory));
cl::opt<bool> decode("decode",
                     cl::desc("Read space-separated ids and print their text"),
                     cl::init(false), cl::sub(tokenizeCommand),
                     cl::cat(tokenizeCategory));

int fail(const std::string &message) {
  llvm::errs() << "kiln: error: " << message << "\n";
  return 1;
}

} // namespace

int mlir::kiln::runTokenizeCommand() {
  if (textPath.empty() == text.empty())
    return fail("give the text once: --text FILE or --string TEXT");
  std::string input = text;
  if (!textPath.empty()) {
    std::optional<std::string> contents = readFileBytes(textPath);
    if (!contents)
      return fail(textPath + ": cannot read the file");
    input = std::move(*contents);
  }
  std::string error;
  std::unique_ptr<::kiln::llm::BpeTokenizer> tokenizer =
      ::kiln::llm::BpeTokenizer::fromGgufFile(ggufPath, error);
  if (!tokenizer)
    return fail(error);
  if (decode) {
    llvm::SmallVector<llvm::StringRef> parts;
    llvm::StringRef(input).split(parts, ' ', -1, false);
    for (llvm::StringRef part : parts) {
      int64_t id;
      if (part.trim().getAsInteger(10, id) || id < 0 ||
          id >= tokenizer->vocabularySize())
        return fail("'" + part.trim().str() +
                    "' is not a token id of the "
                    "vocabulary");
      llvm::outs() << tokenizer->decode(id);
    }
    return 0;
  }
  std::vector<int64_t> ids = tokenizer->encode(input);
  for (size_t i = 0; i < ids.size(); ++i)
    llvm::outs() << (i ? " " : "") << ids[i];
  llvm::outs() << "\n";
  return 0;
}
