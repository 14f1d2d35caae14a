//===- ConvTranspose.cpp - ConvTranspose to linalg ------------------------===//
//
// Written as a gather over the output, one linalg.generic: output position
// o along a spatial axis receives input position i through kernel offset k
// when i * stride - pad_begin + k * dilation = o, so for every (input
// channel of the group, kernel offset) the body checks that
// (o + pad_begin - k * dilation) divides by the stride and lands inside the
// input, and accumulates x * W there. The bias (if any) initializes the
// output.
//
//===----------------------------------------------------------------------===//

#include "codegen/linalg/LinalgBuilders.h"
#include "codegen/linalg/OnnxToLinalg.h"
#include "codegen/linalg/Passes.h"

#include "dialects/onnx/OnnxConstants.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// Strides, dilations and the padding before each spatial axis.
struct TransposedGeometry {
  SmallVector<int64_t> strides, dilations, padBegin;
};

std::optional<TransposedGeometry> geometryOf(onnx::ConvTransposeOp op) {
  auto x = cast<RankedTensorType>(op.getX().getType());
  auto w = cast<RankedTensorType>(op.getW().getType());
  auto y = cast<RankedTensorType>(op.getY().getType());
  size_t spatial = x.getRank() - 2;
  TransposedGeometry g;
  g.strides = onnx::intsOr(op.getStrides(), spatial, 1);
  g.dilations = onnx::intsOr(op.getDilations(), spatial, 1);
  SmallVector<int64_t> pads = onnx::intsOr(op.getPads(), 2 * spatial, 0);
  SmallVector<int64_t> outputPadding =
      onnx::intsOr(op.getOutputPadding(), spatial, 0);
  StringRef autoPad = op.getAutoPad();
  for (size_t i = 0; i < spatial; ++i) {
    int64_t in = x.getDimSize(i + 2), kernel = w.getDimSize(i + 2);
    int64_t out = y.getDimSize(i + 2);
    int64_t full = g.strides[i] * (in - 1) + outputPadding[i] +
                   (kernel - 1) * g.dilations[i] + 1;
    int64_t begin = pads[i];
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      int64_t total = full - out;
      begin = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
    } else if (autoPad == "VALID") {
      begin = 0;
    } else if (!op.getPads() && op.getOutputShape()) {
      begin = 0; // output_shape alone: the output is the full result's start
    } else if (full - pads[i] - pads[i + spatial] != out) {
      return std::nullopt;
    }
    g.padBegin.push_back(begin);
  }
  return g;
}

