//===- Bench.cpp - `kiln bench` -------------------------------------------===//
//
//   kiln bench MODEL.kiln [--input NAME=FILE.npy ...] [--dim NAME=SIZE ...]
//              [--iterations N] [--warmup N] [--threads N] [--json]
//              [--profile FILE.json]
//
// Times warm runs of a package through the runtime: inputs from .npy files
// or, where not given, random (floats uniform in [-1, 1), integers and
// booleans zero, which are valid indices). Symbolic dimensions of random
// inputs take --dim values (1 by default). Prints the median, p90 and
// minimum latency, and the GFLOP/s the median achieves by the compiler's
// FLOP count. --profile records every kernel of the timed runs and writes
// them as a Chrome trace (chrome://tracing, Perfetto), and prints the
// kernels that took longest. A package with a session key/value cache
// starts every run from an empty cache: each run is a prefill.
//
//===----------------------------------------------------------------------===//

#include "compiler/driver/Commands.h"
#include "compiler/driver/Npy.h"
#include "compiler/driver/Trace.h"

#include "kiln/runtime.hpp"

#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <random>

using namespace mlir::kiln;
namespace cl = llvm::cl;

cl::SubCommand mlir::kiln::benchCommand(
    "bench", "Time warm runs of a .kiln package (median, p90, min)");
cl::OptionCategory mlir::kiln::benchCategory("kiln bench options");

