//===- Qoq.cpp - kiln-quant-qoq -------------------------------------------===//
//
// W4A8 as QServe's QoQ makes it: 4-bit weights through progressive group
// quantization (8-bit integers per output channel first, then 4-bit groups
// of those integers with integer scales), 8-bit activations with one
// scale per row at run time. With `search`, the activation-aware steps
// before it, on the calibration rows each product carries: each input's
// channels scaled as AWQ's search chooses (or the gated MLP's down
// projection alone smoothed, QServe's fixed recipe) and each group's
// clipping range searched on the 8-bit integers.
//
//===----------------------------------------------------------------------===//

#include "passes/quant/AttentionScores.h"
#include "passes/quant/ClipSearch.h"
#include "passes/quant/Gptq.h"
#include "passes/quant/InputScaling.h"
#include "passes/quant/Passes.h"
#include "passes/quant/ProgressiveQuantization.h"
#include "passes/quant/RowQuantization.h"
#include "passes/quant/ScaleSearch.h"
#include "passes/quant/WeightProducts.h"

#include "dialects/kiln/KilnAttributes.h"
#include "dialects/onnx/OnnxConstants.h"

#include <cmath>

namespace mlir::kiln {
#define GEN_PASS_DEF_QUANTQOQPASS
#include "passes/quant/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// Products sharing one input, with its calibration statistics when they
/// were gathered.
struct ProductGroup {
  Value input;
  SmallVector<onnx::MatMulOp> products;
  int64_t k = 0, rows = 0;
  std::vector<float> absMax;  // [k], empty without statistics
  std::vector<float> absMean; // [k]
  std::vector<float> samples; // [rows, k]
  /// X^T X [k, k] of every calibration row, when calibration kept it (for
  /// GPTQ's rounding).
  std::vector<double> gram;
};

/// The level-2 grid of a group of level-1 integers for GPTQ's rounding,
/// whose moved values may leave the group's range: its levels kept to
/// those of the group's extremes, which the protective range keeps within
/// a signed byte once dequantized (not so level 15 of a group spanning
/// [-119, 119]: (15 - 7) * 16 = 128).
quant::GroupParameters compensatedIntegerGrid(const float *integers,
                                              int64_t count, int64_t stride) {
  quant::GroupParameters grid =
      quant::integerGroupParametersOf(integers, count, stride);
  float low = integers[0], high = low;
  for (int64_t i = 1; i < count; ++i) {
    low = std::min(low, integers[i * stride]);
    high = std::max(high, integers[i * stride]);
  }
  float bottom = grid.level(low), top = grid.level(high);
  grid.bottom = bottom;
  grid.top = top;
  return grid;
}

/// Whether `input` is a gated MLP's hidden activation, the down
/// projection's input: the product of two computed tensors.
bool isGatedActivation(Value input) {
  auto mul = input.getDefiningOp<onnx::MulOp>();
  return mul && !onnx::getConstantElements(mul.getA(), 1) &&
         !onnx::getConstantElements(mul.getB(), 1);
}

struct QuantQoqPass : kiln::impl::QuantQoqPassBase<QuantQoqPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  /// The input scales of `group`: AWQ's search with both levels of the
  /// weights and the rows' 8-bit quantization in the loop, or (without
  /// `scale-search`) the down projection's smoothing, s = max|X|^alpha /
  /// max|W|^(1 - alpha) per channel (all ones elsewhere).
  std::vector<float>
  inputScales(const ProductGroup &group,
              const std::vector<std::vector<float>> &weights);
  /// Divides `group`'s input by `scales` and multiplies its weights'
  /// (`weights`) rows by them, its statistics following.
  void scale(ProductGroup &group, std::vector<std::vector<float>> &weights,
             ArrayRef<float> scales);
  /// `group`'s products on 4-bit weights and 8-bit rows.
  void quantize(ProductGroup &group,
                const std::vector<std::vector<float>> &weights);
};

