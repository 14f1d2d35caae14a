//===- CenterKeys.cpp - kiln-quant-center-keys ----------------------------===//
//
// Subtracting one vector c from every key a query sees shifts each of its
// scores by the same q . c, which the softmax cancels: the attention is
// unchanged. A 4-bit key cache quantizes each token's keys with one range,
// and a head's keys share a large offset (RoPE's slow pairs barely turn,
// so the projection's mean survives it); subtracting that mean before the
// cache leaves the range to what varies from token to token. The offset
// is the keys' mean over the calibration rows as the cache receives them,
// after RoPE (calibration's `cache_mean`): RoPE turns its fast pairs'
// keys around zero, so the key projection's own mean, which calibration
// statistics of an earlier format give instead, is an offset those
// channels do not have (SmolLM2, KV4 alone in emulation: +7.4% with the
// projection's mean, +4.2% with the keys' own; README). The attention is
// exact for any c.
//
//===----------------------------------------------------------------------===//

#include "passes/quant/HostMath.h"
#include "passes/quant/InputScaling.h"
#include "passes/quant/KeyCaches.h"
#include "passes/quant/Passes.h"
#include "passes/quant/WeightProducts.h"

#include "dialects/kiln/KilnAttributes.h"
#include "dialects/onnx/OnnxConstants.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_QUANTCENTERKEYSPASS
#include "passes/quant/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The mean key of each head and channel ([heads * D], head-major): the
/// keys' own as the cache received them in calibration, or else the
/// calibration rows' mean input through `keyProjection`; empty without
/// statistics that carry either.
std::vector<float> meanKeys(onnx::MatMulOp keyProjection) {
  auto stats =
      keyProjection->getAttrOfType<DictionaryAttr>(kActivationStatsAttrName);
  if (stats && stats.get("cache_mean"))
    return quant::floatsOf(stats.get("cache_mean"));
  if (!stats || !stats.get("mean"))
    return {};
  std::vector<float> mean = quant::floatsOf(stats.get("mean"));
  if (mean.empty())
    return {};
  std::vector<float> weight = quant::weightOf(keyProjection);
  int64_t k = int64_t(mean.size()), n = int64_t(weight.size()) / k;
  std::vector<float> keys(n);
  quant::multiply(mean.data(), weight.data(), keys.data(), 1, k, n);
  return keys;
}

struct QuantCenterKeysPass
    : kiln::impl::QuantCenterKeysPassBase<QuantCenterKeysPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp function = getOperation();
    int centered = 0;
    for (quant::KeyCache cache : quant::findKeyCaches(function)) {
      auto [keys, encoder] = quant::keysBeforeEncoding(cache);
      // The head size from the keys: a 4-bit cache's rows are bytes.
      auto stateType = cast<RankedTensorType>(cache.state.getType());
      auto keyType = dyn_cast<RankedTensorType>(keys.getType());
      int64_t heads = stateType.getDimSize(1);
      int64_t rank = keyType ? keyType.getRank() : 0;
      if (!keyType || !keyType.getElementType().isF32() || rank < 3 ||
          keyType.getDimSize(rank - 3) != heads)
        continue;
      int64_t headDim = keyType.getShape().back();
      std::vector<float> center = meanKeys(cache.keyProjection);
      if (int64_t(center.size()) != heads * headDim)
        continue;
      // [1, ..., heads, 1, D]: one row per head, broadcast over the tokens.
      SmallVector<int64_t> shape(rank, 1);
      shape[rank - 3] = heads;
      shape[rank - 1] = headDim;
      OpBuilder builder(cache.scores);
      builder.setInsertionPointAfterValue(keys);
      Location loc = keys.getLoc();
      Value offset = onnx::createFloatConstant(
          builder, loc, RankedTensorType::get(shape, builder.getF32Type()),
          center, "key_center");
      Value centeredKeys =
          builder.create<onnx::SubOp>(loc, keyType, keys, offset);
      quant::replaceWrittenKeys(cache, encoder, centeredKeys);
      ++centered;
    }
    if (centered == 0 && warn)
      function.emitWarning(
          "no keys to center: no session key cache of f32 keys is written "
          "from a key projection whose calibration statistics carry the "
          "mean and read by a product with a query projection");
  }
};

} // namespace
