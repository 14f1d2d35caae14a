//===- PackContractions.cpp - kiln-layout-pack-contractions ---------------===//
//
// Data tiling: a contraction's constant weights are packed once, at
// compile time, into the tile-major layout the microkernels read with one
// vector load per tile row. The package stores only the packed copy.
// Convolutions over images of symbolic batch, height or width are packed
// the same way; their output extents are computed at run time.
//
//===----------------------------------------------------------------------===//

#include "dialects/onnx/OnnxTransposes.h"
#include "passes/layout/Passes.h"
#include "passes/layout/Windows.h"
#include "passes/quant/QuantizedOperands.h"

#include "dialects/onnx/OnnxConstants.h"
#include "dialects/onnx/OnnxDataTypes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_LAYOUTPACKCONTRACTIONSPASS
#include "passes/layout/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::quant;

namespace {

/// F0 for `filters` filters: a multiple of `step` lanes (one vector, or
/// the pair of vectors a 4-bit filter's bytes fill), at most `maxVectors`
/// vectors, wasting the fewest padded filters (the wider on ties). A
/// matrix product's (`evenTiles`) in an odd number of tiles, more than
/// one, takes the widest of those that makes an even number, if one does:
/// a decoder's step runs it on one row, its tiles split among the
/// threads, and SmolLM2's 576 outputs in 9 tiles of 64 left one of two
/// threads idle a tenth of its down and output projections (12 tiles of
/// 48 split evenly).
int64_t chooseFilterTile(int64_t filters, int64_t lanes, int64_t step = 1,
                         int64_t maxVectors = 4, bool evenTiles = false) {
  auto padded = [&](int64_t tile) {
    return llvm::divideCeil(filters, tile) * tile;
  };
  int64_t best = step * lanes;
  for (int64_t tile = best; tile <= maxVectors * lanes; tile += step * lanes)
    if (padded(tile) <= padded(best))
      best = tile;
  int64_t tiles = llvm::divideCeil(filters, best);
  if (evenTiles && tiles > 1 && tiles % 2)
    for (int64_t tile = best; tile > 0; tile -= step * lanes)
      if (padded(tile) <= padded(best) &&
          llvm::divideCeil(filters, tile) % 2 == 0)
        return tile;
  return best;
}

/// A filter being packed: weight(f, kh, kw, c) in whatever order the
/// model stores it.
struct FilterSource {
  int64_t filters, kernelH, kernelW, channels;
  std::function<float(int64_t, int64_t, int64_t, int64_t)> weight;
  /// A matrix product's weight (MatMul, Gemm), whose tiles a one-row
  /// product splits among the threads.
  bool product = false;
};

/// How contractions are packed: the vector lanes (of f32) that size the
/// filter tiles, and whether operands are bf16 or 8-bit integers, or the
/// filter alone is bf16 (in the f32 layout, for an f32 input).
struct Packing {
  int64_t lanes;
  bool bf16;
  bool int8 = false;
  bool bf16Filter = false;
  /// Adjacent channels the filter interleaves: bf16 pairs, int8 quads.
  int64_t channelsPerStep() const { return bf16 ? 2 : int8 ? 4 : 1; }
  /// The input channels the packed filter and input have: a count that
  /// is not a multiple of channelsPerStep gains zero channels.
  int64_t channels(int64_t c) const {
    return llvm::alignTo(c, channelsPerStep());
  }
  /// The most vectors of f32 or bf16 filters a tile may take. The f32
  /// microkernel keeps 12 accumulators in AVX2's 16 registers (24 in
  /// AVX-512's 32), beside the step's filter vectors and a broadcast: four
  /// AVX2 filter vectors would spill an accumulator on every step (half
  /// the speed on Zen 3), three fit. A bf16 tile (a third fewer
  /// accumulators) keeps four: measured faster than three there.
  int64_t maxFilterVectors() const { return lanes <= 8 && !bf16 ? 3 : 4; }
};

/// The constants of a packed contraction: filter and padded bias, and for
/// a 4-bit filter its groups' scales and zero points.
struct PackedWeights {
  Value filter, bias;
  Value scales = {};
  int64_t groupSize = 0;
  /// 8-bit filters: every value within [-64, 64].
  bool narrow = false;
};

/// The values of `source` in the packed order, `tile` filters a tile:
/// f32 [tiles, KH, KW, C, F0]; bf16 [tiles, KH, KW, C/2, F0, 2] and int8
/// [tiles, KH, KW, C/4, F0, 4], the channel pair or quad innermost. Either
/// way a (tile, kh, kw) block holds C * F0 values; padded filters and
/// channels are zeros.
std::vector<float> packedOrder(const FilterSource &source, int64_t tile,
                               const Packing &packing) {
  int64_t tiles = llvm::divideCeil(source.filters, tile);
  int64_t channels = packing.channels(source.channels);
  int64_t step = packing.channelsPerStep();
  std::vector<float> packed(
      tiles * source.kernelH * source.kernelW * channels * tile, 0.0f);
  for (int64_t f = 0; f < source.filters; ++f)
    for (int64_t kh = 0; kh < source.kernelH; ++kh)
      for (int64_t kw = 0; kw < source.kernelW; ++kw)
        for (int64_t c = 0; c < source.channels; ++c) {
          int64_t block =
              ((f / tile * source.kernelH + kh) * source.kernelW + kw) *
              channels * tile;
          int64_t within = (c / step * tile + f % tile) * step + c % step;
          packed[block + within] = source.weight(f, kh, kw, c);
        }
  return packed;
}

/// `bias` padded to `tiles` * `tile` values, as a constant.
Value paddedBias(PatternRewriter &rewriter, Location loc, ArrayRef<float> bias,
                 int64_t tiles, int64_t tile, StringRef name) {
  std::vector<float> padded(tiles * tile, 0.0f);
  llvm::copy(bias, padded.begin());
  auto type = RankedTensorType::get({tiles * tile}, rewriter.getF32Type());
  return onnx::createFloatConstant(rewriter, loc, type, padded,
                                   (name + "_bias").str());
}

/// The largest f32 filter panel (one filter tile's KH * KW * C * F0
/// values): two of them, the one the kernel reads and the next it
/// prefetches, and the inputs stay within a 2 MB L2.
constexpr int64_t kMostPanelBytes = 640 * 1024;

PackedWeights pack(PatternRewriter &rewriter, Location loc,
                   const FilterSource &source, ArrayRef<float> bias,
                   const Packing &packing, StringRef name) {
  int64_t maxVectors = packing.maxFilterVectors();
  if (!packing.bf16) {
    int64_t vectorPanelBytes =
        source.kernelH * source.kernelW * source.channels * packing.lanes * 4;
    maxVectors =
        std::clamp<int64_t>(kMostPanelBytes / vectorPanelBytes, 1, maxVectors);
  }
  int64_t tile = chooseFilterTile(source.filters, packing.lanes, /*step=*/1,
                                  maxVectors, source.product);
  int64_t tiles = llvm::divideCeil(source.filters, tile);
  int64_t channels = packing.channels(source.channels);
  std::vector<float> packed = packedOrder(source, tile, packing);
  Type f32 = rewriter.getF32Type();
  Value biasValue = paddedBias(rewriter, loc, bias, tiles, tile, name);
  std::vector<uint16_t> bits;
  if (packing.bf16 || packing.bf16Filter) {
    bits.resize(packed.size());
    llvm::transform(packed, bits.begin(), onnx::toBf16Bits);
  }
  if (!packing.bf16) {
    SmallVector<int64_t> shape = {tiles, source.kernelH, source.kernelW,
                                  channels, tile};
    if (packing.bf16Filter)
      return {onnx::createBf16Constant(
                  rewriter, loc,
                  RankedTensorType::get(shape, rewriter.getBF16Type()), bits,
                  (name + "_packed_bf16").str()),
              biasValue};
    return {onnx::createFloatConstant(rewriter, loc,
                                      RankedTensorType::get(shape, f32), packed,
                                      (name + "_packed").str()),
            biasValue};
  }
  auto filterType = RankedTensorType::get(
      {tiles, source.kernelH, source.kernelW, channels / 2, tile, 2},
      rewriter.getBF16Type());
  return {onnx::createBf16Constant(rewriter, loc, filterType, bits,
                                   (name + "_packed_bf16").str()),
          biasValue};
}

/// The constants of `kiln.dequantize` of a 4-bit weight [K, N] in groups
/// along K, read from the graph.
struct QuantizedWeight {
  int64_t k, n, groupSize;
  std::vector<char> values; // [K, N], a byte each
  std::vector<char> scales; // [K / G, N] f16
  std::vector<char> zeros;  // [K / G, N], a byte each
};

/// The weight `value` when it is `kiln.dequantize` of unsigned 4-bit
/// constants [K, N] in groups along K with zero points.
std::optional<QuantizedWeight> quantizedWeightOf(Value value) {
  auto dequantize = value.getDefiningOp<DequantizeOp>();
  if (!dequantize || !dequantize.getZeroPoint() || dequantize.getAxis() != 0 ||
      dequantize.getGroupSize() < 1)
    return std::nullopt;
  auto type = cast<RankedTensorType>(dequantize.getInput().getType());
  auto scaleType = cast<RankedTensorType>(dequantize.getScale().getType());
  if (type.getRank() != 2 || !type.getElementType().isUnsignedInteger(4) ||
      !scaleType.getElementType().isF16())
    return std::nullopt;
  auto values = onnx::getConstantBytes(dequantize.getInput());
  auto scales = onnx::getConstantBytes(dequantize.getScale());
  auto zeros = onnx::getConstantBytes(dequantize.getZeroPoint());
  if (!values || !scales || !zeros)
    return std::nullopt;
  return QuantizedWeight{type.getDimSize(0),
                         type.getDimSize(1),
                         int64_t(dequantize.getGroupSize()),
                         std::move(*values),
                         std::move(*scales),
                         std::move(*zeros)};
}

/// Packs a 4-bit weight for kiln.packed_conv2d as a 1x1 convolution: the
/// filter [tiles, 1, 1, K, F0 / 2] with filter i of a vector in the low
/// nibble of byte i of its run of `lanes` bytes and filter i of the next
/// vector in the high one; scales and zero points [tiles, K / G, 2, F0] in
/// f16. Padded filters are zeros throughout.
PackedWeights packInt4(PatternRewriter &rewriter, Location loc,
                       const QuantizedWeight &w, int64_t lanes,
                       StringRef name) {
  int64_t tile = chooseFilterTile(w.n, lanes, /*step=*/2, /*maxVectors=*/4,
                                  /*evenTiles=*/true);
  int64_t tiles = llvm::divideCeil(w.n, tile);
  int64_t groups = w.k / w.groupSize;
  std::vector<char> filter(tiles * w.k * tile / 2, 0);
  for (int64_t t = 0; t < tiles; ++t)
    for (int64_t c = 0; c < w.k; ++c)
      for (int64_t byte = 0; byte < tile / 2; ++byte) {
        int64_t pair = byte / lanes, lane = byte % lanes;
        int64_t low = t * tile + 2 * pair * lanes + lane, high = low + lanes;
        uint8_t packed = 0;
        if (low < w.n)
          packed |= uint8_t(w.values[c * w.n + low]) & 0xf;
        if (high < w.n)
          packed |= uint8_t(uint8_t(w.values[c * w.n + high]) << 4);
        filter[(t * w.k + c) * (tile / 2) + byte] = char(packed);
      }
  // f16 zero points: the integers 0..15 are exact.
  static const uint16_t kF16Integers[16] = {
      0x0000, 0x3c00, 0x4000, 0x4200, 0x4400, 0x4500, 0x4600, 0x4700,
      0x4800, 0x4880, 0x4900, 0x4980, 0x4a00, 0x4a80, 0x4b00, 0x4b80};
  std::vector<uint16_t> scales(tiles * groups * 2 * tile, 0);
  const uint16_t *groupScales =
      reinterpret_cast<const uint16_t *>(w.scales.data());
  for (int64_t t = 0; t < tiles; ++t)
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t j = 0; j < tile && t * tile + j < w.n; ++j) {
        int64_t from = g * w.n + t * tile + j;
        int64_t to = ((t * groups + g) * 2) * tile + j;
        scales[to] = groupScales[from];
        scales[to + tile] = kF16Integers[uint8_t(w.zeros[from]) & 0xf];
      }
  auto filterType =
      RankedTensorType::get({tiles, 1, 1, w.k, tile / 2}, rewriter.getI8Type());
  auto scalesType =
      RankedTensorType::get({tiles, groups, 2, tile}, rewriter.getF16Type());
  std::vector<float> bias(tiles * tile, 0.0f);
  PackedWeights packed;
  packed.filter = onnx::createRawConstant(rewriter, loc, filterType, filter,
                                          (name + "_packed_u4").str());
  packed.scales = onnx::createRawConstant(
      rewriter, loc, scalesType,
      {reinterpret_cast<const char *>(scales.data()), scales.size() * 2},
      (name + "_scales_f16").str());
  packed.bias = onnx::createFloatConstant(
      rewriter, loc,
      RankedTensorType::get({tiles * tile}, rewriter.getF32Type()), bias,
      (name + "_bias").str());
  packed.groupSize = w.groupSize;
  return packed;
}

