//===- InMemoryLibrary.h - shared objects loaded from memory ----*- C++ -*-===//

#ifndef KILN_RUNTIME_INMEMORYLIBRARY_H
#define KILN_RUNTIME_INMEMORYLIBRARY_H

#include "runtime/src/Status.h"

#include <cstdint>

namespace kiln::runtime {

/// dlopen()s the ELF shared object in `code` through an anonymous
/// in-memory file (never written to disk). `what` names it in messages.
kiln_status_t loadLibraryFromMemory(const uint8_t *code, uint64_t size,
                                    const char *what, void *&out_handle);

} // namespace kiln::runtime

#endif // KILN_RUNTIME_INMEMORYLIBRARY_H
