//===- Bench.cpp - `kiln bench` -------------------------------------------===//
//
//   kiln bench MODEL.kiln [--input NAME=FILE.npy ...] [--dim NAME=SIZE ...]
//              [--iterations N] [--warmup N] [--threads N] [--json]
//
// Times warm runs of a package through the runtime: inputs from .npy files
// or, where not given, random (floats uniform in [-1, 1), integers and
// booleans zero, which are valid indices). Symbolic dimensions of random
// inputs take --dim values (1 by default). Prints the median, p90 and
// minimum latency.
//
//===----------------------------------------------------------------------===//

#include "compiler/driver/Commands.h"
#include "compiler/driver/Npy.h"

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
    for (size_t i = 0; i < count; ++i) {
      kiln_tensor_info_t info = model.input(i);
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
      session.run(inputs, outputs);
    }
    std::vector<double> milliseconds;
    for (unsigned i = 0; i < iterations; ++i) {
      std::fill(outputs.begin(), outputs.end(), kiln_tensor_t{});
      auto start = std::chrono::steady_clock::now();
      session.run(inputs, outputs);
      auto stop = std::chrono::steady_clock::now();
      milliseconds.push_back(
          std::chrono::duration<double, std::milli>(stop - start).count());
    }
    std::sort(milliseconds.begin(), milliseconds.end());
    double median = percentile(milliseconds, 0.5);
    double p90 = percentile(milliseconds, 0.9);
    double minimum = milliseconds.front();
    int threads = threadCount ? int(threadCount) : 0;
    if (asJson) {
      llvm::json::Value root = llvm::json::Object{
          {"package", packagePath},
          {"iterations", int64_t(iterations)},
          {"warmup", int64_t(warmup)},
          {"threads", threads},
          {"median_ms", median},
          {"p90_ms", p90},
          {"min_ms", minimum}};
      llvm::outs() << llvm::formatv("{0:2}", root) << "\n";
    } else {
      llvm::outs() << llvm::format(
          "%s: %u runs after %u warm-up, %s threads: median %.3f ms, p90 "
          "%.3f ms, min %.3f ms\n",
          packagePath.c_str(), unsigned(iterations), unsigned(warmup),
          threads ? std::to_string(threads).c_str() : "all", median, p90,
          minimum);
    }
    return 0;
  } catch (const kiln::Error &error) {
    return fail(error.what());
  }
}

} // namespace

int mlir::kiln::runBenchCommand() { return bench(); }
