//===- LinearResize.cpp - kiln-graph-linear-resize ------------------------===//
//
// Segmentation models end by upsampling their logits bilinearly to the
// input's size: the largest tensor of the model. Every output row and
// column has the same two sources and weights for every channel, so they
// are computed once, here, instead of per element at run time. Over a
// symbolic height or width the tables are computed at run time instead,
// once per run (a pass over the output's rows and columns, not its
// elements). The batch may be symbolic too (SparseRefine's windows), where
// the Resize keeps it: scales of 1, or sizes that start with its own.
//
//===----------------------------------------------------------------------===//

#include "passes/graph/Passes.h"

#include "dialects/onnx/OnnxConstants.h"
#include "dialects/onnx/OnnxShapeValues.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace mlir::kiln {
#define GEN_PASS_DEF_GRAPHLINEARRESIZEPASS
#include "passes/graph/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The input coordinate of output index `x`, as the Resize reference
/// computes it; nullopt for the modes this rewrite leaves alone.
std::optional<double> sourceCoordinate(StringRef mode, double x, double scale,
                                       int64_t in, int64_t out) {
  if (mode == "asymmetric")
    return x / scale;
  if (mode == "align_corners")
    return out == 1 ? 0.0 : x * double(in - 1) / (scale * double(in) - 1.0);
  if (mode == "pytorch_half_pixel" && out == 1)
    return 0.0;
  if (mode == "half_pixel" || mode == "pytorch_half_pixel")
    return (x + 0.5) / scale - 0.5;
  return std::nullopt;
}

/// Two source positions and the second one's weight per output index.
struct AxisTable {
  std::vector<int32_t> sources;
  std::vector<float> weights;
};

std::optional<AxisTable> axisTable(StringRef mode, double scale, int64_t in,
                                   int64_t out) {
  AxisTable table;
  for (int64_t x = 0; x < out; ++x) {
    std::optional<double> coordinate =
        sourceCoordinate(mode, double(x), scale, in, out);
    if (!coordinate)
      return std::nullopt;
    double base = std::floor(*coordinate);
    auto clamp = [&](double position) {
      return int32_t(std::min<double>(std::max<double>(position, 0.0),
                                      double(in - 1)));
    };
    table.sources.push_back(clamp(base));
    table.sources.push_back(clamp(base + 1.0));
    table.weights.push_back(float(*coordinate - base));
  }
  return table;
}

/// Whether `sizes` starts with the extents of `x` itself: the exporters'
/// Concat(Slice(Shape(x), [0], ..), ...) (or a Shape of x from 0 first).
bool startsWithShapeOf(Value sizes, Value x) {
  auto concat = sizes.getDefiningOp<onnx::ConcatOp>();
  Value lead = concat ? concat->getOperand(0) : sizes;
  if (auto slice = lead.getDefiningOp<onnx::SliceOp>()) {
    std::optional<SmallVector<int64_t>> starts =
        onnx::getKnownInts(slice.getStarts());
    std::optional<SmallVector<int64_t>> steps =
        slice.getSteps() ? onnx::getKnownInts(slice.getSteps())
                         : SmallVector<int64_t>{1};
    std::optional<SmallVector<int64_t>> axes =
        slice.getAxes() ? onnx::getKnownInts(slice.getAxes())
                        : SmallVector<int64_t>{0};
    auto single = [](const std::optional<SmallVector<int64_t>> &values,
                     int64_t value) {
      return values && values->size() == 1 && (*values)[0] == value;
    };
    if (!single(starts, 0) || !single(steps, 1) || !single(axes, 0))
      return false;
    lead = slice.getData();
  }
  auto shape = lead.getDefiningOp<onnx::ShapeOp>();
  return shape && shape.getData() == x && shape.getStart() == 0;
}

