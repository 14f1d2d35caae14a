//===- FakeCudaDriver.cpp - a libcuda.so.1 that runs kernels emulated -----===//
//
// A stand-in for the NVIDIA driver, for testing the runtime's CUDA executor
// on machines without a GPU: put its directory first on LD_LIBRARY_PATH and
// `kiln run --device=cuda` talks to it exactly as to the real driver. It
// checks what a GPU would not forgive — the module image must be a fatbin,
// copies must stay inside allocations, every kernel parameter must be a
// live device pointer, nothing may be freed twice or leaked — and runs each
// launch through Kiln's SIMT emulator, with the kernels taken from the
// emulator build in the package the fatbin was mapped from.
//
// Environment:
//   KILN_FAKE_CUDA_DEVICES   how many GPUs to report (default 1)
//   KILN_FAKE_CUDA_FAIL      an entry point (e.g. cuMemAlloc_v2) that fails
//                            with CUDA_ERROR_OUT_OF_MEMORY
//
//===----------------------------------------------------------------------===//

#include "runtime/src/InMemoryLibrary.h"
#include "runtime/format/MappedPackage.h"
#include "runtime/src/cuda/Emulator.h"

#include <dlfcn.h>

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

namespace {

using CUresult = int;
using CUdeviceptr = unsigned long long;
constexpr CUresult kSuccess = 0;
constexpr CUresult kInvalidValue = 1;
constexpr CUresult kOutOfMemory = 2;
constexpr CUresult kNoDevice = 100;
constexpr CUresult kInvalidImage = 200;
constexpr CUresult kNotFound = 500;
constexpr uint32_t kFatbinMagic = 0xBA55ED50;

/// Device memory: host allocations, each remembered with its size.
class Memory {
public:
  ~Memory() {
    if (!blocks_.empty()) {
      std::fprintf(stderr, "fake CUDA driver: %zu allocations leaked\n",
                   blocks_.size());
      std::_Exit(3);
    }
  }
  CUdeviceptr allocate(size_t bytes) {
    void *block = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
    if (!block)
      return 0;
    std::lock_guard<std::mutex> lock(mutex_);
    blocks_[reinterpret_cast<CUdeviceptr>(block)] = bytes;
    return reinterpret_cast<CUdeviceptr>(block);
  }
  bool release(CUdeviceptr pointer) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!blocks_.erase(pointer))
      return false;
    std::free(reinterpret_cast<void *>(pointer));
    return true;
  }
  /// Whether [pointer, pointer + bytes) lies inside one allocation.
  bool contains(CUdeviceptr pointer, size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto next = blocks_.upper_bound(pointer);
    if (next == blocks_.begin())
      return false;
    --next;
    return pointer + bytes <= next->first + next->second;
  }

private:
  std::mutex mutex_;
  std::map<CUdeviceptr, size_t> blocks_;
};

Memory &memory() {
  static Memory instance;
  return instance;
}

/// The entry point KILN_FAKE_CUDA_FAIL names fails.
bool failing(const char *entryPoint) {
  const char *fail = std::getenv("KILN_FAKE_CUDA_FAIL");
  return fail && std::strcmp(fail, entryPoint) == 0;
}

struct Module {
  void *emulator = nullptr;
};

/// The file whose mapping holds `address` (the runtime maps packages).
std::string mappedFile(const void *address) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  auto at = reinterpret_cast<uintptr_t>(address);
  while (std::getline(maps, line)) {
    uintptr_t begin = 0, end = 0;
    if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR, &begin, &end) == 2 &&
        begin <= at && at < end) {
      size_t path = line.find('/');
      return path == std::string::npos ? "" : line.substr(path);
    }
  }
  return "";
}

/// The emulator build of the package `image` was mapped from.
void *emulatedKernels(const void *image) {
  kiln::package::OpenError error;
  std::unique_ptr<kiln::package::MappedPackage> package =
      kiln::package::MappedPackage::open(mappedFile(image), error);
  uint64_t size = 0;
  const uint8_t *code =
      package ? package->section(kiln::package::SectionKind::CudaEmulator, size)
              : nullptr;
  kiln_status_t status = nullptr;
  void *handle = nullptr;
  if (code)
    status = kiln::runtime::loadLibraryFromMemory(code, size, "kernels", handle);
  if (status || !code) {
    std::fprintf(stderr, "fake CUDA driver: cannot find the emulated kernels "
                         "of the module image: %s\n",
                 status ? kiln_status_message(status) : "no emulator build");
    kiln_status_free(status);
    return nullptr;
  }
  return handle;
}

int deviceCount() {
  const char *count = std::getenv("KILN_FAKE_CUDA_DEVICES");
  return count ? std::atoi(count) : 1;
}

} // namespace

#define FAIL_IF_ASKED(name)                                                    \
  if (failing(name))                                                           \
    return kOutOfMemory;

