//===- AmxConv.cpp - the packed convolution on AMX tiles ------------------===//
//
// The BF16 packed contraction on a CPU with AMX: 32 output pixels by 32
// filters accumulate in four f32 tiles (2 x 2 of 16 x 16) over k-blocks of
// 32 values of the window (its (kh, kw, c) in the filter's order), each
// step two tiles of pixels and two of filters, four `tdpbf16ps`. The
// filter's BF16 pair layout [tiles, KH, KW, C/2, F0, 2] is already the
// tiles' (a k-block of a block of 16 filters is 16 rows of 16 pairs, F0 * 2
// values apart), so with F0 a multiple of 16 it loads as it is; where the
// window's length K is not a multiple of 32, the last k-block's filter
// rows are copied once per iteration into zero-padded tiles, so that no
// load reads past the filter.
//
// A tile's 16 pixel rows must sit a fixed stride apart: a pointwise
// convolution's full tiles, with C a multiple of 32, read the NHWC input
// in place (rows C apart); every other tile first stages its rows'
// windows into a panel on the stack, row by row, K values a row: each
// window row's KW * C values are contiguous in NHWC (without dilation
// along the row), so a row of the panel is KH runs, each copied 32 values
// at a time by loads under a mask of the values inside the image (zeros
// in the padding and past the last pixel). All the tile's filters then
// share the panel. Iterations are (a chunk of filters, a tile of pixels),
// chunks outer, so that a thread's next tile finds the chunk's filters in
// its cache; a chunk's filters are sized to stay in L2 beside the panel.
// The sums leave the tiles through a scratch of f32 rows, where the
// epilogue adds the bias and the residual, applies the activation and
// stores with masks.
//
// Long windows (K a multiple of 32) take the panel in chunks of K; the
// tiles then go back to the scratch between chunks.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/AmxConv.h"
#include "codegen/cpu/KernelHelpers.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// Pixels a tile: two row tiles of 16.
constexpr int64_t kPixels = kAmxLeastPixels;
/// Window values a k-block: 16 bf16 pairs, one tile row of 64 bytes.
constexpr int64_t kBlockValues = 32;
/// Filters a column block: a tile's 16 f32 columns.
constexpr int64_t kBlockFilters = 16;
/// The most window values a panel stages at once: 32 rows of 2048 values
/// are 128 KB.
constexpr int64_t kMostPanelValues = 2048;
/// The most bytes of filters a chunk holds, to stay in L2 with the panel.
constexpr int64_t kChunkFilterBytes = 1 << 20;
/// The most column pairs of a chunk (16 * 4 KB of scratch).
constexpr int64_t kMostChunkPairs = 16;
/// The iterations worth aiming at, for the threads to share evenly.
constexpr int64_t kIterationsWanted = 8;

/// Tiles: accumulators 0-3 (row tile * 2 + column block), pixels 4-5,
/// filters 6-7.
constexpr int64_t kPixelTile = 4, kFilterTile = 6;

/// The window's values one staging copy covers, and whether `op`'s rows
/// are runs of KW * C values (no dilation along the row) or of C.
struct Runs {
  int64_t length, count;
  bool wholeRows;
};

Runs runsOf(PackedConv2DOp op) {
  auto shape = cast<MemRefType>(op.getFilter().getType()).getShape();
  int64_t channels = cast<MemRefType>(op.getInput().getType()).getShape()[3];
  if (op.getDilations()[1] == 1)
    return {shape[2] * channels, shape[1], true};
  return {channels, shape[1] * shape[2], false};
}

class AmxConvEmitter : KernelEmitterBase {
public:
  AmxConvEmitter(PackedConv2DOp op, OpBuilder &b)
      : KernelEmitterBase(b, op.getLoc()), op(op), runs(runsOf(op)) {
    auto filterShape = cast<MemRefType>(op.getFilter().getType()).getShape();
    channels = cast<MemRefType>(op.getInput().getType()).getShape()[3];
    kernelW = filterShape[2];
    filterTile = op.getFilterTile();
    filters = cast<MemRefType>(op.getInit().getType()).getShape()[3];
    windowValues = runs.length * runs.count;
    columnBlocks = llvm::divideCeil(filters, kBlockFilters);
    pairs = llvm::divideCeil(columnBlocks, 2);
    tailPairs = windowValues % kBlockValues / 2;
    int64_t pairBytes = windowValues * 2 * kBlockFilters * 2;
    chunkPairs = std::clamp<int64_t>(kChunkFilterBytes / pairBytes, 1,
                                     std::min(pairs, kMostChunkPairs));
    // A window that is not whole k-blocks stages at once (amxCanRun).
    panelValues =
        tailPairs ? windowValues : std::min(windowValues, kMostPanelValues);
    // One k-block more than the row needs: rows a power of two of bytes
    // apart would all fall in one set of the L1 cache.
    panelStride = llvm::alignTo(panelValues, kBlockValues) + kBlockValues;
    SmallVector<int64_t> pads = op.getPadding();
    direct = filterShape[1] * kernelW == 1 && channels % kBlockValues == 0 &&
             llvm::all_of(op.getStrides(), [](int64_t s) { return s == 1; }) &&
             llvm::all_of(pads, [](int64_t p) { return p == 0; });
  }

