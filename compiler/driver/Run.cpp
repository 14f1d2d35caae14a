//===- Run.cpp - `kiln run` -----------------------------------------------===//
//
//   kiln run MODEL.kiln --input NAME=FILE.npy ... [--output-dir DIR]
//            [--threads N]
//
// Runs a package once through the runtime's C API. Each output is written
// to DIR/<name>.npy (the name made filesystem-safe) or, without
// --output-dir, printed. NumPy has no bfloat16: bfloat16 inputs are read
// from float32 arrays and bfloat16 outputs written as float32.
//
//===----------------------------------------------------------------------===//

#include "compiler/driver/Commands.h"
#include "compiler/driver/Npy.h"

#include "kiln/runtime.hpp"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <set>

using namespace mlir::kiln;
namespace cl = llvm::cl;

cl::SubCommand mlir::kiln::runCommand("run",
                                      "Run a .kiln package on .npy inputs");
cl::OptionCategory mlir::kiln::runCategory("kiln run options");

namespace {

cl::opt<std::string> packagePath(cl::Positional, cl::Required,
                                 cl::desc("<model.kiln>"), cl::sub(runCommand),
                                 cl::cat(runCategory));

cl::list<std::string>
    inputFiles("input",
               cl::desc("An input as NAME=FILE.npy, or FILE.npy for the "
                        "next input in the model's order; once per input"),
               cl::value_desc("name=file.npy"), cl::sub(runCommand),
               cl::cat(runCategory));

cl::opt<std::string>
    outputDir("output-dir",
              cl::desc("Write each output to DIR/<output name>.npy"),
              cl::value_desc("dir"), cl::sub(runCommand), cl::cat(runCategory));

cl::opt<DeviceChoice> device(
    "device", cl::desc("Where to run (by default, the package's target)"),
    deviceValues(), cl::init(DeviceChoice::Default), cl::sub(runCommand),
    cl::cat(runCategory));

cl::opt<int> threadCount("threads",
                         cl::desc("Threads to run on (0: every core)"),
                         cl::init(0), cl::sub(runCommand),
                         cl::cat(runCategory));

cl::opt<unsigned> printLimit(
    "print-limit",
    cl::desc("Values printed per output without --output-dir (default 16)"),
    cl::init(16), cl::sub(runCommand), cl::cat(runCategory));

int fail(const std::string &message) {
  llvm::errs() << "kiln: error: " << message << "\n";
  return 1;
}

/// `name` as a file name: characters other than letters, digits, '.', '-'
/// and '_' become '_', and a leading '.' gets a '_' before it.
std::string fileSafeName(const std::string &name) {
  std::string safe;
  for (char c : name)
    safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' ||
             c == '-' || c == '_')
                ? c
                : '_';
  if (safe.empty() || safe[0] == '.')
    safe = "_" + safe;
  return safe;
}

void printValue(llvm::raw_ostream &os, kiln_dtype_t dtype, const void *data,
                size_t index) {
  auto at = [&](auto *typed) { return typed[index]; };
  switch (dtype) {
  case KILN_DTYPE_FLOAT32:
    os << llvm::format("%g", at(static_cast<const float *>(data)));
    return;
  case KILN_DTYPE_FLOAT64:
    os << llvm::format("%g", at(static_cast<const double *>(data)));
    return;
  case KILN_DTYPE_BFLOAT16: {
    std::vector<uint8_t> wide =
        bfloat16ToFloat32(static_cast<const uint16_t *>(data) + index, 1);
    float value;
    std::memcpy(&value, wide.data(), 4);
    os << llvm::format("%g", value);
    return;
  }
  case KILN_DTYPE_BOOL:
    os << (at(static_cast<const uint8_t *>(data)) ? "true" : "false");
    return;
  case KILN_DTYPE_INT8:
    os << int(at(static_cast<const int8_t *>(data)));
    return;
  case KILN_DTYPE_UINT8:
    os << unsigned(at(static_cast<const uint8_t *>(data)));
    return;
  case KILN_DTYPE_INT16:
    os << at(static_cast<const int16_t *>(data));
    return;
  case KILN_DTYPE_UINT16:
    os << at(static_cast<const uint16_t *>(data));
    return;
  case KILN_DTYPE_INT32:
    os << at(static_cast<const int32_t *>(data));
    return;
  case KILN_DTYPE_UINT32:
    os << at(static_cast<const uint32_t *>(data));
    return;
  case KILN_DTYPE_INT64:
    os << at(static_cast<const int64_t *>(data));
    return;
  case KILN_DTYPE_UINT64:
    os << at(static_cast<const uint64_t *>(data));
    return;
  default:
    os << "?";
  }
}

