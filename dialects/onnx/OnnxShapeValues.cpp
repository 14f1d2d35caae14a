//===- OnnxShapeValues.cpp - shape tensors known at compile time ----------===//

#include "dialects/onnx/OnnxShapeValues.h"

#include "dialects/onnx/OnnxConstants.h"
#include "dialects/onnx/OnnxOps.h"

using namespace mlir;
using namespace mlir::kiln::onnx;

namespace {

using Ints = SmallVector<int64_t>;
constexpr int64_t kDynamic = ShapedType::kDynamic;

/// Whether `value` is a 0-D or 1-D integer tensor of known size.
bool isSmallIntTensor(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && type.getRank() <= 1 && type.hasStaticShape() &&
         isa<IntegerType>(type.getElementType()) &&
         !type.getElementType().isInteger(1);
}

std::optional<Ints> shapeValues(ShapeOp op) {
  auto input = dyn_cast<RankedTensorType>(op.getData().getType());
  if (!input)
    return std::nullopt;
  auto [first, last] = shapeRange(op, input.getRank());
  return Ints(input.getShape().slice(first, last - first));
}

std::optional<Ints> gatherValues(GatherOp op) {
  std::optional<Ints> data = getKnownInts(op.getData());
  std::optional<Ints> indices = getConstantInts(op.getIndices());
  auto dataType = cast<RankedTensorType>(op.getData().getType());
  if (!data || !indices || dataType.getRank() != 1)
    return std::nullopt;
  Ints result;
  int64_t size = data->size();
  for (int64_t index : *indices) {
    if (index < 0)
      index += size;
    if (index < 0 || index >= size)
      return std::nullopt;
    result.push_back((*data)[index]);
  }
  return result;
}

std::optional<Ints> sliceValues(SliceOp op) {
  std::optional<Ints> data = getKnownInts(op.getData());
  auto starts = getConstantInts(op.getStarts());
  auto ends = getConstantInts(op.getEnds());
  if (!data || !starts || !ends || starts->size() != 1 || ends->size() != 1)
    return std::nullopt;
  if (op.getAxes()) {
    auto axes = getConstantInts(op.getAxes());
    if (!axes || axes->size() != 1 || ((*axes)[0] != 0 && (*axes)[0] != -1))
      return std::nullopt;
  }
  int64_t step = 1;
  if (op.getSteps()) {
    auto steps = getConstantInts(op.getSteps());
    if (!steps || steps->size() != 1 || (*steps)[0] == 0)
      return std::nullopt;
    step = (*steps)[0];
  }
  int64_t start = (*starts)[0], end = (*ends)[0];
  normalizeSliceBounds(start, end, step, data->size());
  Ints result;
  for (int64_t i = start; step > 0 ? i < end : i > end; i += step)
    result.push_back((*data)[i]);
  return result;
}

std::optional<Ints> concatValues(ConcatOp op) {
  Ints result;
  for (Value input : op.getInputs()) {
    std::optional<Ints> values = getKnownInts(input);
    if (!values || cast<RankedTensorType>(input.getType()).getRank() != 1)
      return std::nullopt;
    result.append(*values);
  }
  return result;
}

} // namespace

std::pair<int64_t, int64_t> mlir::kiln::onnx::shapeRange(ShapeOp op,
                                                         int64_t rank) {
  auto clamp = [&](int64_t axis) {
    return std::clamp<int64_t>(axis < 0 ? axis + rank : axis, 0, rank);
  };
  int64_t first = clamp((int64_t)op.getStart());
  int64_t last = op.getEndAttr() ? clamp(op.getEndAttr().getInt()) : rank;
  return {first, std::max(first, last)};
}

int64_t mlir::kiln::onnx::normalizeSliceBounds(int64_t &start, int64_t &end,
                                               int64_t step, int64_t size) {
  if (start < 0)
    start += size;
  if (end < 0)
    end += size;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, size);
    end = std::clamp<int64_t>(end, 0, size);
    return end > start ? (end - start + step - 1) / step : 0;
  }
  start = std::clamp<int64_t>(start, 0, size - 1);
  end = std::clamp<int64_t>(end, -1, size - 1);
  return start > end ? (start - end - step - 1) / -step : 0;
}

std::optional<Ints> mlir::kiln::onnx::getKnownInts(Value value) {
  if (!isSmallIntTensor(value))
    return std::nullopt;
  if (auto constant = getConstantInts(value))
    return constant;
  Operation *op = value.getDefiningOp();
  if (!op)
    return std::nullopt;
  std::optional<Ints> result;
  if (auto shape = dyn_cast<ShapeOp>(op))
    result = shapeValues(shape);
  else if (auto gather = dyn_cast<GatherOp>(op))
    result = gatherValues(gather);
  else if (auto slice = dyn_cast<SliceOp>(op))
    result = sliceValues(slice);
  else if (auto concat = dyn_cast<ConcatOp>(op))
    result = concatValues(concat);
  else if (isa<UnsqueezeOp, SqueezeOp, ReshapeOp>(op))
    result = getKnownInts(op->getOperand(0));
  else if (auto cast = dyn_cast<CastOp>(op))
    // Integer to integer keeps the values sizes are made of.
    result = getKnownInts(cast.getInput());
  auto type = cast<RankedTensorType>(value.getType());
  if (!result || (int64_t)result->size() != type.getNumElements())
    return std::nullopt;
  return result;
}

LogicalResult mlir::kiln::onnx::foldKnownShapeValue(Operation *op,
                                                    PatternRewriter &rewriter) {
  if (op->getNumResults() != 1 || !isSmallIntTensor(op->getResult(0)))
    return failure();
  std::optional<Ints> values = getKnownInts(op->getResult(0));
  if (!values || llvm::is_contained(*values, kDynamic))
    return failure();
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  auto element = cast<IntegerType>(type.getElementType());
  SmallVector<APInt> elements;
  for (int64_t v : *values)
    elements.push_back(APInt(element.getWidth(), v, /*isSigned=*/true));
  rewriter.replaceOp(op, createConstant(rewriter, op->getLoc(),
                                        DenseElementsAttr::get(type, elements)));
  return success();
}
