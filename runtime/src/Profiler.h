//===- Profiler.h - timing each kernel of a CPU run -------------*- C++ -*-===//
//
// The compiled code calls kiln_kernel_begin/end (through the table of
// ParallelAbi.h) around each kernel, on the thread that runs the model.
// While a ScopedProfile is alive on that thread, the calls record one
// event per kernel; otherwise they return at once.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_PROFILER_H
#define KILN_RUNTIME_PROFILER_H

#include <cstdint>
#include <vector>

namespace kiln::runtime {

struct KernelEvent {
  /// Index into the manifest's kernels.
  int32_t kernel;
  /// Since the run began.
  uint64_t startNs;
  uint64_t durationNs;
};

/// Records the kernels run on this thread into `events` (cleared first)
/// while it lives; with null `events`, records nothing.
class ScopedProfile {
public:
  explicit ScopedProfile(std::vector<KernelEvent> *events);
  ~ScopedProfile();
  ScopedProfile(const ScopedProfile &) = delete;
  ScopedProfile &operator=(const ScopedProfile &) = delete;

private:
  std::vector<KernelEvent> *previous_;
  uint64_t previousStart_;
};

/// The code's entry points.
void kernelBegin(int32_t kernel);
void kernelEnd(int32_t kernel);

} // namespace kiln::runtime

#endif // KILN_RUNTIME_PROFILER_H
