//===- PackedConv.cpp - kiln-cpu-lower-packed-conv ------------------------===//
//
// The dense contraction's microkernel. A tile of M0 output pixels by F0
// filters accumulates in registers over every (kh, kw, c): per step, F0 /
// lanes vector loads of the packed filter and M0 broadcast loads of the
// input (which x86 folds into the multiply-add's memory operand). The
// input is read in place, NHWC: a pixel's channels are contiguous, so each
// row of the tile is a sequential stream and nothing is packed at run
// time. The batch, height and width may be symbolic (read from the
// buffers); channels, filters and the window are static.
//
// BF16 operands step over channel pairs: one 32-bit broadcast of a
// pixel's pair against the filter vectors of pairs, either one
// `vdpbf16ps` per vector (AVX512_BF16: kiln.bf16_dot) or, without it, the pair
// split into its two f32 halves by shifts and masks and two multiply-adds.
//
// On a CPU with AMX, BF16 contractions whose shapes suit its tiles take
// the kernel of AmxConv.cpp instead; when their rows are known at run time
// only, both kernels are emitted, and the rows choose.
//
// 8-bit integers step over channel quads, as BF16 over pairs: one 32-bit
// broadcast of a pixel's quad (each byte plus 128: vpdpbusd multiplies
// unsigned bytes by signed ones) against the filter vectors of quads, one
// `kiln.int8_dot` each into i32 accumulators; the epilogue subtracts the
// filters' compensation for the 128s and scales to f32.
//
// A 4-bit filter is dequantized in registers: per group of channels, the
// tile's scales and zero points are loaded once (as scale and
// -scale * zero); per channel, one load of `lanes` bytes widens to two
// vectors of nibbles (mask, shift), which convert to f32 and become
// weights by one multiply-add each, shared by every row of the tile. A
// tile of one row (decode) multiplies the nibbles as they are and scales
// each group's sums once (see emitInt4OneRowGroup). A product of many rows
// (a prefill) dequantizes the filter once into an f32 buffer instead and
// runs the f32 kernel (see kDequantizeOnceLeastPixels).
//
// W4A8 (8-bit rows, a 4-bit filter with integer group scales) stays in
// integers: per channel quad, one load of 4 * `lanes` bytes gives two
// vectors of nibble quads (mask, shift), less the group's zero point
// (each within [-15, 15], so that AVX2's 16-bit pair sums cannot
// saturate), which `kiln.int8_dot` multiplies with the rows' bytes into
// the group's i32 sums; at the group's end the sums, times its scale,
// join the accumulators.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/AmxConv.h"
#include "codegen/cpu/KernelHelpers.h"
#include "codegen/cpu/Passes.h"
#include "dialects/kiln/KilnOps.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_CPULOWERPACKEDCONVPASS
#include "codegen/cpu/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The shapes of one packed convolution: index values for the extents
/// that may be symbolic, the rest static.
struct ConvShape {
  Value batch, height, width;                    // input, unpadded
  int64_t channels;
  int64_t tiles, kernelH, kernelW, filterTile;   // packed filter
  Value outH, outW;                              // result
  int64_t filters;
  int64_t strideH, strideW, dilationH, dilationW;
  int64_t padTop, padLeft;
  bool padded;
};

/// The accumulators of a tile: the shared budget, less a third when bf16
/// pairs are split without `vdpbf16ps` (twice the filter vectors and two
/// broadcasts stay live) or a 4-bit filter's scales and zero points stay
/// in registers.
int64_t tileAccumulators(int64_t vectorBits, bool needsMoreRegisters) {
  int64_t budget = accumulatorBudget(vectorBits);
  return needsMoreRegisters ? budget - budget / 3 : budget;
}

/// At batch 1 the weights of a network do not stay in cache from one run
/// to the next, and a filter panel read by few pixel tiles (ResNet-50's
/// last stage: 9 tiles of its 7 x 7 pixels) would stall its first tile on
/// memory: each of them prefetches a share of the next panel into L2
/// instead, spreading the stream over all of them. With more tiles the
/// first one's wait is spread already.
constexpr int64_t kPrefetchMostTiles = 64;
constexpr int64_t kPrefetchLeastBytes = 64 * 1024;

/// A product of one row (a decode step's) reads each weight once, two
/// streams a tile (its channels' halves), at too few instructions a byte
/// for the hardware's prefetchers to keep ahead: each step prefetches the
/// filter this far ahead in its stream (products of SmolLM2's shapes in
/// BF16 on a 2-core AVX-512 Xeon: 24 -> 30 GB/s; 1, 3, 4 and 8 KB ahead
/// measured no better).
constexpr int64_t kOneRowPrefetchBytes = 2048;

/// The largest packed filter whose tiles run inside the pixel tiles: one
/// that stays in L1 whole.
constexpr int64_t kPixelsOuterMostFilterBytes = 32 * 1024;

/// The smallest L2 of the CPUs Kiln targets (Zen 3's 512 KB): an input
/// within it is read from L2 again by each filter tile.
constexpr int64_t kL2Bytes = 512 * 1024;

/// What a block of pixel tiles keeps in L2 while every filter tile passes
/// over it: one filter panel and the block's inputs, with room for the
/// outputs' lines in flight.
constexpr int64_t kBlockCacheBytes = 320 * 1024;

/// Emits the code of one packed convolution at `op`.
class ConvEmitter : KernelEmitterBase {
public:
  ConvEmitter(PackedConv2DOp op, int64_t vectorBits, bool bf16Dot, OpBuilder &b)
      : KernelEmitterBase(b, op.getLoc()), op(op), bf16(op.isBf16()),
        bf16Filter(op.isBf16Filter()), bf16Dot(bf16Dot && bf16),
        int4(op.isInt4()), int8(op.isInt8()), int4Int8(op.isInt8Int4()) {
    auto in = cast<MemRefType>(op.getInput().getType()).getShape();
    auto w = cast<MemRefType>(op.getFilter().getType()).getShape();
    auto out = cast<MemRefType>(op.getInit().getType()).getShape();
    SmallVector<int64_t> pads = op.getPadding();
    Value input = op.getInput(), init = op.getInit();
    s = {extent(input, 0),
         extent(input, 1),
         extent(input, 2),
         in[3],
         w[0],
         w[1],
         w[2],
         op.getFilterTile(),
         extent(init, 1),
         extent(init, 2),
         out[3],
         op.getStrides()[0],
         op.getStrides()[1],
         op.getDilations()[0],
         op.getDilations()[1],
         pads[0],
         pads[1],
         llvm::any_of(pads, [](int64_t p) { return p != 0; })};
    pixels = times(s.batch, times(s.outH, s.outW));
    lanes = std::min<int64_t>(vectorBits / 32, s.filterTile);
    while (s.filterTile % lanes)
      lanes /= 2;
    vectorsPerRow = s.filterTile / lanes;
    rowsPerTile = std::clamp<int64_t>(
        tileAccumulators(vectorBits, (bf16 && !bf16Dot) || int4 || int4Int8) /
            vectorsPerRow,
        1, 16);
    int64_t mergedTaps = !s.padded && s.dilationW == 1 ? s.kernelW : 1;
    stepsPerRow = s.kernelW / mergedTaps;
    stepChannels = s.channels * mergedTaps;
    vectorType = VectorType::get({lanes}, b.getF32Type());
    accumulatorType =
        int8 ? VectorType::get({lanes}, b.getI32Type()) : vectorType;
    pairsType = VectorType::get({2 * lanes}, b.getBF16Type());
    wordsType = VectorType::get({lanes}, b.getI32Type());
  }

