//===- ObjectEmitter.h - LLVM dialect to optimized host object code -*- C++ -*-===//

#ifndef KILN_CODEGEN_CPU_OBJECTEMITTER_H
#define KILN_CODEGEN_CPU_OBJECTEMITTER_H

#include "mlir/IR/BuiltinOps.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Target/TargetMachine.h"

#include <memory>
#include <string>
#include <vector>

namespace mlir::kiln {

/// The x86-64 machine the code is generated for.
struct CpuTarget {
  std::string triple;
  /// An LLVM CPU name: "znver4", "skylake-avx512", "x86-64-v3", ...
  std::string cpu;
  /// "+avx2,+fma,..." as LLVM spells subtarget features.
  std::string features;
  std::unique_ptr<llvm::TargetMachine> machine;

  /// The instruction-set extensions the generated code may use, among those
  /// the runtime knows how to check ("avx2", "avx512f", ...).
  std::vector<std::string> requiredFeatures() const;
};

/// `--cpu=native` (the machine compiling) or an LLVM x86-64 CPU name.
/// Returns null and sets `error` for a name LLVM does not know.
std::unique_ptr<CpuTarget> createCpuTarget(llvm::StringRef cpu,
                                           std::string &error);

/// Translates a module in the LLVM dialect to LLVM IR for `target` and runs
/// LLVM's -O3 pipeline on it. Returns null after a diagnostic on failure.
std::unique_ptr<llvm::Module> translateAndOptimize(ModuleOp module,
                                                   llvm::LLVMContext &context,
                                                   const CpuTarget &target);

/// Writes `module` as a relocatable, position-independent ELF object.
bool emitObject(llvm::Module &module, const CpuTarget &target,
                llvm::raw_pwrite_stream &os, std::string &error);

} // namespace mlir::kiln

#endif // KILN_CODEGEN_CPU_OBJECTEMITTER_H
