//===- SmoothAttention.cpp - kiln-quant-smooth-attention ------------------===//
//
// QoQ's SmoothAttention: a 4-bit key cache quantizes each token's keys with
// one range, which a few outlier channels stretch. Dividing those channels
// of the key projection by lambda and multiplying the same channels of the
// query projection by it leaves every score q.k unchanged and the keys the
// cache holds tamer. RoPE rotates channel i with channel i + D/2 (the
// halves form): both take the same lambda, so the rotation commutes.
//
//===----------------------------------------------------------------------===//

#include "passes/quant/HostMath.h"
#include "passes/quant/InputScaling.h"
#include "passes/quant/KeyCaches.h"
#include "passes/quant/Passes.h"
#include "passes/quant/WeightProducts.h"

#include "dialects/kiln/KilnAttributes.h"
#include "dialects/onnx/OnnxConstants.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>

namespace mlir::kiln {
#define GEN_PASS_DEF_QUANTSMOOTHATTENTIONPASS
#include "passes/quant/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

struct QuantSmoothAttentionPass
    : kiln::impl::QuantSmoothAttentionPassBase<QuantSmoothAttentionPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  /// The factors of each key channel (head-major, [Hkv * D]) from the
  /// calibration rows of `keyProjection`'s input; empty without them.
  std::vector<float> factorsFor(onnx::MatMulOp keyProjection, int64_t headDim);
};

std::vector<float>
QuantSmoothAttentionPass::factorsFor(onnx::MatMulOp keyProjection,
                                     int64_t headDim) {
  auto stats =
      keyProjection->getAttrOfType<DictionaryAttr>(kActivationStatsAttrName);
  if (!stats)
    return {};
  std::vector<float> rows = quant::floatsOf(stats.get("samples"));
  std::vector<float> weight = quant::weightOf(keyProjection);
  int64_t k = quant::inputChannelsOf(keyProjection);
  int64_t n = int64_t(weight.size()) / k, t = int64_t(rows.size()) / k;
  if (t == 0)
    return {};
  std::vector<float> keys(t * n);
  quant::multiply(rows.data(), weight.data(), keys.data(), t, k, n);
  // A RoPE pair's largest norm bounds both channels at every angle.
  std::vector<float> factors(n, 1.0f);
  int64_t half = headDim / 2;
  for (int64_t head = 0; head < n / headDim; ++head)
    for (int64_t i = 0; i < half; ++i) {
      int64_t first = head * headDim + i, second = first + half;
      float largest = 0;
      for (int64_t r = 0; r < t; ++r)
        largest = std::max(
            largest, std::hypot(keys[r * n + first], keys[r * n + second]));
      float factor =
          float(std::pow(double(std::max(largest, 1e-5f)), double(alpha)));
      factors[first] = factors[second] = factor;
    }
  return factors;
}

void QuantSmoothAttentionPass::runOnOperation() {
  func::FuncOp function = getOperation();
  if (!(alpha >= 0 && alpha <= 1)) {
    function.emitError("alpha must be within [0, 1], not ")
        << static_cast<double>(alpha);
    return signalPassFailure();
  }
  int smoothed = 0;
  for (quant::KeyCache cache : quant::findKeyCaches(function)) {
    BlockArgument state = cache.state;
    onnx::MatMulOp keyProjection = cache.keyProjection;
    onnx::MatMulOp queryProjection = cache.queryProjection;
    auto stateType = cast<RankedTensorType>(state.getType());
    auto readType = cast<RankedTensorType>(cache.scores.getB().getType());
    // The head size: the keys' row (the last extent of the rows the
    // product reads, transposed or not).
    int64_t heads = stateType.getDimSize(1);
    int64_t kColumns =
        cast<RankedTensorType>(keyProjection.getB().getType()).getDimSize(1);
    int64_t qColumns =
        cast<RankedTensorType>(queryProjection.getB().getType()).getDimSize(1);
    int64_t headDim = kColumns / std::max<int64_t>(heads, 1);
    if (kColumns != heads * headDim || headDim % 2 || qColumns % kColumns ||
        !llvm::is_contained(readType.getShape(), headDim))
      continue;
    std::vector<float> factors = factorsFor(keyProjection, headDim);
    if (factors.empty())
      continue;
    // Keys' columns divided; each query head's columns multiplied by its
    // key head's factors (grouped-query heads share one key head: query
    // head h reads key head h / (Hq / Hkv)).
    std::vector<float> keyWeight = quant::weightOf(keyProjection);
    for (size_t i = 0; i < keyWeight.size(); ++i)
      keyWeight[i] /= factors[i % kColumns];
    quant::setWeight(keyProjection, keyWeight, "_smooth_attention");
    // The keys the cache receives are divided alike (RoPE turns a pair
    // that shares its factor), and so is their calibration mean.
    auto stats =
        keyProjection->getAttrOfType<DictionaryAttr>(kActivationStatsAttrName);
    if (stats && stats.get("cache_mean")) {
      std::vector<float> mean = quant::floatsOf(stats.get("cache_mean"));
      for (size_t i = 0; i < mean.size(); ++i)
        mean[i] /= factors[i % kColumns];
      quant::setStatistic(keyProjection, "cache_mean", mean);
    }
    int64_t group = qColumns / kColumns;
    std::vector<float> queryWeight = quant::weightOf(queryProjection);
    for (size_t i = 0; i < queryWeight.size(); ++i) {
      int64_t column = int64_t(i) % qColumns;
      int64_t head = column / headDim / group;
      queryWeight[i] *= factors[head * headDim + column % headDim];
    }
    quant::setWeight(queryProjection, queryWeight, "_smooth_attention");
    ++smoothed;
  }
  if (smoothed == 0)
    function.emitWarning(
        "nothing to smooth: no session key cache is written from a key "
        "projection with calibration statistics and read by a product with "
        "a query projection");
}

} // namespace