  LogicalResult emit();
  /// A 4-bit filter (W4A16) dequantized into `target`, f32 in the f32
  /// layout [tiles, 1, 1, C, F0]; the threads share its tiles' groups.
  void emitDequantizedFilter(Value target);

private:
  /// Where each row of a tile of `rows` pixels from `firstPixel` reads its
  /// window: the pixels, their windows' flat starts in the input (before
  /// the padding) and, when padded, their first rows and columns.
  struct TileRows {
    SmallVector<Value> pixels, bases, firstYs, firstXs;
  };
  TileRows tileRows(int64_t rows, Value firstPixel);
  /// Each row's source at tap `tap` (of KH * stepsPerRow): its window
  /// there, or zeros in the padding.
  SmallVector<PaddedSource> tapSources(const TileRows &rows, Value tap);
  /// The tile of `rows` pixels from `firstPixel` by filter tile
  /// `filterTile`; with `prefetchFrom`, prefetching its share of the next
  /// filter tile's panel from there as it steps.
  void emitTile(int64_t rows, Value firstPixel, Value filterTile,
                Value prefetchFrom = {});
  /// The pixel tiles of a block that all filter tiles pass over before
  /// the next block (1: pixel tiles outer), or 0 for filter tiles outer;
  /// `inputBytes` per input value.
  int64_t pixelTilesPerBlock(int64_t inputBytes,
                             std::optional<int64_t> pixelTiles) const;
  /// Where the tile of `pixelTile` starts prefetching the next filter
  /// tile's panel (see kPrefetchMostTiles), or null when it does not.
  Value prefetchNextPanel(Value filterTile, Value pixelTile, Value pixelTiles);
  /// Prefetches the share from `prefetchFrom` for channel step `step`
  /// (over all taps).
  void prefetchStep(Value prefetchFrom, Value step);
  /// Prefetches into L2 the `stepValues` filter values kOneRowPrefetchBytes
  /// past `filterAt`, a cache line at a time.
  void prefetchAhead(Value filterAt, int64_t stepValues);
  /// One channel step of the tile: `acc` plus the products of channel `c`
  /// (f32) or channel pair `c` (bf16) of each row's `source` and the
  /// filter at `filterAt`.
  SmallVector<Value> emitF32Step(ArrayRef<PaddedSource> sources, Value c,
                                 Value filterAt, ValueRange acc);
  SmallVector<Value> emitBf16Step(ArrayRef<PaddedSource> sources, Value c,
                                  Value filterAt, ValueRange acc);
  SmallVector<Value> emitInt8Step(ArrayRef<PaddedSource> sources, Value c,
                                  Value filterAt, ValueRange acc);
  /// `acc` plus the dot products of channel quad `c` of each row's
  /// `source` (signed bytes, read as unsigned ones plus 128) and the
  /// filter vectors of quads `weights`.
  SmallVector<Value> dotRows(ArrayRef<PaddedSource> sources, Value c,
                             ArrayRef<Value> weights, ValueRange acc);
  /// The channel loop of W4A8's 4-bit filter from `tapFilter`: groups,
  /// each summing its quads from its starting sums, then adding them times
  /// its scale to `acc`.
  scf::ForOp emitInt4Int8Channels(ArrayRef<PaddedSource> sources,
                                  Value filterTile, Value tapFilter,
                                  ValueRange acc);
  /// The filter vectors of quad `c` of W4A8's filter at `filterAt`: the
  /// nibbles less the group's zero points `zeroBytes`, as signed bytes.
  SmallVector<Value> loadInt4Quads(Value filterAt, ArrayRef<Value> zeroBytes);
  /// The f32 sums of an 8-bit tile's accumulator `acc`, vector `v` of
  /// filter tile `filterTile`: (acc - compensation) * scale.
  Value scaleInt8Sums(Value acc, Value filterTile, int64_t v);
  /// `acc` plus the products of channel `c` of each row's `source` and the
  /// f32 filter vectors `weights`.
  SmallVector<Value> multiplyRows(ArrayRef<PaddedSource> sources, Value c,
                                  ArrayRef<Value> weights, ValueRange acc);
  /// Group `g` of filter tile `filterTile` of a 4-bit filter: its scales
  /// and -scale * zero, a vector each per vector of the tile.
  void loadGroupScales(Value filterTile, Value g,
                       SmallVectorImpl<Value> &scaleVectors,
                       SmallVectorImpl<Value> &negatedZeros);
  /// The channel loop of a 4-bit filter from `tapFilter` (bytes): groups,
  /// each with its scales in registers, then their channels.
  scf::ForOp emitInt4Channels(ArrayRef<PaddedSource> sources, Value filterTile,
                              Value tapFilter, ValueRange acc);
  /// One row's group of `group` channels of a 4-bit filter from `first`,
  /// added to `acc`: see the definition.
  SmallVector<Value> emitInt4OneRowGroup(PaddedSource source, Value tapFilter,
                                         Value first, int64_t group,
                                         ArrayRef<Value> scales,
                                         ArrayRef<Value> negatedZeros,
                                         ValueRange acc);
  /// The f32 filter vectors of channel `c` of a 4-bit filter at `filterAt`
  /// (bytes): weight = q * scale + negatedZero.
  SmallVector<Value> loadInt4Filter(Value filterAt, ArrayRef<Value> scales,
                                    ArrayRef<Value> negatedZeros);
  /// The nibbles q of the 4-bit filter's channel at `filterAt` (bytes), as
  /// f32 vectors.
  SmallVector<Value> loadInt4Values(Value filterAt);
  /// The tile's vectorsPerRow filter vectors of `type` from `filterAt`.
  SmallVector<Value> loadFilterVectors(VectorType type, Value filterAt);
  Value activate(Value x) { return applyActivationOf(b, loc, x, op); }

  PackedConv2DOp op;
  ConvShape s;
  /// The output pixels, batch * outH * outW.
  Value pixels;
  bool bf16, bf16Filter, bf16Dot, int4, int8, int4Int8;
  int64_t lanes, vectorsPerRow, rowsPerTile;
  /// Merged taps: without padding and dilation along the row, a window
  /// row's KW * C inputs are contiguous in NHWC, as are its filters, and
  /// one channel loop runs over all of them.
  int64_t stepsPerRow, stepChannels;
  /// The static count of pixel tiles that share out the prefetches.
  int64_t prefetchTiles = 0;
  /// Whether a tile of one row streams its filter panel ahead (see
  /// kOneRowPrefetchBytes): not when the product has more rows at compile
  /// time, whose last pixels, one at a time, find the panel in cache.
  bool oneRowPrefetch = false;