/// Packs an 8-bit filter (`source`'s values are its integers) for
/// kiln.packed_conv2d: i8 [tiles, KH, KW, C/4, F0, 4], and f32 scales
/// [tiles, 2, F0] of each filter's scale (`weightScales`[f] times
/// `inputScale`) and compensation (128 plus the input's zero point, times
/// the sum of its integers: the kernel reads input bytes offset by 128,
/// and sum((x - z) * w) = sum(x * w) - z * sum(w)).
PackedWeights packInt8(PatternRewriter &rewriter, Location loc,
                       const FilterSource &source, ArrayRef<float> weightScales,
                       const QuantizedActivation &input, ArrayRef<float> bias,
                       const Packing &packing, StringRef name) {
  int64_t tile = chooseFilterTile(source.filters, packing.lanes, /*step=*/1,
                                  /*maxVectors=*/4, source.product);
  int64_t tiles = llvm::divideCeil(source.filters, tile);
  int64_t channels = packing.channels(source.channels);
  std::vector<float> packed = packedOrder(source, tile, packing);
  std::vector<char> bytes(packed.size());
  llvm::transform(packed, bytes.begin(),
                  [](float q) { return char(int8_t(q)); });
  bool narrow =
      llvm::all_of(packed, [](float q) { return std::fabs(q) <= 64; });
  std::vector<float> scales(tiles * 2 * tile, 0.0f);
  for (int64_t f = 0; f < source.filters; ++f) {
    int64_t sum = 0;
    for (int64_t kh = 0; kh < source.kernelH; ++kh)
      for (int64_t kw = 0; kw < source.kernelW; ++kw)
        for (int64_t c = 0; c < source.channels; ++c)
          sum += int64_t(source.weight(f, kh, kw, c));
    int64_t at = f / tile * 2 * tile + f % tile;
    scales[at] = weightScales[f] * input.scale;
    scales[at + tile] = float((128 + input.zeroPoint) * sum);
  }
  auto filterType = RankedTensorType::get(
      {tiles, source.kernelH, source.kernelW, channels / 4, tile, 4},
      rewriter.getI8Type());
  PackedWeights weights;
  weights.filter = onnx::createRawConstant(rewriter, loc, filterType, bytes,
                                           (name + "_packed_s8").str());
  weights.scales = onnx::createFloatConstant(
      rewriter, loc,
      RankedTensorType::get({tiles, 2, tile}, rewriter.getF32Type()), scales,
      (name + "_scales").str());
  weights.bias = paddedBias(rewriter, loc, bias, tiles, tile, name);
  weights.narrow = narrow;
  return weights;
}

