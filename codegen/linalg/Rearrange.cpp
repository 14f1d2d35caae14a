//===- Rearrange.cpp - CumSum, DepthToSpace and SpaceToDepth to linalg ----===//
//
// Each is one linalg.generic whose body computes where to read.
// DepthToSpace and SpaceToDepth move blocks between the channel and the
// spatial axes (DCR or CRD order). CumSum adds, for every output position,
// the input elements before it along the axis (after it with reverse,
// strictly with exclusive) through an extra reduction dimension that runs
// along the axis; the axis may be a run-time input, so the reduction runs
// over the longest dimension and skips what lies beyond the chosen one.
// That is quadratic in the axis length: fine for the shapes CumSum sees in
// models, a scan kernel can come later.
//
//===----------------------------------------------------------------------===//

#include "codegen/linalg/LinalgBuilders.h"
#include "codegen/linalg/OnnxToLinalg.h"
#include "codegen/linalg/Passes.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

Value indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return b.create<arith::ConstantIndexOp>(loc, value);
}

/// DepthToSpace (toSpace) and SpaceToDepth over NCHW.
Value moveBlocks(OpBuilder &b, Location loc, Value input,
                 RankedTensorType resultType, int64_t blocksize, bool toSpace,
                 bool crd) {
  auto inputType = cast<RankedTensorType>(input.getType());
  // The channel count on the depth side, divided into blocks.
  int64_t depthChannels =
      (toSpace ? inputType : resultType).getDimSize(1) / (blocksize * blocksize);
  return generateTensor(
      b, loc, resultType, {}, [&](OpBuilder &nb, Location l) -> Value {
        Value bs = indexConstant(nb, l, blocksize);
        Value channels = indexConstant(nb, l, depthChannels);
        Value n = nb.create<linalg::IndexOp>(l, 0);
        Value c = nb.create<linalg::IndexOp>(l, 1);
        Value y = nb.create<linalg::IndexOp>(l, 2);
        Value x = nb.create<linalg::IndexOp>(l, 3);
        auto add = [&](Value p, Value q) -> Value {
          return nb.create<arith::AddIOp>(l, p, q);
        };
        auto mul = [&](Value p, Value q) -> Value {
          return nb.create<arith::MulIOp>(l, p, q);
        };
        auto div = [&](Value p, Value q) -> Value {
          return nb.create<arith::DivUIOp>(l, p, q);
        };
        auto rem = [&](Value p, Value q) -> Value {
          return nb.create<arith::RemUIOp>(l, p, q);
        };
        // depth channel <-> (block row, block column, channel)
        auto depthChannel = [&](Value channel, Value row, Value column) {
          Value block = add(mul(row, bs), column);
          return crd ? add(mul(channel, mul(bs, bs)), block)
                     : add(mul(block, channels), channel);
        };
        SmallVector<Value> at;
        if (toSpace) {
          at = {n, depthChannel(c, rem(y, bs), rem(x, bs)), div(y, bs),
                div(x, bs)};
        } else {
          // DCR: c = block * C + channel; CRD: c = channel * bs^2 + block.
          Value blocks = mul(bs, bs);
          Value block = crd ? rem(c, blocks) : div(c, channels);
          Value channel = crd ? div(c, blocks) : rem(c, channels);
          at = {n, channel, add(mul(y, bs), div(block, bs)),
                add(mul(x, bs), rem(block, bs))};
        }
        return nb.create<tensor::ExtractOp>(l, input, at);
      });
}

template <typename OpTy>
struct LowerBlockMove : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if (checkRearrangeLowering(op))
      return failure();
    constexpr bool toSpace = std::is_same_v<OpTy, onnx::DepthToSpaceOp>;
    bool crd = op.getMode() == "CRD";
    rewriter.replaceOp(
        op, moveBlocks(rewriter, op.getLoc(), op.getInput(),
                       cast<RankedTensorType>(op.getType()),
                       (int64_t)op.getBlocksize(), toSpace, crd));
    return success();
  }
};