  /// f32 vectors, the accumulators (f32, or i32 for 8-bit integers), and
  /// for bf16 the filter vectors of pairs and the same bits as i32 words.
  VectorType vectorType, accumulatorType, pairsType, wordsType;
  /// The flat input as memref<?xf32> (or bf16), and the zeros padding
  /// reads.
  Value input, zeros;
  Value filter, scales, bias, output;
};

LogicalResult ConvEmitter::emit() {
  if ((int4 || int4Int8) && vectorsPerRow % 2)
    return op.emitOpError("a 4-bit filter tile of ")
           << s.filterTile << " filters is an odd number of " << lanes
           << "-lane vectors";
  input = flattenBuffer(b, loc, op.getInput());
  Type element = bf16   ? b.getBF16Type()
                 : int8 ? Type(b.getI8Type())
                        : Type(b.getF32Type());
  input = b.create<memref::CastOp>(
      loc, MemRefType::get({ShapedType::kDynamic}, element), input);
  if (s.padded)
    zeros = paddingFloats(b, op, s.channels, element);
  filter = flattenBuffer(b, loc, op.getFilter());
  if (int4 || int8)
    scales = flattenBuffer(b, loc, op.getFilterScales());
  bias = op.getBias();
  output = flattenBuffer(b, loc, op.getInit());

  // Filter tiles outer, pixel tiles inner: a thread's consecutive tiles
  // share one filter panel, which stays in cache. A filter small enough to
  // stay in L1 whole (a 1x1 expansion of 16 channels to 96) takes pixel
  // tiles outer instead: each pixel's output channels are then written
  // together, whole cache lines once, where filter tiles outer would
  // come back to every line of a large output once per filter tile.
  //
  // A large input with small panels takes the pixel tiles in blocks
  // instead, all filter tiles passing over one block before the next:
  // the block's inputs stay in L2 (filter tiles outer would stream the
  // whole input from L3 once per filter tile), and the filter comes back
  // once per block, when that is the fewer bytes.
  Value pixelTiles =
      dividedBy(plus(pixels, index(rowsPerTile - 1)), index(rowsPerTile));
  std::optional<int64_t> staticPixels = getConstantIntValue(pixels);
  oneRowPrefetch = !staticPixels || *staticPixels == 1;
  int64_t blockTiles = pixelTilesPerBlock(element.getIntOrFloatBitWidth() / 8,
                                          getConstantIntValue(pixelTiles));
  Value tileCount = times(index(s.tiles), pixelTiles);
  if (blockTiles)
    tileCount = times(
        index(s.tiles * blockTiles),
        dividedBy(plus(pixelTiles, index(blockTiles - 1)), index(blockTiles)));
  auto loop = b.create<scf::ParallelOp>(
      loc, ValueRange{index(0)}, ValueRange{tileCount}, ValueRange{index(1)});
  markThreaded(loop, operationsOf({pixels}, 2 * s.filters * s.kernelH *
                                                s.kernelW * s.channels));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value tile = loop.getInductionVars()[0];
  Value filterTile, pixelTile, prefetchFrom;
  if (blockTiles) {
    // tile = (block * tiles + filterTile) * blockTiles + pixel in block.
    Value blockTile = dividedBy(tile, index(blockTiles));
    Value block = dividedBy(blockTile, index(s.tiles));
    filterTile = remainder(blockTile, index(s.tiles));
    pixelTile = plus(times(block, index(blockTiles)),
                     remainder(tile, index(blockTiles)));
    // The last block's tiles past the end do nothing (blocks of more than
    // one tile have a static count of them).
    if (blockTiles > 1 && *getConstantIntValue(pixelTiles) % blockTiles) {
      Value inside = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult,
                                             pixelTile, pixelTiles);
      auto guarded = b.create<scf::IfOp>(loc, inside);
      b.setInsertionPointToStart(&guarded.getThenRegion().front());
    }
  } else {
    filterTile = b.create<arith::DivUIOp>(loc, tile, pixelTiles);
    pixelTile = b.create<arith::RemUIOp>(loc, tile, pixelTiles);
    prefetchFrom = prefetchNextPanel(filterTile, pixelTile, pixelTiles);
  }
  Value firstPixel = mul(pixelTile, rowsPerTile);
  Value fullTiles = dividedBy(pixels, index(rowsPerTile));
  if (getConstantIntValue(fullTiles) &&
      getConstantIntValue(fullTiles) == getConstantIntValue(pixelTiles)) {
    emitTile(rowsPerTile, firstPixel, filterTile, prefetchFrom);
    return success();
  }
  Value isFull = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult,
                                         pixelTile, fullTiles);
  auto branch = b.create<scf::IfOp>(loc, isFull, /*withElseRegion=*/true);
  b.setInsertionPointToStart(&branch.getThenRegion().front());
  emitTile(rowsPerTile, firstPixel, filterTile, prefetchFrom);
  // The last, partial tile: one pixel at a time.
  b.setInsertionPointToStart(&branch.getElseRegion().front());
  auto rest = b.create<scf::ForOp>(loc, firstPixel, pixels, index(1));
  b.setInsertionPointToStart(rest.getBody());
  emitTile(1, rest.getInductionVar(), filterTile);
  return success();
}

int64_t
ConvEmitter::pixelTilesPerBlock(int64_t inputBytes,
                                std::optional<int64_t> pixelTiles) const {
  if (s.tiles < 2)
    return 0;
  int64_t filterBits = int4 || int4Int8     ? 4
                       : bf16 || bf16Filter ? 16
                       : int8               ? 8
                                            : 32;
  int64_t panelBytes =
      s.kernelH * s.kernelW * s.channels * s.filterTile * filterBits / 8;
  int64_t filterBytes = s.tiles * panelBytes;
  // A filter in L1 whole: tiles of one pixel tile each (see emit).
  if (filterBytes <= kPixelsOuterMostFilterBytes)
    return 1;
  // Rows known at run time only (an LLM's tokens) keep filter tiles
  // outer: a decode step's one row would otherwise pass a block's worth of
  // empty tiles per filter tile.
  if (!pixelTiles)
    return 0;
  // The input a tile brings in: its pixels' own share of the input
  // (strided windows skip pixels, overlapping ones share them).
  int64_t tileInputBytes =
      rowsPerTile * s.strideH * s.strideW * s.channels * inputBytes;
  std::optional<int64_t> height = getConstantIntValue(s.height),
                         width = getConstantIntValue(s.width),
                         batch = getConstantIntValue(s.batch);
  if (height && width && batch &&
      *batch * *height * *width * s.channels * inputBytes <= kL2Bytes)
    return 0;
  int64_t blockTiles = (kBlockCacheBytes - panelBytes) / tileInputBytes;
  if (blockTiles < 4 || blockTiles >= *pixelTiles)
    return 0;
  // Blocks of even sizes: the threads split the tiles of all blocks, the
  // last block's missing tiles included.
  blockTiles =
      llvm::divideCeil(*pixelTiles, llvm::divideCeil(*pixelTiles, blockTiles));
  // Bytes from beyond L2: the filter once per block against the input
  // once per filter tile.
  int64_t blockedBytes =
      filterBytes * llvm::divideCeil(*pixelTiles, blockTiles);
  int64_t filterOuterBytes = s.tiles * *pixelTiles * tileInputBytes;
  return blockedBytes < filterOuterBytes ? blockTiles : 0;
}