/// Whether the Resize is one the tables express: f32 4-D data resized
/// linearly on its last two axes only (channels static, batch and channels
/// kept: a symbolic batch by scales of 1 or sizes that start with the
/// data's own), "stretch", no antialias or axes.
bool isTableResize(onnx::ResizeOp op) {
  auto inType = dyn_cast<RankedTensorType>(op.getX().getType());
  auto outType = dyn_cast<RankedTensorType>(op.getY().getType());
  if (!inType || !outType || inType.getRank() != 4 || outType.getRank() != 4 ||
      !inType.getElementType().isF32() || op.getMode() != "linear" ||
      op.getAntialias() != 0 || op.getAxes() ||
      op.getKeepAspectRatioPolicy() != "stretch" || inType.isDynamicDim(1) ||
      inType.getShape().take_front(2) != outType.getShape().take_front(2))
    return false;
  if (!inType.isDynamicDim(0))
    return true;
  if (op.getScales())
    return true; // scales of 1 on the batch, which the patterns check
  return op.getSizes() && startsWithShapeOf(op.getSizes(), op.getX());
}

/// Whether `type` is static but for its batch.
bool isStaticButBatch(RankedTensorType type) {
  return !ShapedType::isDynamicShape(type.getShape().drop_front());
}

/// An empty f32 tensor of `type`, its symbolic batch `x`'s and its
/// symbolic height and width `sizes`.
Value emptyLike(PatternRewriter &rewriter, Location loc, RankedTensorType type,
                Value x, ValueRange sizes = {}) {
  SmallVector<Value> dynamic;
  if (type.isDynamicDim(0))
    dynamic.push_back(rewriter.create<tensor::DimOp>(loc, x, 0));
  llvm::append_range(dynamic, sizes);
  return rewriter.create<tensor::EmptyOp>(loc, type.getShape(),
                                          rewriter.getF32Type(), dynamic);
}

struct ResizeToTables : OpRewritePattern<onnx::ResizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::ResizeOp op,
                                PatternRewriter &rewriter) const override {
    if (!isTableResize(op))
      return failure();
    auto inType = cast<RankedTensorType>(op.getX().getType());
    auto outType = cast<RankedTensorType>(op.getY().getType());
    if (!isStaticButBatch(inType) || !isStaticButBatch(outType))
      return failure();
    ArrayRef<int64_t> in = inType.getShape(), out = outType.getShape();
    // The scales as the reference uses them: given, or out / in for sizes.
    SmallVector<double> scales;
    if (op.getScales()) {
      DenseElementsAttr given = onnx::getConstantElements(op.getScales());
      if (!given || given.getNumElements() != 4)
        return failure();
      for (const APFloat &scale : given.getValues<APFloat>())
        scales.push_back(scale.convertToDouble());
    } else if (std::optional<SmallVector<int64_t>> sizes =
                   op.getSizes() ? onnx::getKnownInts(op.getSizes())
                                 : std::nullopt;
               sizes && sizes->size() == 4 &&
               !ShapedType::isDynamic((*sizes)[2]) &&
               !ShapedType::isDynamic((*sizes)[3])) {
      // The batch and channels are kept (isTableResize): scales of 1.
      scales = {1.0, 1.0, double(out[2]) / double(in[2]),
                double(out[3]) / double(in[3])};
    } else {
      return failure();
    }
    if (scales[0] != 1.0 || scales[1] != 1.0)
      return failure();
    StringRef mode = op.getCoordinateTransformationMode();
    std::optional<AxisTable> rows = axisTable(mode, scales[2], in[2], out[2]);
    std::optional<AxisTable> columns =
        axisTable(mode, scales[3], in[3], out[3]);
    if (!rows || !columns)
      return failure();

    Location loc = op.getLoc();
    auto table = [&](ArrayRef<int32_t> values) {
      auto type = RankedTensorType::get({int64_t(values.size())},
                                        rewriter.getI32Type());
      return onnx::createConstant(rewriter, loc,
                                  DenseElementsAttr::get(type, values));
    };
    auto weights = [&](ArrayRef<float> values) {
      auto type = RankedTensorType::get({int64_t(values.size())},
                                        rewriter.getF32Type());
      return onnx::createConstant(rewriter, loc,
                                  DenseElementsAttr::get(type, values));
    };
    Value init = emptyLike(rewriter, loc, outType, op.getX());
    rewriter.replaceOpWithNewOp<ResizeLinearOp>(
        op, TypeRange{outType}, op.getX(), table(rows->sources),
        weights(rows->weights), table(columns->sources),
        weights(columns->weights), init);
    return success();
  }
};

