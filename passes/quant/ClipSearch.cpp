//===- ClipSearch.cpp - per-group clipping ranges chosen on data ----------===//

#include "passes/quant/ClipSearch.h"

#include "llvm/Support/Parallel.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::kiln;

void quant::clipGroups(std::vector<float> &weight, int64_t n, int64_t groupSize,
                       const std::vector<float> &rows, int64_t t,
                       GroupFakeQuantizer fakeQuantize) {
  int64_t k = int64_t(weight.size()) / n;
  int64_t groups = k / groupSize, size = groupSize;
  // A group's output error over the rows is d^T H d for the change d of
  // its weights, H = X_g^T X_g the Gram matrix of the group's channels:
  // computed once, shared by every output channel and candidate.
  std::vector<float> gram(groups * size * size, 0.0f);
  llvm::parallelFor(0, size_t(groups), [&](size_t g) {
    float *h = gram.data() + g * size * size;
    for (int64_t r = 0; r < t; ++r) {
      const float *x = rows.data() + r * k + g * size;
      for (int64_t i = 0; i < size; ++i)
        for (int64_t j = 0; j < size; ++j)
          h[i * size + j] += x[i] * x[j];
    }
  });
  llvm::parallelFor(0, size_t(n), [&](size_t column) {
    int64_t j = int64_t(column);
    std::vector<float> original(size), candidate(size), quantized(size),
        change(size), product(size), best(size);
    for (int64_t g = 0; g < groups; ++g) {
      const float *h = gram.data() + g * size * size;
      float top = 0;
      for (int64_t i = 0; i < size; ++i) {
        original[i] = weight[(g * size + i) * n + j];
        top = std::max(top, std::fabs(original[i]));
      }
      double bestError = std::numeric_limits<double>::max();
      for (int step = 0; step < 10; ++step) {
        float bound = top * (1.0f - float(step) / 20.0f);
        for (int64_t i = 0; i < size; ++i)
          candidate[i] = std::clamp(original[i], -bound, bound);
        fakeQuantize(candidate.data(), size, quantized.data());
        for (int64_t i = 0; i < size; ++i)
          change[i] = quantized[i] - original[i];
        // H d, along H's rows (H is symmetric), then d . H d.
        std::fill(product.begin(), product.end(), 0.0f);
        for (int64_t a = 0; a < size; ++a)
          for (int64_t i = 0; i < size; ++i)
            product[i] += h[a * size + i] * change[a];
        double error = 0;
        for (int64_t i = 0; i < size; ++i)
          error += double(change[i]) * product[i];
        if (error < bestError) {
          bestError = error;
          best = candidate;
        }
      }
      for (int64_t i = 0; i < size; ++i)
        weight[(g * size + i) * n + j] = best[i];
    }
  });
}
