//===- Dequantize.cpp - kiln.dequantize to linalg -------------------------===//
//
// The generic form of dequantization, for what no packed kernel takes: one
// elementwise linalg.generic whose maps read each element's scale and zero
// point (per tensor, per axis or per group). Constants of unsigned and
// signed integers become signless ones, which arith computes on, widened
// with zero or sign extension as their type says.
//
//===----------------------------------------------------------------------===//

#include "codegen/linalg/LinalgBuilders.h"
#include "codegen/linalg/OnnxToLinalg.h"
#include "codegen/linalg/Passes.h"
#include "dialects/kiln/KilnOps.h"
#include "dialects/onnx/OnnxConstants.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// An integer constant's elements as signless integers of the same width.
Value signlessConstant(OpBuilder &b, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  auto integer = cast<IntegerType>(type.getElementType());
  DenseElementsAttr elements =
      onnx::getConstantElements(value, type.getNumElements());
  Type signless = b.getIntegerType(integer.getWidth());
  return b.create<arith::ConstantOp>(loc, elements.bitcast(signless));
}

/// Whether `value` can be read as signless integers: a signless (ONNX's
/// signed) tensor, or a constant of any signedness.
bool readableAsSignless(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  return type.getElementType().isSignlessInteger() ||
         onnx::getConstantElements(value, type.getNumElements());
}

Value asSignless(OpBuilder &b, Location loc, Value value) {
  if (cast<RankedTensorType>(value.getType())
          .getElementType()
          .isSignlessInteger())
    return value;
  return signlessConstant(b, loc, value);
}

struct LowerDequantize : OpRewritePattern<DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &rewriter) const override {
    if (checkDequantizeLowering(op))
      return failure();
    Location loc = op.getLoc();
    MLIRContext *context = getContext();
    auto resultType = cast<RankedTensorType>(op.getType());
    auto scaleType = cast<RankedTensorType>(op.getScale().getType());
    int64_t rank = resultType.getRank(), axis = op.getAxis();
    int64_t group = op.getGroupSize();

    // The scale's (and zero point's) map: () per tensor, (d_axis) per
    // axis, every dimension with d_axis / group in groups.
    SmallVector<AffineExpr> scaleExprs;
    if (scaleType.getRank() == 1)
      scaleExprs.push_back(getAffineDimExpr(axis, context));
    else if (scaleType.getRank() > 0)
      for (int64_t d = 0; d < rank; ++d)
        scaleExprs.push_back(d == axis
                                 ? getAffineDimExpr(d, context).floorDiv(group)
                                 : getAffineDimExpr(d, context));
    AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
    AffineMap scaleMap = AffineMap::get(rank, 0, scaleExprs, context);

    bool isUnsigned = op.isUnsignedInput();
    SmallVector<Value> inputs = {asSignless(rewriter, loc, op.getInput()),
                                 op.getScale()};
    SmallVector<AffineMap> maps = {identity, scaleMap};
    if (op.getZeroPoint()) {
      inputs.push_back(asSignless(rewriter, loc, op.getZeroPoint()));
      maps.push_back(scaleMap);
    }
    maps.push_back(identity);
    Value init = rewriter.create<tensor::EmptyOp>(
        loc, resultType.getShape(), resultType.getElementType(),
        dynamicSizesOf(rewriter, loc, op.getInput()));
    Type i32 = rewriter.getI32Type(), f32 = rewriter.getF32Type();
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, resultType, inputs, init, maps,
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location bodyLoc, ValueRange args) {
          auto widen = [&](Value v) -> Value {
            if (isUnsigned)
              return b.create<arith::ExtUIOp>(bodyLoc, i32, v);
            return b.create<arith::ExtSIOp>(bodyLoc, i32, v);
          };
          Value q = widen(args[0]);
          if (args.size() == 4)
            q = b.create<arith::SubIOp>(bodyLoc, q, widen(args[2]));
          Value scale = args[1];
          if (!scale.getType().isF32())
            scale = b.create<arith::ExtFOp>(bodyLoc, f32, scale);
          Value value = b.create<arith::SIToFPOp>(bodyLoc, f32, q);
          b.create<linalg::YieldOp>(bodyLoc, ValueRange{b.create<arith::MulFOp>(
                                                 bodyLoc, value, scale)});
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

} // namespace

std::optional<std::string> mlir::kiln::checkDequantizeLowering(Operation *op) {
  auto dequantize = dyn_cast<DequantizeOp>(op);
  if (!dequantize)
    return std::string();
  if (!readableAsSignless(dequantize.getInput()) ||
      (dequantize.getZeroPoint() &&
       !readableAsSignless(dequantize.getZeroPoint())))
    return std::string("dequantizing computed signed or unsigned integers "
                       "is not lowered yet (only constants, and signless "
                       "integers)");
  return std::nullopt;
}

void mlir::kiln::populateDequantizeLowering(RewritePatternSet &patterns) {
  patterns.add<LowerDequantize>(patterns.getContext());
}