/// One axis's tables over a symbolic length, computed at run time: for
/// output index x, the source coordinate (f64, as the reference computes
/// it), its floor and the next position clamped to the input, and the
/// second one's weight.
struct RunTimeAxis {
  OpBuilder &b;
  Location loc;
  StringRef mode;
  Value in, out, scale; // f64
  Value outLength;      // index

  Value f64(double value) {
    return b.create<arith::ConstantOp>(loc, b.getF64FloatAttr(value));
  }
  Value coordinate(OpBuilder &nb, Location l, Value index) {
    Value x = nb.create<arith::SIToFPOp>(
        l, nb.getF64Type(),
        nb.create<arith::IndexCastOp>(l, nb.getI64Type(), index));
    auto add = [&](Value a, Value c) { return nb.create<arith::AddFOp>(l, a, c); };
    auto sub = [&](Value a, Value c) { return nb.create<arith::SubFOp>(l, a, c); };
    auto mul = [&](Value a, Value c) { return nb.create<arith::MulFOp>(l, a, c); };
    auto div = [&](Value a, Value c) { return nb.create<arith::DivFOp>(l, a, c); };
    if (mode == "asymmetric")
      return div(x, scale);
    Value single = nb.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, out,
                                            f64(1.0));
    Value general;
    if (mode == "align_corners")
      general = div(mul(x, sub(in, f64(1.0))), sub(mul(scale, in), f64(1.0)));
    else // half_pixel, pytorch_half_pixel
      general = sub(div(add(x, f64(0.5)), scale), f64(0.5));
    if (mode == "half_pixel")
      return general;
    return nb.create<arith::SelectOp>(l, single, f64(0.0), general);
  }

  /// (sources: i32 [2 * out], weights: f32 [out])
  std::pair<Value, Value> tables() {
    MLIRContext *context = b.getContext();
    auto weightType =
        RankedTensorType::get({ShapedType::kDynamic}, b.getF32Type());
    Value weights =
        b.create<linalg::GenericOp>(
             loc, weightType, ValueRange{},
             ValueRange{b.create<tensor::EmptyOp>(loc, weightType.getShape(),
                                                  b.getF32Type(), outLength)},
             ArrayRef{b.getMultiDimIdentityMap(1)},
             SmallVector<utils::IteratorType>{utils::IteratorType::parallel},
             [&](OpBuilder &nb, Location l, ValueRange) {
               Value c = coordinate(nb, l, nb.create<linalg::IndexOp>(l, 0));
               Value base = nb.create<math::FloorOp>(l, c);
               Value w = nb.create<arith::TruncFOp>(
                   l, nb.getF32Type(), nb.create<arith::SubFOp>(l, c, base));
               nb.create<linalg::YieldOp>(l, w);
             })
            .getResult(0);
    auto pairType = RankedTensorType::get({ShapedType::kDynamic, 2},
                                          b.getI32Type());
    Value pairs =
        b.create<linalg::GenericOp>(
             loc, pairType, ValueRange{},
             ValueRange{b.create<tensor::EmptyOp>(loc, pairType.getShape(),
                                                  b.getI32Type(), outLength)},
             ArrayRef{AffineMap::getMultiDimIdentityMap(2, context)},
             SmallVector<utils::IteratorType>(2, utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location l, ValueRange) {
               Value c = coordinate(nb, l, nb.create<linalg::IndexOp>(l, 0));
               Value second = nb.create<arith::SIToFPOp>(
                   l, nb.getF64Type(),
                   nb.create<arith::IndexCastOp>(
                       l, nb.getI64Type(), nb.create<linalg::IndexOp>(l, 1)));
               Value position = nb.create<arith::AddFOp>(
                   l, nb.create<math::FloorOp>(l, c), second);
               position = nb.create<arith::MinimumFOp>(
                   l, nb.create<arith::MaximumFOp>(l, position, f64(0.0)),
                   nb.create<arith::SubFOp>(l, in, f64(1.0)));
               nb.create<linalg::YieldOp>(
                   l, nb.create<arith::FPToSIOp>(l, nb.getI32Type(), position)
                          .getResult());
             })
            .getResult(0);
    Value sources = b.create<tensor::CollapseShapeOp>(
        loc, RankedTensorType::get({ShapedType::kDynamic}, b.getI32Type()),
        pairs, SmallVector<ReassociationIndices>{{0, 1}});
    return {sources, weights};
  }
};