/// Packs W4A8's 4-bit weight (integer group scales `groupScales`) for
/// kiln.packed_conv2d on 8-bit rows: the channel quads of the 8-bit layout
/// two filters a byte, [tiles, 1, 1, K / 4, F0 / 2, 4] (in each run of
/// `lanes` quads, the low nibbles one vector's filters and the high ones
/// the next vector's), and i32 [tiles, K / G, 3, F0] of each group's
/// scale, zero point in every byte of a word, and the sum its
/// accumulation starts from: -(128 + the input's zero point) times the
/// group's sum of `q - z`, which cancels the 128 the kernel adds to each
/// input byte and the input's zero point.
PackedWeights packInt4Int8(PatternRewriter &rewriter, Location loc,
                           const QuantizedWeight &w, ArrayRef<char> groupScales,
                           int64_t inputZeroPoint, int64_t lanes,
                           StringRef name) {
  // One pair of vectors: each quad's nibbles, unpacked once, then serve
  // twice the rows that four vectors would leave registers for, and the
  // unpacking is a fifth of the step rather than a third.
  int64_t tile = chooseFilterTile(w.n, lanes, /*step=*/2, /*maxVectors=*/2);
  int64_t tiles = llvm::divideCeil(w.n, tile);
  int64_t groups = w.k / w.groupSize, quads = w.k / 4;
  auto integer = [&](int64_t c, int64_t f) -> uint8_t {
    return f < w.n ? uint8_t(w.values[c * w.n + f]) & 0xf : 0;
  };
  std::vector<char> filter(tiles * w.k * tile / 2, 0);
  for (int64_t t = 0; t < tiles; ++t)
    for (int64_t quad = 0; quad < quads; ++quad)
      for (int64_t byte = 0; byte < 2 * tile; ++byte) {
        int64_t pair = byte / (4 * lanes), lane = byte / 4 % lanes;
        int64_t c = 4 * quad + byte % 4;
        int64_t low = t * tile + 2 * pair * lanes + lane;
        filter[(t * quads + quad) * 2 * tile + byte] =
            char(integer(c, low) | integer(c, low + lanes) << 4);
      }
  std::vector<int32_t> scales(tiles * groups * 3 * tile, 0);
  for (int64_t f = 0; f < w.n; ++f)
    for (int64_t g = 0; g < groups; ++g) {
      int64_t from = g * w.n + f;
      int32_t zero = uint8_t(w.zeros[from]) & 0xf, sum = 0;
      for (int64_t c = g * w.groupSize; c < (g + 1) * w.groupSize; ++c)
        sum += integer(c, f) - zero;
      int64_t at = ((f / tile * groups + g) * 3) * tile + f % tile;
      scales[at] = groupScales[from];
      scales[at + tile] = zero * 0x01010101;
      scales[at + 2 * tile] = -int32_t(128 + inputZeroPoint) * sum;
    }
  PackedWeights packed;
  packed.filter = onnx::createRawConstant(
      rewriter, loc,
      RankedTensorType::get({tiles, 1, 1, quads, tile / 2, 4},
                            rewriter.getI8Type()),
      filter, (name + "_packed_u4_quads").str());
  packed.scales = onnx::createRawConstant(
      rewriter, loc,
      RankedTensorType::get({tiles, groups, 3, tile}, rewriter.getI32Type()),
      {reinterpret_cast<const char *>(scales.data()), scales.size() * 4},
      (name + "_group_scales").str());
  packed.bias = paddedBias(rewriter, loc, {}, tiles, tile, name);
  packed.groupSize = w.groupSize;
  // Each q - z is within [-15, 15].
  packed.narrow = true;
  return packed;
}

/// `pads` as the kernels' attribute: empty when there is no padding.
DenseI64ArrayAttr padsAttr(PatternRewriter &rewriter, ArrayRef<int64_t> pads) {
  if (llvm::all_of(pads, [](int64_t p) { return p == 0; }))
    return rewriter.getDenseI64ArrayAttr({});
  return rewriter.getDenseI64ArrayAttr(pads);
}

