//===- Replicate.cpp - Expand and Tile to linalg --------------------------===//
//
// Expand broadcasts its input to the result shape (symbolic sizes read
// from the input or the shape operand): one linalg.generic reading the
// input through the ONNX broadcast map. Tile
// reads input[i mod extent] along every axis.
//
//===----------------------------------------------------------------------===//

#include "codegen/linalg/LinalgBuilders.h"
#include "codegen/linalg/OnnxToLinalg.h"
#include "codegen/linalg/Passes.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

struct LowerExpand : OpRewritePattern<onnx::ExpandOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ExpandOp op,
                                PatternRewriter &rewriter) const override {
    if (checkReplicateLowering(op))
      return failure();
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    // A symbolic size is the input's, where the input has that axis and it
    // is not a static 1 (a symbolic input axis is taken not to broadcast),
    // else the shape operand's.
    SmallVector<Value> sizes;
    int64_t offset = type.getRank() - inputType.getRank();
    for (int64_t axis = 0; axis < type.getRank(); ++axis) {
      if (!type.isDynamicDim(axis))
        continue;
      int64_t inputAxis = axis - offset;
      if (inputAxis >= 0 && inputType.getDimSize(inputAxis) != 1) {
        sizes.push_back(
            rewriter.create<tensor::DimOp>(loc, op.getInput(), inputAxis));
        continue;
      }
      int64_t shapeLength =
          cast<RankedTensorType>(op.getShape().getType()).getDimSize(0);
      Value at = rewriter.create<arith::ConstantIndexOp>(
          loc, axis - (type.getRank() - shapeLength));
      sizes.push_back(rewriter.create<arith::IndexCastOp>(
          loc, rewriter.getIndexType(),
          rewriter.create<tensor::ExtractOp>(loc, op.getShape(),
                                             ValueRange{at})));
    }
    Value empty = rewriter.create<tensor::EmptyOp>(
        loc, type.getShape(), type.getElementType(), sizes);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type, op.getInput(), empty,
        ArrayRef{broadcastMap(inputType.getShape(), type.getShape(),
                              getContext()),
                 rewriter.getMultiDimIdentityMap(type.getRank())},
        SmallVector<utils::IteratorType>(type.getRank(),
                                         utils::IteratorType::parallel),
        [](OpBuilder &b, Location l, ValueRange args) {
          b.create<linalg::YieldOp>(l, args[0]);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

struct LowerTile : OpRewritePattern<onnx::TileOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::TileOp op,
                                PatternRewriter &rewriter) const override {
    if (checkReplicateLowering(op))
      return failure();
    Location loc = op.getLoc();
    Value input = op.getInput();
    auto type = cast<RankedTensorType>(op.getType());
    auto inputType = cast<RankedTensorType>(input.getType());
    int64_t rank = type.getRank();
    Value generic = generateTensor(
        rewriter, loc, type, {},
        [&](OpBuilder &b, Location l) -> Value {
          SmallVector<Value> at;
          for (int64_t i = 0; i < rank; ++i)
            at.push_back(b.create<arith::RemUIOp>(
                l, b.create<linalg::IndexOp>(l, i),
                b.create<arith::ConstantIndexOp>(l, inputType.getDimSize(i))));
          return b.create<tensor::ExtractOp>(l, input, at).getResult();
        });
    rewriter.replaceOp(op, generic);
    return success();
  }
};

} // namespace

std::optional<std::string> mlir::kiln::checkReplicateLowering(Operation *op) {
  if (!isa<onnx::ExpandOp, onnx::TileOp>(op))
    return std::string();
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  auto inputType = dyn_cast<RankedTensorType>(op->getOperand(0).getType());
  if (!type || !inputType)
    return std::string("the ranks of its input and result must be known");
  if (type.getElementType() != inputType.getElementType())
    return std::string("its input and result differ in element type");
  if (isa<onnx::ExpandOp>(op)) {
    if (inputType.getRank() > type.getRank())
      return std::string("its result rank is below its input's");
    auto shapeType = dyn_cast<RankedTensorType>(op->getOperand(1).getType());
    if (!shapeType || shapeType.getRank() != 1 ||
        shapeType.isDynamicDim(0) || shapeType.getDimSize(0) > type.getRank())
      return std::string("its shape operand must be 1-D of a known length");
    int64_t offset = type.getRank() - inputType.getRank();
    for (int64_t i = 0; i < inputType.getRank(); ++i) {
      int64_t in = inputType.getDimSize(i), out = type.getDimSize(i + offset);
      if (in != 1 && !ShapedType::isDynamic(in) &&
          !ShapedType::isDynamic(out) && in != out)
        return std::string("its input does not broadcast to its result");
    }
    return std::nullopt;
  }
  if (!type.hasStaticShape() || !inputType.hasStaticShape())
    return std::string("its input and result shapes must be static for now");
  if (inputType.getRank() != type.getRank())
    return std::string("its input and result ranks differ");
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (inputType.getDimSize(i) == 0 ||
        type.getDimSize(i) % inputType.getDimSize(i) != 0)
      return std::string("its result is not a whole tiling of its input");
  return std::nullopt;
}

void mlir::kiln::populateReplicateLowering(RewritePatternSet &patterns) {
  patterns.add<LowerExpand, LowerTile>(patterns.getContext());
}
