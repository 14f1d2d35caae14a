//===- ScaleSearch.cpp - AWQ's per-channel input scales, searched ---------===//

#include "passes/quant/ScaleSearch.h"

#include "passes/quant/HostMath.h"
#include "passes/quant/InputScaling.h"

#include "llvm/Support/Parallel.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir;

namespace mlir::kiln::quant {

namespace {

/// `absMean^alpha` per channel, normalized by sqrt(max * min).
std::vector<float> scalesFor(ArrayRef<float> absMean, double alpha) {
  std::vector<float> s(absMean.size());
  float low = std::numeric_limits<float>::max(), high = 0;
  for (size_t c = 0; c < s.size(); ++c) {
    s[c] = std::max(float(std::pow(double(absMean[c]), alpha)), 1e-4f);
    low = std::min(low, s[c]);
    high = std::max(high, s[c]);
  }
  float norm = std::sqrt(low * high);
  for (float &value : s)
    value /= norm;
  return s;
}

} // namespace

std::vector<float> searchInputScales(const std::vector<float> &samples,
                                     int64_t t, ArrayRef<float> absMean,
                                     ArrayRef<std::vector<float>> weights,
                                     int64_t grid, WeightRoundTrip roundTrip,
                                     RowsRoundTrip roundRows,
                                     ModuleOutput module) {
  int64_t k = int64_t(absMean.size());
  std::vector<std::vector<float>> references;
  std::vector<int64_t> widths;
  for (const std::vector<float> &weight : weights) {
    int64_t n = int64_t(weight.size()) / k;
    widths.push_back(n);
    references.emplace_back(t * n);
    multiply(samples.data(), weight.data(), references.back().data(), t, k, n);
  }
  std::vector<float> moduleReference;
  if (module)
    moduleReference = module(references, t);
  std::vector<double> errors(grid);
  llvm::parallelFor(0, size_t(grid), [&](size_t a) {
    std::vector<float> s = scalesFor(absMean, double(a) / double(grid));
    std::vector<float> rows(samples);
    divideRowChannels(rows, s);
    if (roundRows)
      roundRows(rows, t, k);
    double error = 0;
    std::vector<std::vector<float>> outputs;
    for (size_t i = 0; i < weights.size(); ++i) {
      int64_t n = widths[i];
      std::vector<float> scaled(weights[i]);
      scaleWeightRows(scaled, s);
      std::vector<float> quantized = roundTrip(scaled, k, n);
      std::vector<float> out(t * n);
      multiply(rows.data(), quantized.data(), out.data(), t, k, n);
      if (module)
        outputs.push_back(std::move(out));
      else
        error += squaredDistance(out.data(), references[i].data(), t * n);
    }
    if (module) {
      std::vector<float> moduleOut = module(outputs, t);
      error = squaredDistance(moduleOut.data(), moduleReference.data(),
                              int64_t(moduleOut.size()));
    }
    errors[a] = error;
  });
  size_t best = std::min_element(errors.begin(), errors.end()) - errors.begin();
  return scalesFor(absMean, double(best) / double(grid));
}

} // namespace mlir::kiln::quant
