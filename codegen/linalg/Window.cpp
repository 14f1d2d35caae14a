//===- Window.cpp - Conv and the pools to linalg --------------------------===//
//
// Sliding-window operators over N-D spatial dimensions, as linalg.generic:
// the input is padded explicitly (tensor.pad), then each output position
// reads input[o * stride + k * dilation]. Conv exposes its groups as a
// dimension (expand_shape), so grouped and depthwise convolutions are the
// same contraction, and starts from the bias broadcast into the output.
// MaxPool pads with -inf; AveragePool divides by how many elements of each
// window count (count_include_pad decides whether explicit padding does;
// the ceil_mode overhang never does). The batch and spatial dimensions may
// be symbolic: the padding is then static (explicit, VALID, or SAME with
// stride 1) and each output extent is computed at run time from the
// padded input's, as (padded - window) / stride + 1.
//
//===----------------------------------------------------------------------===//

#include "codegen/linalg/LinalgBuilders.h"
#include "codegen/linalg/OnnxToLinalg.h"
#include "codegen/linalg/Passes.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

#include <cmath>

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// Where windows sit along each spatial axis of the input.
struct WindowGeometry {
  SmallVector<int64_t> kernel, strides, dilations;
  /// Padding the operator defines (explicit pads or auto_pad).
  SmallVector<int64_t> padBegin, padEnd;
  /// Extra padding at the end so that ceil_mode's last window fits (zero
  /// along a symbolic dimension, where ceil_mode is not lowered).
  SmallVector<int64_t> overhang;
  /// The extent one window spans along each axis.
  int64_t span(size_t i) const { return (kernel[i] - 1) * dilations[i] + 1; }
};

SmallVector<int64_t> intsOr(Operation *op, StringRef name, size_t count,
                            int64_t otherwise) {
  SmallVector<int64_t> values(count, otherwise);
  if (auto attr = op->getAttrOfType<ArrayAttr>(name))
    for (auto [i, value] : llvm::enumerate(attr))
      if (i < count)
        values[i] = cast<IntegerAttr>(value).getInt();
  return values;
}

StringRef autoPadOf(Operation *op) {
  if (auto attr = op->getAttrOfType<StringAttr>("auto_pad"))
    return attr.getValue();
  return "NOTSET";
}

/// The geometry of `op` on `inputShape` (N, C, spatial...) producing
/// `outputShape`. Along a symbolic axis the padding must not depend on the
/// extent (checkWindowLowering makes sure).
WindowGeometry geometryOf(Operation *op, ArrayRef<int64_t> inputShape,
                          ArrayRef<int64_t> outputShape,
                          ArrayRef<int64_t> kernel) {
  size_t spatial = inputShape.size() - 2;
  WindowGeometry g;
  g.kernel.assign(kernel.begin(), kernel.end());
  g.strides = intsOr(op, "strides", spatial, 1);
  g.dilations = intsOr(op, "dilations", spatial, 1);
  SmallVector<int64_t> pads = intsOr(op, "pads", 2 * spatial, 0);
  StringRef autoPad = autoPadOf(op);
  for (size_t i = 0; i < spatial; ++i) {
    int64_t in = inputShape[i + 2], out = outputShape[i + 2];
    bool symbolic = ShapedType::isDynamic(in) || ShapedType::isDynamic(out);
    int64_t span = symbolic ? 0 : (out - 1) * g.strides[i] + g.span(i);
    int64_t begin = pads[i], end = pads[i + spatial];
    if (autoPad == "VALID") {
      begin = end = 0;
    } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      // With stride 1 the total is the window's extent less one, whatever
      // the input's size.
      int64_t total = symbolic ? g.span(i) - 1
                               : std::max<int64_t>(0, span - in);
      begin = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
      end = total - begin;
    }
    g.padBegin.push_back(begin);
    g.padEnd.push_back(end);
    g.overhang.push_back(
        symbolic ? 0 : std::max<int64_t>(0, span - (in + begin + end)));
  }
  return g;
}

