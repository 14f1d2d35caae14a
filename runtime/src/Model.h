//===- Model.h - kiln_model_t and kiln_session_t ----------------*- C++ -*-===//

#ifndef KILN_RUNTIME_MODEL_H
#define KILN_RUNTIME_MODEL_H

#include "runtime/format/MappedPackage.h"
#include "runtime/src/CpuExecutable.h"
#include "runtime/src/ParallelRuntime.h"
#include "runtime/src/Profiler.h"
#include "runtime/src/cuda/CudaModel.h"

#include <atomic>
#include <cstdlib>
#include <vector>

struct kiln_model_s {
  std::atomic<int> references{1};
  std::unique_ptr<kiln::package::MappedPackage> package;
  std::unique_ptr<kiln::runtime::CpuExecutable> executable;
  /// Set instead of `executable` for a CUDA package.
  std::unique_ptr<kiln::runtime::CudaModel> cuda;
  /// The weights section, used in place.
  const uint8_t *weights = nullptr;
  uint64_t weightsBytes = 0;

  /// kiln_tensor_info_t views of the manifest's signature.
  struct Signature {
    std::vector<kiln_tensor_info_t> infos;
    std::vector<std::vector<const char *>> dimNames;
  };
  Signature inputs, outputs;

  const kiln::package::Manifest &manifest() const {
    return package->manifest();
  }
};

struct kiln_session_s {
  std::atomic<int> references{1};
  kiln_model_t *model = nullptr;
  int32_t threads = 1;
  /// The memory plan's workspace, allocated at the first run.
  struct FreeDeleter {
    void operator()(uint8_t *p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, FreeDeleter> workspace;
  /// With a session cache: one buffer per cache, allocated at the first
  /// run, and the tokens they hold.
  std::vector<std::unique_ptr<uint8_t, FreeDeleter>> caches;
  int64_t cacheLength = 0;
  /// A CUDA model's device memory and stream, made at the first run.
  std::unique_ptr<kiln::runtime::CudaSessionState> cuda;
  /// Outputs the runtime allocated in the last run, with their shapes.
  std::vector<void *> ownedOutputs;
  std::vector<std::vector<int64_t>> ownedShapes;
  /// With profiling on, the kernels of the last run.
  bool profiling = false;
  std::vector<kiln::runtime::KernelEvent> events;
  std::vector<kiln_profile_event_t> publicEvents;
};

#endif // KILN_RUNTIME_MODEL_H
