//===- CpuExecutable.cpp - a package's CPU code, loaded -------------------===//

#include "runtime/src/CpuExecutable.h"

#include "runtime/src/ParallelRuntime.h"

#include <cerrno>
#include <cstring>
#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

using namespace kiln::runtime;

kiln_status_t
CpuExecutable::load(const uint8_t *code, uint64_t size,
                    std::unique_ptr<CpuExecutable> &out_executable) {
  int fd = memfd_create("kiln-model", MFD_CLOEXEC);
  if (fd < 0)
    return makeStatus(KILN_STATUS_RESOURCE_EXHAUSTED,
                      std::string("cannot create the code file: ") +
                          std::strerror(errno));
  for (uint64_t written = 0; written < size;) {
    ssize_t chunk = write(fd, code + written, size - written);
    if (chunk <= 0) {
      int error = errno;
      close(fd);
      return makeStatus(KILN_STATUS_RESOURCE_EXHAUSTED,
                        std::string("cannot write the code file: ") +
                            std::strerror(error));
    }
    written += static_cast<uint64_t>(chunk);
  }

  // The loader maps the object through the descriptor; the mappings keep
  // the in-memory file alive once the descriptor is closed.
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  close(fd);
  if (!handle) {
    const char *why = dlerror();
    return makeStatus(KILN_STATUS_DATA_LOSS,
                      std::string("cannot load the package's code: ") +
                          (why ? why : "unknown loader error"));
  }
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