/// The dynamic sizes of a tensor of `type` whose leading dimensions are
/// those of `like` and whose last `g.kernel.size()` are the windows' output
/// positions over `padded`, the padded input.
SmallVector<Value> windowedSizes(OpBuilder &b, Location loc,
                                 RankedTensorType type, Value like,
                                 Value padded, const WindowGeometry &g) {
  SmallVector<Value> sizes;
  int64_t leading = type.getRank() - g.kernel.size();
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (!type.isDynamicDim(d))
      continue;
    if (d < leading) {
      sizes.push_back(b.create<tensor::DimOp>(loc, like, d));
      continue;
    }
    size_t i = d - leading;
    int64_t paddedRank = cast<RankedTensorType>(padded.getType()).getRank();
    Value extent = b.create<tensor::DimOp>(
        loc, padded, paddedRank - g.kernel.size() + i);
    auto constant = [&](int64_t v) {
      return b.create<arith::ConstantIndexOp>(loc, v);
    };
    // No window fits an input shorter than one: then no positions, rather
    // than a negative count.
    Value positions = b.create<arith::FloorDivSIOp>(
        loc, b.create<arith::SubIOp>(loc, extent, constant(g.span(i))),
        constant(g.strides[i]));
    sizes.push_back(b.create<arith::MaxSIOp>(
        loc, b.create<arith::AddIOp>(loc, positions, constant(1)),
        constant(0)));
  }
  return sizes;
}

/// `value` padded on its spatial dimensions (the last `padBegin.size()`)
/// with `padding`, a scalar of its element type.
Value padSpatialWith(OpBuilder &b, Location loc, Value value,
                     ArrayRef<int64_t> padBegin, ArrayRef<int64_t> padEnd,
                     Value padding) {
  auto type = cast<RankedTensorType>(value.getType());
  int64_t leading = type.getRank() - padBegin.size();
  if (llvm::all_of(padBegin, [](int64_t p) { return p == 0; }) &&
      llvm::all_of(padEnd, [](int64_t p) { return p == 0; }))
    return value;
  SmallVector<int64_t> low(leading, 0), high(leading, 0), shape;
  low.append(padBegin.begin(), padBegin.end());
  high.append(padEnd.begin(), padEnd.end());
  for (int64_t i = 0; i < type.getRank(); ++i)
    shape.push_back(type.isDynamicDim(i) ? ShapedType::kDynamic
                                         : type.getDimSize(i) + low[i] + high[i]);
  auto paddedType = RankedTensorType::get(shape, type.getElementType());
  return padTensor(b, loc, paddedType, value, low, high, padding);
}

/// The same with the constant `fill`.
Value padSpatial(OpBuilder &b, Location loc, Value value,
                 ArrayRef<int64_t> padBegin, ArrayRef<int64_t> padEnd,
                 Attribute fill) {
  return padSpatialWith(
      b, loc, value, padBegin, padEnd,
      b.create<arith::ConstantOp>(loc, cast<TypedAttr>(fill)));
}

SmallVector<int64_t> sum(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  SmallVector<int64_t> result;
  for (auto [x, y] : llvm::zip(a, b))
    result.push_back(x + y);
  return result;
}

/// input[..., o * stride + k * dilation] for spatial axes starting at loop
/// `firstOutput` (outputs) and `firstKernel` (kernel offsets).
SmallVector<AffineExpr> windowExprs(const WindowGeometry &g,
                                    int64_t firstOutput, int64_t firstKernel,
                                    MLIRContext *context) {
  SmallVector<AffineExpr> exprs;
  for (size_t i = 0; i < g.kernel.size(); ++i)
    exprs.push_back(getAffineDimExpr(firstOutput + i, context) * g.strides[i] +
                    getAffineDimExpr(firstKernel + i, context) * g.dilations[i]);
  return exprs;
}

/// The number of groups of a convolution op (its `group` attribute).
int64_t groupsOf(Operation *op) {
  auto group = op->getAttrOfType<IntegerAttr>("group");
  return group ? group.getInt() : 1;
}

} // namespace