Value packedConv(PatternRewriter &rewriter, Location loc, Value input,
                 PackedWeights weights, ArrayRef<int64_t> outputShape,
                 ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations,
                 ArrayRef<int64_t> pads = {}) {
  auto filter = cast<RankedTensorType>(weights.filter.getType()).getShape();
  Value init = emptyWindowResult(rewriter, loc, input, outputShape,
                                 {filter[1], filter[2]}, strides, dilations,
                                 pads);
  auto conv = rewriter.create<PackedConv2DOp>(
      loc, TypeRange{init.getType()}, input, weights.filter, weights.scales,
      weights.bias, init, rewriter.getDenseI64ArrayAttr(strides),
      rewriter.getDenseI64ArrayAttr(dilations), padsAttr(rewriter, pads),
      ActivationAttr::get(rewriter.getContext(), Activation::None),
      rewriter.getF32FloatAttr(0), rewriter.getF32FloatAttr(0),
      /*accumulate=*/nullptr,
      weights.groupSize ? rewriter.getI64IntegerAttr(weights.groupSize)
                        : IntegerAttr(),
      /*narrow_filter=*/weights.narrow ? rewriter.getUnitAttr() : UnitAttr());
  return conv.getResult()[0];
}

/// An f32 NCHW image whose channels are static (its batch, height and
/// width may be symbolic).
bool isImageF32(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && type.getRank() == 4 && type.getElementType().isF32() &&
         !type.isDynamicDim(1);
}

bool isStaticF32(Value value, int64_t rank) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && type.hasStaticShape() && type.getElementType().isF32() &&
         (rank < 0 || type.getRank() == rank);
}

/// A name for the packed constants, from the weight's ONNX node.
std::string weightName(Operation *op) {
  if (auto name = dyn_cast<NameLoc>(op->getLoc()))
    return name.getName().str();
  return "weight";
}


/// Strides, dilations and explicit padding of a 2-D Conv. Over a symbolic
/// extent the padding must not depend on it: explicit, VALID, or SAME with
/// stride 1.
struct ConvGeometry {
  SmallVector<int64_t> strides, dilations;
  SmallVector<int64_t> pads; // top, left, bottom, right
};

std::optional<ConvGeometry> geometryOf(onnx::ConvOp op) {
  ArrayRef<int64_t> inShape =
      cast<RankedTensorType>(op.getX().getType()).getShape();
  ArrayRef<int64_t> wShape =
      cast<RankedTensorType>(op.getW().getType()).getShape();
  ArrayRef<int64_t> outShape =
      cast<RankedTensorType>(op.getY().getType()).getShape();
  ConvGeometry g{onnx::intsOr(op.getStrides(), 2, 1), onnx::intsOr(op.getDilations(), 2, 1),
                 onnx::intsOr(op.getPads(), 4, 0)};
  StringRef autoPad = op.getAutoPad();
  for (int axis = 0; axis < 2; ++axis) {
    int64_t window = (wShape[axis + 2] - 1) * g.dilations[axis] + 1;
    if (ShapedType::isDynamic(inShape[axis + 2]) ||
        ShapedType::isDynamic(outShape[axis + 2])) {
      if (autoPad == "VALID") {
        g.pads[axis] = g.pads[axis + 2] = 0;
      } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
        if (g.strides[axis] != 1)
          return std::nullopt;
        int64_t total = window - 1;
        g.pads[axis] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
        g.pads[axis + 2] = total - g.pads[axis];
      }
      continue;
    }
    int64_t span = (outShape[axis + 2] - 1) * g.strides[axis] + window;
    if (autoPad == "VALID") {
      g.pads[axis] = g.pads[axis + 2] = 0;
    } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      int64_t total = std::max<int64_t>(0, span - inShape[axis + 2]);
      g.pads[axis] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
      g.pads[axis + 2] = total - g.pads[axis];
    }
    // Windows past the padded input (never in a valid model) are left to
    // the generic lowering, which reports them.
    if (span > inShape[axis + 2] + g.pads[axis] + g.pads[axis + 2])
      return std::nullopt;
  }
  return g;
}

/// Input channels up to which a padded Conv pads its input in memory.
constexpr int64_t kFewChannels = 4;

/// `input` (NHWC, or [1, 1, M, K]) as the packed contraction reads it:
/// with `pads` (top, left, bottom, right; none when empty) zeros around it
/// in memory, and for bf16 cast to bf16 with an odd channel count padded
/// to even (8-bit integers: to a multiple of four).
Value prepareInput(PatternRewriter &rewriter, Location loc, Value input,
                   const Packing &packing, ArrayRef<int64_t> pads = {},
                   int64_t padding = 0) {
  if (packing.bf16)
    input = onnx::createCast(rewriter, loc, input, rewriter.getBF16Type());
  auto type = cast<RankedTensorType>(input.getType());
  ArrayRef<int64_t> shape = type.getShape();
  int64_t extraChannels = packing.channels(shape[3]) - shape[3];
  SmallVector<int64_t> spatial(pads);
  spatial.resize(4, 0);
  if (!extraChannels && llvm::all_of(spatial, [](int64_t p) { return !p; }))
    return input;
  auto grown = [](int64_t size, int64_t by) {
    return ShapedType::isDynamic(size) ? size : size + by;
  };
  SmallVector<int64_t> padded = {shape[0], grown(shape[1], spatial[0] + spatial[2]),
                                 grown(shape[2], spatial[1] + spatial[3]),
                                 shape[3] + extraChannels};
  auto index = [&](int64_t i) -> OpFoldResult {
    return rewriter.getIndexAttr(i);
  };
  SmallVector<OpFoldResult> low = {index(0), index(spatial[0]),
                                   index(spatial[1]), index(0)};
  SmallVector<OpFoldResult> high = {index(0), index(spatial[2]),
                                    index(spatial[3]), index(extraChannels)};
  Type element = type.getElementType();
  Value fill = rewriter.create<arith::ConstantOp>(
      loc, isa<IntegerType>(element)
               ? cast<TypedAttr>(rewriter.getIntegerAttr(element, padding))
               : cast<TypedAttr>(rewriter.getZeroAttr(element)));
  return rewriter.create<tensor::PadOp>(loc, type.clone(padded), input, low,
                                        high, fill);
}

/// The Conv's constant bias, or zeros; nullopt if it is not constant.
std::optional<std::vector<float>> biasOf(onnx::ConvOp op, int64_t filters) {
  if (!op.getB())
    return std::vector<float>(filters, 0.0f);
  return onnx::getConstantFloats(op.getB());
}

SmallVector<int64_t> nhwcShape(Value nchw) {
  ArrayRef<int64_t> shape = cast<RankedTensorType>(nchw.getType()).getShape();
  return {shape[0], shape[2], shape[3], shape[1]};
}