  void emit();

private:
  /// The iteration's work: stage (unless direct), multiply, epilogue.
  void emitIteration(Value chunk, Value firstPixel);
  /// Stages window values [first, end) of the 32 rows from `firstPixel`
  /// into the panel, a row of panelStride each.
  void emitStaging(Value firstPixel, int64_t first, int64_t end);
  /// Copies the last, partial k-block's filter rows of each column block
  /// of pairs [from, to) into `tail`, zeros below them.
  void emitFilterTail(Value from, Value to);
  /// The k-blocks of a panel of window values [first, end) (the block at
  /// end / 32, when partial, the last), the tiles starting at zero when
  /// `fresh`, else from the scratch. `inPlace` reads the pixels from the
  /// input, else from the panel.
  struct KBlocks {
    int64_t first, end;
    bool fresh, inPlace;
  };
  /// The products of column pairs [from, to) over the k-blocks `k`,
  /// `blocks` (1 or 2) column blocks a pair, their sums left in the
  /// scratch.
  void emitPairs(Value from, Value to, Value firstChunkPair, int64_t blocks,
                 const KBlocks &k, Value firstPixel);
  /// Bias, residual, activation and stores of column pair `pair` (its
  /// sums at `slot` of the scratch).
  void emitEpilogue(Value pair, Value slot, Value firstPixel);
  /// The filter's offset of column block `block` at k-block `kBlock`.
  Value filterOffset(Value block, Value kBlock);
  Value activate(Value x) { return applyActivationOf(b, loc, x, op); }

  PackedConv2DOp op;
  Runs runs;
  int64_t channels, kernelW, filterTile, filters, windowValues;
  int64_t columnBlocks, pairs, tailPairs, chunkPairs, panelValues, panelStride;
  bool direct;
  Value pixels, input, filter, bias, output, panel, tail, sums;
  /// A k-block of bf16 zeros: padding, and the rows past a partial block.
  Value zeroBlock;
  Value height, width, outH, outW;
};

void AmxConvEmitter::emit() {
  Value rawInput = op.getInput(), init = op.getInit();
  height = extent(rawInput, 1);
  width = extent(rawInput, 2);
  outH = extent(init, 1);
  outW = extent(init, 2);
  pixels = times(extent(rawInput, 0), times(outH, outW));
  input = flattenBuffer(b, loc, rawInput);
  input = b.create<memref::CastOp>(
      loc, MemRefType::get({ShapedType::kDynamic}, b.getBF16Type()), input);
  filter = flattenBuffer(b, loc, op.getFilter());
  bias = op.getBias();
  output = flattenBuffer(b, loc, init);
  auto blockType = VectorType::get({kBlockValues}, b.getBF16Type());
  zeroBlock = b.create<arith::ConstantOp>(
      loc, blockType, cast<TypedAttr>(b.getZeroAttr(blockType)));

  Value pixelTiles =
      dividedBy(plus(pixels, index(kPixels - 1)), index(kPixels));
  // Fewer filters a chunk when there are too few pixel tiles to share.
  if (std::optional<int64_t> tiles = getConstantIntValue(pixelTiles))
    while (chunkPairs > 1 &&
           llvm::divideCeil(pairs, chunkPairs) * *tiles < kIterationsWanted)
      chunkPairs = llvm::divideCeil(chunkPairs, 2);
  // Chunks of equal work where a divisor of the pairs is near: the threads
  // take runs of consecutive iterations, and a short last chunk would
  // leave one idle.
  for (int64_t even = chunkPairs; even > chunkPairs / 2; --even)
    if (pairs % even == 0) {
      chunkPairs = even;
      break;
    }
  int64_t chunks = llvm::divideCeil(pairs, chunkPairs);

  auto loop = b.create<scf::ParallelOp>(
      loc, ValueRange{index(0)}, ValueRange{times(index(chunks), pixelTiles)},
      ValueRange{index(1)});
  markThreaded(loop, operationsOf({pixels}, 2 * filters * windowValues));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value iteration = loop.getInductionVars()[0];
  Value chunk = b.create<arith::DivUIOp>(loc, iteration, pixelTiles);
  Value pixelTile = b.create<arith::RemUIOp>(loc, iteration, pixelTiles);
  // The last row's copies may write one k-block past its end.
  panel = b.create<memref::AllocaOp>(
      loc,
      MemRefType::get({kPixels * panelStride + kBlockValues}, b.getBF16Type()));
  if (tailPairs)
    tail = b.create<memref::AllocaOp>(
        loc, MemRefType::get({chunkPairs * 2 * kBlockFilters * kBlockValues},
                             b.getBF16Type()));
  sums = b.create<memref::AllocaOp>(
      loc, MemRefType::get({chunkPairs * kPixels * 2 * kBlockFilters},
                           b.getF32Type()));
  b.create<AmxConfigureOp>(loc);
  emitIteration(chunk, mul(pixelTile, kPixels));
  b.create<AmxReleaseOp>(loc);
}

