//===- InMemoryLibrary.cpp - shared objects loaded from memory ------------===//

#include "runtime/src/InMemoryLibrary.h"

#include <cerrno>
#include <cstring>
#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

kiln_status_t kiln::runtime::loadLibraryFromMemory(const uint8_t *code,
                                                   uint64_t size,
                                                   const char *what,
                                                   void *&out_handle) {
  int fd = memfd_create("kiln-model", MFD_CLOEXEC);
  if (fd < 0)
    return makeStatus(KILN_STATUS_RESOURCE_EXHAUSTED,
                      std::string("cannot create a file for ") + what + ": " +
                          std::strerror(errno));
  for (uint64_t written = 0; written < size;) {
    ssize_t chunk = write(fd, code + written, size - written);
    if (chunk <= 0) {
      int error = errno;
      close(fd);
      return makeStatus(KILN_STATUS_RESOURCE_EXHAUSTED,
                        std::string("cannot write ") + what + ": " +
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
                      std::string("cannot load ") + what + ": " +
                          (why ? why : "unknown loader error"));
  }
  out_handle = handle;
  return nullptr;
}
