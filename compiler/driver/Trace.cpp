//===- Trace.cpp - kernel profiles as Chrome traces -----------------------===//

#include "compiler/driver/Trace.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <map>

using namespace mlir::kiln;

bool mlir::kiln::writeTrace(const std::string &path,
                            const std::vector<TracedEvent> &events,
                            std::string &error) {
  llvm::json::Array trace;
  for (const TracedEvent &traced : events)
    trace.push_back(llvm::json::Object{
        {"name", traced.event.name},
        {"cat", "kernel"},
        {"ph", "X"},
        {"pid", 1},
        {"tid", 1},
        {"ts", traced.runStartUs + double(traced.event.start_ns) / 1e3},
        {"dur", double(traced.event.duration_ns) / 1e3},
        {"args", llvm::json::Object{{"run", int64_t(traced.run)},
                                    {"flops", int64_t(traced.event.flops)}}}});
  std::error_code code;
  llvm::raw_fd_ostream out(path, code);
  if (code) {
    error = "cannot write " + path + ": " + code.message();
    return false;
  }
  out << llvm::formatv("{0}", llvm::json::Value(llvm::json::Object{
                                  {"traceEvents", std::move(trace)},
                                  {"displayTimeUnit", "ms"}}))
      << "\n";
  return true;
}

void mlir::kiln::printSlowestKernels(const std::vector<TracedEvent> &events,
                                     unsigned runs, double runMs,
                                     llvm::raw_ostream &out) {
  struct Total {
    std::string name;
    uint64_t flops = 0;
    double ns = 0;
  };
  std::map<std::pair<int64_t, std::string>, Total> byKernel;
  std::vector<std::string> order;
  // A kernel is its position in the run (the same nodes may run twice).
  int64_t position = 0;
  unsigned run = ~0u;
  for (const TracedEvent &traced : events) {
    if (traced.run != run) {
      run = traced.run;
      position = 0;
    }
    Total &total = byKernel[{position++, traced.event.name}];
    total.name = traced.event.name;
    total.flops = traced.event.flops;
    total.ns += double(traced.event.duration_ns);
  }
  std::vector<Total> totals;
  for (auto &entry : byKernel)
    totals.push_back(entry.second);
  std::sort(totals.begin(), totals.end(),
            [](const Total &a, const Total &b) { return a.ns > b.ns; });
  out << "slowest kernels (mean over " << runs << " runs):\n";
  for (size_t i = 0; i < std::min<size_t>(15, totals.size()); ++i) {
    double ms = totals[i].ns / runs / 1e6;
    out << llvm::format("  %8.3f ms %5.1f%%", ms, 100.0 * ms / runMs);
    if (totals[i].flops)
      out << llvm::format(" %7.1f GFLOP/s",
                          double(totals[i].flops) / (ms * 1e6));
    else
      out << "                ";
    out << "  " << totals[i].name << "\n";
  }
}