Value ConvEmitter::prefetchNextPanel(Value filterTile, Value pixelTile,
                                     Value pixelTiles) {
  std::optional<int64_t> tiles = getConstantIntValue(pixelTiles);
  int64_t panelValues = s.kernelH * s.kernelW * s.channels * s.filterTile;
  if (bf16 || int8 || int4 || int4Int8 || s.tiles < 2 || !tiles ||
      *tiles > kPrefetchMostTiles || panelValues * 4 < kPrefetchLeastBytes)
    return {};
  prefetchTiles = *tiles;
  Value next = b.create<arith::MinUIOp>(loc, add(filterTile, index(1)),
                                        index(s.tiles - 1));
  // This tile's share of the next panel: 1 / pixelTiles of it.
  return add(
      mul(next, panelValues),
      b.create<arith::DivUIOp>(loc, mul(pixelTile, panelValues), pixelTiles));
}

void ConvEmitter::prefetchStep(Value prefetchFrom, Value step) {
  // F0 / pixelTiles values of the share per channel step, a cache line
  // (16 values) per prefetch.
  Value at =
      add(prefetchFrom, b.create<arith::DivUIOp>(loc, mul(step, s.filterTile),
                                                 index(prefetchTiles)));
  int64_t lines = llvm::divideCeil(s.filterTile, prefetchTiles * 16);
  for (int64_t line = 0; line < lines; ++line)
    b.create<memref::PrefetchOp>(loc, filter,
                                 ValueRange{add(at, index(line * 16))},
                                 /*isWrite=*/false, /*localityHint=*/2,
                                 /*isDataCache=*/true);
}

void ConvEmitter::prefetchAhead(Value filterAt, int64_t stepValues) {
  int64_t valueBytes =
      cast<MemRefType>(filter.getType()).getElementTypeBitWidth() / 8;
  int64_t lineValues = 64 / valueBytes;
  Value ahead = add(filterAt, index(kOneRowPrefetchBytes / valueBytes));
  for (int64_t line = 0; line * lineValues < stepValues; ++line)
    b.create<memref::PrefetchOp>(
        loc, filter, ValueRange{add(ahead, index(line * lineValues))},
        /*isWrite=*/false, /*localityHint=*/2,
        /*isDataCache=*/true);
}

ConvEmitter::TileRows ConvEmitter::tileRows(int64_t rows, Value firstPixel) {
  TileRows tile;
  // A pointwise convolution reads its output pixel's own input pixel: no
  // coordinates to compute (divisions, when the extents are symbolic).
  bool pointwise = s.kernelH == 1 && s.kernelW == 1 && s.strideH == 1 &&
                   s.strideW == 1 && !s.padded;
  for (int64_t r = 0; r < rows; ++r) {
    Value pixel = r ? add(firstPixel, index(r)) : firstPixel;
    tile.pixels.push_back(pixel);
    if (pointwise) {
      tile.bases.push_back(mul(pixel, s.channels));
      continue;
    }
    auto [image, firstY, firstX] =
        windowOrigin(b, loc, pixel, s.outH, s.outW, {s.strideH, s.strideW},
                     s.padTop, s.padLeft);
    Value row = add(times(image, s.height), firstY);
    Value column = add(times(row, s.width), firstX);
    tile.firstYs.push_back(firstY);
    tile.firstXs.push_back(firstX);
    tile.bases.push_back(mul(column, s.channels));
  }
  return tile;
}

SmallVector<PaddedSource> ConvEmitter::tapSources(const TileRows &rows,
                                                  Value tap) {
  Value kh = b.create<arith::DivUIOp>(loc, tap, index(stepsPerRow));
  Value kw = b.create<arith::RemUIOp>(loc, tap, index(stepsPerRow));
  Value tapOffset = mul(
      add(times(kh, times(index(s.dilationH), s.width)), mul(kw, s.dilationW)),
      s.channels);
  SmallVector<PaddedSource> sources;
  for (auto [r, base] : llvm::enumerate(rows.bases)) {
    Value at = add(base, tapOffset);
    if (!s.padded) {
      sources.push_back({input, at});
      continue;
    }
    Value inside = b.create<arith::AndIOp>(
        loc,
        isWithin(b, loc, add(rows.firstYs[r], mul(kh, s.dilationH)), s.height),
        isWithin(b, loc, add(rows.firstXs[r], mul(kw, s.dilationW)), s.width));
    sources.push_back(selectPadded(b, loc, inside, input, at, zeros, index(0)));
  }
  return sources;
}

