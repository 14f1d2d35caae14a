//===- LinearResize.cpp - kiln-graph-linear-resize ------------------------===//
//
// Segmentation models end by upsampling their logits bilinearly to the
// input's size: the largest tensor of the model. Every output row and
// column has the same two sources and weights for every channel, so they
// are computed once, here, instead of per element at run time.
//
//===----------------------------------------------------------------------===//

#include "passes/graph/Passes.h"

#include "dialects/onnx/OnnxConstants.h"

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

struct ResizeToTables : OpRewritePattern<onnx::ResizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::ResizeOp op,
                                PatternRewriter &rewriter) const override {
    auto inType = dyn_cast<RankedTensorType>(op.getX().getType());
    auto outType = dyn_cast<RankedTensorType>(op.getY().getType());
    if (!inType || !outType || !inType.hasStaticShape() ||
        !outType.hasStaticShape() || inType.getRank() != 4 ||
        !inType.getElementType().isF32() || op.getMode() != "linear" ||
        op.getAntialias() != 0 || op.getAxes() ||
        op.getKeepAspectRatioPolicy() != "stretch" ||
        inType.getShape().take_front(2) != outType.getShape().take_front(2))
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
    } else if (op.getSizes() && onnx::getConstantInts(op.getSizes())) {
      for (int axis = 0; axis < 4; ++axis)
        scales.push_back(double(out[axis]) / double(in[axis]));
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
    Value init = rewriter.create<tensor::EmptyOp>(loc, out,
                                                  rewriter.getF32Type());
    rewriter.replaceOpWithNewOp<ResizeLinearOp>(
        op, TypeRange{outType}, op.getX(), table(rows->sources),
        weights(rows->weights), table(columns->sources),
        weights(columns->weights), init);
    return success();
  }
};

struct GraphLinearResizePass
    : kiln::impl::GraphLinearResizePassBase<GraphLinearResizePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ResizeToTables>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
