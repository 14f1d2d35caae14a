//===- CudaToolchain.cpp - nvcc and the emulator build --------------------===//

#include "codegen/cuda/CudaToolchain.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstdlib>
#include <map>

using namespace mlir::kiln::cuda;
using ::kiln::package::KernelResources;

namespace {

struct DeviceHeader {
  const char *path;
  const char *text;
};
const DeviceHeader kDeviceHeaders[] = {
#include "codegen/cuda/DeviceHeaders.inc"
};

/// A scratch directory holding the source and the device headers, removed
/// with everything in it when it goes out of scope.
class BuildDirectory {
public:
  bool create(const CudaProgram &program, std::string &error) {
    if (auto code = llvm::sys::fs::createUniqueDirectory("kiln-cuda", root)) {
      error = "cannot create a temporary directory: " + code.message();
      return false;
    }
    for (const DeviceHeader &header : kDeviceHeaders)
      if (!write(header.path, header.text, error))
        return false;
    return write("kernels.cu", program.source, error);
  }
  ~BuildDirectory() {
    if (!root.empty())
      llvm::sys::fs::remove_directories(root);
  }
  std::string path(llvm::StringRef name) const {
    llvm::SmallString<128> full(root);
    llvm::sys::path::append(full, name);
    return full.str().str();
  }

private:
  bool write(llvm::StringRef name, llvm::StringRef text, std::string &error) {
    std::string full = path(name);
    llvm::sys::fs::create_directories(llvm::sys::path::parent_path(full));
    std::error_code code;
    llvm::raw_fd_ostream os(full, code);
    if (code) {
      error = "cannot write " + full + ": " + code.message();
      return false;
    }
    os << text;
    return true;
  }
  llvm::SmallString<128> root;
};

/// Runs a tool; on failure returns false with its diagnostics in `error`.
bool run(const std::string &program, llvm::ArrayRef<std::string> arguments,
         const std::string &logPath, const std::string &what,
         std::string &error) {
  llvm::SmallVector<llvm::StringRef> argv = {program};
  for (const std::string &argument : arguments)
    argv.push_back(argument);
  std::optional<llvm::StringRef> redirects[] = {
      std::nullopt, llvm::StringRef(logPath), llvm::StringRef(logPath)};
  std::string message;
  int status = llvm::sys::ExecuteAndWait(program, argv, std::nullopt,
                                         redirects, 0, 0, &message);
  if (status == 0)
    return true;
  auto log = llvm::MemoryBuffer::getFile(logPath);
  std::string text = log ? (*log)->getBuffer().trim().str() : message;
  // The first lines say what went wrong; keep the message one line.
  if (text.size() > 600)
    text = text.substr(0, 600) + " ...";
  std::replace(text.begin(), text.end(), '\n', ' ');
  error = what + " with " + program + " failed: " + text;
  return false;
}

std::optional<std::string> readFile(const std::string &path,
                                    std::string &error) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    error = "cannot read " + path + ": " + buffer.getError().message();
    return std::nullopt;
  }
  return (*buffer)->getBuffer().str();
}

unsigned architectureNumber(llvm::StringRef architecture) {
  unsigned number = 0;
  architecture.drop_front(3).getAsInteger(10, number);
  return number;
}

/// ptxas -v: "Compiling entry function 'K' for 'sm_80'", then the stack and
/// spill line, then "Used N registers, ... M bytes smem".
std::map<std::pair<std::string, std::string>, KernelResources>
parsePtxasReport(llvm::StringRef report) {
  std::map<std::pair<std::string, std::string>, KernelResources> figures;
  llvm::Regex entry("Compiling entry function '([A-Za-z0-9_]+)' for "
                    "'(sm_[0-9a-z]+)'");
  llvm::Regex spills("([0-9]+) bytes stack frame, ([0-9]+) bytes spill "
                     "stores, ([0-9]+) bytes spill loads");
  llvm::Regex used("Used ([0-9]+) registers");
  llvm::Regex shared("([0-9]+) bytes smem");
  KernelResources *current = nullptr;
  llvm::SmallVector<llvm::StringRef> lines;
  report.split(lines, '\n');
  for (llvm::StringRef line : lines) {
    llvm::SmallVector<llvm::StringRef> match;
    if (entry.match(line, &match)) {
      current = &figures[{match[1].str(), match[2].str()}];
      current->architecture = match[2].str();
      continue;
    }
    if (!current)
      continue;
    if (spills.match(line, &match)) {
      match[1].getAsInteger(10, current->stackBytes);
      match[2].getAsInteger(10, current->spillStoreBytes);
      match[3].getAsInteger(10, current->spillLoadBytes);
    }
    if (used.match(line, &match))
      match[1].getAsInteger(10, current->registers);
    if (shared.match(line, &match))
      match[1].getAsInteger(10, current->sharedBytes);
  }
  return figures;
}

} // namespace

