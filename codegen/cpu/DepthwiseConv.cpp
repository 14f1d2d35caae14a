//===- DepthwiseConv.cpp - kiln-cpu-lower-depthwise-conv ------------------===//
//
// Depthwise convolutions do a few multiply-adds per value they read, so
// they are bound by memory, not arithmetic: the kernel streams channels-
// last rows, keeps a block of pixels' accumulators in registers and loads
// each tap's filter vector once per block. Max pooling is the same loop
// nest with a maximum for the multiply-add and negative infinity for the
// bias and the padding, so the same emitter lowers kiln.max_pool2d. The
// batch, height and width may be symbolic (read from the buffers).
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/KernelHelpers.h"
#include "codegen/cpu/Passes.h"
#include "dialects/kiln/KilnOps.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <limits>

namespace mlir::kiln {
#define GEN_PASS_DEF_CPULOWERDEPTHWISECONVPASS
#include "codegen/cpu/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// Pixels whose accumulators a block keeps in registers: eight, or from
/// five to eight when that divides the (static) row, so that a 7- or
/// 14-pixel row needs no pixel-at-a-time tail (one accumulator:
/// latency-bound).
int64_t blockPixels(std::optional<int64_t> width) {
  for (int64_t block = 8; width && block >= 5; --block)
    if (*width % block == 0)
      return block;
  return 8;
}

/// The input rows a window spans, across the channels of a block, that
/// stay in L2 while the block's output rows pass down the image: each
/// input row is read from memory once rather than once per output row
/// that needs it (a 5 x 5 window over 960 channels of 64 pixels spans
/// 1.2 MB of rows across all channels, beyond a 512 KB L2).
constexpr int64_t kBlockWindowBytes = 96 * 1024;

/// The most column taps of a window row emitted one after another; wider
/// windows loop over them.
constexpr int64_t kMostUnrolledTaps = 16;

/// What differs between the two window kernels.
struct WindowKernel {
  Operation *op;
  Value input, init;
  /// The depthwise filter [KH, KW, C] and bias; none for max pooling.
  Value filter, bias;
  int64_t kernelH, kernelW;
  ArrayRef<int64_t> strides, dilations;
  SmallVector<int64_t> pads;
  /// The depthwise epilogue's activation.
  Activation activation = Activation::None;
  float clipMin = 0, clipMax = 0;

  bool isMaxPool() const { return !filter; }

  static WindowKernel of(DepthwiseConv2DOp op) {
    auto w = cast<MemRefType>(op.getFilter().getType()).getShape();
    return {op,
            op.getInput(),
            op.getInit(),
            op.getFilter(),
            op.getBias(),
            w[0],
            w[1],
            op.getStrides(),
            op.getDilations(),
            op.getPadding(),
            op.getActivation(),
            op.getClipMin().convertToFloat(),
            op.getClipMax().convertToFloat()};
  }
  static WindowKernel of(MaxPool2DOp op) {
    return {op,
            op.getInput(),
            op.getInit(),
            Value(),
            Value(),
            op.getKernel()[0],
            op.getKernel()[1],
            op.getStrides(),
            op.getDilations(),
            op.getPadding()};
  }
};

/// One output row's place in the input: the window rows [firstTap,
/// endTap) that lie inside the input, and the flat starts of the input
/// (its window's first row, which may lie in the top padding) and output
/// rows.
struct RowWindow {
  Value firstTap, endTap, inRow, outRow;
};

class DepthwiseEmitter : KernelEmitterBase {
public:
  DepthwiseEmitter(const WindowKernel &kernel, int64_t vectorBits,
                   OpBuilder &b)
      : KernelEmitterBase(b, kernel.op->getLoc()), k(kernel) {
    auto in = cast<MemRefType>(k.input.getType()).getShape();
    batch = extent(k.input, 0);
    height = extent(k.input, 1);
    width = extent(k.input, 2);
    channels = in[3];
    kernelH = k.kernelH;
    kernelW = k.kernelW;
    outH = extent(k.init, 1);
    outW = extent(k.init, 2);
    padTop = k.pads[0];
    padLeft = k.pads[1];
    padded = llvm::any_of(k.pads, [](int64_t p) { return p != 0; });
    lanes = vectorBits / 32;
    vectorType = VectorType::get({lanes}, b.getF32Type());
  }