Value mlir::kiln::convolve(OpBuilder &b, Operation *op, Value x, Value w,
                           Value bias, RankedTensorType resultType,
                           Value padding) {
  Location loc = op->getLoc();
  MLIRContext *context = b.getContext();
  auto inputType = cast<RankedTensorType>(x.getType());
  auto weightType = cast<RankedTensorType>(w.getType());
  Type element = resultType.getElementType();
  int64_t spatial = inputType.getRank() - 2;
  int64_t groups = groupsOf(op);
  int64_t channels = inputType.getDimSize(1),
          filters = weightType.getDimSize(0);
  int64_t channelsPerGroup = channels / groups,
          filtersPerGroup = filters / groups;
  WindowGeometry g = geometryOf(op, inputType.getShape(), resultType.getShape(),
                                weightType.getShape().drop_front(2));

  if (!padding)
    padding = b.create<arith::ConstantOp>(
        loc, cast<TypedAttr>(b.getZeroAttr(inputType.getElementType())));
  Value input =
      padSpatialWith(b, loc, x, g.padBegin, sum(g.padEnd, g.overhang), padding);
  auto paddedShape = cast<RankedTensorType>(input.getType()).getShape();

  // Groups as a dimension: input [N, G, C/G, ...], weight [G, F/G, C/G,
  // k...], output [N, G, F/G, o...].
  auto expand = [&](Value value, ArrayRef<int64_t> shape,
                    SmallVector<ReassociationIndices> groupsOf) {
    return b.create<tensor::ExpandShapeOp>(
        loc,
        RankedTensorType::get(
            shape, cast<RankedTensorType>(value.getType()).getElementType()),
        value, groupsOf);
  };
  SmallVector<int64_t> inputShape = {paddedShape[0], groups, channelsPerGroup};
  inputShape.append(paddedShape.begin() + 2, paddedShape.end());
  SmallVector<ReassociationIndices> inputGroups = {{0}, {1, 2}};
  for (int64_t i = 0; i < spatial; ++i)
    inputGroups.push_back({3 + i});
  Value groupedInput = expand(input, inputShape, inputGroups);
  SmallVector<int64_t> weightShape = {groups, filtersPerGroup,
                                      channelsPerGroup};
  weightShape.append(g.kernel.begin(), g.kernel.end());
  SmallVector<ReassociationIndices> weightGroups = {{0, 1}, {2}};
  for (int64_t i = 0; i < spatial; ++i)
    weightGroups.push_back({3 + i});
  Value groupedWeight = expand(w, weightShape, weightGroups);
  SmallVector<int64_t> outputShape = {resultType.getDimSize(0), groups,
                                      filtersPerGroup};
  outputShape.append(resultType.getShape().begin() + 2,
                     resultType.getShape().end());
  auto groupedType = RankedTensorType::get(outputShape, element);
  SmallVector<Value> outputSizes =
      windowedSizes(b, loc, groupedType, groupedInput, input, g);

  // Loops: n, g, f, o..., c, k...
  int64_t loops = 3 + 2 * spatial + 1;
  auto d = [&](int64_t i) { return getAffineDimExpr(i, context); };
  int64_t firstOutput = 3, channelLoop = 3 + spatial, firstKernel = 4 + spatial;
  SmallVector<AffineExpr> inputExprs = {d(0), d(1), d(channelLoop)};
  inputExprs.append(windowExprs(g, firstOutput, firstKernel, context));
  SmallVector<AffineExpr> weightExprs = {d(1), d(2), d(channelLoop)};
  SmallVector<AffineExpr> outputExprs = {d(0), d(1), d(2)};
  for (int64_t i = 0; i < spatial; ++i) {
    weightExprs.push_back(d(firstKernel + i));
    outputExprs.push_back(d(firstOutput + i));
  }
  SmallVector<utils::IteratorType> iterators(3 + spatial,
                                             utils::IteratorType::parallel);
  iterators.append(1 + spatial, utils::IteratorType::reduction);

  // The accumulator starts as the bias (or zero).
  Value init;
  if (bias) {
    Value groupedBias = b.create<tensor::ExpandShapeOp>(
        loc, RankedTensorType::get({groups, filtersPerGroup}, element), bias,
        SmallVector<ReassociationIndices>{{0, 1}});
    Value empty =
        b.create<tensor::EmptyOp>(loc, outputShape, element, outputSizes);
    SmallVector<AffineExpr> biasExprs = {d(1), d(2)};
    init = b.create<linalg::GenericOp>(
                loc, groupedType, groupedBias, empty,
                ArrayRef{AffineMap::get(3 + spatial, 0, biasExprs, context),
                         b.getMultiDimIdentityMap(3 + spatial)},
                SmallVector<utils::IteratorType>(3 + spatial,
                                                 utils::IteratorType::parallel),
                [](OpBuilder &nested, Location l, ValueRange args) {
                  nested.create<linalg::YieldOp>(l, args[0]);
                })
               .getResult(0);
  } else {
    init = filledTensor(b, loc, outputShape,
                        cast<TypedAttr>(b.getZeroAttr(element)), outputSizes);
  }
  Value grouped =
      b.create<linalg::GenericOp>(
           loc, groupedType, ValueRange{groupedInput, groupedWeight}, init,
           ArrayRef{AffineMap::get(loops, 0, inputExprs, context),
                    AffineMap::get(loops, 0, weightExprs, context),
                    AffineMap::get(loops, 0, outputExprs, context)},
           iterators,
           [&](OpBuilder &nested, Location l, ValueRange args) {
             multiplyAccumulate(nested, l, args);
           })
          .getResult(0);
  SmallVector<ReassociationIndices> outputGroups = {{0}, {1, 2}};
  for (int64_t i = 0; i < spatial; ++i)
    outputGroups.push_back({3 + i});
  return b.create<tensor::CollapseShapeOp>(loc, resultType, grouped,
                                           outputGroups);
}