void AmxConvEmitter::emitIteration(Value chunk, Value firstPixel) {
  Value firstPair = mul(chunk, chunkPairs);
  Value endPair = b.create<arith::MinUIOp>(
      loc, add(firstPair, index(chunkPairs)), index(pairs));
  if (tailPairs)
    emitFilterTail(firstPair, endPair);
  // The full pairs, then, where the column blocks are odd, the last one.
  int64_t fullPairs = columnBlocks / 2;
  Value endFull = b.create<arith::MinUIOp>(loc, endPair, index(fullPairs));
  bool single = columnBlocks % 2;
  auto multiply = [&](int64_t first, int64_t end, bool fresh, bool inPlace) {
    KBlocks k{first, end, fresh, inPlace};
    emitPairs(firstPair, endFull, firstPair, 2, k, firstPixel);
    if (single)
      emitPairs(b.create<arith::MaxUIOp>(loc, firstPair, index(fullPairs)),
                endPair, firstPair, 1, k, firstPixel);
  };
  auto staged = [&]() {
    for (int64_t first = 0; first < windowValues; first += panelValues) {
      int64_t end = std::min(first + panelValues, windowValues);
      emitStaging(firstPixel, first, end);
      multiply(first, end, first == 0, /*inPlace=*/false);
    }
  };
  if (!direct) {
    staged();
  } else {
    // A pointwise convolution's full tiles read the input in place.
    Value full =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ule,
                                add(firstPixel, index(kPixels)), pixels);
    auto branch = b.create<scf::IfOp>(loc, full, /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&branch.getThenRegion().front());
    multiply(0, windowValues, /*fresh=*/true, /*inPlace=*/true);
    b.setInsertionPointToStart(&branch.getElseRegion().front());
    staged();
  }
  b.create<scf::ForOp>(
      loc, firstPair, endPair, index(1), ValueRange{},
      [&](OpBuilder &, Location, Value pair, ValueRange) {
        emitEpilogue(pair, b.create<arith::SubIOp>(loc, pair, firstPair),
                     firstPixel);
        b.create<scf::YieldOp>(loc);
      });
}

