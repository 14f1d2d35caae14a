//===- Scatter.cpp - ScatterElements and ScatterND to scf loops -----------===//
//
// A scatter writes to positions only known at run time, which no
// linalg.generic can express: the output starts as a copy of the data, then
// a nest of scf.for over the updates carries it as a loop value, each step
// reading the target position from the indices (negative ones counting
// from the end) and inserting the update, combined with the value there
// for reduction add, mul, max or min. Bufferization makes the inserts in
// place. Indices are clamped into the data, so a bad index cannot write
// outside it.
//
//===----------------------------------------------------------------------===//

#include "codegen/linalg/LinalgBuilders.h"
#include "codegen/linalg/OnnxToLinalg.h"
#include "codegen/linalg/Passes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The update combined with the current value, per `reduction`.
Value combine(OpBuilder &b, Location loc, StringRef reduction, Value current,
              Value update) {
  bool isFloat = isa<FloatType>(update.getType());
  if (reduction == "add")
    return isFloat ? b.create<arith::AddFOp>(loc, current, update).getResult()
                   : b.create<arith::AddIOp>(loc, current, update).getResult();
  if (reduction == "mul")
    return isFloat ? b.create<arith::MulFOp>(loc, current, update).getResult()
                   : b.create<arith::MulIOp>(loc, current, update).getResult();
  if (reduction == "max")
    return isFloat
               ? b.create<arith::MaximumFOp>(loc, current, update).getResult()
               : b.create<arith::MaxSIOp>(loc, current, update).getResult();
  if (reduction == "min")
    return isFloat
               ? b.create<arith::MinimumFOp>(loc, current, update).getResult()
               : b.create<arith::MinSIOp>(loc, current, update).getResult();
  return update; // "none"
}

/// `output` with updates[position] combined into output[target].
Value scatterOne(OpBuilder &b, Location loc, StringRef reduction,
                 Value updates, ValueRange position, Value output,
                 ValueRange target) {
  Value update = b.create<tensor::ExtractOp>(loc, updates, position);
  Value current = b.create<tensor::ExtractOp>(loc, output, target);
  return b.create<tensor::InsertOp>(
      loc, combine(b, loc, reduction, current, update), output, target);
}

struct LowerScatterElements : OpRewritePattern<onnx::ScatterElementsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ScatterElementsOp op,
                                PatternRewriter &rewriter) const override {
    if (checkScatterLowering(op))
      return failure();
    Location loc = op.getLoc();
    auto dataType = cast<RankedTensorType>(op.getData().getType());
    auto updatesType = cast<RankedTensorType>(op.getUpdates().getType());
    int64_t rank = dataType.getRank();
    int64_t axis = (int64_t)op.getAxis();
    if (axis < 0)
      axis += rank;
    StringRef reduction = op.getReduction();
    Value result = forEachPosition(
        rewriter, loc, updatesType.getShape(), op.getData(),
        [&](OpBuilder &b, Location l, ValueRange position, Value output) {
          Value index = b.create<tensor::ExtractOp>(l, op.getIndices(), position);
          SmallVector<Value> target(position.begin(), position.end());
          target[axis] = dimensionIndex(
              b, l, index,
              b.create<arith::ConstantIndexOp>(l, dataType.getDimSize(axis)));
          return scatterOne(b, l, reduction, op.getUpdates(), position, output,
                            target);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LowerScatterND : OpRewritePattern<onnx::ScatterNDOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ScatterNDOp op,
                                PatternRewriter &rewriter) const override {
    if (checkScatterLowering(op))
      return failure();
    Location loc = op.getLoc();
    auto dataType = cast<RankedTensorType>(op.getData().getType());
    auto indicesType = cast<RankedTensorType>(op.getIndices().getType());
    auto updatesType = cast<RankedTensorType>(op.getUpdates().getType());
    int64_t tupleLength = indicesType.getShape().back();
    int64_t outer = indicesType.getRank() - 1;
    StringRef reduction = op.getReduction();
    // updates[i..., j...] goes to data[indices[i..., :], j...].
    Value result = forEachPosition(
        rewriter, loc, updatesType.getShape(), op.getData(),
        [&](OpBuilder &b, Location l, ValueRange position, Value output) {
          SmallVector<Value> target;
          SmallVector<Value> at(position.begin(), position.begin() + outer);
          at.push_back(Value());
          for (int64_t k = 0; k < tupleLength; ++k) {
            at.back() = b.create<arith::ConstantIndexOp>(l, k);
            Value index = b.create<tensor::ExtractOp>(l, op.getIndices(), at);
            target.push_back(dimensionIndex(
                b, l, index,
                b.create<arith::ConstantIndexOp>(l, dataType.getDimSize(k))));
          }
          target.append(position.begin() + outer, position.end());
          return scatterOne(b, l, reduction, op.getUpdates(), position, output,
                            target);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

std::optional<std::string> mlir::kiln::checkScatterLowering(Operation *op) {
  if (!isa<onnx::ScatterElementsOp, onnx::ScatterNDOp>(op))
    return std::string();
  for (Value value : op->getOperands()) {
    auto type = dyn_cast<RankedTensorType>(value.getType());
    if (!type || !type.hasStaticShape())
      return std::string("its shapes must be static for now");
  }
  auto data = cast<RankedTensorType>(op->getOperand(0).getType());
  auto indices = cast<RankedTensorType>(op->getOperand(1).getType());
  auto updates = cast<RankedTensorType>(op->getOperand(2).getType());
  if (op->getResult(0).getType() != data)
    return std::string("its result type differs from its data type");
  if (!data.getElementType().isSignlessIntOrFloat() ||
      updates.getElementType() != data.getElementType())
    return std::string("its element type is not lowered yet");
  StringRef reduction = op->getAttrOfType<StringAttr>("reduction").getValue();
  if (!llvm::is_contained({"none", "add", "mul", "max", "min"}, reduction))
    return "reduction '" + reduction.str() + "' is not lowered";
  if (data.getRank() == 0 || llvm::is_contained(data.getShape(), 0))
    return std::string("its data is empty");
  if (!indices.getElementType().isSignlessInteger())
    return std::string("its indices must be integers");
  if (auto elements = dyn_cast<onnx::ScatterElementsOp>(op)) {
    if (indices.getShape() != updates.getShape() ||
        indices.getRank() != data.getRank())
      return std::string("its indices and updates must match in shape");
    int64_t axis = (int64_t)elements.getAxis();
    if (axis < -data.getRank() || axis >= data.getRank())
      return std::string("its axis is out of range");
    for (int64_t d = 0; d < data.getRank(); ++d)
      if (d != (axis < 0 ? axis + data.getRank() : axis) &&
          updates.getDimSize(d) > data.getDimSize(d))
        return std::string("its updates do not fit its data");
    return std::nullopt;
  }
  int64_t tuple = indices.getRank() ? indices.getShape().back() : 0;
  if (indices.getRank() < 1 || tuple < 1 || tuple > data.getRank() ||
      updates.getRank() != indices.getRank() - 1 + data.getRank() - tuple ||
      updates.getShape().drop_front(indices.getRank() - 1) !=
          data.getShape().drop_front(tuple) ||
      updates.getShape().take_front(indices.getRank() - 1) !=
          indices.getShape().drop_back())
    return std::string("its indices and updates do not fit its data");
  return std::nullopt;
}

void mlir::kiln::populateScatterLowering(RewritePatternSet &patterns) {
  patterns.add<LowerScatterElements, LowerScatterND>(patterns.getContext());
}
