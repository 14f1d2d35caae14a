//===- SmoothQuant.cpp - kiln-quant-smoothquant ---------------------------===//
//
// W8A8: activation outliers moved into the weights by per-channel
// smoothing, then weights and activations in signed 8 bits, the
// activations' scale fixed at compile time from the calibration's maxima.
// The result is the quantize / dequantize form the layout passes turn
// into integer contractions.
//
//===----------------------------------------------------------------------===//

#include "passes/quant/InputScaling.h"
#include "passes/quant/Passes.h"
#include "passes/quant/WeightProducts.h"

#include "dialects/kiln/KilnAttributes.h"
#include "dialects/onnx/OnnxConstants.h"

#include <cmath>

namespace mlir::kiln {
#define GEN_PASS_DEF_QUANTSMOOTHQUANTPASS
#include "passes/quant/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// Products (or convolutions) sharing one input, with that input's
/// channel maxima.
struct ProductGroup {
  Value input;
  SmallVector<Operation *> ops;
  std::vector<float> absMax; // [K]

  /// The products when every op is a weight product, which smoothing
  /// takes; empty otherwise.
  SmallVector<onnx::MatMulOp> products() const {
    SmallVector<onnx::MatMulOp> result;
    for (Operation *op : ops)
      if (auto product = dyn_cast<onnx::MatMulOp>(op))
        result.push_back(product);
    if (result.size() != ops.size())
      result.clear();
    return result;
  }
};

/// The smoothing factors of `group` for migration strength `alpha`.
std::vector<float> smoothingScales(const ProductGroup &group,
                                   ArrayRef<onnx::MatMulOp> products,
                                   double alpha) {
  int64_t k = int64_t(group.absMax.size());
  std::vector<float> weightMax(k, 0.0f);
  for (onnx::MatMulOp op : products) {
    std::vector<float> weight = quant::weightOf(op);
    int64_t n = int64_t(weight.size()) / k;
    for (int64_t c = 0; c < k; ++c)
      for (int64_t j = 0; j < n; ++j)
        weightMax[c] = std::max(weightMax[c], std::fabs(weight[c * n + j]));
  }
  std::vector<float> scales(k, 1.0f);
  for (int64_t c = 0; c < k; ++c)
    if (group.absMax[c] > 0 && weightMax[c] > 0)
      scales[c] = std::max(float(std::pow(double(group.absMax[c]), alpha) /
                                 std::pow(double(weightMax[c]), 1.0 - alpha)),
                           1e-5f);
  return scales;
}

/// `weight` (of `type`) as signed 8-bit integers with a symmetric scale
/// per index along `axis` (the output channels: the columns of a [K, N]
/// weight, the filters of a convolution's), as `kiln.dequantize` of
/// constants.
Value quantizeChannels(OpBuilder &builder, Location loc,
                       const std::vector<float> &weight, RankedTensorType type,
                       int64_t axis, StringRef name) {
  int64_t extent = type.getDimSize(axis), stride = 1;
  for (int64_t d = axis + 1; d < type.getRank(); ++d)
    stride *= type.getDimSize(d);
  auto channel = [&](size_t i) { return int64_t(i) / stride % extent; };
  std::vector<float> scales(extent, 0.0f);
  for (size_t i = 0; i < weight.size(); ++i)
    scales[channel(i)] = std::max(scales[channel(i)], std::fabs(weight[i]));
  for (float &scale : scales)
    scale = scale > 0 ? scale / 127.0f : 1.0f;
  std::vector<char> values(weight.size());
  for (size_t i = 0; i < weight.size(); ++i) {
    float q = std::nearbyint(weight[i] / scales[channel(i)]);
    values[i] = char(int8_t(std::clamp(q, -127.0f, 127.0f)));
  }
  // A weight-sized constant as a blob, a small one inline (readable IR).
  auto integerType = type.clone(builder.getI8Type());
  Value integers =
      values.size() > 64
          ? onnx::createRawConstant(builder, loc, integerType, values,
                                    (name + "_s8").str())
          : onnx::createConstant(
                builder, loc,
                DenseElementsAttr::get(
                    integerType,
                    ArrayRef(reinterpret_cast<const int8_t *>(values.data()),
                             values.size())));
  Value scaleValue = quant::floatConstant(
      builder, loc, RankedTensorType::get({extent}, builder.getF32Type()),
      scales, (name + "_scales").str());
  return builder.create<DequantizeOp>(loc, type, integers, scaleValue, Value(),
                                      axis, /*group_size=*/0);
}

/// `input` through signed 8 bits with the one scale `scale`.
Value quantizeActivation(OpBuilder &builder, Location loc, Value input,
                         float scale) {
  auto type = cast<RankedTensorType>(input.getType());
  Value scaleValue = onnx::createConstant(
      builder, loc,
      DenseElementsAttr::get(RankedTensorType::get({}, builder.getF32Type()),
                             scale));
  Value integers =
      builder.create<QuantizeOp>(loc, type.clone(builder.getI8Type()), input,
                                 scaleValue, Value(), /*axis=*/0,
                                 /*group_size=*/0);
  return builder.create<DequantizeOp>(loc, type, integers, scaleValue, Value(),
                                      /*axis=*/0, /*group_size=*/0);
}

struct QuantSmoothQuantPass
    : kiln::impl::QuantSmoothQuantPassBase<QuantSmoothQuantPass> {
  using Base::Base;

  void runOnOperation() override {
    if (!(alpha >= 0 && alpha <= 1)) {
      getOperation().emitError("alpha must be within [0, 1], not ")
          << static_cast<double>(alpha);
      return signalPassFailure();
    }
    SmallVector<ProductGroup> groups;
    getOperation().walk([&](Operation *op) {
      auto stats = op->getAttrOfType<DictionaryAttr>(kActivationStatsAttrName);
      if (!stats || !quant::isQuantizable(op) ||
          llvm::is_contained(exclude, quant::nodeName(op).str()))
        return;
      Value input = quant::activationOf(op);
      auto *group = llvm::find_if(
          groups, [&](ProductGroup &g) { return g.input == input; });
      if (group == groups.end()) {
        auto absMax =
            cast<DenseElementsAttr>(stats.get("abs_max")).getValues<float>();
        groups.push_back({input, {}, {absMax.begin(), absMax.end()}});
        group = groups.end() - 1;
      }
      group->ops.push_back(op);
    });

    // Convolutions are not smoothed: what produces an image (a
    // convolution, a ReLU, a residual sum) rarely absorbs a per-channel
    // scale, and CNN activations have no such outliers.
    for (ProductGroup &group : groups) {
      int64_t k = int64_t(group.absMax.size());
      SmallVector<onnx::MatMulOp> products = group.products();
      if (smooth && !products.empty()) {
        std::vector<float> scales = smoothingScales(group, products, alpha);
        for (onnx::MatMulOp op : products) {
          std::vector<float> weight = quant::weightOf(op);
          int64_t n = int64_t(weight.size()) / k;
          for (int64_t c = 0; c < k; ++c)
            for (int64_t j = 0; j < n; ++j)
              weight[c * n + j] *= scales[c];
          quant::setWeight(op, weight, "_smoothed");
        }
        quant::divideInput(group.input, products, scales,
                           quant::nodeName(products.front()));
        for (int64_t c = 0; c < k; ++c)
          group.absMax[c] /= scales[c];
      }
    }
    // Quantized after every group is smoothed: smoothing one group may
    // scale the columns of another's weight (the MLP's up projection).
    for (ProductGroup &group : groups) {
      float range = *std::max_element(group.absMax.begin(), group.absMax.end());
      if (!(range > 0) || !std::isfinite(range))
        continue;
      Operation *first = group.ops.front();
      OpBuilder builder(first);
      Value input = quantizeActivation(
          builder, first->getLoc(), quant::activationOf(first), range / 127.0f);
      for (Operation *op : group.ops) {
        Value weight = op->getOperand(1);
        OpBuilder here(op);
        op->setOperand(
            1, quantizeChannels(here, weight.getLoc(),
                                *onnx::getConstantFloats(weight),
                                cast<RankedTensorType>(weight.getType()),
                                /*axis=*/isa<onnx::ConvOp>(op) ? 0 : 1,
                                quant::nodeName(op)));
        op->setOperand(0, input);
      }
    }
    getOperation().walk(
        [](Operation *op) { op->removeAttr(kActivationStatsAttrName); });
    if (groups.empty())
      getOperation().emitWarning(
          "nothing to quantize: no matrix product or convolution with a "
          "constant f32 weight has calibration statistics (the function "
          "stays in floating point)");
  }
};

} // namespace
