//===- CudaToolchain.h - nvcc and the emulator build ------------*- C++ -*-===//

#ifndef KILN_CODEGEN_CUDA_CUDATOOLCHAIN_H
#define KILN_CODEGEN_CUDA_CUDATOOLCHAIN_H

#include "codegen/cuda/CudaProgram.h"
#include "runtime/format/PackageFormat.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir::kiln::cuda {

/// nvcc from $CUDA_HOME/bin, else from the PATH; fails with a message
/// saying how to get one.
std::optional<std::string> findNvcc(std::string &error);

/// Checks "sm_80,sm_90"-style names against what `nvcc --list-gpu-code`
/// accepts; the list comes back sorted, without duplicates.
std::optional<std::vector<std::string>>
parseArchitectures(const std::string &list, const std::string &nvcc,
                   std::string &error);

struct Fatbin {
  std::string bytes;
  /// Per kernel, in program order: ptxas's figures for each architecture.
  std::vector<std::vector<::kiln::package::KernelResources>> resources;
};

/// Compiles the program with nvcc into a fatbin: SASS for every
/// architecture, plus PTX for the newest.
std::optional<Fatbin> compileFatbin(const CudaProgram &program,
                                    const std::string &nvcc,
                                    const std::vector<std::string> &archs,
                                    std::string &error);

/// Compiles the same source with the host C++ compiler against the SIMT
/// emulator headers into a shared object.
std::optional<std::string> buildEmulatorLibrary(const CudaProgram &program,
                                                std::string &error);

/// Theoretical occupancy (percent of the SM's warps resident) of a kernel
/// with these resources and block size on `architecture`; 0 if unknown.
uint32_t theoreticalOccupancy(const std::string &architecture,
                              uint32_t registers, uint32_t sharedBytes,
                              uint32_t blockThreads);

} // namespace mlir::kiln::cuda

#endif // KILN_CODEGEN_CUDA_CUDATOOLCHAIN_H
