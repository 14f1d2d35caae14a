//===- SmoothQuant.cpp - kiln-quant-smoothquant ---------------------------===//
//
// W8A8: activation outliers moved into the weights by per-channel
// smoothing, then weights and activations in signed 8 bits, the
// activations' scale fixed at compile time from the calibration's maxima,
// or (dynamic) one scale per row computed at run time.
// The result is the quantize / dequantize form the layout passes turn
// into integer contractions.
//
//===----------------------------------------------------------------------===//

#include "passes/quant/HostMath.h"
#include "passes/quant/InputScaling.h"
#include "passes/quant/Passes.h"
#include "passes/quant/RowQuantization.h"
#include "passes/quant/WeightProducts.h"

#include "dialects/kiln/KilnAttributes.h"
#include "dialects/onnx/OnnxConstants.h"

#include "llvm/Support/Parallel.h"

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
  std::vector<float> absMax;  // [K]
  std::vector<float> samples; // [rows, K], for the search
  /// The maxima over the rows after each sequence's first, when
  /// calibration kept them (a product's rows of a sequence).
  std::vector<float> absMaxAfterFirst;
  /// Whether a row beyond the static range (the attention sink's) takes
  /// a scale of its own, max|x_row| / 127, instead of being clipped.
  bool ownScaleRows = false;

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

/// The symmetric scale of each column of `weight` [K, N] for integers in
/// [-levels, levels].
std::vector<float> columnScales(const std::vector<float> &weight, int64_t n,
                                float levels) {
  std::vector<float> scales(n, 0.0f);
  for (size_t i = 0; i < weight.size(); ++i)
    scales[i % n] = std::max(scales[i % n], std::fabs(weight[i]));
  for (float &scale : scales)
    scale = scale > 0 ? scale / levels : 1.0f;
  return scales;
}

/// `value` / `scale` rounded to a signed 8-bit integer in [-limit, limit].
float roundTo8Bits(float value, float scale, float limit) {
  return std::clamp(std::nearbyint(value / scale), -limit, limit);
}

/// The output error of the products of `group` (`weights` [K, N] as read,
/// `references` their outputs) on its rows [T, K] when the rows are
/// divided by `smoothing` and quantized with one scale (from the smoothed
/// maxima), and the weights, multiplied by it, quantized per column: what
/// the pass would make of them.
double quantizedError(const ProductGroup &group,
                      ArrayRef<std::vector<float>> weights,
                      ArrayRef<std::vector<float>> references,
                      const std::vector<float> &smoothing, float weightLevels) {
  int64_t k = int64_t(group.absMax.size());
  int64_t t = int64_t(group.samples.size()) / k;
  float range = 0;
  for (int64_t c = 0; c < k; ++c)
    range = std::max(range, group.absMax[c] / smoothing[c]);
  std::vector<float> rows(group.samples.size());
  for (int64_t r = 0; r < t; ++r) {
    float step = range / 127.0f;
    if (group.ownScaleRows)
      for (int64_t c = 0; c < k; ++c)
        step = std::max(
            step, std::fabs(group.samples[r * k + c] / smoothing[c]) / 127.0f);
    for (int64_t c = 0; c < k; ++c)
      rows[r * k + c] =
          roundTo8Bits(group.samples[r * k + c] / smoothing[c], step, 128) *
          step;
  }
  double error = 0;
  for (auto [weight, reference] : llvm::zip(weights, references)) {
    int64_t n = int64_t(weight.size()) / k;
    std::vector<float> scaled(weight.size());
    for (int64_t c = 0; c < k; ++c)
      for (int64_t j = 0; j < n; ++j)
        scaled[c * n + j] = weight[c * n + j] * smoothing[c];
    std::vector<float> scales = columnScales(scaled, n, weightLevels);
    for (size_t i = 0; i < scaled.size(); ++i)
      scaled[i] =
          roundTo8Bits(scaled[i], scales[i % n], weightLevels) * scales[i % n];
    std::vector<float> out(t * n);
    quant::multiply(rows.data(), scaled.data(), out.data(), t, k, n);
    error += quant::squaredDistance(out.data(), reference.data(), t * n);
  }
  return error;
}