/// The packed contraction of `op` on `input`, its image channels-last
/// (f32, bf16 or i8 as `packing` says), back to channels-first. An
/// image's few channels are padded in memory (a small copy), so that the
/// kernel runs each window row's KW * C values as one loop; so is any
/// image whose zero is not 0 (`zeroPoint`: quantized bytes), as the
/// kernels pad with zeros.
Value convOnImage(PatternRewriter &rewriter, onnx::ConvOp op, Value input,
                  const PackedWeights &weights, int64_t channels,
                  const ConvGeometry &g, const Packing &packing,
                  int64_t zeroPoint = 0) {
  Location loc = op.getLoc();
  SmallVector<int64_t> pads = g.pads;
  bool padded = llvm::any_of(pads, [](int64_t p) { return p != 0; });
  if (padded &&
      (zeroPoint != 0 || (channels <= kFewChannels && g.dilations[1] == 1))) {
    input = prepareInput(rewriter, loc, input, packing, pads, zeroPoint);
    pads.assign(4, 0);
  } else {
    input = prepareInput(rewriter, loc, input, packing);
  }
  Value result = packedConv(rewriter, loc, input, weights, nhwcShape(op.getY()),
                            g.strides, g.dilations, pads);
  return createTranspose(rewriter, loc, result, kToChannelsFirst);
}

struct PackConv : OpRewritePattern<onnx::ConvOp> {
  PackConv(MLIRContext *context, Packing packing)
      : OpRewritePattern(context), packing(packing) {}

  LogicalResult matchAndRewrite(onnx::ConvOp op,
                                PatternRewriter &rewriter) const override {
    if (!isImageF32(op.getX()) || !isImageF32(op.getY()) ||
        op.getGroup() != 1)
      return failure();
    std::optional<std::vector<float>> w = onnx::getConstantFloats(op.getW());
    auto wShape = cast<RankedTensorType>(op.getW().getType()).getShape();
    int64_t filters = wShape[0], channels = wShape[1];
    int64_t kh = wShape[2], kw = wShape[3];
    std::optional<std::vector<float>> bias = biasOf(op, filters);
    std::optional<ConvGeometry> g = geometryOf(op);
    if (!w || !bias || !g)
      return failure();

    Location loc = op.getLoc();
    FilterSource source{filters, kh, kw, channels,
                        [&](int64_t f, int64_t i, int64_t j, int64_t c) {
                          return (*w)[((f * channels + c) * kh + i) * kw + j];
                        }};
    PackedWeights weights = pack(rewriter, loc, source, *bias, packing,
                                 weightName(op.getW().getDefiningOp()));
    Value input = createTranspose(rewriter, loc, op.getX(), kToChannelsLast);
    rewriter.replaceOp(
        op, convOnImage(rewriter, op, input, weights, channels, *g, packing));
    return success();
  }

  Packing packing;
};

/// A Conv with one filter per channel: the filter goes [KH, KW, C]. With
/// bf16 its input is cast (so that the producer writes half the bytes);
/// the filter and the arithmetic stay f32.
struct PackDepthwiseConv : OpRewritePattern<onnx::ConvOp> {
  PackDepthwiseConv(MLIRContext *context, Packing packing)
      : OpRewritePattern(context), packing(packing) {}

  LogicalResult matchAndRewrite(onnx::ConvOp op,
                                PatternRewriter &rewriter) const override {
    if (!isImageF32(op.getX()) || !isImageF32(op.getY()))
      return failure();
    auto wShape = cast<RankedTensorType>(op.getW().getType()).getShape();
    int64_t channels = wShape[0], kh = wShape[2], kw = wShape[3];
    if ((int64_t)op.getGroup() != channels || wShape[1] != 1 ||
        cast<RankedTensorType>(op.getX().getType()).getDimSize(1) != channels)
      return failure();
    std::optional<std::vector<float>> w = onnx::getConstantFloats(op.getW());
    std::optional<std::vector<float>> bias = biasOf(op, channels);
    std::optional<ConvGeometry> g = geometryOf(op);
    if (!w || !bias || !g)
      return failure();

    Location loc = op.getLoc();
    std::vector<float> filter(kh * kw * channels);
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t i = 0; i < kh * kw; ++i)
        filter[i * channels + c] = (*w)[c * kh * kw + i];
    std::string name = weightName(op.getW().getDefiningOp());
    Type f32 = rewriter.getF32Type();
    Value filterValue = onnx::createFloatConstant(
        rewriter, loc, RankedTensorType::get({kh, kw, channels}, f32), filter,
        name + "_hwc");
    Value biasValue = onnx::createFloatConstant(
        rewriter, loc, RankedTensorType::get({channels}, f32), *bias,
        name + "_bias");
    Value input = createTranspose(rewriter, loc, op.getX(), kToChannelsLast);
    if (packing.bf16)
      input = onnx::createCast(rewriter, loc, input, rewriter.getBF16Type());
    Value init = emptyWindowResult(rewriter, loc, input, nhwcShape(op.getY()),
                                   {kh, kw}, g->strides, g->dilations, g->pads);
    Value result =
        rewriter
            .create<DepthwiseConv2DOp>(
                loc, TypeRange{init.getType()}, input, filterValue, biasValue,
                init, rewriter.getDenseI64ArrayAttr(g->strides),
                rewriter.getDenseI64ArrayAttr(g->dilations),
                padsAttr(rewriter, g->pads), ActivationAttr::get(rewriter.getContext(), Activation::None),
                rewriter.getF32FloatAttr(0), rewriter.getF32FloatAttr(0))
            .getResult()[0];
    rewriter.replaceOp(op,
                       createTranspose(rewriter, loc, result, kToChannelsFirst));
    return success();
  }

  Packing packing;
};

