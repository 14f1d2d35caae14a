//===- CudaModel.h - running a CUDA package ---------------------*- C++ -*-===//
//
// A CUDA package's kernels run either on a GPU, through the CUDA driver
// (loaded at run time, so this runtime needs no CUDA to run CPU packages),
// or on the CPU through the SIMT emulator, which runs the same kernels
// compiled against the emulator headers. Both follow the package's
// schedule: with static shapes every kernel takes (weights, workspace,
// inputs..., outputs...) and the launches run in order; otherwise the
// schedule's host steps (HostSteps.h) size, allocate and launch.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDA_CUDAMODEL_H
#define KILN_RUNTIME_CUDA_CUDAMODEL_H

#include "runtime/format/MappedPackage.h"
#include "runtime/src/Status.h"

#include <memory>
#include <vector>

namespace kiln::runtime {

class ThreadTeam;

/// One session's device memory and stream.
class CudaSessionState {
public:
  virtual ~CudaSessionState() = default;
};

/// A session's key/value cache as a run hands it to the schedule, whose
/// arguments after the model's inputs are the cached length (an int64
/// scalar) and the caches (their shapes follow the inputs' in
/// `inputShapes`). The caches live on the device for the session's life:
/// the driver allocates its own of `stateBytes` each at the session's
/// first run (the cache is read only where runs have written it), while
/// the emulator, whose device memory is the host's, uses the session's
/// `states` in place.
struct CudaSessionCache {
  const int64_t *length = nullptr;
  std::vector<void *> states;
  std::vector<uint64_t> stateBytes;
};

class CudaModel {
public:
  virtual ~CudaModel() = default;
  virtual kiln_status_t
  createSession(std::unique_ptr<CudaSessionState> &out_state) = 0;
  /// Whether the schedule sizes its buffers at run time (host steps).
  virtual bool sizedAtRunTime() const = 0;
  /// Runs the schedule on host buffers `inputs` of shapes `inputShapes`.
  /// With static shapes the results land in the host buffers `outputs`, of
  /// the manifest's sizes; with sizes known only at run time (the schedule
  /// has host steps) the model allocates each output with allocateBuffer
  /// (the caller releases it), and sets `outputs` and `outputShapes`.
  /// `cache`, when the package has a session cache, follows the inputs
  /// (and its shapes the inputs' in `inputShapes`).
  virtual kiln_status_t
  run(CudaSessionState &state, const std::vector<const void *> &inputs,
      const std::vector<std::vector<int64_t>> &inputShapes,
      const CudaSessionCache *cache, std::vector<void *> &outputs,
      std::vector<std::vector<int64_t>> &outputShapes, ThreadTeam *team) = 0;
};

/// The kernels on the SIMT emulator.
kiln_status_t loadEmulatedCudaModel(const package::MappedPackage &package,
                                    const std::string &path,
                                    std::unique_ptr<CudaModel> &out_model);

/// The kernels on GPU `ordinal` through libcuda.so.1; says plainly why not
/// where there is no driver or no GPU.
kiln_status_t loadDriverCudaModel(const package::MappedPackage &package,
                                  const std::string &path, int ordinal,
                                  std::unique_ptr<CudaModel> &out_model);

/// Bytes of each input and output, from the manifest's static shapes.
std::vector<uint64_t> tensorBytes(
    const std::vector<package::TensorSignature> &tensors);

} // namespace kiln::runtime

#endif // KILN_RUNTIME_CUDA_CUDAMODEL_H
