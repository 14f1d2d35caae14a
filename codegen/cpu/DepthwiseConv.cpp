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
  void emitRow(Value row);
  void emitPixels(int64_t pixels, Value firstY, Value rowInside, Value inRow,
                  Value outRow, Value firstX);
  void emitChannels(int64_t pixels, Value firstY, Value inRow, Value outRow,
                    Value firstX, bool checked);
  void emitBlock(int64_t pixels, Value firstY, Value inRow, Value outRow,
                 Value firstX, Value channel, Value mask, bool checked);
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
  auto rows = b.create<scf::ParallelOp>(loc, ValueRange{index(0)},
                                        ValueRange{times(batch, outH)},
                                        ValueRange{index(1)});
  markThreaded(rows, operationsOf({batch, outH, outW},
                                  2 * channels * kernelH * kernelW));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(rows.getBody());
  emitRow(rows.getInductionVars()[0]);
}

void DepthwiseEmitter::emitRow(Value row) {
  Value image = b.create<arith::DivUIOp>(loc, row, outH);
  Value y = b.create<arith::RemUIOp>(loc, row, outH);
  // The window's first input row, negative in the top padding.
  Value firstY = sub(mul(y, k.strides[0]), padTop);
  Value inRow = times(add(times(image, height), firstY),
                      times(width, index(channels)));
  Value outRow = times(row, times(outW, index(channels)));
  Value rowInside;
  if (padded)
    rowInside = both(
        isWithin(b, loc, firstY, height),
        isWithin(b, loc, add(firstY, index((kernelH - 1) * k.dilations[0])),
                 height));
  std::optional<int64_t> staticWidth = getConstantIntValue(outW);
  int64_t block = blockPixels(staticWidth);
  Value fullBlocks = dividedBy(outW, index(block));
  if (getConstantIntValue(fullBlocks) != 0) {
    auto blocks = b.create<scf::ForOp>(loc, index(0), fullBlocks, index(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(blocks.getBody());
    emitPixels(block, firstY, rowInside, inRow, outRow,
               mul(blocks.getInductionVar(), block));
  }
  if (!staticWidth || *staticWidth % block) {
    auto rest = b.create<scf::ForOp>(loc, times(fullBlocks, index(block)),
                                     outW, index(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(rest.getBody());
    emitPixels(1, firstY, rowInside, inRow, outRow, rest.getInductionVar());
  }
}

void DepthwiseEmitter::emitPixels(int64_t pixels, Value firstY,
                                  Value rowInside, Value inRow, Value outRow,
                                  Value firstX) {
  if (padded) {
    // Blocks whose windows lie inside the input take the unchecked path.
    int64_t strideW = k.strides[1];
    Value left = sub(mul(firstX, strideW), padLeft);
    Value right = add(left, index((pixels - 1) * strideW +
                                  (kernelW - 1) * k.dilations[1]));
    Value inside = both(rowInside, both(isWithin(b, loc, left, width),
                                        isWithin(b, loc, right, width)));
    auto branch = b.create<scf::IfOp>(loc, inside, /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&branch.getThenRegion().front());
    emitChannels(pixels, firstY, inRow, outRow, firstX, /*checked=*/false);
    b.setInsertionPointToStart(&branch.getElseRegion().front());
    emitChannels(pixels, firstY, inRow, outRow, firstX, /*checked=*/true);
    return;
  }
  emitChannels(pixels, firstY, inRow, outRow, firstX, /*checked=*/false);
}

void DepthwiseEmitter::emitChannels(int64_t pixels, Value firstY, Value inRow,
                                    Value outRow, Value firstX, bool checked) {
  int64_t fullVectors = channels / lanes;
  if (fullVectors > 0) {
    auto vectors = b.create<scf::ForOp>(loc, index(0), index(fullVectors),
                                        index(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(vectors.getBody());
    emitBlock(pixels, firstY, inRow, outRow, firstX,
              mul(vectors.getInductionVar(), lanes), Value(), checked);
  }
  if (channels % lanes) {
    auto maskType = VectorType::get({lanes}, b.getI1Type());
    Value mask = b.create<vector::CreateMaskOp>(
        loc, maskType, ValueRange{index(channels % lanes)});
    emitBlock(pixels, firstY, inRow, outRow, firstX,
              index(fullVectors * lanes), mask, checked);
  }
}

void DepthwiseEmitter::emitBlock(int64_t pixels, Value firstY, Value inRow,
                                 Value outRow, Value firstX, Value channel,
                                 Value mask, bool checked) {
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
    starts.push_back(add(inRow, add(mul(left, channels), channel)));
  }
  SmallVector<Value> accumulators(pixels, biasVector);
  auto taps = b.create<scf::ForOp>(
      loc, index(0), index(kernelH * kernelW), index(1), accumulators,
      [&](OpBuilder &, Location, Value tap, ValueRange acc) {
        Value i = b.create<arith::DivUIOp>(loc, tap, index(kernelW));
        Value j = b.create<arith::RemUIOp>(loc, tap, index(kernelW));
        Value offset = add(times(i, times(width, index(dilationH * channels))),
                           mul(j, dilationW * channels));
        Value weights;
        if (!k.isMaxPool())
          weights = load(filter, add(mul(tap, channels), channel), mask);
        Value rowInside;
        if (checked)
          rowInside = isWithin(b, loc, add(firstY, mul(i, dilationH)), height);
        SmallVector<Value> next;
        for (int64_t p = 0; p < pixels; ++p) {
          PaddedSource source{input, add(starts[p], offset)};
          if (checked)
            source = selectPadded(
                b, loc,
                both(rowInside, isWithin(b, loc, add(lefts[p], mul(j, dilationW)),
                                         width)),
                source.buffer, source.offset, zeros, channel);
          Value values = load(source.buffer, source.offset, mask);
          if (k.isMaxPool())
            next.push_back(b.create<arith::MaximumFOp>(loc, values, acc[p]));
          else
            next.push_back(
                b.create<vector::FMAOp>(loc, values, weights, acc[p]));
        }
        b.create<scf::YieldOp>(loc, next);
      });
  for (int64_t p = 0; p < pixels; ++p) {
    Value x = p ? add(firstX, index(p)) : firstX;
    Value at = add(outRow, add(mul(x, channels), channel));
    Value result = applyActivation(b, loc, taps.getResult(p), k.activation,
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
