//===- Calibration.h - running the model to gather statistics --*- C++ -*-===//
//
// Quantization passes need to know the activations: Kiln compiles the
// floating-point model with the left operand of every weight product as an
// extra output, runs it in process over the calibration samples, and
// annotates each product with `kiln.activation_stats`.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_DRIVER_CALIBRATION_H
#define KILN_COMPILER_DRIVER_CALIBRATION_H

#include "compiler/driver/Npy.h"

#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <utility>
#include <vector>

namespace mlir::kiln {

/// One run's inputs, by name, and where they came from (for errors).
struct CalibrationSample {
  std::string origin;
  std::vector<std::pair<std::string, NpyArray>> inputs;
};

/// The samples of DIR: its .npz files in name order (at most `limit`, 0
/// for all), each holding every model input by name.
bool readCalibrationSamples(const std::string &dir, int64_t limit,
                            std::vector<CalibrationSample> &samples,
                            std::string &error);

/// Samples of a decoder built from a text: consecutive windows of `window`
/// tokens (at most `limit`, 0 for all whole windows), each with its mask,
/// positions and empty past caches, for the inputs of `module`'s main
/// function (input_ids, attention_mask, position_ids,
/// past_key_values.*).
bool calibrationSamplesFromText(ModuleOp module, const std::string &textPath,
                                const std::string &ggufPath, int64_t window,
                                int64_t limit,
                                std::vector<CalibrationSample> &samples,
                                std::string &error);

/// Writes `module` (the graph stage) as a CPU package at the path given.
using CompileForCalibration =
    std::function<LogicalResult(ModuleOp, const std::string &)>;

/// Runs `module` over `samples` and annotates each weight product of its
/// main function with the statistics of its left operand, keeping up to
/// `sampleRows` of its rows (spread over the samples) and, with `gram`, the
/// Gram matrix X^T X of all the rows of a product's input (not a
/// convolution's); a product whose rows a decoder appends to a cache
/// (`present = Concat(past, rows)`, returned) also gets `cache_mean`, the
/// mean of those rows as the cache receives them (after RoPE, for keys).
/// Progress goes to a
/// terminal on stderr. Fails with a one-line `error` for samples that do
/// not fit the model (names, dtypes, shapes) or an empty set.
LogicalResult calibrate(ModuleOp module,
                        const std::vector<CalibrationSample> &samples,
                        const CompileForCalibration &compile,
                        int64_t sampleRows, bool gram, int32_t threads,
                        std::string &error);

/// Writes the statistics on `module`'s weight products to `path`, by node
/// name, for a later compile of the same model to reuse.
bool saveCalibration(ModuleOp module, const std::string &path,
                     std::string &error);

/// Puts the statistics saved at `path` back on `module`'s weight products;
/// fails with a one-line `error` for a file that is not one or does not
/// match the model (a product missing, or of other channels).
bool loadCalibration(ModuleOp module, const std::string &path,
                     std::string &error);

} // namespace mlir::kiln

#endif // KILN_COMPILER_DRIVER_CALIBRATION_H
