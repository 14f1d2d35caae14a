//===- Profiler.cpp - timing each kernel of a CPU run ---------------------===//

#include "runtime/src/Profiler.h"

#include <chrono>

using namespace kiln::runtime;

namespace {

thread_local std::vector<KernelEvent> *activeEvents = nullptr;
thread_local uint64_t runStartNs = 0;
thread_local uint64_t kernelStartNs = 0;

uint64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

} // namespace

ScopedProfile::ScopedProfile(std::vector<KernelEvent> *events)
    : previous_(activeEvents), previousStart_(runStartNs) {
  activeEvents = events;
  if (events) {
    events->clear();
    runStartNs = nowNs();
  }
}

ScopedProfile::~ScopedProfile() {
  activeEvents = previous_;
  runStartNs = previousStart_;
}

void kiln::runtime::kernelBegin(int32_t) {
  if (activeEvents)
    kernelStartNs = nowNs();
}

void kiln::runtime::kernelEnd(int32_t kernel) {
  if (!activeEvents)
    return;
  uint64_t end = nowNs();
  activeEvents->push_back(
      {kernel, kernelStartNs - runStartNs, end - kernelStartNs});
}