namespace {

struct LowerConv : OpRewritePattern<onnx::ConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ConvOp op,
                                PatternRewriter &rewriter) const override {
    if (checkWindowLowering(op))
      return failure();
    rewriter.replaceOp(op,
                       convolve(rewriter, op, op.getX(), op.getW(), op.getB(),
                                cast<RankedTensorType>(op.getType())));
    return success();
  }
};

/// Sum or max over each window of `input` (already padded), as one generic
/// whose kernel loops take their extent from a shape-only operand (with
/// `windowSizes` for its dynamic extents: a global pool's over symbolic
/// dimensions).
Value poolWindows(OpBuilder &b, Location loc, Value input,
                  const WindowGeometry &g, RankedTensorType resultType,
                  bool isMax, ValueRange windowSizes = {}) {
  MLIRContext *context = b.getContext();
  Type element = resultType.getElementType();
  int64_t rank = resultType.getRank(), spatial = g.kernel.size();
  int64_t leading = rank - spatial;
  int64_t loops = rank + spatial;
  SmallVector<AffineExpr> inputExprs, outputExprs, kernelExprs;
  for (int64_t i = 0; i < leading; ++i)
    inputExprs.push_back(getAffineDimExpr(i, context));
  inputExprs.append(windowExprs(g, leading, rank, context));
  for (int64_t i = 0; i < rank; ++i)
    outputExprs.push_back(getAffineDimExpr(i, context));
  for (int64_t i = 0; i < spatial; ++i)
    kernelExprs.push_back(getAffineDimExpr(rank + i, context));
  Value window = b.create<tensor::EmptyOp>(loc, g.kernel, element, windowSizes);
  Value init = filledTensor(b, loc, resultType.getShape(),
                            b.getFloatAttr(element, isMax ? -INFINITY : 0.0),
                            windowedSizes(b, loc, resultType, input, input, g));
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  iterators.append(spatial, utils::IteratorType::reduction);
  return b
      .create<linalg::GenericOp>(
          loc, resultType, ValueRange{input, window}, init,
          ArrayRef{AffineMap::get(loops, 0, inputExprs, context),
                   AffineMap::get(loops, 0, kernelExprs, context),
                   AffineMap::get(loops, 0, outputExprs, context)},
          iterators,
          [isMax](OpBuilder &nb, Location l, ValueRange args) {
            Value combined =
                isMax ? nb.create<arith::MaximumFOp>(l, args[0], args[2]).getResult()
                      : nb.create<arith::AddFOp>(l, args[0], args[2]).getResult();
            nb.create<linalg::YieldOp>(l, combined);
          })
      .getResult(0);
}

struct LowerMaxPool : OpRewritePattern<onnx::MaxPoolOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::MaxPoolOp op,
                                PatternRewriter &rewriter) const override {
    if (checkWindowLowering(op))
      return failure();
    auto inputType = cast<RankedTensorType>(op.getX().getType());
    auto resultType = cast<RankedTensorType>(op.getY().getType());
    SmallVector<int64_t> kernel = intsOr(op, "kernel_shape", inputType.getRank() - 2, 1);
    WindowGeometry g =
        geometryOf(op, inputType.getShape(), resultType.getShape(), kernel);
    Value input = padSpatial(
        rewriter, op.getLoc(), op.getX(), g.padBegin, sum(g.padEnd, g.overhang),
        rewriter.getFloatAttr(resultType.getElementType(), -INFINITY));
    rewriter.replaceOp(op, {poolWindows(rewriter, op.getLoc(), input, g,
                                        resultType, /*isMax=*/true)});
    return success();
  }
};