void AmxConvEmitter::emitStaging(Value firstPixel, int64_t first, int64_t end) {
  auto blockType = VectorType::get({kBlockValues}, b.getBF16Type());
  auto maskType = VectorType::get({kBlockValues}, b.getI1Type());
  SmallVector<int64_t> pads = op.getPadding();
  int64_t padTop = pads.empty() ? 0 : pads[0];
  int64_t padLeft = pads.empty() ? 0 : pads[1];
  int64_t dilationH = op.getDilations()[0], dilationW = op.getDilations()[1];
  // The runs [first, end) touches, and where each starts within them.
  int64_t firstRun = first / runs.length;
  int64_t endRun = llvm::divideCeil(end, runs.length);
  b.create<scf::ForOp>(
      loc, index(0), index(kPixels), index(1), ValueRange{},
      [&](OpBuilder &, Location, Value row, ValueRange) {
        Value pixel = add(firstPixel, row);
        Value valid = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult,
                                              pixel, pixels);
        // Past the last pixel, pixel 0's coordinates (read as zeros).
        Value at = b.create<arith::SelectOp>(loc, valid, pixel, index(0));
        WindowOrigin origin = windowOrigin(b, loc, at, outH, outW,
                                           op.getStrides(), padTop, padLeft);
        Value firstY = origin.firstY, firstX = origin.firstX;
        Value imageRow = times(origin.image, height);
        Value rowStart = mul(row, panelStride);
        b.create<scf::ForOp>(
            loc, index(firstRun), index(endRun), index(1), ValueRange{},
            [&](OpBuilder &, Location, Value run, ValueRange) {
              // A whole window row (kw from 0), or one tap.
              Value kh = run, ix = firstX;
              if (!runs.wholeRows) {
                kh = b.create<arith::DivUIOp>(loc, run, index(kernelW));
                ix = add(firstX,
                         mul(b.create<arith::RemUIOp>(loc, run, index(kernelW)),
                             dilationW));
              }
              Value iy = add(firstY, mul(kh, dilationH));
              Value rowInside = b.create<arith::AndIOp>(
                  loc, valid, isWithin(b, loc, iy, height));
              // The run's values inside the image: [low, high).
              Value low = index(0), high = index(runs.length);
              if (runs.wholeRows) {
                Value zero = index(0);
                Value firstTap = b.create<arith::MaxSIOp>(
                    loc, zero, b.create<arith::SubIOp>(loc, zero, firstX));
                Value endTap = b.create<arith::MinSIOp>(
                    loc, index(kernelW),
                    b.create<arith::SubIOp>(loc, width, firstX));
                low = mul(firstTap, channels);
                high = mul(endTap, channels);
              } else {
                high = b.create<arith::SelectOp>(
                    loc, isWithin(b, loc, ix, width), high, index(0));
              }
              high = b.create<arith::SelectOp>(loc, rowInside, high, index(0));
              Value source =
                  mul(add(times(add(imageRow, iy), width), ix), channels);
              Value runFirst = mul(run, runs.length);
              // This panel's part of the run, 32 values at a time.
              Value from = b.create<arith::MaxSIOp>(
                  loc, index(0),
                  b.create<arith::SubIOp>(loc, index(first), runFirst));
              Value to = b.create<arith::MinSIOp>(
                  loc, index(runs.length),
                  b.create<arith::SubIOp>(loc, index(end), runFirst));
              b.create<scf::ForOp>(
                  loc, from, to, index(kBlockValues), ValueRange{},
                  [&](OpBuilder &, Location, Value part, ValueRange) {
                    auto lanes = [&](Value bound) -> Value {
                      return b.create<vector::CreateMaskOp>(
                          loc, maskType,
                          ValueRange{
                              b.create<arith::SubIOp>(loc, bound, part)});
                    };
                    Value below = lanes(high), before = lanes(low);
                    Value mask = b.create<arith::AndIOp>(
                        loc, below,
                        b.create<arith::XOrIOp>(
                            loc, before,
                            b.create<arith::ConstantOp>(
                                loc, maskType,
                                DenseElementsAttr::get(maskType, true))));
                    // Nothing to read: a sane address all the same.
                    Value any = b.create<arith::CmpIOp>(
                        loc, arith::CmpIPredicate::slt, low, high);
                    Value offset = b.create<arith::SelectOp>(
                        loc, any, add(source, part), index(0));
                    Value values = b.create<vector::MaskedLoadOp>(
                        loc, blockType, input, ValueRange{offset}, mask,
                        zeroBlock);
                    // Whole k-blocks: what spills past the run is zeros,
                    // or what the next run then overwrites.
                    Value to = add(rowStart,
                                   b.create<arith::SubIOp>(
                                       loc, add(runFirst, part), index(first)));
                    b.create<vector::StoreOp>(loc, values, panel,
                                              ValueRange{to});
                    b.create<scf::YieldOp>(loc);
                  });
              b.create<scf::YieldOp>(loc);
            });
        // A partial last k-block: zeros past the window (its filter rows
        // there are zeros too, but not every bit pattern times zero is).
        if ((end - first) % kBlockValues)
          b.create<vector::StoreOp>(
              loc, zeroBlock, panel,
              ValueRange{add(rowStart, index(end - first))});
        b.create<scf::YieldOp>(loc);
      });
}