struct LowerConvTranspose : OpRewritePattern<onnx::ConvTransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ConvTransposeOp op,
                                PatternRewriter &rewriter) const override {
    if (checkConvTransposeLowering(op))
      return failure();
    Location loc = op.getLoc();
    MLIRContext *context = getContext();
    TransposedGeometry g = *geometryOf(op);
    Value x = op.getX(), w = op.getW();
    auto xType = cast<RankedTensorType>(x.getType());
    auto wType = cast<RankedTensorType>(w.getType());
    auto type = cast<RankedTensorType>(op.getY().getType());
    Type element = type.getElementType();
    int64_t rank = type.getRank(), spatial = rank - 2;
    int64_t groups = (int64_t)op.getGroup();
    int64_t inPerGroup = xType.getDimSize(1) / groups;
    int64_t outPerGroup = wType.getDimSize(1);

    // The output starts as the bias broadcast along the channels, or 0.
    Value init;
    if (Value bias = op.getB()) {
      Value empty = rewriter.create<tensor::EmptyOp>(loc, type.getShape(), element);
      init = rewriter
                 .create<linalg::GenericOp>(
                     loc, type, bias, empty,
                     ArrayRef{AffineMap::get(rank, 0, getAffineDimExpr(1, context)),
                              rewriter.getMultiDimIdentityMap(rank)},
                     SmallVector<utils::IteratorType>(
                         rank, utils::IteratorType::parallel),
                     [](OpBuilder &b, Location l, ValueRange args) {
                       b.create<linalg::YieldOp>(l, args[0]);
                     })
                 .getResult(0);
    } else {
      init = filledTensor(rewriter, loc, type.getShape(),
                          rewriter.getFloatAttr(element, 0.0));
    }

    // Loops: n, oc, o_1..o_s (parallel); ic, k_1..k_s (reduction). The
    // reduction extents come from a placeholder operand of that shape.
    SmallVector<int64_t> reductionShape = {inPerGroup};
    for (int64_t i = 0; i < spatial; ++i)
      reductionShape.push_back(wType.getDimSize(i + 2));
    Value extents =
        rewriter.create<tensor::EmptyOp>(loc, reductionShape, element);
    SmallVector<AffineExpr> reductionExprs, outputExprs;
    for (int64_t i = 0; i <= spatial; ++i)
      reductionExprs.push_back(getAffineDimExpr(rank + i, context));
    for (int64_t i = 0; i < rank; ++i)
      outputExprs.push_back(getAffineDimExpr(i, context));
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    iterators.append(spatial + 1, utils::IteratorType::reduction);
    int64_t loops = rank + spatial + 1;
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type, extents, init,
        ArrayRef{AffineMap::get(loops, 0, reductionExprs, context),
                 AffineMap::get(loops, 0, outputExprs, context)},
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          auto constant = [&](int64_t v) -> Value {
            return b.create<arith::ConstantIndexOp>(l, v);
          };
          auto index = [&](int64_t d) -> Value {
            return b.create<linalg::IndexOp>(l, d);
          };
          Value oc = index(1);
          Value group = b.create<arith::DivUIOp>(l, oc, constant(outPerGroup));
          Value ocInGroup =
              b.create<arith::RemUIOp>(l, oc, constant(outPerGroup));
          Value ic = b.create<arith::AddIOp>(
              l, b.create<arith::MulIOp>(l, group, constant(inPerGroup)),
              index(rank));
          SmallVector<Value> xAt = {index(0), ic}, wAt = {ic, ocInGroup};
          Value valid = b.create<arith::ConstantIntOp>(l, 1, 1);
          for (int64_t i = 0; i < spatial; ++i) {
            Value k = index(rank + 1 + i);
            // numerator = o + pad - k * dilation, in signed arithmetic.
            Value numerator = b.create<arith::SubIOp>(
                l, b.create<arith::AddIOp>(l, index(2 + i),
                                           constant(g.padBegin[i])),
                b.create<arith::MulIOp>(l, k, constant(g.dilations[i])));
            Value stride = constant(g.strides[i]);
            Value position = b.create<arith::DivSIOp>(l, numerator, stride);
            Value exact = b.create<arith::CmpIOp>(
                l, arith::CmpIPredicate::eq,
                b.create<arith::RemSIOp>(l, numerator, stride), constant(0));
            Value inside = b.create<arith::AndIOp>(
                l,
                b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, numerator,
                                        constant(0)),
                b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, position,
                                        constant(xType.getDimSize(2 + i))));
            valid = b.create<arith::AndIOp>(
                l, valid, b.create<arith::AndIOp>(l, exact, inside));
            // Read in bounds even where the tap does not count.
            xAt.push_back(
                b.create<arith::SelectOp>(l, inside, position, constant(0)));
            wAt.push_back(k);
          }
          Value product = b.create<arith::MulFOp>(
              l, b.create<tensor::ExtractOp>(l, x, xAt),
              b.create<tensor::ExtractOp>(l, w, wAt));
          Value sum = b.create<arith::AddFOp>(l, args[1], product);
          b.create<linalg::YieldOp>(
              l, b.create<arith::SelectOp>(l, valid, sum, args[1]).getResult());
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

} // namespace

std::optional<std::string>
mlir::kiln::checkConvTransposeLowering(Operation *op) {
  auto conv = dyn_cast<onnx::ConvTransposeOp>(op);
  if (!conv)
    return std::string();
  auto x = dyn_cast<RankedTensorType>(conv.getX().getType());
  auto w = dyn_cast<RankedTensorType>(conv.getW().getType());
  auto y = dyn_cast<RankedTensorType>(conv.getY().getType());
  if (!x || !w || !y || !x.hasStaticShape() || !w.hasStaticShape() ||
      !y.hasStaticShape())
    return std::string("its shapes must be static for now");
  if (!isa<FloatType>(x.getElementType()))
    return std::string("it is lowered for floating-point types only");
  if (x.getRank() < 3 || w.getRank() != x.getRank() || y.getRank() != x.getRank())
    return std::string("its input, weight and output need the same rank >= 3");
  int64_t groups = (int64_t)conv.getGroup();
  if (groups < 1 || x.getDimSize(1) % groups != 0 ||
      w.getDimSize(0) != x.getDimSize(1) ||
      y.getDimSize(1) != w.getDimSize(1) * groups)
    return std::string("its channels do not match its weight and group");
  if (!geometryOf(conv))
    return std::string("its output shape does not follow from its pads");
  return std::nullopt;
}

void mlir::kiln::populateConvTransposeLowering(RewritePatternSet &patterns) {
  patterns.add<LowerConvTranspose>(patterns.getContext());
}