void printOutput(const kiln_tensor_info_t &info, const kiln_tensor_t &tensor) {
  llvm::raw_ostream &os = llvm::outs();
  os << info.name << ": " << kiln_dtype_name(tensor.dtype) << "[";
  size_t count = 1;
  for (int32_t d = 0; d < tensor.rank; ++d) {
    os << (d ? "," : "") << tensor.shape[d];
    count *= size_t(tensor.shape[d]);
  }
  os << "] = [";
  for (size_t i = 0; i < count && i < printLimit; ++i) {
    os << (i ? ", " : "");
    printValue(os, tensor.dtype, tensor.data, i);
  }
  os << (count > printLimit ? ", ...]\n" : "]\n");
}

int run() {
  try {
    kiln::Model model = kiln::Model::load(
        packagePath, static_cast<kiln_device_t>(device.getValue()));

    std::vector<NpyArray> arrays(inputFiles.size());
    std::vector<std::string> names(inputFiles.size());
    std::vector<kiln_tensor_t> inputs(inputFiles.size());
    for (size_t i = 0; i < inputFiles.size(); ++i) {
      std::string file = inputFiles[i];
      size_t equals = file.find('=');
      if (equals != std::string::npos) {
        names[i] = file.substr(0, equals);
        file = file.substr(equals + 1);
      } else if (i >= model.inputCount()) {
        return fail("--input " + file + ": the model takes only " +
                    std::to_string(model.inputCount()) + " inputs");
      } else {
        names[i] = model.input(i).name;
      }
      std::string error;
      if (!readNpy(file, arrays[i], error))
        return fail("input '" + names[i] + "': " + error);
      for (size_t k = 0; k < model.inputCount(); ++k)
        if (names[i] == model.input(k).name &&
            model.input(k).dtype == KILN_DTYPE_BFLOAT16 &&
            arrays[i].dtype == KILN_DTYPE_FLOAT32) {
          arrays[i].data = float32ToBfloat16(arrays[i].data);
          arrays[i].dtype = KILN_DTYPE_BFLOAT16;
        }
      inputs[i] = {names[i].c_str(),
                   arrays[i].dtype,
                   static_cast<int32_t>(arrays[i].shape.size()),
                   arrays[i].shape.data(),
                   arrays[i].data.data(),
                   arrays[i].data.size()};
    }

    kiln::Session session(model, threadCount);
    std::vector<kiln_tensor_t> outputs(model.outputCount(), kiln_tensor_t{});
    session.run(inputs, outputs);

    if (outputDir.empty()) {
      for (size_t i = 0; i < outputs.size(); ++i)
        printOutput(model.output(i), outputs[i]);
      return 0;
    }
    if (std::error_code code = llvm::sys::fs::create_directories(outputDir))
      return fail(outputDir + ": cannot create: " + code.message());
    std::set<std::string> used;
    for (size_t i = 0; i < outputs.size(); ++i) {
      std::string base = fileSafeName(model.output(i).name), name = base;
      for (int suffix = 1; !used.insert(name).second; ++suffix)
        name = base + "_" + std::to_string(suffix);
      llvm::SmallString<256> path(outputDir.getValue());
      llvm::sys::path::append(path, name + ".npy");
      std::string error;
      kiln_tensor_t written = outputs[i];
      std::vector<uint8_t> widened;
      if (written.dtype == KILN_DTYPE_BFLOAT16) {
        widened = bfloat16ToFloat32(written.data, written.byte_size / 2);
        written.dtype = KILN_DTYPE_FLOAT32;
        written.data = widened.data();
      }
      if (!writeNpy(path.str().str(), written.dtype, written.shape,
                    written.rank, written.data, error))
        return fail("output '" + std::string(model.output(i).name) +
                    "': " + error);
    }
    return 0;
  } catch (const kiln::Error &error) {
    return fail(error.what());
  }
}

} // namespace

int mlir::kiln::runRunCommand() { return run(); }
