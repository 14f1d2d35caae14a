//===- HostSteps.h - a CUDA schedule's host steps ---------------*- C++ -*-===//
//
// A CUDA package whose sizes are known only at run time carries, besides
// its kernels, the steps the host takes to run them (package::CudaHostStep):
// size arithmetic on the inputs' dimensions, allocations and launches with
// grids and arguments from 64-bit slots. The interpreter is shared by the
// emulator and the driver; a HostStepDevice does the device's part.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDA_HOSTSTEPS_H
#define KILN_RUNTIME_CUDA_HOSTSTEPS_H

#include "runtime/format/PackageFormat.h"
#include "runtime/src/Status.h"

#include <cstdint>
#include <vector>

namespace kiln::runtime {

/// Device memory and launches, for the host steps. Pointers are 64-bit
/// device addresses.
class HostStepDevice {
public:
  virtual ~HostStepDevice() = default;
  virtual kiln_status_t allocate(uint64_t bytes, uint64_t &pointer) = 0;
  virtual void release(uint64_t pointer) = 0;
  /// Output `output`'s buffer; it outlives the run.
  virtual kiln_status_t allocateOutput(uint32_t output, uint64_t bytes,
                                       uint64_t &pointer) = 0;
  /// `params` as cuLaunchKernel takes them: a pointer to each parameter.
  virtual kiln_status_t launch(uint32_t kernel, const uint32_t (&grid)[3],
                               void **params) = 0;
  /// Copies `bytes` at `pointer` to `host` once the kernels launched so far
  /// have finished.
  virtual kiln_status_t read(uint64_t pointer, uint64_t bytes, void *host) = 0;
};

/// Runs `schedule`'s steps. `roots` holds the weights, the workspace and
/// the inputs (device pointers); `inputShapes` the inputs' shapes. Sets
/// each output's shape. Buffers the steps allocate are freed on return,
/// also on failure; outputs are the device's.
kiln_status_t runHostSteps(const package::CudaSchedule &schedule,
                           const std::vector<uint64_t> &roots,
                           const std::vector<std::vector<int64_t>> &inputShapes,
                           size_t outputCount, HostStepDevice &device,
                           std::vector<std::vector<int64_t>> &outputShapes);

} // namespace kiln::runtime

#endif // KILN_RUNTIME_CUDA_HOSTSTEPS_H