std::optional<std::string> mlir::kiln::cuda::findNvcc(std::string &error) {
  if (const char *home = std::getenv("CUDA_HOME")) {
    llvm::SmallString<128> candidate(home);
    llvm::sys::path::append(candidate, "bin", "nvcc");
    if (llvm::sys::fs::can_execute(candidate))
      return candidate.str().str();
  }
  if (auto found = llvm::sys::findProgramByName("nvcc"))
    return *found;
  error = "--target=cuda needs nvcc, the CUDA compiler: install the CUDA "
          "toolkit and put nvcc on the PATH or set CUDA_HOME (or compile "
          "for the emulator alone with --cuda-arch=none)";
  return std::nullopt;
}

std::optional<std::vector<std::string>>
mlir::kiln::cuda::parseArchitectures(const std::string &list,
                                     const std::string &nvcc,
                                     std::string &error) {
  llvm::SmallString<128> log;
  if (auto code = llvm::sys::fs::createTemporaryFile("kiln-nvcc", "log", log)) {
    error = "cannot create a temporary file: " + code.message();
    return std::nullopt;
  }
  std::string known;
  bool listed = run(nvcc, {"--list-gpu-code"}, log.str().str(),
                    "listing the GPU architectures", error);
  if (listed) {
    if (std::optional<std::string> text = readFile(log.str().str(), error))
      known = *text;
    else
      listed = false;
  }
  llvm::sys::fs::remove(log);
  if (!listed)
    return std::nullopt;
  llvm::SmallVector<llvm::StringRef> knownList;
  llvm::StringRef(known).split(knownList, '\n', -1, false);
  std::vector<std::string> archs;
  llvm::SmallVector<llvm::StringRef> requested;
  llvm::StringRef(list).split(requested, ',', -1, false);
  for (llvm::StringRef name : requested) {
    name = name.trim();
    if (!llvm::any_of(knownList,
                      [&](llvm::StringRef k) { return k.trim() == name; })) {
      std::string names;
      for (llvm::StringRef k : knownList)
        names += (names.empty() ? "" : ", ") + k.trim().str();
      error = "--cuda-arch: '" + name.str() +
              "' is not an architecture this nvcc knows (it knows " + names +
              ")";
      return std::nullopt;
    }
    archs.push_back(name.str());
  }
  if (archs.empty()) {
    error = "--cuda-arch needs at least one architecture, such as sm_80";
    return std::nullopt;
  }
  std::sort(archs.begin(), archs.end(), [](const std::string &a,
                                           const std::string &b) {
    return architectureNumber(a) < architectureNumber(b);
  });
  archs.erase(std::unique(archs.begin(), archs.end()), archs.end());
  return archs;
}

