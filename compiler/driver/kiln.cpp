//===- kiln.cpp - the Kiln command-line tool ------------------------------===//
//
//   kiln compile MODEL.onnx [--emit=STAGE] [-o FILE] [--cpu=CPU]
//   kiln run MODEL.kiln --input NAME=FILE.npy ... [--output-dir DIR]
//   kiln inspect MODEL.kiln [--json]
//   kiln bench MODEL.kiln [--threads N] [--iterations N] [--json]
//   kiln generate MODEL.kiln --tokenizer MODEL.gguf --prompt TEXT
//   kiln perplexity MODEL.kiln --tokenizer MODEL.gguf --text FILE
//   kiln tokenize MODEL.gguf --text FILE
//   kiln --version
//
// Every error is one line on stderr; the exit code is then 1.
//
//===----------------------------------------------------------------------===//

#include "compiler/driver/Commands.h"

#include "llvm/Config/llvm-config.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir::kiln;
namespace cl = llvm::cl;

std::optional<std::string> mlir::kiln::readFileBytes(const std::string &path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return std::nullopt;
  return (*buffer)->getBuffer().str();
}

namespace {

void printVersion(llvm::raw_ostream &os) {
  os << "kiln " << KILN_VERSION << " (built with LLVM " << LLVM_VERSION_STRING
     << ")\n";
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  cl::SetVersionPrinter(printVersion);
  cl::HideUnrelatedOptions(
      {&compileCategory, &runCategory, &inspectCategory, &benchCategory,
       &generateCategory, &perplexityCategory, &tokenizeCategory});
  if (!cl::ParseCommandLineOptions(
          argc, argv,
          "Kiln: an ahead-of-time compiler for ONNX models\n\n"
          "  kiln compile MODEL.onnx [-o MODEL.kiln]\n"
          "  kiln run MODEL.kiln --input NAME=FILE.npy ... --output-dir DIR\n"
          "  kiln inspect MODEL.kiln\n"
          "  kiln bench MODEL.kiln [--threads N]\n"
          "  kiln generate MODEL.kiln --tokenizer MODEL.gguf --prompt TEXT\n"
          "  kiln perplexity MODEL.kiln --tokenizer MODEL.gguf --text FILE\n"
          "  kiln tokenize MODEL.gguf --text FILE\n"
          "  kiln --version\n",
          &llvm::errs()))
    return 1;
  if (compileCommand)
    return runCompileCommand();
  if (runCommand)
    return runRunCommand();
  if (inspectCommand)
    return runInspectCommand();
  if (benchCommand)
    return runBenchCommand();
  if (generateCommand)
    return runGenerateCommand();
  if (perplexityCommand)
    return runPerplexityCommand();
  if (tokenizeCommand)
    return runTokenizeCommand();
  llvm::errs() << "kiln: error: no command given; try 'kiln --help'\n";
  return 1;
}