namespace {

cl::opt<std::string> packagePath(cl::Positional, cl::Required,
                                 cl::desc("<model.kiln>"),
                                 cl::sub(benchCommand),
                                 cl::cat(benchCategory));

cl::list<std::string> inputFiles(
    "input", cl::desc("An input as NAME=FILE.npy; others are random"),
    cl::value_desc("name=file.npy"), cl::sub(benchCommand),
    cl::cat(benchCategory));

cl::list<std::string> dimValues(
    "dim", cl::desc("A symbolic dimension's size for random inputs"),
    cl::value_desc("name=size"), cl::sub(benchCommand),
    cl::cat(benchCategory));

cl::opt<unsigned> iterations("iterations", cl::desc("Timed runs"),
                             cl::init(100), cl::sub(benchCommand),
                             cl::cat(benchCategory));

cl::opt<unsigned> warmup("warmup", cl::desc("Untimed runs before timing"),
                         cl::init(10), cl::sub(benchCommand),
                         cl::cat(benchCategory));

cl::opt<DeviceChoice> device(
    "device", cl::desc("Where to run (by default, the package's target)"),
    deviceValues(), cl::init(DeviceChoice::Default), cl::sub(benchCommand),
    cl::cat(benchCategory));

cl::opt<int> threadCount("threads",
                         cl::desc("Threads to run on (0: every core)"),
                         cl::init(0), cl::sub(benchCommand),
                         cl::cat(benchCategory));

cl::opt<bool> asJson("json", cl::desc("Print JSON"), cl::init(false),
                     cl::sub(benchCommand), cl::cat(benchCategory));

cl::opt<std::string> profilePath(
    "profile",
    cl::desc("Write each kernel of the timed runs to FILE as a Chrome trace"),
    cl::value_desc("file.json"), cl::sub(benchCommand),
    cl::cat(benchCategory));

int fail(const std::string &message) {
  llvm::errs() << "kiln: error: " << message << "\n";
  return 1;
}

/// Splits NAME=VALUE; false without '='.
bool splitPair(const std::string &text, std::string &name,
               std::string &value) {
  size_t equals = text.find('=');
  if (equals == std::string::npos)
    return false;
  name = text.substr(0, equals);
  value = text.substr(equals + 1);
  return true;
}

/// A random array for `info`, symbolic dimensions from `dims`.
NpyArray randomInput(const kiln_tensor_info_t &info,
                     const std::map<std::string, int64_t> &dims,
                     std::mt19937 &random) {
  NpyArray array;
  array.dtype = info.dtype;
  size_t count = 1;
  for (int32_t d = 0; d < info.rank; ++d) {
    int64_t size = info.shape[d];
    if (size < 0) {
      auto found = info.dim_names[d] ? dims.find(info.dim_names[d]) : dims.end();
      size = found == dims.end() ? 1 : found->second;
    }
    array.shape.push_back(size);
    count *= size_t(size);
  }
  array.data.assign(count * kiln_dtype_size(info.dtype), 0);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  if (info.dtype == KILN_DTYPE_FLOAT32) {
    for (size_t i = 0; i < count; ++i) {
      float value = uniform(random);
      std::memcpy(array.data.data() + 4 * i, &value, 4);
    }
  } else if (info.dtype == KILN_DTYPE_FLOAT64) {
    for (size_t i = 0; i < count; ++i) {
      double value = uniform(random);
      std::memcpy(array.data.data() + 8 * i, &value, 8);
    }
  }
  return array;
}

double percentile(std::vector<double> sorted, double fraction) {
  size_t index = std::min(sorted.size() - 1,
                          size_t(fraction * double(sorted.size() - 1) + 0.5));
  return sorted[index];
}

int bench() {
  if (iterations == 0)
    return fail("--iterations must be at least 1");
  try {
    kiln::Model model = kiln::Model::load(
        packagePath, static_cast<kiln_device_t>(device.getValue()));
    std::map<std::string, int64_t> dims;
    for (const std::string &text : dimValues) {
      std::string name, value;
      char *end = nullptr;
      long long size = splitPair(text, name, value)
                           ? std::strtoll(value.c_str(), &end, 10)
                           : -1;
      if (size < 0 || !end || *end)
        return fail("--dim " + text + ": expected NAME=SIZE");
      dims[name] = size;
    }
    std::map<std::string, std::string> files;
    for (const std::string &text : inputFiles) {
      std::string name, file;
      if (!splitPair(text, name, file))
        return fail("--input " + text + ": expected NAME=FILE.npy");
      files[name] = file;
    }

    std::mt19937 random(0);
    size_t count = model.inputCount();
    std::vector<NpyArray> arrays(count);
    std::vector<kiln_tensor_t> inputs(count);
    // The compiler counts the FLOPs of static shapes only: over symbolic
    // dimensions the count would be the static kernels' alone.
    bool symbolic = false;
    for (size_t i = 0; i < count; ++i) {
      kiln_tensor_info_t info = model.input(i);
      for (int32_t d = 0; d < info.rank; ++d)
        symbolic |= info.shape[d] < 0;
      auto file = files.find(info.name);
      if (file != files.end()) {
        std::string error;
        if (!readNpy(file->second, arrays[i], error))
          return fail("input '" + std::string(info.name) + "': " + error);
        files.erase(file);
      } else {
        arrays[i] = randomInput(info, dims, random);
      }
      inputs[i] = {info.name, arrays[i].dtype,
                   static_cast<int32_t>(arrays[i].shape.size()),
                   arrays[i].shape.data(), arrays[i].data.data(),
                   arrays[i].data.size()};
    }
    if (!files.empty())
      return fail("the model has no input named '" + files.begin()->first +
                  "'");

    kiln::Session session(model, threadCount);
    std::vector<kiln_tensor_t> outputs(model.outputCount(), kiln_tensor_t{});
    for (unsigned i = 0; i < warmup; ++i) {
      std::fill(outputs.begin(), outputs.end(), kiln_tensor_t{});
      session.reset();
      session.run(inputs, outputs);
    }
    bool profiling = !profilePath.empty();
    if (profiling)
      session.setProfiling(true);
    std::vector<double> milliseconds;
    std::vector<TracedEvent> traced;
    auto first = std::chrono::steady_clock::now();
    for (unsigned i = 0; i < iterations; ++i) {
      std::fill(outputs.begin(), outputs.end(), kiln_tensor_t{});
      session.reset();
      auto start = std::chrono::steady_clock::now();
      session.run(inputs, outputs);
      auto stop = std::chrono::steady_clock::now();
      milliseconds.push_back(
          std::chrono::duration<double, std::milli>(stop - start).count());
      if (profiling) {
        double runStartUs =
            std::chrono::duration<double, std::micro>(start - first).count();
        for (const kiln_profile_event_t &event : session.profile())
          traced.push_back({event, runStartUs, i});
      }
    }
    std::sort(milliseconds.begin(), milliseconds.end());
    double median = percentile(milliseconds, 0.5);
    double p90 = percentile(milliseconds, 0.9);
    double minimum = milliseconds.front();
    int threads = threadCount ? int(threadCount) : 0;
    uint64_t flops = symbolic ? 0 : model.flops();
    double gflops = double(flops) / (median * 1e6);
    if (asJson) {
      llvm::json::Object root{{"package", packagePath},
                              {"iterations", int64_t(iterations)},
                              {"warmup", int64_t(warmup)},
                              {"threads", threads},
                              {"median_ms", median},
                              {"p90_ms", p90},
                              {"min_ms", minimum},
                              {"flops", int64_t(flops)}};
      if (flops)
        root["gflops_per_s"] = gflops;
      llvm::outs() << llvm::formatv("{0:2}", llvm::json::Value(std::move(root)))
                   << "\n";
    } else {
      llvm::outs() << llvm::format(
          "%s: %u runs after %u warm-up, %s threads: median %.3f ms, p90 "
          "%.3f ms, min %.3f ms",
          packagePath.c_str(), unsigned(iterations), unsigned(warmup),
          threads ? std::to_string(threads).c_str() : "all", median, p90,
          minimum);
      if (flops)
        llvm::outs() << llvm::format(", %.1f GFLOP/s", gflops);
      llvm::outs() << "\n";
    }
    if (profiling) {
      std::string error;
      if (!writeTrace(profilePath, traced, error))
        return fail(error);
      if (!asJson)
        printSlowestKernels(traced, iterations, median, llvm::outs());
    }
    return 0;
  } catch (const kiln::Error &error) {
    return fail(error.what());
  }
}

} // namespace

int mlir::kiln::runBenchCommand() { return bench(); }
