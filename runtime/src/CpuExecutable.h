//===- CpuExecutable.h - a package's CPU code, loaded -----------*- C++ -*-===//

#ifndef KILN_RUNTIME_CPUEXECUTABLE_H
#define KILN_RUNTIME_CPUEXECUTABLE_H

#include "runtime/src/Status.h"

#include <cstdint>
#include <memory>

namespace kiln::runtime {

/// The shared object of a package's code section, loaded with the dynamic
/// loader from an anonymous in-memory file (never written to disk).
class CpuExecutable {
public:
  /// `void kiln_entry(void **args)`: see codegen/cpu/EntryPoint.cpp.
  using EntryPoint = void (*)(void **);

  static kiln_status_t load(const uint8_t *code, uint64_t size,
                            std::unique_ptr<CpuExecutable> &out_executable);
  ~CpuExecutable();

  EntryPoint entryPoint() const { return entry_; }

private:
  CpuExecutable() = default;
  void *handle_ = nullptr;
  EntryPoint entry_ = nullptr;
};

} // namespace kiln::runtime

#endif // KILN_RUNTIME_CPUEXECUTABLE_H
