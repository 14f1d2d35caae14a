//===- AmxConv.cpp - the packed convolution on AMX tiles ------------------===//
//
// The BF16 packed contraction on a CPU with AMX: 32 output pixels by 32
// filters accumulate in four f32 tiles (2 x 2 of 16 x 16) over k-blocks of
// 32 channels (one tap's), each step two tiles of pixels and two of
// filters, four `tdpbf16ps`. The filter's BF16 pair layout
// [tiles, KH, KW, C/2, F0, 2] is already the tiles' (a k-block of a block
// of 16 filters is 16 rows of 16 pairs, F0 * 2 values apart), so with F0 a
// multiple of 16 it loads as it is.
//
// A tile's 16 pixel rows must sit a fixed stride apart: a pointwise
// convolution's full tiles read the NHWC input in place (rows C apart);
// every other tile first stages its rows' windows, k-block by k-block,
// into a panel on the stack (zeros in the padding and past the last
// pixel, by masked loads), which all its filters then share. Iterations are (a
// chunk of filters, a tile of pixels), chunks outer, so that a thread's next
// tile finds the chunk's filters in its cache; a chunk's filters are sized to
// stay in L2 beside the panel. The sums leave the tiles through a scratch
// of f32 rows, where the epilogue adds the bias and the residual, applies
// the activation and stores with masks.
//
// Long contractions take the panel in chunks of k-blocks; the tiles then
// go back to the scratch between chunks.
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
constexpr int64_t kPixels = 32;
/// Channels a k-block: 16 bf16 pairs, one tile row of 64 bytes.
constexpr int64_t kBlockChannels = 32;
/// Filters a column block: a tile's 16 f32 columns.
constexpr int64_t kBlockFilters = 16;
/// The most k-blocks a panel stages at once: 64 * 2 KB = 128 KB.
constexpr int64_t kMostPanelBlocks = 64;
/// The most bytes of filters a chunk holds, to stay in L2 with the panel.
constexpr int64_t kChunkFilterBytes = 1 << 20;
/// The most column pairs of a chunk (16 * 4 KB of scratch).
constexpr int64_t kMostChunkPairs = 16;
/// The iterations worth aiming at, for the threads to share evenly.
constexpr int64_t kIterationsWanted = 8;

/// Tiles: accumulators 0-3 (row tile * 2 + column block), pixels 4-5,
/// filters 6-7.
constexpr int64_t kPixelTile = 4, kFilterTile = 6;

class AmxConvEmitter : KernelEmitterBase {
public:
  AmxConvEmitter(PackedConv2DOp op, OpBuilder &b)
      : KernelEmitterBase(b, op.getLoc()), op(op) {
    auto filterShape = cast<MemRefType>(op.getFilter().getType()).getShape();
    channels = cast<MemRefType>(op.getInput().getType()).getShape()[3];
    kernelW = filterShape[2];
    taps = filterShape[1] * kernelW;
    filterTile = op.getFilterTile();
    filters = cast<MemRefType>(op.getInit().getType()).getShape()[3];
    channelBlocks = channels / kBlockChannels;
    kBlocks = taps * channelBlocks;
    columnBlocks = llvm::divideCeil(filters, kBlockFilters);
    pairs = llvm::divideCeil(columnBlocks, 2);
    int64_t pairBytes = kBlocks * kBlockChannels * 2 * kBlockFilters * 2;
    chunkPairs = std::clamp<int64_t>(kChunkFilterBytes / pairBytes, 1,
                                     std::min(pairs, kMostChunkPairs));
    panelBlocks = std::min(kBlocks, kMostPanelBlocks);
    SmallVector<int64_t> pads = op.getPadding();
    pointwise =
        taps == 1 &&
        llvm::all_of(op.getStrides(), [](int64_t s) { return s == 1; }) &&
        llvm::all_of(pads, [](int64_t p) { return p == 0; });
  }

  void emit();

private:
  /// The iteration's work: stage (unless direct), multiply, epilogue.
  void emitIteration(Value chunk, Value firstPixel);
  /// Stages k-blocks [first, first + count) of the 32 rows from
  /// `firstPixel` into the panel.
  void emitStaging(Value firstPixel, int64_t first, int64_t count);
  /// The products of column pairs [from, to) over k-blocks [first, first +
  /// count), `blocks` (1 or 2) column blocks a pair, the tiles starting at
  /// zero (`fresh`) or from the scratch. `direct` reads the pixels in
  /// place.
  void emitPairs(Value from, Value to, Value firstChunkPair, int64_t blocks,
                 int64_t first, int64_t count, bool fresh, bool direct,
                 Value firstPixel);
  /// Bias, residual, activation and stores of column pair `pair` (its
  /// sums at `slot` of the scratch).
  void emitEpilogue(Value pair, Value slot, Value firstPixel);
  /// The filter's offset of column block `block` at k-block `kBlock`.
  Value filterOffset(Value block, Value kBlock);
  Value activate(Value x) {
    return applyActivation(b, loc, x, op.getActivation(),
                           op.getClipMin().convertToFloat(),
                           op.getClipMax().convertToFloat());
  }

