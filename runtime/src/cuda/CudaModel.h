//===- CudaModel.h - running a CUDA package ---------------------*- C++ -*-===//
//
// A CUDA package's kernels run either on a GPU, through the CUDA driver
// (loaded at run time, so this runtime needs no CUDA to run CPU packages),
// or on the CPU through the SIMT emulator, which runs the same kernels
// compiled against the emulator headers. Both follow the package's
// schedule: every kernel takes (weights, workspace, inputs..., outputs...)
// and the launches run in order.
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

class CudaModel {
public:
  virtual ~CudaModel() = default;
  virtual kiln_status_t
  createSession(std::unique_ptr<CudaSessionState> &out_state) = 0;
  /// Runs the schedule: `inputs` are host buffers of the manifest's sizes;
  /// the results land in the host buffers `outputs`.
  virtual kiln_status_t run(CudaSessionState &state,
                            const std::vector<const void *> &inputs,
                            const std::vector<void *> &outputs,
                            ThreadTeam *team) = 0;
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