  void emit();

private:
  /// A vector at `at` of a flat buffer, masked when `mask` is set, as f32
  /// (widened from a bf16 input).
  Value load(Value buffer, Value at, Value mask) {
    Type element = cast<MemRefType>(buffer.getType()).getElementType();
    auto type = VectorType::get({lanes}, element);
    Value values;
    if (!mask) {
      values = b.create<vector::LoadOp>(loc, type, buffer, ValueRange{at});
    } else {
      Value zero = b.create<arith::ConstantOp>(
          loc, type, DenseElementsAttr::get(type, b.getFloatAttr(element, 0)));
      values = b.create<vector::MaskedLoadOp>(loc, type, buffer,
                                              ValueRange{at}, mask, zero);
    }
    if (element.isF32())
      return values;
    return b.create<arith::ExtFOp>(loc, vectorType, values);
  }
  /// Vectors of channels per block: all of them when the window's rows
  /// stay in L2 (or the width is symbolic), otherwise a divisor of the
  /// full vectors that keeps them within kBlockWindowBytes.
  int64_t vectorsPerBlock() const;
  /// Output row `row` over channel block `block`.
  void emitRow(Value row, Value block);
  /// A block of `pixels` pixels from `firstX` of the row: unchecked when
  /// their windows lie inside the row, else checking each column.
  void emitPixels(int64_t pixels, const RowWindow &window, Value firstX,
                  Value block);
  /// The block's channel vectors in channel block `block`.
  void emitChannels(int64_t pixels, const RowWindow &window, Value firstX,
                    Value block, bool checked);
  /// The block's pixels at the vector of channels from `channel`.
  void emitVector(int64_t pixels, const RowWindow &window, Value firstX,
                  Value channel, Value mask, bool checked);
  Value both(Value x, Value y) { return b.create<arith::AndIOp>(loc, x, y); }

  /// Max pooling's start value and padding.
  static constexpr float kLowest = -std::numeric_limits<float>::infinity();