  PackedConv2DOp op;
  int64_t channels, kernelW, taps, filterTile, filters;
  int64_t channelBlocks, kBlocks, columnBlocks, pairs, chunkPairs, panelBlocks;
  bool pointwise;
  Value pixels, input, filter, bias, output, panel, sums;
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

  Value pixelTiles =
      dividedBy(plus(pixels, index(kPixels - 1)), index(kPixels));
  // Fewer filters a chunk when there are too few pixel tiles to share.
  int64_t chunkPairsHere = chunkPairs;
  if (std::optional<int64_t> tiles = getConstantIntValue(pixelTiles))
    while (chunkPairsHere > 1 &&
           llvm::divideCeil(pairs, chunkPairsHere) * *tiles < kIterationsWanted)
      chunkPairsHere = llvm::divideCeil(chunkPairsHere, 2);
  chunkPairs = chunkPairsHere;
  int64_t chunks = llvm::divideCeil(pairs, chunkPairs);

  auto loop = b.create<scf::ParallelOp>(
      loc, ValueRange{index(0)}, ValueRange{times(index(chunks), pixelTiles)},
      ValueRange{index(1)});
  markThreaded(loop, operationsOf({pixels}, 2 * filters * taps * channels));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value iteration = loop.getInductionVars()[0];
  Value chunk = b.create<arith::DivUIOp>(loc, iteration, pixelTiles);
  Value pixelTile = b.create<arith::RemUIOp>(loc, iteration, pixelTiles);
  panel = b.create<memref::AllocaOp>(
      loc, MemRefType::get({panelBlocks * kPixels * kBlockChannels},
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
  // The full pairs, then, where the column blocks are odd, the last one.
  int64_t fullPairs = columnBlocks / 2;
  Value endFull = b.create<arith::MinUIOp>(loc, endPair, index(fullPairs));
  bool single = columnBlocks % 2;
  auto multiply = [&](int64_t first, int64_t count, bool fresh, bool direct) {
    emitPairs(firstPair, endFull, firstPair, 2, first, count, fresh, direct,
              firstPixel);
    if (single)
      emitPairs(b.create<arith::MaxUIOp>(loc, firstPair, index(fullPairs)),
                endPair, firstPair, 1, first, count, fresh, direct, firstPixel);
  };
  auto staged = [&]() {
    for (int64_t first = 0; first < kBlocks; first += panelBlocks) {
      int64_t count = std::min(panelBlocks, kBlocks - first);
      emitStaging(firstPixel, first, count);
      multiply(first, count, first == 0, /*direct=*/false);
    }
  };
  if (!pointwise) {
    staged();
  } else {
    // A pointwise convolution's full tiles read the input in place.
    Value full =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ule,
                                add(firstPixel, index(kPixels)), pixels);
    auto branch = b.create<scf::IfOp>(loc, full, /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&branch.getThenRegion().front());
    multiply(0, kBlocks, /*fresh=*/true, /*direct=*/true);
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

void AmxConvEmitter::emitStaging(Value firstPixel, int64_t first,
                                 int64_t count) {
  auto blockType = VectorType::get({kBlockChannels}, b.getBF16Type());
  auto maskType = VectorType::get({kBlockChannels}, b.getI1Type());
  Value zeroBlock = b.create<arith::ConstantOp>(
      loc, blockType, cast<TypedAttr>(b.getZeroAttr(blockType)));
  SmallVector<int64_t> pads = op.getPadding();
  int64_t padTop = pads.empty() ? 0 : pads[0];
  int64_t padLeft = pads.empty() ? 0 : pads[1];
  b.create<scf::ForOp>(
      loc, index(0), index(kPixels), index(1), ValueRange{},
      [&](OpBuilder &, Location, Value row, ValueRange) {
        Value pixel = add(firstPixel, row);
        Value valid = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult,
                                              pixel, pixels);
        // Past the last pixel, pixel 0's coordinates (read as zeros).
        Value at = b.create<arith::SelectOp>(loc, valid, pixel, index(0));
        Value plane = times(outH, outW);
        Value image = b.create<arith::DivUIOp>(loc, at, plane);
        Value within = b.create<arith::RemUIOp>(loc, at, plane);
        Value y = b.create<arith::DivUIOp>(loc, within, outW);
        Value x = b.create<arith::RemUIOp>(loc, within, outW);
        Value firstY = b.create<arith::SubIOp>(loc, mul(y, op.getStrides()[0]),
                                               index(padTop));
        Value firstX = b.create<arith::SubIOp>(loc, mul(x, op.getStrides()[1]),
                                               index(padLeft));
        Value imageRow = times(image, height);
        b.create<scf::ForOp>(
            loc, index(first), index(first + count), index(1), ValueRange{},
            [&](OpBuilder &, Location, Value kBlock, ValueRange) {
              Value tap =
                  b.create<arith::DivUIOp>(loc, kBlock, index(channelBlocks));
              Value block =
                  b.create<arith::RemUIOp>(loc, kBlock, index(channelBlocks));
              Value kh = b.create<arith::DivUIOp>(loc, tap, index(kernelW));
              Value kw = b.create<arith::RemUIOp>(loc, tap, index(kernelW));
              Value iy = add(firstY, mul(kh, op.getDilations()[0]));
              Value ix = add(firstX, mul(kw, op.getDilations()[1]));
              Value inside = b.create<arith::AndIOp>(
                  loc, valid,
                  b.create<arith::AndIOp>(loc, isWithin(b, loc, iy, height),
                                          isWithin(b, loc, ix, width)));
              Value offset =
                  add(mul(add(times(add(imageRow, iy), width), ix), channels),
                      mul(block, kBlockChannels));
              // Zeros outside: a load under a mask of all or nothing
              // (which touches no memory when nothing), from a sane address.
              Value mask = b.create<vector::BroadcastOp>(loc, maskType, inside);
              Value values = b.create<vector::MaskedLoadOp>(
                  loc, blockType, input,
                  ValueRange{
                      b.create<arith::SelectOp>(loc, inside, offset, index(0))},
                  mask, zeroBlock);
              Value to =
                  add(mul(b.create<arith::SubIOp>(loc, kBlock, index(first)),
                          kPixels * kBlockChannels),
                      mul(row, kBlockChannels));
              b.create<vector::StoreOp>(loc, values, panel, ValueRange{to});
              b.create<scf::YieldOp>(loc);
            });
        b.create<scf::YieldOp>(loc);
      });
}

Value AmxConvEmitter::filterOffset(Value block, Value kBlock) {
  int64_t blocksPerTile = filterTile / kBlockFilters;
  Value tile = b.create<arith::DivUIOp>(loc, block, index(blocksPerTile));
  Value within = b.create<arith::RemUIOp>(loc, block, index(blocksPerTile));
  // [tiles, KH, KW, C/2, F0, 2]: a k-block is 16 pair rows of F0 * 2.
  return add(add(mul(tile, taps * channels * filterTile),
                 mul(kBlock, kBlockChannels * filterTile)),
             mul(within, 2 * kBlockFilters));
}

void AmxConvEmitter::emitPairs(Value from, Value to, Value firstChunkPair,
                               int64_t blocks, int64_t first, int64_t count,
                               bool fresh, bool direct, Value firstPixel) {
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
  b.create<scf::ForOp>(
      loc, from, to, index(1), ValueRange{},
      [&](OpBuilder &, Location, Value pair, ValueRange) {
        Value slot = b.create<arith::SubIOp>(loc, pair, firstChunkPair);
        for (int64_t rowTile = 0; rowTile < 2; ++rowTile)
          for (int64_t column = 0; column < blocks; ++column) {
            if (fresh)
              b.create<AmxZeroOp>(loc, accumulator(rowTile, column));
            else
              b.create<AmxLoadOp>(loc, accumulator(rowTile, column), sums,
                                  scratchAt(slot, rowTile, column),
                                  index(scratchStride));
          }
        b.create<scf::ForOp>(
            loc, index(first), index(first + count), index(1), ValueRange{},
            [&](OpBuilder &, Location, Value kBlock, ValueRange) {
              for (int64_t rowTile = 0; rowTile < 2; ++rowTile) {
                if (direct)
                  b.create<AmxLoadOp>(
                      loc, kPixelTile + rowTile, input,
                      add(mul(add(firstPixel, index(rowTile * 16)), channels),
                          mul(kBlock, kBlockChannels)),
                      index(channels));
                else
                  b.create<AmxLoadOp>(loc, kPixelTile + rowTile, panel,
                                      add(mul(b.create<arith::SubIOp>(
                                                  loc, kBlock, index(first)),
                                              kPixels * kBlockChannels),
                                          index(rowTile * 16 * kBlockChannels)),
                                      index(kBlockChannels));
              }
              for (int64_t column = 0; column < blocks; ++column)
                b.create<AmxLoadOp>(
                    loc, kFilterTile + column, filter,
                    filterOffset(add(mul(pair, 2), index(column)), kBlock),
                    index(2 * filterTile));
              for (int64_t rowTile = 0; rowTile < 2; ++rowTile)
                for (int64_t column = 0; column < blocks; ++column)
                  b.create<AmxDotOp>(loc, accumulator(rowTile, column),
                                     kPixelTile + rowTile, kFilterTile + column,
                                     /*u8s8=*/false);
              b.create<scf::YieldOp>(loc);
            });
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
  if (!op.isBf16() || op.getFilterScales())
    return false;
  auto input = cast<MemRefType>(op.getInput().getType());
  auto init = cast<MemRefType>(op.getInit().getType());
  if (input.getShape()[3] % kBlockChannels ||
      op.getFilterTile() % kBlockFilters)
    return false;
  // Below a tile of pixels the tiles idle; vdpbf16ps does better.
  int64_t pixels = 1;
  for (int64_t d = 0; d < 3; ++d) {
    if (init.isDynamicDim(d))
      return true;
    pixels *= init.getDimSize(d);
  }
  return pixels >= kPixels;
}

void mlir::kiln::emitAmxConv(PackedConv2DOp op, OpBuilder &b) {
  AmxConvEmitter(op, b).emit();
}