void ConvEmitter::emitTile(int64_t rows, Value firstPixel, Value filterTile,
                           Value prefetchFrom) {
  TileRows tile = tileRows(rows, firstPixel);
  Value zero = b.create<arith::ConstantOp>(
      loc, vectorType, DenseElementsAttr::get(vectorType, 0.0f));
  Value accumulatorZero =
      int8
          ? b.create<arith::ConstantOp>(
                loc, accumulatorType,
                DenseElementsAttr::get(accumulatorType, b.getI32IntegerAttr(0)))
          : zero;
  SmallVector<Value> accumulators(rows * vectorsPerRow, accumulatorZero);
  // Filter elements per input channel: F0, or F0 / 2 bytes of nibbles.
  int64_t channelValues = int4 || int4Int8 ? s.filterTile / 2 : s.filterTile;
  Value filterBase =
      mul(filterTile, s.kernelH * s.kernelW * s.channels * channelValues);

  // for kh, kw, c: the loops carry the accumulators (merged taps, or for
  // few-channel inputs such as an image's three, KW short loops).
  auto overTaps = b.create<scf::ForOp>(
      loc, index(0), index(s.kernelH * stepsPerRow), index(1), accumulators,
      [&](OpBuilder &, Location, Value tap, ValueRange carried) {
        SmallVector<PaddedSource> tapRows = tapSources(tile, tap);
        Value tapFilter =
            add(filterBase, mul(tap, stepChannels * channelValues));
        if (int4 || int4Int8) {
          // Pointwise: the one tap's channels, group by group.
          b.create<scf::YieldOp>(
              loc,
              (int4 ? emitInt4Channels(tapRows, filterTile, tapFilter, carried)
                    : emitInt4Int8Channels(tapRows, filterTile, tapFilter,
                                           carried))
                  .getResults());
          return;
        }
        // bf16 steps over pairs, 8-bit integers over quads, whose filter
        // values sit two or four per filter.
        int64_t perStep = bf16 ? 2 : int8 ? 4 : 1;
        int64_t steps = stepChannels / perStep;
        int64_t stepValues = perStep * s.filterTile;
        auto emitStep = [&](Value c, Value filterAt, ValueRange acc) {
          return bf16   ? emitBf16Step(tapRows, c, filterAt, acc)
                 : int8 ? emitInt8Step(tapRows, c, filterAt, acc)
                        : emitF32Step(tapRows, c, filterAt, acc);
        };
        // One pixel (a decode step's products): the multiply-adds'
        // latency (FMA's, or `vdpbf16ps`') would bound the few
        // accumulators' chains, so the channels' two halves take a set
        // each, summed at the tap's end (SmolLM2's BF16-weight decode on
        // AVX2, 3 accumulators a tile: the 57 MB head 2.12 -> 1.85 ms).
        if (rows == 1 && !int8 && !prefetchFrom && steps >= 2) {
          int64_t half = steps / 2;
          SmallVector<Value> chains(carried.begin(), carried.end());
          chains.append(carried.size(), zero);
          auto halves = b.create<scf::ForOp>(
              loc, index(0), index(half), index(1), chains,
              [&](OpBuilder &, Location, Value c, ValueRange acc) {
                size_t n = carried.size();
                Value upper = add(c, index(half));
                if (oneRowPrefetch) {
                  prefetchAhead(add(tapFilter, mul(c, stepValues)), stepValues);
                  prefetchAhead(add(tapFilter, mul(upper, stepValues)),
                                stepValues);
                }
                SmallVector<Value> next = emitStep(
                    c, add(tapFilter, mul(c, stepValues)), acc.take_front(n));
                llvm::append_range(
                    next,
                    emitStep(upper, add(tapFilter, mul(upper, stepValues)),
                             acc.drop_front(n)));
                b.create<scf::YieldOp>(loc, next);
              });
          ValueRange results = halves.getResults();
          SmallVector<Value> sums(results.take_front(carried.size()));
          if (steps % 2)
            sums =
                emitStep(index(steps - 1),
                         add(tapFilter, index((steps - 1) * stepValues)), sums);
          for (auto [i, sum] : llvm::enumerate(sums))
            sum = b.create<arith::AddFOp>(loc, sum,
                                          results[carried.size() + i]);
          b.create<scf::YieldOp>(loc, sums);
          return;
        }
        auto overChannels = b.create<scf::ForOp>(
            loc, index(0), index(steps), index(1), carried,
            [&](OpBuilder &, Location, Value c, ValueRange acc) {
              Value filterAt = add(tapFilter, mul(c, stepValues));
              if (prefetchFrom)
                prefetchStep(prefetchFrom, add(mul(tap, steps), c));
              b.create<scf::YieldOp>(loc, emitStep(c, filterAt, acc));
            });
        b.create<scf::YieldOp>(loc, overChannels.getResults());
      });

  // Epilogue: bias, residual, activation; masked where the filters end.
  for (int64_t v = 0; v < vectorsPerRow; ++v) {
    Value firstFilter =
        add(mul(filterTile, s.filterTile), index(v * lanes));
    Value biasVector = b.create<vector::LoadOp>(loc, vectorType, bias,
                                                ValueRange{firstFilter});
    Value remaining =
        b.create<arith::SubIOp>(loc, index(s.filters), firstFilter);
    Value count = b.create<arith::MinSIOp>(loc, remaining, index(lanes));
    auto maskType = VectorType::get({lanes}, b.getI1Type());
    Value mask =
        b.create<vector::CreateMaskOp>(loc, maskType, ValueRange{count});
    for (int64_t r = 0; r < rows; ++r) {
      Value at = add(mul(tile.pixels[r], s.filters), firstFilter);
      Value sums = overTaps.getResult(r * vectorsPerRow + v);
      if (int4Int8)
        sums = b.create<arith::SIToFPOp>(loc, vectorType, sums);
      else if (int8)
        sums = scaleInt8Sums(sums, filterTile, v);
      Value sum = b.create<arith::AddFOp>(loc, sums, biasVector);
      if (op.getAccumulate()) {
        Value residual = b.create<vector::MaskedLoadOp>(
            loc, vectorType, output, ValueRange{at}, mask, zero);
        sum = b.create<arith::AddFOp>(loc, sum, residual);
      }
      storeVector(b, loc, activate(sum), output, at, mask);
    }
  }
}

SmallVector<Value> ConvEmitter::loadFilterVectors(VectorType type,
                                                  Value filterAt) {
  SmallVector<Value> weights;
  for (int64_t v = 0; v < vectorsPerRow; ++v)
    weights.push_back(b.create<vector::LoadOp>(
        loc, type, filter,
        ValueRange{add(filterAt, index(v * type.getNumElements()))}));
  return weights;
}

SmallVector<Value> ConvEmitter::emitF32Step(ArrayRef<PaddedSource> sources,
                                            Value c, Value filterAt,
                                            ValueRange acc) {
  if (!bf16Filter)
    return multiplyRows(sources, c, loadFilterVectors(vectorType, filterAt),
                        acc);
  // bf16 weights widen to f32 as they load (a zero extension and a shift).
  SmallVector<Value> weights =
      loadFilterVectors(VectorType::get({lanes}, b.getBF16Type()), filterAt);
  for (Value &w : weights)
    w = b.create<arith::ExtFOp>(loc, vectorType, w);
  return multiplyRows(sources, c, weights, acc);
}

void ConvEmitter::loadGroupScales(Value filterTile, Value g,
                                  SmallVectorImpl<Value> &scaleVectors,
                                  SmallVectorImpl<Value> &negatedZeros) {
  auto halfType = VectorType::get({lanes}, b.getF16Type());
  int64_t groups = s.channels / op.getGroupSize();
  // [tiles, groups, 2, F0]: this group's scales, then zero points.
  Value at = mul(add(mul(filterTile, groups), g), 2 * s.filterTile);
  for (int64_t v = 0; v < vectorsPerRow; ++v) {
    auto load = [&](int64_t offset) -> Value {
      Value half = b.create<vector::LoadOp>(loc, halfType, scales,
                                            ValueRange{add(at, index(offset))});
      return b.create<arith::ExtFOp>(loc, vectorType, half);
    };
    Value scale = load(v * lanes);
    Value zero = load(s.filterTile + v * lanes);
    scaleVectors.push_back(scale);
    negatedZeros.push_back(b.create<arith::NegFOp>(
        loc, b.create<arith::MulFOp>(loc, scale, zero)));
  }
}