struct LowerAveragePool : OpRewritePattern<onnx::AveragePoolOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::AveragePoolOp op,
                                PatternRewriter &rewriter) const override {
    if (checkWindowLowering(op))
      return failure();
    Location loc = op.getLoc();
    auto inputType = cast<RankedTensorType>(op.getX().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    Type element = resultType.getElementType();
    int64_t spatial = inputType.getRank() - 2;
    SmallVector<int64_t> kernel = intsOr(op, "kernel_shape", spatial, 1);
    WindowGeometry g =
        geometryOf(op, inputType.getShape(), resultType.getShape(), kernel);
    Value input = padSpatial(rewriter, loc, op.getX(), g.padBegin,
                             sum(g.padEnd, g.overhang),
                             rewriter.getZeroAttr(element));
    Value sums = poolWindows(rewriter, loc, input, g, resultType, false);

    // How many elements each window counts: pool a tensor of ones laid out
    // like the input's spatial extent, padded with ones where explicit
    // padding counts and zeros elsewhere.
    SmallVector<int64_t> spatialShape(inputType.getShape().drop_front(2));
    SmallVector<Value> spatialSizes;
    for (auto [i, size] : llvm::enumerate(spatialShape))
      if (ShapedType::isDynamic(size))
        spatialSizes.push_back(
            rewriter.create<tensor::DimOp>(loc, op.getX(), i + 2));
    Value ones = filledTensor(rewriter, loc, spatialShape,
                              rewriter.getFloatAttr(element, 1.0),
                              spatialSizes);
    bool includePad = op.getCountIncludePad() != 0;
    Value counted = padSpatial(rewriter, loc, ones, g.padBegin, g.padEnd,
                               rewriter.getFloatAttr(element, includePad ? 1.0 : 0.0));
    SmallVector<int64_t> noPad(spatial, 0);
    counted = padSpatial(rewriter, loc, counted, noPad, g.overhang,
                         rewriter.getZeroAttr(element));
    auto countType = RankedTensorType::get(resultType.getShape().drop_front(2),
                                           element);
    Value counts = poolWindows(rewriter, loc, counted, g, countType, false);

    MLIRContext *context = getContext();
    int64_t rank = resultType.getRank();
    SmallVector<AffineExpr> countExprs;
    for (int64_t i = 2; i < rank; ++i)
      countExprs.push_back(getAffineDimExpr(i, context));
    Value empty = rewriter.create<tensor::EmptyOp>(
        loc, resultType.getShape(), element,
        dynamicSizesOf(rewriter, loc, sums));
    auto average = rewriter.create<linalg::GenericOp>(
        loc, resultType, ValueRange{sums, counts}, empty,
        ArrayRef{rewriter.getMultiDimIdentityMap(rank),
                 AffineMap::get(rank, 0, countExprs, context),
                 rewriter.getMultiDimIdentityMap(rank)},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [](OpBuilder &b, Location l, ValueRange args) {
          b.create<linalg::YieldOp>(
              l, b.create<arith::DivFOp>(l, args[0], args[1]).getResult());
        });
    rewriter.replaceOp(op, average.getResults());
    return success();
  }
};

/// GlobalAveragePool / GlobalMaxPool: one window covering all spatial dims.
template <typename OpTy, bool isMax>
struct LowerGlobalPool : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if (checkWindowLowering(op))
      return failure();
    Location loc = op.getLoc();
    auto inputType = cast<RankedTensorType>(op.getX().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    Type element = resultType.getElementType();
    WindowGeometry g;
    g.kernel.assign(inputType.getShape().begin() + 2, inputType.getShape().end());
    g.strides.assign(g.kernel.size(), 1);
    g.dilations.assign(g.kernel.size(), 1);
    // The window's symbolic extents, and how many elements it covers.
    SmallVector<Value> windowSizes;
    Value count = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    for (auto [i, size] : llvm::enumerate(g.kernel)) {
      Value extent = rewriter.create<tensor::DimOp>(loc, op.getX(), i + 2);
      if (ShapedType::isDynamic(size))
        windowSizes.push_back(extent);
      count = rewriter.createOrFold<arith::MulIOp>(loc, count, extent);
    }
    Value pooled = poolWindows(rewriter, loc, op.getX(), g, resultType, isMax,
                               windowSizes);
    if (isMax) {
      rewriter.replaceOp(op, pooled);
      return success();
    }
    Value divisor = rewriter.create<arith::UIToFPOp>(
        loc, element,
        rewriter.create<arith::IndexCastUIOp>(loc, rewriter.getI64Type(),
                                              count));
    rewriter.replaceOp(op, mapElements(rewriter, loc, pooled,
                                       [&](OpBuilder &b, Location l, Value x) {
                                         return b.create<arith::DivFOp>(l, x, divisor)
                                             .getResult();
                                       }));
    return success();
  }
};

} // namespace

