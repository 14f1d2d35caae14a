//===- Replicate.cpp - Expand and Tile to linalg --------------------------===//
//
// Expand broadcasts its input to the (static) result shape: one
// linalg.generic reading the input through the ONNX broadcast map. Tile
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
    Value empty = rewriter.create<tensor::EmptyOp>(loc, type.getShape(),
                                                   type.getElementType());
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
  if (!type || !inputType || !type.hasStaticShape() ||
      !inputType.hasStaticShape())
    return std::string("its input and result shapes must be static for now");
  if (type.getElementType() != inputType.getElementType())
    return std::string("its input and result differ in element type");
  if (isa<onnx::ExpandOp>(op)) {
    if (inputType.getRank() > type.getRank())
      return std::string("its result rank is below its input's");
    int64_t offset = type.getRank() - inputType.getRank();
    for (int64_t i = 0; i < inputType.getRank(); ++i)
      if (inputType.getDimSize(i) != 1 &&
          inputType.getDimSize(i) != type.getDimSize(i + offset))
        return std::string("its input does not broadcast to its result");
    return std::nullopt;
  }
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