/// A matrix product with a constant right operand, any leading batch
/// dimensions on the left, as a 1x1 convolution over an NHWC image of its
/// rows: [M, K] as [1, 1, M, K], [B, S, K] as [1, B, S, K], 4-D as it is,
/// more dimensions (static ones only) collapsed into M. Symbolic leading
/// dimensions (an LLM's batch and sequence) stay image extents, which the
/// kernel reads at run time.
Value packedMatMul(PatternRewriter &rewriter, Location loc, Value lhs,
                   PackedWeights weights, int64_t channels, int64_t filters,
                   const Packing &packing) {
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  int64_t rank = lhsType.getRank();
  // The rows are f32, or the 8-bit integers of an integer contraction;
  // the result is f32.
  Type element = lhsType.getElementType();
  Type f32 = rewriter.getF32Type();
  ArrayRef<int64_t> shape = lhsType.getShape();
  SmallVector<ReassociationIndices> groups;
  SmallVector<int64_t> image;
  Value rows = lhs;
  if (rank > 4) {
    // [..., M, K] -> [M', K] first.
    ReassociationIndices leading;
    for (int64_t i = 0; i < rank - 1; ++i)
      leading.push_back(i);
    rows = rewriter.create<tensor::CollapseShapeOp>(
        loc,
        RankedTensorType::get({lhsType.getNumElements() / channels, channels},
                              element),
        lhs, ArrayRef<ReassociationIndices>{leading, {rank - 1}});
  }
  auto rowsType = cast<RankedTensorType>(rows.getType());
  switch (rowsType.getRank()) {
  case 2:
    groups = {{0, 1, 2}, {3}};
    image = {1, 1, rowsType.getDimSize(0), channels};
    break;
  case 3:
    groups = {{0, 1}, {2}, {3}};
    image = {1, shape[0], shape[1], channels};
    break;
  default:
    image = llvm::to_vector(shape);
    break;
  }
  auto sizes = [&](ArrayRef<int64_t> dims) {
    // The image's extents: static ones, and symbolic ones read from the
    // rows (whose axes are the image's last ones).
    SmallVector<OpFoldResult> result;
    int64_t offset = 4 - rowsType.getRank();
    for (auto [axis, size] : llvm::enumerate(dims))
      result.push_back(
          ShapedType::isDynamic(size)
              ? OpFoldResult(rewriter
                                 .create<tensor::DimOp>(
                                     loc, rows, (int64_t)axis - offset)
                                 .getResult())
              : OpFoldResult(rewriter.getIndexAttr(size)));
    return result;
  };
  Value input = rows;
  if (!groups.empty())
    input = rewriter.create<tensor::ExpandShapeOp>(
        loc, RankedTensorType::get(image, element), rows, groups, sizes(image));
  input = prepareInput(rewriter, loc, input, packing);
  SmallVector<int64_t> outImage(image);
  outImage.back() = filters;
  Value result = packedConv(rewriter, loc, input, weights, outImage, {1, 1},
                            {1, 1});
  SmallVector<int64_t> outRows(rowsType.getShape());
  outRows.back() = filters;
  if (!groups.empty())
    result = rewriter.create<tensor::CollapseShapeOp>(
        loc, RankedTensorType::get(outRows, f32), result, groups);
  if (rank <= 4)
    return result;
  SmallVector<int64_t> outShape(shape.drop_back());
  outShape.push_back(filters);
  ReassociationIndices leading;
  for (int64_t i = 0; i < rank - 1; ++i)
    leading.push_back(i);
  return rewriter.create<tensor::ExpandShapeOp>(
      loc, RankedTensorType::get(outShape, f32), result,
      ArrayRef<ReassociationIndices>{leading, {rank - 1}});
}

Value packedMatMul(PatternRewriter &rewriter, Location loc, Value lhs,
                   const FilterSource &source, ArrayRef<float> bias,
                   const Packing &packing, StringRef name) {
  PackedWeights weights = pack(rewriter, loc, source, bias, packing, name);
  return packedMatMul(rewriter, loc, lhs, weights, source.channels,
                      source.filters, packing);
}

/// A ranked f32 tensor of `rank` or more dimensions whose last one is
/// static (the others may be symbolic).
bool isMatrixRowsF32(Value value, int64_t rank) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && type.getElementType().isF32() && type.getRank() >= rank &&
         !type.isDynamicDim(type.getRank() - 1);
}

/// Whether a MatMul's left operand is f32 rows the packed kernel reads.
bool hasPackableRows(onnx::MatMulOp op) {
  auto aType = dyn_cast<RankedTensorType>(op.getA().getType());
  return aType && aType.getElementType().isF32() && aType.getRank() >= 2 &&
         isMatrixRowsF32(op.getY(), 2) &&
         (aType.getRank() <= 4 || aType.hasStaticShape());
}

/// The left operand of a MatMul by a [K, N] weight as the packed
/// contraction's rows. Their length is the weight's K, which MatMul
/// requires: a left operand whose last extent is symbolic (a Reshape to
/// [B, S, -1] of the attention's heads) takes it.
Value matMulRows(PatternRewriter &rewriter, Location loc, Value a, int64_t k) {
  auto aType = cast<RankedTensorType>(a.getType());
  if (!aType.isDynamicDim(aType.getRank() - 1))
    return a;
  SmallVector<int64_t> known(aType.getShape());
  known.back() = k;
  return rewriter.create<tensor::CastOp>(loc, aType.clone(known), a);
}

Value matMulRows(PatternRewriter &rewriter, onnx::MatMulOp op, int64_t k) {
  return matMulRows(rewriter, op.getLoc(), op.getA(), k);
}

/// A quantized MatMul's rows as the integer kernels read them, K long:
/// the activation's own bytes, unless they are unsigned or need a zero
/// point the kernels do not take as given.
Value signedRowsOf(PatternRewriter &rewriter, Location loc,
                   const QuantizedActivation &activation, int64_t k) {
  QuantizeOp quantize = activation.quantize;
  Value bytes = quantize;
  if (!cast<RankedTensorType>(bytes.getType())
           .getElementType()
           .isSignlessInteger(8))
    bytes = signedBytesOf(rewriter, loc, activation, quantize.getInput());
  return matMulRows(rewriter, loc, bytes, k);
}

struct PackMatMul : OpRewritePattern<onnx::MatMulOp> {
  PackMatMul(MLIRContext *context, Packing packing)
      : OpRewritePattern(context), packing(packing) {}

  LogicalResult matchAndRewrite(onnx::MatMulOp op,
                                PatternRewriter &rewriter) const override {
    if (!isStaticF32(op.getB(), 2) || !hasPackableRows(op))
      return failure();
    std::optional<std::vector<float>> b = onnx::getConstantFloats(op.getB());
    if (!b)
      return failure();
    auto shape = cast<RankedTensorType>(op.getB().getType()).getShape();
    int64_t k = shape[0], n = shape[1];
    Value rows = matMulRows(rewriter, op, k);
    FilterSource source{
        n,
        1,
        1,
        k,
        [&](int64_t f, int64_t, int64_t, int64_t c) { return (*b)[c * n + f]; },
        /*product=*/true};
    rewriter.replaceOp(op, packedMatMul(rewriter, op.getLoc(), rows, source, {},
                                        packing,
                                        weightName(op.getB().getDefiningOp())));
    return success();
  }

  Packing packing;
};

