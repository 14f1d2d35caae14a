//===- SharedObjectLinker.cpp - object code to a loadable shared object ---===//

#include "codegen/cpu/SharedObjectLinker.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir::kiln;

namespace {

/// A temporary file removed when it goes out of scope.
struct ScopedTempFile {
  llvm::SmallString<128> path;
  ~ScopedTempFile() {
    if (!path.empty())
      llvm::sys::fs::remove(path);
  }
};

} // namespace

std::optional<std::string> mlir::kiln::linkSharedObject(llvm::StringRef object,
                                                        std::string &error) {
  std::string driver;
  for (const char *name : {"cc", "gcc", "clang"})
    if (auto found = llvm::sys::findProgramByName(name)) {
      driver = *found;
      break;
    }
  if (driver.empty()) {
    error = "no C compiler driver (cc) on the PATH to link the model's code; "
            "install gcc or clang";
    return std::nullopt;
  }

  ScopedTempFile input, output, log;
  int fd;
  if (auto code = llvm::sys::fs::createTemporaryFile("kiln-model", "o", fd,
                                                     input.path)) {
    error = "cannot create a temporary file: " + code.message();
    return std::nullopt;
  }
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << object;
  }
  if (auto code = llvm::sys::fs::createTemporaryFile("kiln-model", "so",
                                                     output.path)) {
    error = "cannot create a temporary file: " + code.message();
    return std::nullopt;
  }
  if (auto code =
          llvm::sys::fs::createTemporaryFile("kiln-link", "log", log.path)) {
    error = "cannot create a temporary file: " + code.message();
    return std::nullopt;
  }

  llvm::SmallVector<llvm::StringRef> arguments = {
      driver, "-shared", "-o", output.path, input.path,
      // Every symbol the code needs must come from libm or libc.
      "-Wl,--no-undefined", "-Wl,-z,now", "-Wl,-z,noexecstack", "-s", "-lm"};
  std::optional<llvm::StringRef> redirects[] = {
      std::nullopt, llvm::StringRef(log.path), llvm::StringRef(log.path)};
  std::string message;
  int status = llvm::sys::ExecuteAndWait(driver, arguments, std::nullopt,
                                         redirects, 0, 0, &message);
  if (status != 0) {
    auto diagnostics = llvm::MemoryBuffer::getFile(log.path);
    std::string text =
        diagnostics ? (*diagnostics)->getBuffer().trim().str() : message;
    std::replace(text.begin(), text.end(), '\n', ' ');
    error = "linking the model's code with " + driver + " failed: " + text;
    return std::nullopt;
  }
  auto linked = llvm::MemoryBuffer::getFile(output.path);
  if (!linked) {
    error = "cannot read the linked code: " + linked.getError().message();
    return std::nullopt;
  }
  return (*linked)->getBuffer().str();
}