std::optional<Fatbin>
mlir::kiln::cuda::compileFatbin(const CudaProgram &program,
                                const std::string &nvcc,
                                const std::vector<std::string> &archs,
                                std::string &error) {
  BuildDirectory directory;
  if (!directory.create(program, error))
    return std::nullopt;
  std::vector<std::string> arguments = {
      "-fatbin", "-std=c++17", "-O3", "-Xptxas", "-v",
      "-I" + directory.path(""), directory.path("kernels.cu"), "-o",
      directory.path("kernels.fatbin")};
  for (const std::string &arch : archs) {
    std::string number = arch.substr(3);
    arguments.push_back("-gencode");
    arguments.push_back("arch=compute_" + number + ",code=sm_" + number);
  }
  // PTX for the newest, so later GPUs can run it too.
  std::string newest = archs.back().substr(3);
  arguments.push_back("-gencode");
  arguments.push_back("arch=compute_" + newest + ",code=compute_" + newest);
  std::string logPath = directory.path("nvcc.log");
  if (!run(nvcc, arguments, logPath, "compiling the CUDA kernels", error))
    return std::nullopt;
  Fatbin fatbin;
  std::optional<std::string> bytes =
      readFile(directory.path("kernels.fatbin"), error);
  std::optional<std::string> report = readFile(logPath, error);
  if (!bytes || !report)
    return std::nullopt;
  fatbin.bytes = std::move(*bytes);
  auto figures = parsePtxasReport(*report);
  for (const CudaKernel &kernel : program.kernels) {
    std::vector<KernelResources> perArch;
    for (const std::string &arch : archs) {
      KernelResources resources = figures[{kernel.name, arch}];
      resources.architecture = arch;
      resources.occupancyPercent =
          theoreticalOccupancy(arch, resources.registers,
                               resources.sharedBytes, kernel.blockThreads);
      perArch.push_back(resources);
    }
    fatbin.resources.push_back(std::move(perArch));
  }
  return fatbin;
}

std::optional<std::string>
mlir::kiln::cuda::buildEmulatorLibrary(const CudaProgram &program,
                                       std::string &error) {
  std::string compiler;
  for (const char *name : {"c++", "g++", "clang++"})
    if (auto found = llvm::sys::findProgramByName(name)) {
      compiler = *found;
      break;
    }
  if (compiler.empty()) {
    error = "no C++ compiler (c++) on the PATH to build the kernels for the "
            "CUDA emulator; install g++ or clang";
    return std::nullopt;
  }
  BuildDirectory directory;
  if (!directory.create(program, error))
    return std::nullopt;
  std::vector<std::string> arguments = {
      "-std=c++17", "-O2", "-fPIC", "-shared", "-x", "c++",
      "-I" + directory.path(""), directory.path("kernels.cu"), "-o",
      directory.path("kernels.so"), "-Wl,--no-undefined", "-Wl,-z,now",
      "-Wl,-z,noexecstack", "-s", "-lm"};
  if (!run(compiler, arguments, directory.path("build.log"),
           "building the kernels for the CUDA emulator", error))
    return std::nullopt;
  return readFile(directory.path("kernels.so"), error);
}

uint32_t mlir::kiln::cuda::theoreticalOccupancy(const std::string &architecture,
                                                uint32_t registers,
                                                uint32_t sharedBytes,
                                                uint32_t blockThreads) {
  struct Limits {
    uint32_t maxWarps, maxBlocks, sharedPerSm;
  };
  // From the CUDA C++ Programming Guide's table of compute capabilities.
  static const std::map<unsigned, Limits> limits = {
      {75, {32, 16, 65536}},   {80, {64, 32, 167936}},
      {86, {48, 16, 102400}},  {87, {48, 16, 167936}},
      {89, {48, 24, 102400}},  {90, {64, 32, 233472}},
      {100, {64, 32, 233472}}, {120, {48, 32, 102400}}};
  auto found = limits.find(architectureNumber(architecture));
  if (found == limits.end() || blockThreads == 0)
    return 0;
  const Limits &sm = found->second;
  constexpr uint32_t kRegistersPerSm = 65536, kRegisterUnit = 256,
                     kSharedUnit = 128, kSharedReservedPerBlock = 1024;
  uint32_t warpsPerBlock = (blockThreads + 31) / 32;
  uint32_t blocks = std::min(sm.maxBlocks, sm.maxWarps / warpsPerBlock);
  if (registers) {
    uint32_t perWarp =
        (registers * 32 + kRegisterUnit - 1) / kRegisterUnit * kRegisterUnit;
    blocks = std::min(blocks, (kRegistersPerSm / perWarp) / warpsPerBlock);
  }
  if (sharedBytes) {
    uint32_t perBlock = (sharedBytes + kSharedReservedPerBlock + kSharedUnit - 1) /
                        kSharedUnit * kSharedUnit;
    blocks = std::min(blocks, sm.sharedPerSm / perBlock);
  }
  return blocks * warpsPerBlock * 100 / sm.maxWarps;
}
