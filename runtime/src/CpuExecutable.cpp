//===- CpuExecutable.cpp - a package's CPU code, loaded -------------------===//

#include "runtime/src/CpuExecutable.h"

#include "runtime/src/InMemoryLibrary.h"
#include "runtime/src/ParallelRuntime.h"

#include <dlfcn.h>

using namespace kiln::runtime;

kiln_status_t
CpuExecutable::load(const uint8_t *code, uint64_t size,
                    std::unique_ptr<CpuExecutable> &out_executable) {
  void *handle = nullptr;
  KILN_RETURN_IF_ERROR(
      loadLibraryFromMemory(code, size, "the package's code", handle));
  auto entry = reinterpret_cast<EntryPoint>(dlsym(handle, "kiln_entry"));
  if (!entry) {
    dlclose(handle);
    return makeStatus(KILN_STATUS_DATA_LOSS,
                      "the package's code has no entry point kiln_entry");
  }
  if (kiln_status_t status = bindParallelRuntime(handle)) {
    dlclose(handle);
    return status;
  }
  std::unique_ptr<CpuExecutable> executable(new CpuExecutable());
  executable->handle_ = handle;
  executable->entry_ = entry;
  out_executable = std::move(executable);
  return nullptr;
}

CpuExecutable::~CpuExecutable() {
  if (handle_)
    dlclose(handle_);
}