/// A MatMul by `kiln.dequantize` of a 4-bit weight in groups: the packed
/// contraction with the 4-bit filter, dequantized in registers. The
/// activations stay f32 whatever the precision.
struct PackInt4MatMul : OpRewritePattern<onnx::MatMulOp> {
  PackInt4MatMul(MLIRContext *context, Packing packing)
      : OpRewritePattern(context), packing(packing) {}

  LogicalResult matchAndRewrite(onnx::MatMulOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<QuantizedWeight> weight = quantizedWeightOf(op.getB());
    if (!weight || !hasPackableRows(op))
      return failure();
    Value rows = matMulRows(rewriter, op, weight->k);
    Packing f32{packing.lanes, /*bf16=*/false};
    PackedWeights weights =
        packInt4(rewriter, op.getLoc(), *weight, packing.lanes,
                 weightName(op.getB().getDefiningOp()));
    rewriter.replaceOp(op, packedMatMul(rewriter, op.getLoc(), rows, weights,
                                        weight->k, weight->n, f32));
    return success();
  }

  Packing packing;
};

/// A MatMul of 8-bit activations (quantized per tensor) by an 8-bit
/// weight [K, N] with a scale per column: the integer contraction on the
/// quantized rows, which the activations' kiln.quantize computes once for
/// every product that shares them.
struct PackInt8MatMul : OpRewritePattern<onnx::MatMulOp> {
  PackInt8MatMul(MLIRContext *context, Packing packing)
      : OpRewritePattern(context), packing(packing) {}

  LogicalResult matchAndRewrite(onnx::MatMulOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<QuantizedActivation> activation =
        quantizedActivationOf(op.getA());
    std::optional<Int8Weight> weight = int8WeightOf(op.getB(), /*axis=*/1);
    auto bType = cast<RankedTensorType>(op.getB().getType());
    if (!activation || !weight || !hasPackableRows(op) ||
        !bType.hasStaticShape() || bType.getRank() != 2)
      return failure();
    int64_t k = bType.getDimSize(0), n = bType.getDimSize(1);
    Location loc = op.getLoc();
    Value rows = signedRowsOf(rewriter, loc, *activation, k);
    Packing int8{packing.lanes, /*bf16=*/false, /*int8=*/true};
    const std::vector<char> &q = weight->values;
    FilterSource source{n,
                        1,
                        1,
                        k,
                        [&](int64_t f, int64_t, int64_t, int64_t c) {
                          return float(int8_t(q[c * n + f]));
                        },
                        /*product=*/true};
    PackedWeights weights =
        packInt8(rewriter, loc, source, weight->scales, *activation, {}, int8,
                 weightName(op.getB().getDefiningOp()));
    Value product = packedMatMul(rewriter, loc, rows, weights, k, n, int8);
    if (activation->rowScales)
      product = rewriter.create<onnx::MulOp>(loc, product.getType(), product,
                                             activation->rowScales);
    rewriter.replaceOp(op, product);
    return success();
  }

  Packing packing;
};

/// W4A8: a MatMul of 8-bit activations (one scale per row, or per
/// tensor) by a 4-bit weight in groups whose scales are small integers
/// with every `(q - z) * s` a signed byte (QoQ's progressive
/// quantization): the integer contraction on the quantized rows, the
/// nibbles unpacked in registers, then the activations' scales. It comes
/// before PackInt4MatMul, which would take the product in f32.
struct PackInt4Int8MatMul : OpRewritePattern<onnx::MatMulOp> {
  PackInt4Int8MatMul(MLIRContext *context, Packing packing)
      : OpRewritePattern(context, /*benefit=*/2), packing(packing) {}

  LogicalResult matchAndRewrite(onnx::MatMulOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<QuantizedActivation> activation =
        quantizedActivationOf(op.getA());
    std::optional<QuantizedWeight> weight = quantizedWeightOf(op.getB());
    if (!activation || !weight || weight->groupSize % 4 || !hasPackableRows(op))
      return failure();
    std::optional<std::vector<char>> groupScales = integerGroupScalesOf(
        op.getB().getDefiningOp<DequantizeOp>().getScale(), weight->values,
        weight->zeros, weight->n, weight->groupSize);
    if (!groupScales)
      return failure();
    Location loc = op.getLoc();
    Value rows = signedRowsOf(rewriter, loc, *activation, weight->k);
    Packing int8{packing.lanes, /*bf16=*/false, /*int8=*/true};
    PackedWeights weights = packInt4Int8(rewriter, loc, *weight, *groupScales,
                                         activation->zeroPoint, packing.lanes,
                                         weightName(op.getB().getDefiningOp()));
    Value product =
        packedMatMul(rewriter, loc, rows, weights, weight->k, weight->n, int8);
    // The rows' scales, or the input's one scale (its quantize's operand).
    Value scale = activation->rowScales;
    if (!scale && activation->scale != 1.0f)
      scale = activation->quantize.getScale();
    if (scale)
      product =
          rewriter.create<onnx::MulOp>(loc, product.getType(), product, scale);
    rewriter.replaceOp(op, product);
    return success();
  }

  Packing packing;
};

/// A Conv of 8-bit activations (quantized per tensor) by an 8-bit filter
/// with a scale per output channel: the integer contraction on the
/// channels-last activations, quantized after the transpose.
struct PackInt8Conv : OpRewritePattern<onnx::ConvOp> {
  PackInt8Conv(MLIRContext *context, Packing packing)
      : OpRewritePattern(context), packing(packing) {}

  LogicalResult matchAndRewrite(onnx::ConvOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<QuantizedActivation> activation =
        quantizedActivationOf(op.getX());
    std::optional<Int8Weight> weight = int8WeightOf(op.getW(), /*axis=*/0);
    if (!activation || activation->rowScales || !weight ||
        !isImageF32(op.getX()) || !isImageF32(op.getY()) || op.getGroup() != 1)
      return failure();
    auto wShape = cast<RankedTensorType>(op.getW().getType()).getShape();
    int64_t filters = wShape[0], channels = wShape[1];
    int64_t kh = wShape[2], kw = wShape[3];
    std::optional<std::vector<float>> bias = biasOf(op, filters);
    std::optional<ConvGeometry> g = geometryOf(op);
    if (!bias || !g)
      return failure();

    Location loc = op.getLoc();
    Packing int8{packing.lanes, /*bf16=*/false, /*int8=*/true};
    const std::vector<char> &q = weight->values;
    FilterSource source{
        filters, kh, kw, channels,
        [&](int64_t f, int64_t i, int64_t j, int64_t c) {
          return float(int8_t(q[((f * channels + c) * kh + i) * kw + j]));
        }};
    PackedWeights weights =
        packInt8(rewriter, loc, source, weight->scales, *activation, *bias,
                 int8, weightName(op.getW().getDefiningOp()));
    Value nhwc = createTranspose(rewriter, loc, activation->quantize.getInput(),
                                 kToChannelsLast);
    Value input = signedBytesOf(rewriter, loc, *activation, nhwc);
    rewriter.replaceOp(op, convOnImage(rewriter, op, input, weights, channels,
                                       *g, int8, activation->zeroPoint));
    return success();
  }

