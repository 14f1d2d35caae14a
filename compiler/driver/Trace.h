//===- Trace.h - kernel profiles as Chrome traces ---------------*- C++ -*-===//
//
// `kiln bench --profile` and `kiln generate --profile` write the kernels a
// session ran as a Chrome trace (it loads in Perfetto): one complete event
// per kernel, named by its ONNX node(s), with the run it belongs to.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_DRIVER_TRACE_H
#define KILN_COMPILER_DRIVER_TRACE_H

#include "kiln/runtime.h"

#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace mlir::kiln {

/// A kernel event of one traced run, which started at `runStartUs` in the
/// trace.
struct TracedEvent {
  kiln_profile_event_t event;
  double runStartUs;
  unsigned run;
};

/// Writes `events` to `path`; false with a one-line `error` if it cannot.
bool writeTrace(const std::string &path, const std::vector<TracedEvent> &events,
                std::string &error);

/// The kernels that took longest per run (the mean over `runs` runs), on
/// `out`; `runMs` is a run's time, for their share of it.
void printSlowestKernels(const std::vector<TracedEvent> &events, unsigned runs,
                         double runMs, llvm::raw_ostream &out);

} // namespace mlir::kiln

#endif // KILN_COMPILER_DRIVER_TRACE_H