struct LowerCumSum : OpRewritePattern<onnx::CumSumOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::CumSumOp op,
                                PatternRewriter &rewriter) const override {
    if (checkRearrangeLowering(op))
      return failure();
    Location loc = op.getLoc();
    MLIRContext *context = getContext();
    Value input = op.getX();
    auto type = cast<RankedTensorType>(input.getType());
    Type element = type.getElementType();
    int64_t rank = type.getRank();
    int64_t longest = *llvm::max_element(type.getShape());

    // The axis, normalized, read once.
    auto axisType = cast<RankedTensorType>(op.getAxis().getType());
    SmallVector<Value> zeros(axisType.getRank(), indexConstant(rewriter, loc, 0));
    Value axis = rewriter.create<tensor::ExtractOp>(loc, op.getAxis(), zeros);
    axis = rewriter.create<arith::IndexCastOp>(loc, rewriter.getIndexType(),
                                               axis);
    Value negative = rewriter.create<arith::CmpIOp>(
        loc, arith::CmpIPredicate::slt, axis, indexConstant(rewriter, loc, 0));
    axis = rewriter.create<arith::SelectOp>(
        loc, negative,
        rewriter.create<arith::AddIOp>(loc, axis,
                                       indexConstant(rewriter, loc, rank)),
        axis);

    Value zero = rewriter.create<arith::ConstantOp>(loc,
                                                    rewriter.getZeroAttr(element));
    Value init = rewriter
                     .create<linalg::FillOp>(
                         loc, zero,
                         rewriter.create<tensor::EmptyOp>(loc, type.getShape(),
                                                          element)
                             .getResult())
                     .getResult(0);
    // Iteration space: the output's dimensions, then j along the axis.
    Value lengths = rewriter.create<tensor::EmptyOp>(
        loc, ArrayRef<int64_t>{longest}, element);
    SmallVector<AffineExpr> outputExprs;
    for (int64_t i = 0; i < rank; ++i)
      outputExprs.push_back(getAffineDimExpr(i, context));
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    iterators.push_back(utils::IteratorType::reduction);
    bool exclusive = op.getExclusive() != 0, reverse = op.getReverse() != 0;
    bool isFloat = isa<FloatType>(element);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type, lengths, init,
        ArrayRef{AffineMap::get(rank + 1, 0, getAffineDimExpr(rank, context)),
                 AffineMap::get(rank + 1, 0, outputExprs, context)},
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value j = b.create<linalg::IndexOp>(l, rank);
          SmallVector<Value> at;
          Value position, extent;
          for (int64_t d = 0; d < rank; ++d) {
            Value isAxis =
                b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, axis,
                                        indexConstant(b, l, d));
            Value index = b.create<linalg::IndexOp>(l, d);
            Value size = indexConstant(b, l, type.getDimSize(d));
            // Beyond the axis's length j reads a clamped (unused) element.
            Value clamped = b.create<arith::MinUIOp>(
                l, j, b.create<arith::SubIOp>(l, size, indexConstant(b, l, 1)));
            at.push_back(b.create<arith::SelectOp>(l, isAxis, clamped, index));
            position = position ? b.create<arith::SelectOp>(l, isAxis, index,
                                                            position)
                                      .getResult()
                                : index;
            extent = extent ? b.create<arith::SelectOp>(l, isAxis, size, extent)
                                  .getResult()
                            : size;
          }
          arith::CmpIPredicate predicate =
              reverse ? (exclusive ? arith::CmpIPredicate::ugt
                                   : arith::CmpIPredicate::uge)
                      : (exclusive ? arith::CmpIPredicate::ult
                                   : arith::CmpIPredicate::ule);
          Value counted = b.create<arith::AndIOp>(
              l, b.create<arith::CmpIOp>(l, predicate, j, position),
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::ult, j, extent));
          Value x = b.create<tensor::ExtractOp>(l, input, at);
          Value sum = isFloat
                          ? b.create<arith::AddFOp>(l, args[1], x).getResult()
                          : b.create<arith::AddIOp>(l, args[1], x).getResult();
          b.create<linalg::YieldOp>(
              l, b.create<arith::SelectOp>(l, counted, sum, args[1])
                     .getResult());
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

} // namespace

std::optional<std::string> mlir::kiln::checkRearrangeLowering(Operation *op) {
  if (!isa<onnx::CumSumOp, onnx::DepthToSpaceOp, onnx::SpaceToDepthOp>(op))
    return std::string();
  auto type = dyn_cast<RankedTensorType>(op->getOperand(0).getType());
  auto resultType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!type || !resultType || !type.hasStaticShape() ||
      !resultType.hasStaticShape())
    return std::string("its shapes must be static for now");
  if (!type.getElementType().isSignlessIntOrFloat())
    return std::string("its element type is not lowered yet");
  if (auto cumsum = dyn_cast<onnx::CumSumOp>(op)) {
    auto axisType = dyn_cast<RankedTensorType>(cumsum.getAxis().getType());
    if (!axisType || axisType.getNumElements() != 1)
      return std::string("its axis must be one integer");
    if (type.getRank() == 0 || type.getNumElements() == 0)
      return std::string("its input must have a rank and elements");
    return std::nullopt;
  }
  int64_t blocksize = op->getAttrOfType<IntegerAttr>("blocksize").getInt();
  if (type.getRank() != 4 || resultType.getRank() != 4 || blocksize < 1)
    return std::string("it is lowered for 4-D (NCHW) tensors");
  bool toSpace = isa<onnx::DepthToSpaceOp>(op);
  RankedTensorType depth = toSpace ? type : resultType;
  RankedTensorType space = toSpace ? resultType : type;
  if (depth.getDimSize(1) % (blocksize * blocksize) != 0 ||
      depth.getDimSize(2) * blocksize != space.getDimSize(2) ||
      depth.getDimSize(3) * blocksize != space.getDimSize(3))
    return std::string("its shapes do not match its blocksize");
  return std::nullopt;
}

void mlir::kiln::populateRearrangeLowering(RewritePatternSet &patterns) {
  patterns.add<LowerCumSum, LowerBlockMove<onnx::DepthToSpaceOp>,
               LowerBlockMove<onnx::SpaceToDepthOp>>(patterns.getContext());
}