void AmxConvEmitter::emitFilterTail(Value from, Value to) {
  auto blockType = VectorType::get({kBlockValues}, b.getBF16Type());
  auto maskType = VectorType::get({kBlockValues}, b.getI1Type());
  Value lastBlock = index(windowValues / kBlockValues);
  b.create<scf::ForOp>(
      loc, mul(from, 2), mul(to, 2), index(1), ValueRange{},
      [&](OpBuilder &, Location, Value block, ValueRange) {
        Value exists = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult,
                                               block, index(columnBlocks));
        Value at = b.create<arith::SelectOp>(
            loc, exists, filterOffset(block, lastBlock), index(0));
        Value slot = b.create<arith::SubIOp>(loc, block, mul(from, 2));
        for (int64_t row = 0; row < kBlockFilters; ++row) {
          Value values = zeroBlock;
          if (row < tailPairs)
            values = b.create<vector::MaskedLoadOp>(
                loc, blockType, filter,
                ValueRange{add(at, index(row * 2 * filterTile))},
                b.create<vector::BroadcastOp>(loc, maskType, exists),
                zeroBlock);
          b.create<vector::StoreOp>(
              loc, values, tail,
              ValueRange{add(mul(slot, kBlockFilters * kBlockValues),
                             index(row * kBlockValues))});
        }
        b.create<scf::YieldOp>(loc);
      });
}

Value AmxConvEmitter::filterOffset(Value block, Value kBlock) {
  int64_t blocksPerTile = filterTile / kBlockFilters;
  Value tile = b.create<arith::DivUIOp>(loc, block, index(blocksPerTile));
  Value within = b.create<arith::RemUIOp>(loc, block, index(blocksPerTile));
  // [tiles, KH, KW, C/2, F0, 2]: a k-block is 16 pair rows of F0 * 2.
  return add(add(mul(tile, windowValues * filterTile),
                 mul(kBlock, kBlockValues * filterTile)),
             mul(within, 2 * kBlockFilters));
}

void AmxConvEmitter::emitPairs(Value from, Value to, Value firstChunkPair,
                               int64_t blocks, const KBlocks &k,
                               Value firstPixel) {
  int64_t slotValues = kPixels * 2 * kBlockFilters;
  int64_t scratchStride = 2 * kBlockFilters;
  auto accumulator = [](int64_t rowTile, int64_t column) {
    return rowTile * 2 + column;
  };
  auto scratchAt = [&](Value slot, int64_t rowTile, int64_t column) {
    return add(mul(slot, slotValues),
               index(rowTile * kBlockFilters * scratchStride +
                     column * kBlockFilters));
  };
  // Whole k-blocks, then the partial one, whose filter rows are in `tail`.
  int64_t endBlock = k.end / kBlockValues;
  bool partial = k.end % kBlockValues;
  b.create<scf::ForOp>(
      loc, from, to, index(1), ValueRange{},
      [&](OpBuilder &, Location, Value pair, ValueRange) {
        Value slot = b.create<arith::SubIOp>(loc, pair, firstChunkPair);
        for (int64_t rowTile = 0; rowTile < 2; ++rowTile)
          for (int64_t column = 0; column < blocks; ++column) {
            if (k.fresh)
              b.create<AmxZeroOp>(loc, accumulator(rowTile, column));
            else
              b.create<AmxLoadOp>(loc, accumulator(rowTile, column), sums,
                                  scratchAt(slot, rowTile, column),
                                  index(scratchStride));
          }
        auto step = [&](Value kBlock, bool last) {
          for (int64_t rowTile = 0; rowTile < 2; ++rowTile) {
            if (k.inPlace)
              b.create<AmxLoadOp>(
                  loc, kPixelTile + rowTile, input,
                  add(mul(add(firstPixel, index(rowTile * 16)), channels),
                      mul(kBlock, kBlockValues)),
                  index(channels));
            else
              b.create<AmxLoadOp>(
                  loc, kPixelTile + rowTile, panel,
                  add(b.create<arith::SubIOp>(loc, mul(kBlock, kBlockValues),
                                              index(k.first)),
                      index(rowTile * 16 * panelStride)),
                  index(panelStride));
          }
          for (int64_t column = 0; column < blocks; ++column) {
            if (last)
              b.create<AmxLoadOp>(loc, kFilterTile + column, tail,
                                  mul(add(mul(slot, 2), index(column)),
                                      kBlockFilters * kBlockValues),
                                  index(kBlockValues));
            else
              b.create<AmxLoadOp>(
                  loc, kFilterTile + column, filter,
                  filterOffset(add(mul(pair, 2), index(column)), kBlock),
                  index(2 * filterTile));
          }
          for (int64_t rowTile = 0; rowTile < 2; ++rowTile)
            for (int64_t column = 0; column < blocks; ++column)
              b.create<AmxDotOp>(loc, accumulator(rowTile, column),
                                 kPixelTile + rowTile, kFilterTile + column,
                                 /*u8s8=*/false);
        };
        b.create<scf::ForOp>(
            loc, index(k.first / kBlockValues), index(endBlock), index(1),
            ValueRange{}, [&](OpBuilder &, Location, Value kBlock, ValueRange) {
              step(kBlock, /*last=*/false);
              b.create<scf::YieldOp>(loc);
            });
        if (partial)
          step(index(endBlock), /*last=*/true);
        for (int64_t rowTile = 0; rowTile < 2; ++rowTile)
          for (int64_t column = 0; column < blocks; ++column)
            b.create<AmxStoreOp>(loc, accumulator(rowTile, column), sums,
                                 scratchAt(slot, rowTile, column),
                                 index(scratchStride));
        b.create<scf::YieldOp>(loc);
      });
}