void ConvEmitter::emitDequantizedFilter(Value target) {
  filter = flattenBuffer(b, loc, op.getFilter());
  scales = flattenBuffer(b, loc, op.getFilterScales());
  Value flatTarget = flattenBuffer(b, loc, target);
  int64_t group = op.getGroupSize();
  int64_t groups = s.channels / group;
  auto loop = b.create<scf::ParallelOp>(loc, ValueRange{index(0)},
                                        ValueRange{index(s.tiles * groups)},
                                        ValueRange{index(1)});
  markThreaded(loop, operationsOf({}, s.tiles * s.channels * s.filterTile));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value item = loop.getInductionVars()[0];
  Value filterTile = dividedBy(item, index(groups));
  Value g = remainder(item, index(groups));
  SmallVector<Value> scaleVectors, negatedZeros;
  loadGroupScales(filterTile, g, scaleVectors, negatedZeros);
  Value first = mul(g, group);
  b.create<scf::ForOp>(
      loc, first, add(first, index(group)), index(1), ValueRange{},
      [&](OpBuilder &, Location, Value c, ValueRange) {
        Value channel = add(mul(filterTile, s.channels), c);
        SmallVector<Value> weights = loadInt4Filter(
            mul(channel, s.filterTile / 2), scaleVectors, negatedZeros);
        Value to = mul(channel, s.filterTile);
        for (auto [v, weight] : llvm::enumerate(weights))
          b.create<vector::StoreOp>(loc, weight, flatTarget,
                                    ValueRange{add(to, index(v * lanes))});
        b.create<scf::YieldOp>(loc);
      });
}

scf::ForOp ConvEmitter::emitInt4Channels(ArrayRef<PaddedSource> sources,
                                         Value filterTile, Value tapFilter,
                                         ValueRange acc) {
  int64_t group = op.getGroupSize();
  int64_t groups = s.channels / group;
  return b.create<scf::ForOp>(
      loc, index(0), index(groups), index(1), acc,
      [&](OpBuilder &, Location, Value g, ValueRange carried) {
        SmallVector<Value> scaleVectors, negatedZeros;
        loadGroupScales(filterTile, g, scaleVectors, negatedZeros);
        Value first = mul(g, group);
        if (sources.size() == 1 && group % 2 == 0) {
          b.create<scf::YieldOp>(
              loc, emitInt4OneRowGroup(sources.front(), tapFilter, first, group,
                                       scaleVectors, negatedZeros, carried));
          return;
        }
        auto channels = b.create<scf::ForOp>(
            loc, first, add(first, index(group)), index(1), carried,
            [&](OpBuilder &, Location, Value c, ValueRange inner) {
              Value filterAt = add(tapFilter, mul(c, s.filterTile / 2));
              b.create<scf::YieldOp>(
                  loc, multiplyRows(
                           sources, c,
                           loadInt4Filter(filterAt, scaleVectors, negatedZeros),
                           inner));
            });
        b.create<scf::YieldOp>(loc, channels.getResults());
      });
}

// A decode step's products have one row, which leaves each dequantized
// weight (one multiply-add) used once. Within a group, x * (q * s - s * z)
// sums to s * sum(x * q) - s * z * sum(x): the nibbles multiply the row as
// they are, the row's values are summed beside them, and the group's
// scale and zero point apply once at its end. The group's channels run in
// two halves, each with its own sums, so that the multiply-adds' latency
// does not bound the few chains.
SmallVector<Value>
ConvEmitter::emitInt4OneRowGroup(PaddedSource source, Value tapFilter,
                                 Value first, int64_t group,
                                 ArrayRef<Value> scaleVectors,
                                 ArrayRef<Value> negatedZeros, ValueRange acc) {
  Value zero = b.create<arith::ConstantOp>(
      loc, vectorType, DenseElementsAttr::get(vectorType, 0.0f));
  int64_t half = group / 2;
  // Each half's vectorsPerRow sums of x * q, then each half's sum of x.
  SmallVector<Value> init(2 * vectorsPerRow + 2, zero);
  auto halves = b.create<scf::ForOp>(
      loc, index(0), index(half), index(1), init,
      [&](OpBuilder &, Location, Value i, ValueRange sums) {
        Value channels[2] = {add(first, i), add(first, add(i, index(half)))};
        SmallVector<Value> next, xs;
        for (int64_t h = 0; h < 2; ++h) {
          Value filterAt = add(tapFilter, mul(channels[h], s.filterTile / 2));
          if (oneRowPrefetch)
            prefetchAhead(filterAt, s.filterTile / 2);
          Value x = b.create<memref::LoadOp>(
              loc, source.buffer, ValueRange{add(source.offset, channels[h])});
          xs.push_back(b.create<vector::BroadcastOp>(loc, vectorType, x));
          for (auto [v, q] : llvm::enumerate(loadInt4Values(filterAt)))
            next.push_back(b.create<vector::FMAOp>(
                loc, xs[h], q, sums[h * vectorsPerRow + v]));
        }
        for (int64_t h = 0; h < 2; ++h)
          next.push_back(
              b.create<arith::AddFOp>(loc, sums[2 * vectorsPerRow + h], xs[h]));
        b.create<scf::YieldOp>(loc, next);
      });
  ValueRange sums = halves.getResults();
  Value xSum = b.create<arith::AddFOp>(loc, sums[2 * vectorsPerRow],
                                       sums[2 * vectorsPerRow + 1]);
  SmallVector<Value> next;
  for (int64_t v = 0; v < vectorsPerRow; ++v) {
    Value products =
        b.create<arith::AddFOp>(loc, sums[v], sums[vectorsPerRow + v]);
    Value scaled =
        b.create<vector::FMAOp>(loc, products, scaleVectors[v], acc[v]);
    next.push_back(b.create<vector::FMAOp>(loc, xSum, negatedZeros[v], scaled));
  }
  return next;
}

SmallVector<Value> ConvEmitter::loadInt4Filter(Value filterAt,
                                               ArrayRef<Value> scaleVectors,
                                               ArrayRef<Value> negatedZeros) {
  SmallVector<Value> weights = loadInt4Values(filterAt);
  for (auto [v, value] : llvm::enumerate(weights))
    value =
        b.create<vector::FMAOp>(loc, value, scaleVectors[v], negatedZeros[v]);
  return weights;
}

SmallVector<Value> ConvEmitter::loadInt4Values(Value filterAt) {
  auto bytesType = VectorType::get({lanes}, b.getI8Type());
  auto nibble = [&](uint32_t value) -> Value {
    return b.create<arith::ConstantOp>(
        loc, DenseElementsAttr::get(wordsType, b.getI32IntegerAttr(value)));
  };
  SmallVector<Value> values;
  for (int64_t pair = 0; pair < vectorsPerRow / 2; ++pair) {
    Value bytes = b.create<vector::LoadOp>(
        loc, bytesType, filter, ValueRange{add(filterAt, index(pair * lanes))});
    Value words = b.create<arith::ExtUIOp>(loc, wordsType, bytes);
    Value low = b.create<arith::AndIOp>(loc, words, nibble(15));
    Value high = b.create<arith::ShRUIOp>(loc, words, nibble(4));
    // Nibbles are non-negative: the signed conversion is exact and one
    // instruction on AVX2 as on AVX-512.
    for (Value q : {low, high})
      values.push_back(b.create<arith::SIToFPOp>(loc, vectorType, q));
  }
  return values;
}