std::optional<std::string> mlir::kiln::checkWindowLowering(Operation *op) {
  bool integerConv = isa<onnx::ConvIntegerOp, onnx::QLinearConvOp>(op);
  if (!integerConv &&
      !isa<onnx::ConvOp, onnx::MaxPoolOp, onnx::AveragePoolOp,
           onnx::GlobalAveragePoolOp, onnx::GlobalMaxPoolOp>(op))
    return std::string();
  auto resultType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  auto inputType = dyn_cast<RankedTensorType>(op->getOperand(0).getType());
  if (!resultType || !inputType)
    return std::string("its shapes must be ranked");
  // The batch and spatial dimensions may be symbolic; channels, weights and
  // bias may not.
  for (Value operand : op->getOperands().drop_front()) {
    auto type = dyn_cast<RankedTensorType>(operand.getType());
    if (!type || !type.hasStaticShape())
      return std::string("its weights and bias must have static shapes");
  }
  if (inputType.getRank() >= 2 &&
      (inputType.isDynamicDim(1) || resultType.isDynamicDim(1)))
    return std::string("its channel count must be static");
  bool symbolic = false;
  for (int64_t i = 2; i < inputType.getRank(); ++i)
    symbolic |= inputType.isDynamicDim(i) || resultType.isDynamicDim(i);
  if (symbolic && !isa<onnx::GlobalAveragePoolOp, onnx::GlobalMaxPoolOp>(op)) {
    // The padding of a symbolic extent must not depend on it.
    if (auto ceil = op->getAttrOfType<IntegerAttr>("ceil_mode");
        ceil && ceil.getInt() != 0)
      return std::string(
          "ceil_mode over a symbolic dimension is not lowered yet");
    StringRef autoPad = autoPadOf(op);
    if ((autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") &&
        llvm::any_of(intsOr(op, "strides", inputType.getRank() - 2, 1),
                      [](int64_t stride) { return stride != 1; }))
      return std::string("auto_pad " + autoPad.str() +
                         " with a stride over a symbolic dimension is not "
                         "lowered yet");
  }
  if (inputType.getRank() < 3)
    return std::string("its input needs a rank of 3 or more");
  Type element = resultType.getElementType();
  if (!integerConv && !element.isF16() && !element.isBF16() &&
      !element.isF32() && !element.isF64())
    return std::string("it is lowered for floating-point types only");
  if (auto maxPool = dyn_cast<onnx::MaxPoolOp>(op)) {
    if (maxPool.getIndices())
      return std::string("its Indices output is not lowered yet");
    if (maxPool.getStorageOrder() != 0)
      return std::string("storage_order = 1 is not lowered yet");
  }
  if (isa<onnx::ConvOp>(op) || integerConv) {
    // The filter: QLinearConv's follows the input's scale and zero point.
    Value filter = op->getOperand(isa<onnx::QLinearConvOp>(op) ? 3 : 1);
    auto weight = cast<RankedTensorType>(filter.getType());
    int64_t groups = groupsOf(op);
    if (groups < 1 || inputType.getDimSize(1) % groups ||
        weight.getDimSize(0) % groups ||
        weight.getDimSize(1) * groups != inputType.getDimSize(1))
      return std::string("its channels do not divide into its groups");
  }
  return std::nullopt;
}

void mlir::kiln::populateWindowLowering(RewritePatternSet &patterns) {
  patterns.add<LowerConv, LowerMaxPool, LowerAveragePool,
               LowerGlobalPool<onnx::GlobalAveragePoolOp, false>,
               LowerGlobalPool<onnx::GlobalMaxPoolOp, true>>(
      patterns.getContext());
}