/// A table Resize over a symbolic height or width: sizes read at run time
/// (or constant scales), the tables computed at run time.
struct ResizeToRunTimeTables : OpRewritePattern<onnx::ResizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::ResizeOp op,
                                PatternRewriter &rewriter) const override {
    auto inType = cast<RankedTensorType>(op.getX().getType());
    auto outType = cast<RankedTensorType>(op.getY().getType());
    if (!isTableResize(op) ||
        (isStaticButBatch(inType) && isStaticButBatch(outType)))
      return failure();
    StringRef mode = op.getCoordinateTransformationMode();
    if (mode != "half_pixel" && mode != "pytorch_half_pixel" &&
        mode != "align_corners" && mode != "asymmetric")
      return failure();
    Location loc = op.getLoc();
    DenseElementsAttr scales;
    if (op.getScales()) {
      scales = onnx::getConstantElements(op.getScales());
      if (!scales || scales.getNumElements() != 4)
        return failure();
      auto values = llvm::to_vector(scales.getValues<APFloat>());
      if (!values[0].isExactlyValue(1.0) || !values[1].isExactlyValue(1.0))
        return failure();
    } else if (!op.getSizes()) {
      return failure();
    }

    auto asF64 = [&](Value index) -> Value {
      return rewriter.create<arith::SIToFPOp>(
          loc, rewriter.getF64Type(),
          rewriter.create<arith::IndexCastOp>(loc, rewriter.getI64Type(),
                                              index));
    };
    SmallVector<std::pair<Value, Value>> tables;
    SmallVector<Value> outSizes;
    for (int64_t axis = 2; axis < 4; ++axis) {
      Value inLength = rewriter.create<tensor::DimOp>(loc, op.getX(), axis);
      Value in = asF64(inLength);
      Value outLength, scale;
      if (scales) {
        scale = rewriter.create<arith::ConstantOp>(
            loc, rewriter.getF64FloatAttr(
                     scales.getValues<APFloat>()[axis].convertToDouble()));
        Value scaled = rewriter.create<math::FloorOp>(
            loc, rewriter.create<arith::MulFOp>(loc, in, scale));
        outLength = rewriter.create<arith::IndexCastOp>(
            loc, rewriter.getIndexType(),
            rewriter.create<arith::FPToSIOp>(loc, rewriter.getI64Type(),
                                             scaled));
      } else {
        Value at = rewriter.create<arith::ConstantIndexOp>(loc, axis);
        Value size = rewriter.create<tensor::ExtractOp>(loc, op.getSizes(), at);
        // A negative size (invalid) makes an empty axis, not a huge one.
        size = rewriter.create<arith::MaxSIOp>(
            loc, size,
            rewriter.create<arith::ConstantIntOp>(loc, 0, size.getType()));
        outLength = rewriter.create<arith::IndexCastOp>(
            loc, rewriter.getIndexType(), size);
      }
      if (!outType.isDynamicDim(axis))
        outLength =
            rewriter.create<arith::ConstantIndexOp>(loc, outType.getDimSize(axis));
      Value out = asF64(outLength);
      if (!scale)
        scale = rewriter.create<arith::DivFOp>(loc, out, in);
      RunTimeAxis table{rewriter, loc, mode, in, out, scale, outLength};
      tables.push_back(table.tables());
      if (outType.isDynamicDim(axis))
        outSizes.push_back(outLength);
    }
    Value init = emptyLike(rewriter, loc, outType, op.getX(), outSizes);
    rewriter.replaceOpWithNewOp<ResizeLinearOp>(
        op, TypeRange{outType}, op.getX(), tables[0].first, tables[0].second,
        tables[1].first, tables[1].second, init);
    return success();
  }
};

struct GraphLinearResizePass
    : kiln::impl::GraphLinearResizePassBase<GraphLinearResizePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ResizeToTables, ResizeToRunTimeTables>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