/// `weight` (of `type`) as signed integers in [-levels, levels] with a
/// symmetric scale per index along `axis` (the output channels: the
/// columns of a [K, N] weight, the filters of a convolution's), as
/// `kiln.dequantize` of 8-bit constants.
Value quantizeChannels(OpBuilder &builder, Location loc,
                       const std::vector<float> &weight, RankedTensorType type,
                       int64_t axis, float levels, StringRef name) {
  int64_t extent = type.getDimSize(axis), stride = 1;
  for (int64_t d = axis + 1; d < type.getRank(); ++d)
    stride *= type.getDimSize(d);
  auto channel = [&](size_t i) { return int64_t(i) / stride % extent; };
  std::vector<float> scales(extent, 0.0f);
  for (size_t i = 0; i < weight.size(); ++i)
    scales[channel(i)] = std::max(scales[channel(i)], std::fabs(weight[i]));
  for (float &scale : scales)
    scale = scale > 0 ? scale / levels : 1.0f;
  std::vector<char> values(weight.size());
  for (size_t i = 0; i < weight.size(); ++i)
    values[i] =
        char(int8_t(roundTo8Bits(weight[i], scales[channel(i)], levels)));
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

/// How far the first rows of each sequence must widen a group's static
/// range for the other rows to set it: by 5% (less would gain the other
/// rows too little for a reduction over each row at run time). On
/// SmolLM2 it reaches 2.2 times.
constexpr float kFirstRowsWidening = 1.05f;

/// Whether `group`'s rows beyond a static range from the rows after each
/// sequence's first should take scales of their own: products' rows of a
/// static K, whose first rows widen the range at least
/// kFirstRowsWidening times.
bool ownScaleRows(const ProductGroup &group) {
  if (group.absMaxAfterFirst.size() != group.absMax.size() ||
      group.absMax.empty() || group.products().size() != group.ops.size() ||
      !quant::hasStaticRows(group.input))
    return false;
  float every = *std::max_element(group.absMax.begin(), group.absMax.end());
  float afterFirst = *std::max_element(group.absMaxAfterFirst.begin(),
                                       group.absMaxAfterFirst.end());
  return afterFirst > 0 && std::isfinite(every) &&
         every >= kFirstRowsWidening * afterFirst;
}

struct QuantSmoothQuantPass
    : kiln::impl::QuantSmoothQuantPassBase<QuantSmoothQuantPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  /// The weights' integers: [-127, 127], or [-63, 63] when narrow.
  float weightLevels() const { return narrowWeights ? 63.0f : 127.0f; }
  /// The smoothing of `group`: for `alpha`, or the best of the grid's.
  std::vector<float> chooseScales(const ProductGroup &group,
                                  ArrayRef<std::vector<float>> weights);
};

std::vector<float>
QuantSmoothQuantPass::chooseScales(const ProductGroup &group,
                                   ArrayRef<std::vector<float>> weights) {
  int64_t k = int64_t(group.absMax.size());
  int64_t t = int64_t(group.samples.size()) / k;
  std::vector<float> weightMax = quant::rowMaxima(weights, k);
  if (grid < 1 || t == 0)
    return quant::smoothingScales(group.absMax, weightMax, alpha);
  std::vector<std::vector<float>> references;
  for (const std::vector<float> &weight : weights) {
    int64_t n = int64_t(weight.size()) / k;
    references.emplace_back(t * n);
    quant::multiply(group.samples.data(), weight.data(),
                    references.back().data(), t, k, n);
  }
  // Candidates: alpha = 0, 1/grid, ..., 1, and no smoothing at all.
  std::vector<std::vector<float>> candidates;
  for (int64_t i = 0; i <= grid; ++i)
    candidates.push_back(quant::smoothingScales(group.absMax, weightMax,
                                                double(i) / double(grid)));
  candidates.emplace_back(k, 1.0f);
  std::vector<double> errors(candidates.size());
  llvm::parallelFor(0, candidates.size(), [&](size_t i) {
    errors[i] = quantizedError(group, weights, references, candidates[i],
                               weightLevels());
  });
  size_t best = std::min_element(errors.begin(), errors.end()) - errors.begin();
  return candidates[best];
}