void AmxConvEmitter::emitEpilogue(Value pair, Value slot, Value firstPixel) {
  auto vectorType = VectorType::get({kBlockFilters}, b.getF32Type());
  auto maskType = VectorType::get({kBlockFilters}, b.getI1Type());
  Value zero = b.create<arith::ConstantOp>(
      loc, vectorType, DenseElementsAttr::get(vectorType, 0.0f));
  Value rows = b.create<arith::MinUIOp>(
      loc, index(kPixels), b.create<arith::SubIOp>(loc, pixels, firstPixel));
  for (int64_t column = 0; column < 2; ++column) {
    Value block = add(mul(pair, 2), index(column));
    Value firstFilter = mul(block, kBlockFilters);
    // The second block of an odd last pair does not exist.
    OpBuilder::InsertionGuard guard(b);
    if (column == 1 && columnBlocks % 2) {
      Value exists = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult,
                                             block, index(columnBlocks));
      auto branch = b.create<scf::IfOp>(loc, exists, /*withElseRegion=*/false);
      b.setInsertionPointToStart(&branch.getThenRegion().front());
    }
    Value biasVector = b.create<vector::LoadOp>(loc, vectorType, bias,
                                                ValueRange{firstFilter});
    Value count = b.create<arith::MinSIOp>(
        loc, b.create<arith::SubIOp>(loc, index(filters), firstFilter),
        index(kBlockFilters));
    Value mask =
        b.create<vector::CreateMaskOp>(loc, maskType, ValueRange{count});
    b.create<scf::ForOp>(
        loc, index(0), rows, index(1), ValueRange{},
        [&](OpBuilder &, Location, Value row, ValueRange) {
          Value from = add(add(mul(slot, kPixels * 2 * kBlockFilters),
                               mul(row, 2 * kBlockFilters)),
                           index(column * kBlockFilters));
          Value sum = b.create<arith::AddFOp>(
              loc,
              b.create<vector::LoadOp>(loc, vectorType, sums, ValueRange{from}),
              biasVector);
          Value at = add(mul(add(firstPixel, row), filters), firstFilter);
          if (op.getAccumulate())
            sum = b.create<arith::AddFOp>(
                loc, sum,
                b.create<vector::MaskedLoadOp>(loc, vectorType, output,
                                               ValueRange{at}, mask, zero));
          storeVector(b, loc, activate(sum), output, at, mask);
          b.create<scf::YieldOp>(loc);
        });
  }
}

} // namespace

bool mlir::kiln::amxCanRun(PackedConv2DOp op) {
  if (!op.isBf16() || op.getFilterScales() ||
      op.getFilterTile() % kBlockFilters)
    return false;
  // A window that is not whole k-blocks stages at once: a bounded panel.
  Runs runs = runsOf(op);
  int64_t windowValues = runs.length * runs.count;
  if (windowValues % kBlockValues && windowValues > 2 * kMostPanelValues)
    return false;
  // Below a tile of pixels the tiles idle; vdpbf16ps does better.
  auto init = cast<MemRefType>(op.getInit().getType());
  int64_t pixels = 1;
  for (int64_t d = 0; d < 3; ++d) {
    if (init.isDynamicDim(d))
      return true;
    pixels *= init.getDimSize(d);
  }
  return pixels >= kAmxLeastPixels;
}

void mlir::kiln::emitAmxConv(PackedConv2DOp op, OpBuilder &b) {
  AmxConvEmitter(op, b).emit();
}
