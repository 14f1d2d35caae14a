//===- Commands.h - the subcommands of `kiln` -------------------*- C++ -*-===//

#ifndef KILN_COMPILER_DRIVER_COMMANDS_H
#define KILN_COMPILER_DRIVER_COMMANDS_H

#include "llvm/Support/CommandLine.h"

#include <optional>
#include <string>

namespace mlir::kiln {

/// The whole of a file's bytes, or nothing when it cannot be read.
std::optional<std::string> readFileBytes(const std::string &path);

extern llvm::cl::SubCommand compileCommand;
extern llvm::cl::OptionCategory compileCategory;
/// `kiln compile`: returns the process exit code.
int runCompileCommand();

extern llvm::cl::SubCommand runCommand;
extern llvm::cl::OptionCategory runCategory;
/// `kiln run`.
int runRunCommand();

extern llvm::cl::SubCommand inspectCommand;
extern llvm::cl::OptionCategory inspectCategory;
/// `kiln inspect`.
int runInspectCommand();

extern llvm::cl::SubCommand benchCommand;
extern llvm::cl::OptionCategory benchCategory;
/// `kiln bench`.
int runBenchCommand();

extern llvm::cl::SubCommand generateCommand;
extern llvm::cl::OptionCategory generateCategory;
/// `kiln generate`.
int runGenerateCommand();

extern llvm::cl::SubCommand perplexityCommand;
extern llvm::cl::OptionCategory perplexityCategory;
/// `kiln perplexity`.
int runPerplexityCommand();

extern llvm::cl::SubCommand tokenizeCommand;
extern llvm::cl::OptionCategory tokenizeCategory;
/// `kiln tokenize`.
int runTokenizeCommand();

/// `--device=cpu|cuda|cuda-emu` of `kiln run` and `kiln bench`; the values
/// are the runtime's kiln_device_t.
enum class DeviceChoice { Default = 0, Cpu = 1, Cuda = 2, CudaEmulator = 3 };
llvm::cl::ValuesClass deviceValues();

} // namespace mlir::kiln

#endif // KILN_COMPILER_DRIVER_COMMANDS_H