void QuantSmoothQuantPass::runOnOperation() {
  if (!(alpha >= 0 && alpha <= 1)) {
    getOperation().emitError("alpha must be within [0, 1], not ")
        << static_cast<double>(alpha);
    return signalPassFailure();
  }
  // Per-row scales (dynamic, or static rows beyond the range) need the
  // rows' K: from the weight where shape inference left it symbolic.
  quant::refineRowLengths(getOperation());
  SmallVector<ProductGroup> groups;
  getOperation().walk([&](Operation *op) {
    auto stats = op->getAttrOfType<DictionaryAttr>(kActivationStatsAttrName);
    // Per-row scales need no statistics (unless to smooth): every matrix
    // product is quantized.
    bool perRow = dynamic && isa<onnx::MatMulOp>(op) &&
                  quant::hasStaticRows(quant::activationOf(op));
    if ((!stats && !perRow) || !quant::isQuantizable(op) ||
        llvm::is_contained(exclude, quant::nodeName(op).str()))
      return;
    Value input = quant::activationOf(op);
    auto *group = llvm::find_if(
        groups, [&](ProductGroup &g) { return g.input == input; });
    if (group == groups.end()) {
      groups.push_back({input, {}, {}, {}});
      group = groups.end() - 1;
      if (stats) {
        auto absMax =
            cast<DenseElementsAttr>(stats.get("abs_max")).getValues<float>();
        auto samples =
            cast<DenseElementsAttr>(stats.get("samples")).getValues<float>();
        group->absMax.assign(absMax.begin(), absMax.end());
        group->samples.assign(samples.begin(), samples.end());
        if (auto afterFirst = dyn_cast_or_null<DenseElementsAttr>(
                stats.get("abs_max_after_first")))
          group->absMaxAfterFirst.assign(afterFirst.getValues<float>().begin(),
                                         afterFirst.getValues<float>().end());
      }
    }
    group->ops.push_back(op);
  });

  // Static scales: where each sequence's first rows widen a group's range
  // (a decoder's attention sink), the range and the smoothing come from
  // the other rows, and a row beyond it takes a scale of its own at run
  // time.
  if (!dynamic)
    for (ProductGroup &group : groups)
      group.ownScaleRows = ownScaleRows(group);
  // Convolutions are not smoothed: what produces an image (a
  // convolution, a ReLU, a residual sum) rarely absorbs a per-channel
  // scale, and CNN activations have no such outliers.
  for (ProductGroup &group : groups) {
    if (group.ownScaleRows)
      group.absMax = group.absMaxAfterFirst;
    int64_t k = int64_t(group.absMax.size());
    SmallVector<onnx::MatMulOp> products = group.products();
    if (smooth && !products.empty() && k > 0) {
      // Each weight read once: for the scales, then scaled in place.
      std::vector<std::vector<float>> weights;
      for (onnx::MatMulOp op : products)
        weights.push_back(quant::weightOf(op));
      std::vector<float> scales = chooseScales(group, weights);
      for (auto [op, weight] : llvm::zip(products, weights)) {
        quant::scaleWeightRows(weight, scales);
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
    Operation *first = group.ops.front();
    OpBuilder builder(first);
    // The rows as the products now read them: smoothing that nothing
    // absorbs put a Mul between them and `group.input`.
    Value rows = quant::activationOf(first);
    Value input;
    if (dynamic && group.products().size() == group.ops.size() &&
        quant::hasStaticRows(rows)) {
      input = quant::quantizeRows(builder, first->getLoc(), rows);
    } else {
      if (group.absMax.empty())
        continue;
      float range = *std::max_element(group.absMax.begin(), group.absMax.end());
      if (!(range > 0) || !std::isfinite(range))
        continue;
      input = group.ownScaleRows ? quant::quantizeRows(builder, first->getLoc(),
                                                       rows, range / 127.0f)
                                 : quantizeActivation(builder, first->getLoc(),
                                                      rows, range / 127.0f);
    }
    for (Operation *op : group.ops) {
      Value weight = op->getOperand(1);
      // A byte a value, an f32 scale per output channel.
      auto weightType = cast<RankedTensorType>(weight.getType());
      int64_t outputs = weightType.getDimSize(isa<onnx::ConvOp>(op) ? 0 : 1);
      quant::recordQuantizedWeight(op, 4 * weightType.getNumElements(),
                                   weightType.getNumElements() + 4 * outputs);
      OpBuilder here(op);
      op->setOperand(1,
                     quantizeChannels(here, weight.getLoc(),
                                      *onnx::getConstantFloats(weight),
                                      cast<RankedTensorType>(weight.getType()),
                                      /*axis=*/isa<onnx::ConvOp>(op) ? 0 : 1,
                                      weightLevels(), quant::nodeName(op)));
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

} // namespace