extern "C" {

CUresult cuInit(unsigned) {
  FAIL_IF_ASKED("cuInit");
  return deviceCount() > 0 ? kSuccess : kNoDevice;
}

CUresult cuDeviceGetCount(int *count) {
  *count = deviceCount();
  return kSuccess;
}

CUresult cuDeviceGet(int *device, int ordinal) {
  if (ordinal < 0 || ordinal >= deviceCount())
    return kInvalidValue;
  *device = ordinal;
  return kSuccess;
}

CUresult cuDevicePrimaryCtxRetain(void **context, int) {
  FAIL_IF_ASKED("cuDevicePrimaryCtxRetain");
  static int primary;
  *context = &primary;
  return kSuccess;
}

CUresult cuDevicePrimaryCtxRelease_v2(int) { return kSuccess; }

CUresult cuCtxSetCurrent(void *) { return kSuccess; }

CUresult cuModuleLoadData(void **module, const void *image) {
  FAIL_IF_ASKED("cuModuleLoadData");
  uint32_t magic;
  std::memcpy(&magic, image, sizeof magic);
  if (magic != kFatbinMagic)
    return kInvalidImage;
  void *emulator = emulatedKernels(image);
  if (!emulator)
    return kInvalidImage;
  *module = new Module{emulator};
  return kSuccess;
}

CUresult cuModuleUnload(void *module) {
  auto *loaded = static_cast<Module *>(module);
  dlclose(loaded->emulator);
  delete loaded;
  return kSuccess;
}

CUresult cuModuleGetFunction(void **function, void *module, const char *name) {
  auto *loaded = static_cast<Module *>(module);
  void *entry =
      dlsym(loaded->emulator, (std::string(name) + "_emulated").c_str());
  if (!entry)
    return kNotFound;
  // A function handle is the kernel's emulator entry point itself.
  *function = entry;
  return kSuccess;
}

CUresult cuMemAlloc_v2(CUdeviceptr *pointer, size_t bytes) {
  FAIL_IF_ASKED("cuMemAlloc_v2");
  if (!bytes)
    return kInvalidValue;
  *pointer = memory().allocate(bytes);
  return *pointer ? kSuccess : kOutOfMemory;
}

CUresult cuMemFree_v2(CUdeviceptr pointer) {
  return memory().release(pointer) ? kSuccess : kInvalidValue;
}

CUresult cuMemcpyHtoD_v2(CUdeviceptr target, const void *source, size_t bytes) {
  FAIL_IF_ASKED("cuMemcpyHtoD_v2");
  if (!memory().contains(target, bytes))
    return kInvalidValue;
  std::memcpy(reinterpret_cast<void *>(target), source, bytes);
  return kSuccess;
}

CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr target, const void *source,
                              size_t bytes, void *) {
  return cuMemcpyHtoD_v2(target, source, bytes);
}

CUresult cuMemcpyDtoHAsync_v2(void *target, CUdeviceptr source, size_t bytes,
                              void *) {
  if (!memory().contains(source, bytes))
    return kInvalidValue;
  std::memcpy(target, reinterpret_cast<const void *>(source), bytes);
  return kSuccess;
}

CUresult cuStreamCreate(void **stream, unsigned) {
  FAIL_IF_ASKED("cuStreamCreate");
  *stream = new int(0);
  return kSuccess;
}

CUresult cuStreamDestroy_v2(void *stream) {
  delete static_cast<int *>(stream);
  return kSuccess;
}

CUresult cuStreamSynchronize(void *) { return kSuccess; }

CUresult cuLaunchKernel(void *function, unsigned gridX, unsigned gridY,
                        unsigned gridZ, unsigned blockX, unsigned blockY,
                        unsigned blockZ, unsigned sharedBytes, void *,
                        void **params, void **extra) {
  FAIL_IF_ASKED("cuLaunchKernel");
  if (extra || blockX * blockY * blockZ > 1024 || gridY > 65535 ||
      gridZ > 65535)
    return kInvalidValue;
  // Kiln's kernels take 8-byte parameters: device buffers (with static
  // shapes the weights and the workspace come first) and sizes. A first
  // parameter too large for a size must be a device buffer — never a host
  // pointer.
  CUdeviceptr first = *static_cast<CUdeviceptr *>(params[0]);
  if (first >= (CUdeviceptr(1) << 32) && !memory().contains(first, 1))
    return kInvalidValue;
  kiln::runtime::EmulatedLaunch launch;
  launch.entry = reinterpret_cast<kiln_emu_entry>(function);
  launch.params = params;
  launch.grid[0] = gridX, launch.grid[1] = gridY, launch.grid[2] = gridZ;
  launch.block[0] = blockX, launch.block[1] = blockY, launch.block[2] = blockZ;
  launch.dynamicSharedBytes = sharedBytes;
  kiln_status_t status = kiln::runtime::launchEmulated(launch, nullptr);
  if (status) {
    std::fprintf(stderr, "fake CUDA driver: %s\n",
                 kiln_status_message(status));
    kiln_status_free(status);
    return kInvalidValue;
  }
  return kSuccess;
}

CUresult cuGetErrorString(CUresult result, const char **text) {
  switch (result) {
  case kInvalidValue:
    *text = "invalid argument";
    return kSuccess;
  case kOutOfMemory:
    *text = "out of memory";
    return kSuccess;
  case kNoDevice:
    *text = "no CUDA-capable device is detected";
    return kSuccess;
  case kInvalidImage:
    *text = "device kernel image is invalid";
    return kSuccess;
  case kNotFound:
    *text = "named symbol not found";
    return kSuccess;
  default:
    return kInvalidValue;
  }
}

} // extern "C"