  Packing packing;
};

/// The f32 values of `kiln.dequantize` of 8-bit constants per tensor or
/// per axis with f32 scales, or nullopt.
std::optional<std::vector<float>> dequantizedWeight(DequantizeOp dequantize) {
  auto type = cast<RankedTensorType>(dequantize.getInput().getType());
  Type element = type.getElementType();
  if (!element.isInteger(8) || dequantize.getGroupSize() != 0 ||
      !type.hasStaticShape())
    return std::nullopt;
  std::optional<std::vector<char>> values =
      onnx::getConstantBytes(dequantize.getInput());
  std::optional<std::vector<float>> scales =
      onnx::getConstantFloats(dequantize.getScale());
  std::optional<std::vector<char>> zeros =
      dequantize.getZeroPoint()
          ? onnx::getConstantBytes(dequantize.getZeroPoint())
          : std::vector<char>(scales ? scales->size() : 0);
  if (!values || !scales || !zeros || zeros->size() != scales->size())
    return std::nullopt;
  bool isUnsigned = element.isUnsignedInteger();
  auto integer = [&](char byte) -> int64_t {
    return isUnsigned ? int64_t(uint8_t(byte)) : int64_t(int8_t(byte));
  };
  int64_t inner = 1;
  for (int64_t d = dequantize.getAxis() + 1; d < type.getRank(); ++d)
    inner *= type.getDimSize(d);
  std::vector<float> result(values->size());
  for (size_t i = 0; i < values->size(); ++i) {
    size_t at = scales->size() == 1 ? 0 : (i / inner) % scales->size();
    result[i] =
        float(integer((*values)[i]) - integer((*zeros)[at])) * (*scales)[at];
  }
  return result;
}

/// A contraction whose weight (operand `weightIndex`) is an 8-bit
/// quantized constant that no integer kernel took (a depthwise or grouped
/// convolution, a Gemm, a product with floating-point activations): the
/// weight dequantized at compile time, for the floating-point kernels.
template <typename OpTy, unsigned weightIndex>
struct DequantizeUnpackedWeight : OpRewritePattern<OpTy> {
  DequantizeUnpackedWeight(MLIRContext *context)
      : OpRewritePattern<OpTy>(context, /*benefit=*/0) {}

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Value weight = op->getOperand(weightIndex);
    auto dequantize = weight.getDefiningOp<DequantizeOp>();
    if (!dequantize || !dequantize.getType().getElementType().isF32())
      return failure();
    std::optional<std::vector<float>> values = dequantizedWeight(dequantize);
    if (!values)
      return failure();
    Value constant = onnx::createFloatConstant(
        rewriter, dequantize.getLoc(), dequantize.getType(), *values,
        weightName(dequantize) + "_dequantized");
    rewriter.modifyOpInPlace(op,
                             [&] { op->setOperand(weightIndex, constant); });
    return success();
  }
};

struct PackGemm : OpRewritePattern<onnx::GemmOp> {
  PackGemm(MLIRContext *context, Packing packing)
      : OpRewritePattern(context), packing(packing) {}

  LogicalResult matchAndRewrite(onnx::GemmOp op,
                                PatternRewriter &rewriter) const override {
    // Rows of any count (a symbolic batch, the sites of a sparse network).
    if (!isMatrixRowsF32(op.getA(), 2) || !isStaticF32(op.getB(), 2) ||
        !isMatrixRowsF32(op.getY(), 2) ||
        op.getTransA() != 0)
      return failure();
    std::optional<std::vector<float>> b = onnx::getConstantFloats(op.getB());
    if (!b)
      return failure();
    auto shape = cast<RankedTensorType>(op.getB().getType()).getShape();
    bool transB = op.getTransB() != 0;
    int64_t k = transB ? shape[1] : shape[0], n = transB ? shape[0] : shape[1];
    float alpha = op.getAlpha().convertToFloat();
    float beta = op.getBeta().convertToFloat();
    std::vector<float> bias;
    if (op.getC()) {
      // A bias along N (or one value); a C per row stays a Gemm.
      std::optional<std::vector<float>> c = onnx::getConstantFloats(op.getC());
      auto cType = cast<RankedTensorType>(op.getC().getType());
      if (!c || (cType.getNumElements() != n && cType.getNumElements() != 1) ||
          (cType.getRank() == 2 && cType.getDimSize(0) != 1))
        return failure();
      bias.assign(n, 0.0f);
      for (int64_t j = 0; j < n; ++j)
        bias[j] = beta * (*c)[c->size() == 1 ? 0 : j];
    }
    FilterSource source{n,
                        1,
                        1,
                        k,
                        [&](int64_t f, int64_t, int64_t, int64_t c) {
                          return alpha * (transB ? (*b)[f * k + c]
                                                 : (*b)[c * n + f]);
                        },
                        /*product=*/true};
    rewriter.replaceOp(op, packedMatMul(rewriter, op.getLoc(), op.getA(),
                                        source, bias, packing,
                                        weightName(op.getB().getDefiningOp())));
    return success();
  }

  Packing packing;
};

struct LayoutPackContractionsPass
    : kiln::impl::LayoutPackContractionsPassBase<LayoutPackContractionsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (vectorBits != 256 && vectorBits != 512) {
      getOperation().emitError("vector-bits must be 256 or 512, not ")
          << static_cast<int64_t>(vectorBits);
      return signalPassFailure();
    }
    if (precision != "f32" && precision != "bf16") {
      getOperation().emitError("precision must be f32 or bf16, not '")
          << precision << "'";
      return signalPassFailure();
    }
    // Without BF16 arithmetic the filters alone are bf16.
    Packing packing{vectorBits / 32, precision == "bf16" && bf16Activations};
    packing.bf16Filter = precision == "bf16" && !bf16Activations;
    RewritePatternSet patterns(&getContext());
    patterns.add<PackConv, PackMatMul, PackGemm, PackInt4MatMul,
                 PackInt4Int8MatMul, PackInt8MatMul, PackInt8Conv>(
        &getContext(), packing);
    patterns.add<PackDepthwiseConv>(&getContext(), packing);
    patterns.add<DequantizeUnpackedWeight<onnx::ConvOp, 1>,
                 DequantizeUnpackedWeight<onnx::GemmOp, 1>,
                 DequantizeUnpackedWeight<onnx::MatMulOp, 1>>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