  WindowKernel k;
  /// Extents that may be symbolic, as index values; the rest static.
  Value batch, height, width, outH, outW;
  int64_t channels, kernelH, kernelW;
  int64_t padTop, padLeft;
  bool padded;
  int64_t lanes;
  VectorType vectorType;
  /// The flat input as memref<?xf32>, and the zeros (or negative
  /// infinities) padding reads.
  Value input, zeros;
  Value filter, bias, output;
  /// The full vectors of channels, and how many a block takes; the last
  /// block ends with a masked vector of the last channels, when they are
  /// not a whole vector.
  int64_t fullVectors = 0, blockVectors = 0;
  int64_t blockCount() const {
    return blockVectors ? fullVectors / blockVectors : 1;
  }
};

void DepthwiseEmitter::emit() {
  // The input may be bf16 (rounded by its producer): loads widen it.
  Type element = cast<MemRefType>(k.input.getType()).getElementType();
  input = flattenBuffer(b, loc, k.input);
  input = b.create<memref::CastOp>(
      loc, MemRefType::get({ShapedType::kDynamic}, element), input);
  if (padded)
    zeros = paddingFloats(b, k.op, channels, element,
                          k.isMaxPool() ? kLowest : 0.0);
  if (!k.isMaxPool())
    filter = flattenBuffer(b, loc, k.filter);
  bias = k.bias;
  output = flattenBuffer(b, loc, k.init);
  fullVectors = channels / lanes;
  blockVectors = vectorsPerBlock();
  int64_t blocks = blockCount();
  // Channel blocks outer, rows inner: a thread's consecutive rows share
  // their block's window rows.
  Value rowCount = times(batch, outH);
  auto rows = b.create<scf::ParallelOp>(
      loc, ValueRange{index(0)}, ValueRange{times(index(blocks), rowCount)},
      ValueRange{index(1)});
  markThreaded(rows, operationsOf({batch, outH, outW},
                                  2 * channels * kernelH * kernelW));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(rows.getBody());
  Value flat = rows.getInductionVars()[0];
  Value block =
      blocks > 1 ? b.create<arith::DivUIOp>(loc, flat, rowCount) : index(0);
  Value row = blocks > 1 ? b.create<arith::RemUIOp>(loc, flat, rowCount) : flat;
  emitRow(row, block);
}

int64_t DepthwiseEmitter::vectorsPerBlock() const {
  std::optional<int64_t> staticWidth = getConstantIntValue(width);
  if (!fullVectors || !staticWidth)
    return fullVectors;
  int64_t vectorBytes = kernelH * *staticWidth * lanes *
                        cast<MemRefType>(k.input.getType())
                            .getElementType()
                            .getIntOrFloatBitWidth() /
                        8;
  int64_t most = std::max<int64_t>(kBlockWindowBytes / vectorBytes, 1);
  int64_t vectors = std::min(most, fullVectors);
  while (fullVectors % vectors)
    --vectors;
  return vectors;
}

void DepthwiseEmitter::emitRow(Value row, Value block) {
  Value image = b.create<arith::DivUIOp>(loc, row, outH);
  Value y = b.create<arith::RemUIOp>(loc, row, outH);
  RowWindow window;
  // The window's first input row, negative in the top padding.
  Value firstY = sub(mul(y, k.strides[0]), padTop);
  window.inRow =
      times(add(times(image, height), firstY), times(width, index(channels)));
  window.outRow = times(row, times(outW, index(channels)));
  window.firstTap = index(0);
  window.endTap = index(kernelH);
  if (padded) {
    // Window row kh is inside when 0 <= firstY + kh * dilation < height;
    // the rows in the padding add nothing (zeros, or -inf to a maximum).
    Value dilation = index(k.dilations[0]);
    window.firstTap = b.create<arith::MaxSIOp>(
        loc, index(0),
        b.create<arith::CeilDivSIOp>(
            loc, b.create<arith::SubIOp>(loc, index(0), firstY), dilation));
    window.endTap = b.create<arith::MinSIOp>(
        loc, index(kernelH),
        b.create<arith::CeilDivSIOp>(
            loc, b.create<arith::SubIOp>(loc, height, firstY), dilation));
  }
  std::optional<int64_t> staticWidth = getConstantIntValue(outW);
  int64_t blockSize = blockPixels(staticWidth);
  Value fullBlocks = dividedBy(outW, index(blockSize));
  if (getConstantIntValue(fullBlocks) != 0) {
    auto blocks = b.create<scf::ForOp>(loc, index(0), fullBlocks, index(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(blocks.getBody());
    emitPixels(blockSize, window, mul(blocks.getInductionVar(), blockSize),
               block);
  }
  if (!staticWidth || *staticWidth % blockSize) {
    auto rest = b.create<scf::ForOp>(loc, times(fullBlocks, index(blockSize)),
                                     outW, index(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(rest.getBody());
    emitPixels(1, window, rest.getInductionVar(), block);
  }
}

void DepthwiseEmitter::emitPixels(int64_t pixels, const RowWindow &window,
                                  Value firstX, Value block) {
  if (padded) {
    // Blocks whose windows lie inside the row take the unchecked path.
    int64_t strideW = k.strides[1];
    Value left = sub(mul(firstX, strideW), padLeft);
    Value right = add(left, index((pixels - 1) * strideW +
                                  (kernelW - 1) * k.dilations[1]));
    Value inside =
        both(isWithin(b, loc, left, width), isWithin(b, loc, right, width));
    auto branch = b.create<scf::IfOp>(loc, inside, /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&branch.getThenRegion().front());
    emitChannels(pixels, window, firstX, block, /*checked=*/false);
    b.setInsertionPointToStart(&branch.getElseRegion().front());
    emitChannels(pixels, window, firstX, block, /*checked=*/true);
    return;
  }
  emitChannels(pixels, window, firstX, block, /*checked=*/false);
}

void DepthwiseEmitter::emitChannels(int64_t pixels, const RowWindow &window,
                                    Value firstX, Value block, bool checked) {
  OpBuilder::InsertionGuard guard(b);
  if (blockVectors) {
    Value first = mul(block, blockVectors);
    auto vectors = b.create<scf::ForOp>(
        loc, first, add(first, index(blockVectors)), index(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(vectors.getBody());
    emitVector(pixels, window, firstX, mul(vectors.getInductionVar(), lanes),
               Value(), checked);
  }
  if (channels % lanes == 0)
    return;
  // The last block ends with the masked vector.
  if (blockCount() > 1) {
    Value isLast = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, block,
                                           index(blockCount() - 1));
    auto branch = b.create<scf::IfOp>(loc, isLast);
    b.setInsertionPointToStart(&branch.getThenRegion().front());
  }
  auto maskType = VectorType::get({lanes}, b.getI1Type());
  Value mask = b.create<vector::CreateMaskOp>(
      loc, maskType, ValueRange{index(channels % lanes)});
  emitVector(pixels, window, firstX, index(fullVectors * lanes), mask, checked);
}

void DepthwiseEmitter::emitVector(int64_t pixels, const RowWindow &window,
                                  Value firstX, Value channel, Value mask,
                                  bool checked) {
  int64_t strideW = k.strides[1];
  int64_t dilationH = k.dilations[0], dilationW = k.dilations[1];
  Value biasVector =
      k.isMaxPool()
          ? b.create<arith::ConstantOp>(
                 loc, vectorType, DenseElementsAttr::get(vectorType, kLowest))
                .getResult()
          : load(bias, channel, mask);
  // Where each pixel's window starts in the row, at this channel (left of
  // the row in the padding, then).
  SmallVector<Value> starts, lefts;
  for (int64_t p = 0; p < pixels; ++p) {
    Value x = p ? add(firstX, index(p)) : firstX;
    Value left = sub(mul(x, strideW), padLeft);
    lefts.push_back(left);
    starts.push_back(add(window.inRow, add(mul(left, channels), channel)));
  }
  SmallVector<Value> accumulators(pixels, biasVector);
  // The window rows inside the input; a row's column taps unrolled when
  // there are few (a model's window may claim millions).
  auto overRows = b.create<scf::ForOp>(
      loc, window.firstTap, window.endTap, index(1), accumulators,
      [&](OpBuilder &, Location, Value kh, ValueRange acc) {
        Value rowOffset = times(kh, times(width, index(dilationH * channels)));
        Value rowFilter = add(mul(kh, kernelW * channels), channel);
        auto columnTap = [&](Value kw, ValueRange acc) {
          Value offset = add(rowOffset, mul(kw, dilationW * channels));
          Value weights;
          if (!k.isMaxPool())
            weights = load(filter, add(rowFilter, mul(kw, channels)), mask);
          SmallVector<Value> next;
          for (int64_t p = 0; p < pixels; ++p) {
            PaddedSource source{input, add(starts[p], offset)};
            if (checked)
              source = selectPadded(
                  b, loc,
                  isWithin(b, loc, add(lefts[p], mul(kw, dilationW)), width),
                  source.buffer, source.offset, zeros, channel);
            Value values = load(source.buffer, source.offset, mask);
            next.push_back(
                k.isMaxPool()
                    ? b.create<arith::MaximumFOp>(loc, values, acc[p])
                          .getResult()
                    : b.create<vector::FMAOp>(loc, values, weights, acc[p])
                          .getResult());
          }
          return next;
        };
        SmallVector<Value> next(acc);
        if (kernelW <= kMostUnrolledTaps) {
          for (int64_t kw = 0; kw < kernelW; ++kw)
            next = columnTap(index(kw), next);
        } else {
          auto overColumns = b.create<scf::ForOp>(
              loc, index(0), index(kernelW), index(1), next,
              [&](OpBuilder &, Location, Value kw, ValueRange carried) {
                b.create<scf::YieldOp>(loc, columnTap(kw, carried));
              });
          next = overColumns.getResults();
        }
        b.create<scf::YieldOp>(loc, next);
      });
  for (int64_t p = 0; p < pixels; ++p) {
    Value x = p ? add(firstX, index(p)) : firstX;
    Value at = add(window.outRow, add(mul(x, channels), channel));
    Value result = applyActivation(b, loc, overRows.getResult(p), k.activation,
                                   k.clipMin, k.clipMax);
    storeVector(b, loc, result, output, at, mask);
  }
}

struct CpuLowerDepthwiseConvPass
    : kiln::impl::CpuLowerDepthwiseConvPassBase<CpuLowerDepthwiseConvPass> {
  using Base::Base;

  void runOnOperation() override {
    if (failed(checkVectorBits(getOperation(), vectorBits)))
      return signalPassFailure();
    for (DepthwiseConv2DOp op : bufferForms<DepthwiseConv2DOp>(getOperation())) {
      OpBuilder b(op);
      DepthwiseEmitter(WindowKernel::of(op), vectorBits, b).emit();
      op.erase();
    }
    for (MaxPool2DOp op : bufferForms<MaxPool2DOp>(getOperation())) {
      OpBuilder b(op);
      DepthwiseEmitter(WindowKernel::of(op), vectorBits, b).emit();
      op.erase();
    }
  }
};

} // namespace