SmallVector<Value> ConvEmitter::multiplyRows(ArrayRef<PaddedSource> sources,
                                             Value c, ArrayRef<Value> weights,
                                             ValueRange acc) {
  SmallVector<Value> next;
  for (auto [r, source] : llvm::enumerate(sources)) {
    Value scalar = b.create<memref::LoadOp>(loc, source.buffer,
                                            ValueRange{add(source.offset, c)});
    Value broadcast = b.create<vector::BroadcastOp>(loc, vectorType, scalar);
    for (int64_t v = 0; v < vectorsPerRow; ++v)
      next.push_back(b.create<vector::FMAOp>(loc, broadcast, weights[v],
                                             acc[r * vectorsPerRow + v]));
  }
  return next;
}

SmallVector<Value> ConvEmitter::emitBf16Step(ArrayRef<PaddedSource> sources,
                                             Value c, Value filterAt,
                                             ValueRange acc) {
  SmallVector<Value> weights = loadFilterVectors(pairsType, filterAt);
  SmallVector<std::pair<Value, Value>> halves;
  if (!bf16Dot)
    for (Value w : weights)
      halves.push_back(splitBf16Pairs(
          b, loc, b.create<vector::BitCastOp>(loc, wordsType, w)));

  SmallVector<Value> next;
  for (auto [r, source] : llvm::enumerate(sources)) {
    // The row's channel pair as one i32 word.
    Value pair = b.create<vector::LoadOp>(
        loc, VectorType::get({2}, b.getBF16Type()), source.buffer,
        ValueRange{add(source.offset, mul(c, 2))});
    Value word = b.create<vector::ExtractOp>(
        loc,
        b.create<vector::BitCastOp>(loc, VectorType::get({1}, b.getI32Type()),
                                    pair),
        ArrayRef<int64_t>{0});
    if (bf16Dot) {
      Value broadcast = b.create<vector::BitCastOp>(
          loc, pairsType, b.create<vector::BroadcastOp>(loc, wordsType, word));
      for (int64_t v = 0; v < vectorsPerRow; ++v)
        next.push_back(b.create<Bf16DotOp>(loc, vectorType,
                                           acc[r * vectorsPerRow + v],
                                           broadcast, weights[v]));
      continue;
    }
    auto [even, odd] = splitBf16Pairs(b, loc, word);
    Value evens = b.create<vector::BroadcastOp>(loc, vectorType, even);
    Value odds = b.create<vector::BroadcastOp>(loc, vectorType, odd);
    for (int64_t v = 0; v < vectorsPerRow; ++v) {
      Value sum = b.create<vector::FMAOp>(loc, evens, halves[v].first,
                                          acc[r * vectorsPerRow + v]);
      next.push_back(
          b.create<vector::FMAOp>(loc, odds, halves[v].second, sum));
    }
  }
  return next;
}

SmallVector<Value> ConvEmitter::emitInt8Step(ArrayRef<PaddedSource> sources,
                                             Value c, Value filterAt,
                                             ValueRange acc) {
  auto bytesType = VectorType::get({4 * lanes}, b.getI8Type());
  return dotRows(sources, c, loadFilterVectors(bytesType, filterAt), acc);
}

SmallVector<Value> ConvEmitter::dotRows(ArrayRef<PaddedSource> sources, Value c,
                                        ArrayRef<Value> weights,
                                        ValueRange acc) {
  auto bytesType = VectorType::get({4 * lanes}, b.getI8Type());
  // Signed bytes become the unsigned ones vpdpbusd takes: x + 128, which
  // is x with its top bit flipped.
  Value topBits = b.create<arith::ConstantOp>(
      loc, b.getI32IntegerAttr(static_cast<int32_t>(0x80808080u)));
  SmallVector<Value> next;
  for (auto [r, source] : llvm::enumerate(sources)) {
    Value quad = b.create<vector::LoadOp>(
        loc, VectorType::get({4}, b.getI8Type()), source.buffer,
        ValueRange{add(source.offset, mul(c, 4))});
    Value word = b.create<vector::ExtractOp>(
        loc,
        b.create<vector::BitCastOp>(loc, VectorType::get({1}, b.getI32Type()),
                                    quad),
        ArrayRef<int64_t>{0});
    word = b.create<arith::XOrIOp>(loc, word, topBits);
    Value broadcast = b.create<vector::BitCastOp>(
        loc, bytesType, b.create<vector::BroadcastOp>(loc, wordsType, word));
    for (int64_t v = 0; v < vectorsPerRow; ++v)
      next.push_back(b.create<Int8DotOp>(
          loc, accumulatorType, acc[r * vectorsPerRow + v], broadcast,
          weights[v], /*narrow_rhs=*/op.getNarrowFilter()));
  }
  return next;
}

scf::ForOp ConvEmitter::emitInt4Int8Channels(ArrayRef<PaddedSource> sources,
                                             Value filterTile, Value tapFilter,
                                             ValueRange acc) {
  int64_t group = op.getGroupSize();
  int64_t groups = s.channels / group;
  auto bytesType = VectorType::get({4 * lanes}, b.getI8Type());
  return b.create<scf::ForOp>(
      loc, index(0), index(groups), index(1), acc,
      [&](OpBuilder &, Location, Value g, ValueRange carried) {
        // [tiles, groups, 3, F0]: this group's scales, zero points (a byte
        // each of a word) and starting sums.
        Value at = mul(add(mul(filterTile, groups), g), 3 * s.filterTile);
        SmallVector<Value> groupScales, zeroBytes, starts;
        for (int64_t v = 0; v < vectorsPerRow; ++v) {
          auto load = [&](int64_t row) -> Value {
            return b.create<vector::LoadOp>(
                loc, wordsType, scales,
                ValueRange{add(at, index(row * s.filterTile + v * lanes))});
          };
          groupScales.push_back(load(0));
          zeroBytes.push_back(
              b.create<vector::BitCastOp>(loc, bytesType, load(1)));
          starts.push_back(load(2));
        }
        SmallVector<Value> sums;
        for (int64_t r = 0; r < int64_t(sources.size()); ++r)
          llvm::append_range(sums, starts);
        Value first = mul(g, group / 4);
        auto quads = b.create<scf::ForOp>(
            loc, first, add(first, index(group / 4)), index(1), sums,
            [&](OpBuilder &, Location, Value c, ValueRange inner) {
              Value filterAt = add(tapFilter, mul(c, 2 * s.filterTile));
              b.create<scf::YieldOp>(
                  loc, dotRows(sources, c, loadInt4Quads(filterAt, zeroBytes),
                               inner));
            });
        SmallVector<Value> next;
        for (auto [i, sum] : llvm::enumerate(quads.getResults()))
          next.push_back(b.create<arith::AddIOp>(
              loc, carried[i],
              b.create<arith::MulIOp>(loc, sum,
                                      groupScales[i % vectorsPerRow])));
        b.create<scf::YieldOp>(loc, next);
      });
}

