//===- CudaProgram.h - generated CUDA kernels and their schedule -*- C++ -*-===//

#ifndef KILN_CODEGEN_CUDA_CUDAPROGRAM_H
#define KILN_CODEGEN_CUDA_CUDAPROGRAM_H

#include "runtime/format/PackageFormat.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::kiln::cuda {

/// With static shapes every kernel takes the same parameters, in this
/// order: the weights, the workspace, each input, each output — all as byte
/// pointers to device memory. Otherwise each takes the slots its launch
/// step names (HostProgram.h).
struct CudaKernel {
  std::string name;
  uint32_t blockThreads = 0;
  /// Whether its threads wait for each other (barriers, shuffles); the
  /// emulator runs the others without fibers.
  bool cooperative = false;
  /// The ONNX nodes it computes, for messages and `kiln inspect`.
  std::string origin;
};

struct CudaLaunch {
  uint32_t kernel = 0;
  uint32_t grid[3] = {1, 1, 1};
};

struct CudaProgram {
  std::string source;
  std::vector<CudaKernel> kernels;
  /// In order; one stream. Empty when there are host steps.
  std::vector<CudaLaunch> launches;
  /// For sizes known only at run time: what the host computes, allocates
  /// and launches, in order.
  uint32_t slotCount = 0;
  std::vector<::kiln::package::CudaHostStep> steps;
};

} // namespace mlir::kiln::cuda

#endif // KILN_CODEGEN_CUDA_CUDAPROGRAM_H