std::vector<float>
QuantQoqPass::inputScales(const ProductGroup &group,
                          const std::vector<std::vector<float>> &weights) {
  if (!scaleSearch)
    return isGatedActivation(group.input)
               ? quant::smoothingScales(
                     group.absMax, quant::rowMaxima(weights, group.k), alpha)
               : std::vector<float>(group.k, 1.0f);
  int64_t size = groupSize;
  return quant::searchInputScales(
      group.samples, group.rows, group.absMean, weights, grid,
      [size](const std::vector<float> &weight, int64_t k, int64_t n) {
        return quant::dequantize(quant::quantizeIntegerGroups(
            quant::quantizeChannels(weight, k, n), size));
      },
      quant::fakeQuantizeRows);
}

void QuantQoqPass::scale(ProductGroup &group,
                         std::vector<std::vector<float>> &weights,
                         ArrayRef<float> scales) {
  int64_t k = group.k;
  for (std::vector<float> &weight : weights)
    quant::scaleWeightRows(weight, scales);
  quant::divideInput(group.input, group.products, scales,
                     quant::nodeName(group.products.front()));
  quant::divideRowChannels(group.samples, scales);
  if (!group.gram.empty())
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j)
        group.gram[i * k + j] /= double(scales[i]) * scales[j];
}

void QuantQoqPass::quantize(ProductGroup &group,
                            const std::vector<std::vector<float>> &weights) {
  onnx::MatMulOp first = group.products.front();
  OpBuilder builder(first);
  Value rows = quant::quantizeRows(builder, first.getLoc(), first.getA());
  // GPTQ's rounding of level 2 needs every group's grid before any
  // rounding (activation order), which keeps the grids' levels to the
  // level-1 integers' range.
  bool compensated = rounding == "gptq" && search && group.rows > 0;
  quant::CompensationPlan plan;
  if (compensated)
    plan = quant::planCompensation(
        group.gram.empty() ? quant::gramOf(group.samples, group.rows, group.k)
                           : group.gram,
        group.k, /*activationOrder=*/true);
  for (auto [op, weight] : llvm::zip(group.products, weights)) {
    int64_t k = group.k, n = int64_t(weight.size()) / k;
    quant::ChannelQuantized level1 = quant::quantizeChannels(weight, k, n);
    // Not queries and keys, as AWQ: their products' own output error says
    // little of the attention scores'.
    if (search && group.rows > 0 && !quant::feedsAttentionScores(op))
      // On the 8-bit integers: a column's error in them is its error in
      // the weights times s1, the same choice.
      quant::clipGroups(
          level1.integers, n, groupSize, group.samples, group.rows,
          [](const float *values, int64_t count, float *out) {
            quant::fakeQuantizeIntegerGroup(values, count, 1, out);
          });
    quant::ProgressiveQuantized quantized;
    if (compensated) {
      // Likewise on the integers: each column's compensation is the same
      // scaled by s1.
      quant::CompensatedRounding rounded = quant::roundCompensated(
          level1.integers, k, n, groupSize, plan, compensatedIntegerGrid);
      quantized.k = k;
      quantized.n = n;
      quantized.groupSize = groupSize;
      quantized.channelScales = level1.scales;
      quantized.values = std::move(rounded.levels);
      for (const quant::GroupParameters &grid : rounded.groups) {
        quantized.groupScales.push_back(uint8_t(grid.scale));
        quantized.zeros.push_back(uint8_t(grid.zero));
      }
    } else {
      quantized = quant::quantizeIntegerGroups(level1, groupSize);
    }

    OpBuilder here(op);
    Location loc = op.getLoc();
    op.getBMutable().assign(
        quant::createIntegerDequantize(here, op.getB().getLoc(), quantized));
    op.getAMutable().assign(rows);
    // The product of 8-bit integers, each output channel then times s1.
    here.setInsertionPointAfter(op);
    Value channelScales = quant::floatConstant(
        here, loc, RankedTensorType::get({n}, here.getF32Type()),
        quantized.channelScales,
        (quant::nodeName(op) + "_channel_scales").str());
    auto scaled = here.create<onnx::MulOp>(loc, op.getType(), op.getResult(),
                                           channelScales);
    op.getResult().replaceAllUsesExcept(scaled, scaled);
    // Two 4-bit values a byte; a byte of scale and a 4-bit zero point per
    // group; an f32 scale per output channel.
    int64_t groups = (k / groupSize) * n;
    quant::recordQuantizedWeight(op, 4 * k * n,
                                 k * n / 2 + groups + (groups + 1) / 2 + 4 * n);
  }
}

