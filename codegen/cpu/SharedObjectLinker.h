//===- SharedObjectLinker.h - object code to a loadable shared object -*- C++ -*-===//

#ifndef KILN_CODEGEN_CPU_SHAREDOBJECTLINKER_H
#define KILN_CODEGEN_CPU_SHAREDOBJECTLINKER_H

#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace mlir::kiln {

/// Links a relocatable object into an ELF shared object with the system C
/// compiler driver (`cc`), against libm and libc only, refusing any other
/// undefined symbol. Returns the shared object's bytes, or nothing with
/// `error` set.
std::optional<std::string> linkSharedObject(llvm::StringRef object,
                                            std::string &error);

} // namespace mlir::kiln

#endif // KILN_CODEGEN_CPU_SHAREDOBJECTLINKER_H