SmallVector<Value> ConvEmitter::loadInt4Quads(Value filterAt,
                                              ArrayRef<Value> zeroBytes) {
  auto bytesType = VectorType::get({4 * lanes}, b.getI8Type());
  auto splat = [&](int8_t value) -> Value {
    return b.create<arith::ConstantOp>(
        loc, DenseElementsAttr::get(bytesType, b.getI8IntegerAttr(value)));
  };
  Value lowNibbles = splat(15), four = splat(4);
  SmallVector<Value> weights;
  for (int64_t pair = 0; pair < vectorsPerRow / 2; ++pair) {
    Value bytes = b.create<vector::LoadOp>(
        loc, bytesType, filter,
        ValueRange{add(filterAt, index(pair * 4 * lanes))});
    Value nibbles[2] = {b.create<arith::AndIOp>(loc, bytes, lowNibbles),
                        b.create<arith::ShRUIOp>(loc, bytes, four)};
    for (int64_t half = 0; half < 2; ++half)
      weights.push_back(b.create<arith::SubIOp>(loc, nibbles[half],
                                                zeroBytes[2 * pair + half]));
  }
  return weights;
}

Value ConvEmitter::scaleInt8Sums(Value acc, Value filterTile, int64_t v) {
  // [tiles, 2, F0]: the tile's scales, then its compensations.
  Value at = add(mul(filterTile, 2 * s.filterTile), index(v * lanes));
  Value scale =
      b.create<vector::LoadOp>(loc, vectorType, scales, ValueRange{at});
  Value compensation = b.create<vector::LoadOp>(
      loc, vectorType, scales, ValueRange{add(at, index(s.filterTile))});
  // Subtracted in i32, so that the 128s' large share of the sums cancels
  // exactly before the conversion rounds.
  Value sums = b.create<arith::SubIOp>(
      loc, acc, b.create<arith::FPToSIOp>(loc, accumulatorType, compensation));
  return b.create<arith::MulFOp>(
      loc, b.create<arith::SIToFPOp>(loc, vectorType, sums), scale);
}

/// For a contraction whose output pixels are symbolic, their count, or a
/// null value when a buffer is a strided view (whose contiguous copy,
/// made where the kernel is emitted, must not be inside a branch); none
/// when the count is static.
std::optional<Value> symbolicPixels(PackedConv2DOp op, OpBuilder &b) {
  auto type = cast<MemRefType>(op.getInit().getType());
  if (!type.isDynamicDim(0) && !type.isDynamicDim(1) && !type.isDynamicDim(2))
    return std::nullopt;
  for (Value operand : op->getOperands())
    if (!cast<MemRefType>(operand.getType()).getLayout().isIdentity())
      return Value();
  KernelEmitterBase e(b, op.getLoc());
  Value init = op.getInit();
  return e.times(e.extent(init, 0),
                 e.times(e.extent(init, 1), e.extent(init, 2)));
}

/// A W4A16 product of at least this many rows (a prefill) dequantizes its
/// 4-bit filter once into an f32 buffer and runs the f32 kernel on it:
/// dequantizing in registers costs each tile as much as its products, and
/// every tile of rows repeats it (SmolLM2's prefill of 512 tokens ran at
/// two thirds of FP32's speed). Fewer rows (a decode step's one) read the
/// 4 bits, a quarter of the bytes.
constexpr int64_t kDequantizeOnceLeastPixels = 16;

/// `op`'s product on its 4-bit filter dequantized into a temporary f32
/// filter, freed after it.
LogicalResult emitDequantizedOnce(PackedConv2DOp op, int64_t vectorBits,
                                  bool bf16Dot, OpBuilder &b) {
  Location loc = op.getLoc();
  auto packed = cast<MemRefType>(op.getFilter().getType()).getShape();
  auto f32Filter = MemRefType::get(
      {packed[0], packed[1], packed[2], packed[3], op.getFilterTile()},
      b.getF32Type());
  Value filter =
      b.create<memref::AllocOp>(loc, f32Filter, b.getI64IntegerAttr(64));
  ConvEmitter(op, vectorBits, bf16Dot, b).emitDequantizedFilter(filter);
  auto product = cast<PackedConv2DOp>(b.clone(*op));
  product.getFilterMutable().assign(filter);
  product.getFilterScalesMutable().clear();
  product.setGroupSize(0);
  LogicalResult emitted = ConvEmitter(product, vectorBits, bf16Dot, b).emit();
  product.erase();
  b.create<memref::DeallocOp>(loc, filter);
  return emitted;
}

/// A kernel for `op` where it has at least `least` output pixels, which
/// `emitMany` emits at `b`. Known at compile time: emitted alone when they
/// are that many (true), not at all otherwise (false). Known at run time
/// only (a decode step's one row, a prefill's hundreds): a branch on them,
/// `emitMany` in its first region and `b` left in the other for the
/// kernel of fewer (false).
FailureOr<bool> emitForManyPixels(PackedConv2DOp op, OpBuilder &b,
                                  int64_t least,
                                  function_ref<LogicalResult()> emitMany) {
  std::optional<Value> pixels = symbolicPixels(op, b);
  if (!pixels) {
    auto out = cast<MemRefType>(op.getInit().getType()).getShape();
    if (out[0] * out[1] * out[2] < least)
      return false;
    if (failed(emitMany()))
      return failure();
    return true;
  }
  if (!*pixels)
    return false;
  Location loc = op.getLoc();
  Value many =
      b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::uge, *pixels,
                              b.create<arith::ConstantIndexOp>(loc, least));
  auto branch = b.create<scf::IfOp>(loc, many, /*withElseRegion=*/true);
  b.setInsertionPointToStart(&branch.getThenRegion().front());
  if (failed(emitMany()))
    return failure();
  b.setInsertionPointToStart(&branch.getElseRegion().front());
  return false;
}

struct CpuLowerPackedConvPass
    : kiln::impl::CpuLowerPackedConvPassBase<CpuLowerPackedConvPass> {
  using Base::Base;

  void runOnOperation() override {
    if (failed(checkVectorBits(getOperation(), vectorBits)))
      return signalPassFailure();
    for (PackedConv2DOp op : bufferForms<PackedConv2DOp>(getOperation())) {
      OpBuilder b(op);
      FailureOr<bool> replaced = false;
      if (amx && amxCanRun(op))
        replaced = emitForManyPixels(op, b, kAmxLeastPixels, [&] {
          emitAmxConv(op, b);
          return success();
        });
      else if (op.isInt4())
        replaced = emitForManyPixels(op, b, kDequantizeOnceLeastPixels, [&] {
          return emitDequantizedOnce(op, vectorBits, bf16Dot, b);
        });
      if (failed(replaced))
        return signalPassFailure();
      if (*replaced) {
        op.erase();
        continue;
      }
      ConvEmitter emitter(op, vectorBits, bf16Dot, b);
      if (failed(emitter.emit()))
        return signalPassFailure();
      op.erase();
    }
  }
};

} // namespace