void QuantQoqPass::runOnOperation() {
  if (groupSize < 1 || grid < 1 || !(alpha >= 0 && alpha <= 1)) {
    getOperation().emitError("group-size and grid must be positive and alpha "
                             "within [0, 1]");
    return signalPassFailure();
  }
  if (rounding != "nearest" && rounding != "gptq") {
    getOperation().emitError("rounding must be 'nearest' or 'gptq', not '")
        << rounding << "'";
    return signalPassFailure();
  }
  // The rows' K from the weight where shape inference left it symbolic
  // (8-bit rows need it).
  quant::refineRowLengths(getOperation());
  SmallVector<ProductGroup> groups;
  getOperation().walk([&](onnx::MatMulOp op) {
    if (!quant::isWeightProduct(op) ||
        llvm::is_contained(exclude, quant::nodeName(op).str()))
      return;
    auto *group = llvm::find_if(
        groups, [&](ProductGroup &g) { return g.input == op.getA(); });
    if (group == groups.end()) {
      ProductGroup fresh;
      fresh.input = op.getA();
      fresh.k = quant::inputChannelsOf(op);
      if (auto stats =
              op->getAttrOfType<DictionaryAttr>(kActivationStatsAttrName)) {
        fresh.absMax = quant::floatsOf(stats.get("abs_max"));
        fresh.absMean = quant::floatsOf(stats.get("abs_mean"));
        fresh.samples = quant::floatsOf(stats.get("samples"));
        fresh.rows = fresh.k ? int64_t(fresh.samples.size()) / fresh.k : 0;
        if (Attribute gram = stats.get("gram")) {
          std::vector<float> values = quant::floatsOf(gram);
          fresh.gram.assign(values.begin(), values.end());
        }
      }
      groups.push_back(std::move(fresh));
      group = groups.end() - 1;
    }
    group->products.push_back(op);
  });

  bool failed = false;
  for (ProductGroup &group : groups)
    if (group.k % groupSize) {
      group.products.front().emitError("group size ")
          << static_cast<int64_t>(groupSize) << " does not divide the "
          << group.k << " input channels of this product (choose a divisor of "
          << group.k << ", or exclude the node)";
      failed = true;
    }
  if (failed)
    return signalPassFailure();

  // Scaled first, every group: the down projection's scales reach the up
  // projection's columns, which another group quantizes (a column's
  // scale does not change how it rounds, so the order of the searches
  // does not matter).
  for (ProductGroup &group : groups) {
    if (!search || group.absMax.empty() || group.rows == 0)
      continue;
    std::vector<std::vector<float>> weights;
    for (onnx::MatMulOp op : group.products)
      weights.push_back(quant::weightOf(op));
    std::vector<float> scales = inputScales(group, weights);
    if (llvm::all_of(scales, [](float s) { return s == 1.0f; }))
      continue;
    scale(group, weights, scales);
    for (auto [op, weight] : llvm::zip(group.products, weights))
      quant::setWeight(op, weight, "_smoothed");
  }
  for (ProductGroup &group : groups) {
    std::vector<std::vector<float>> weights;
    for (onnx::MatMulOp op : group.products)
      weights.push_back(quant::weightOf(op));
    quantize(group, weights);
  }
  getOperation().walk(
      [](Operation *op) { op->removeAttr(kActivationStatsAttrName); });
  if (groups.empty())
    getOperation().emitWarning(
        "nothing to quantize: no matrix product has a constant f32 weight "
        "(the function stays in floating point)");
}

} // namespace
