//===- SymbolicReshapes.cpp - reshapes over symbolic dimensions -----------===//
//
// Reshape, Flatten, Squeeze and Unsqueeze whose shapes are only known at
// run time (an LLM's batch and sequence lengths). Adding or removing unit
// dimensions, and Flatten, are tensor.expand_shape / collapse_shape with
// the symbolic sizes read from the input; a Reshape to a shape computed at
// run time is tensor.reshape to that shape, its 0 entries copying the
// input's dimension and its -1 entry the size left over. All of them are
// views of the input's buffer.
//
//===----------------------------------------------------------------------===//

#include "codegen/linalg/OnnxToLinalg.h"

#include "dialects/onnx/OnnxConstants.h"
#include "dialects/onnx/OnnxOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The groups that join each of `unit` (axes of a shape of `rank`, static
/// ones being added or removed) to the axis before it (the leading ones to
/// the first other axis).
SmallVector<ReassociationIndices> unitGroups(int64_t rank,
                                             ArrayRef<int64_t> unit) {
  SmallVector<ReassociationIndices> groups;
  ReassociationIndices leading;
  for (int64_t axis = 0; axis < rank; ++axis) {
    bool isUnit = llvm::is_contained(unit, axis);
    if (!isUnit) {
      leading.push_back(axis);
      groups.push_back(leading);
      leading.clear();
    } else if (groups.empty()) {
      leading.push_back(axis);
    } else {
      groups.back().push_back(axis);
    }
  }
  return groups;
}

/// `axes` in [0, rank), sorted; nullopt if one is out of range.
std::optional<SmallVector<int64_t>> normalizedAxes(ArrayRef<int64_t> axes,
                                                   int64_t rank) {
  SmallVector<int64_t> result;
  for (int64_t axis : axes) {
    int64_t at = axis < 0 ? axis + rank : axis;
    if (at < 0 || at >= rank)
      return std::nullopt;
    result.push_back(at);
  }
  llvm::sort(result);
  return result;
}

/// The axes Unsqueeze adds (of its result) or Squeeze removes (of its
/// input), or nullopt when they are not known at compile time.
std::optional<SmallVector<int64_t>> unitAxesOf(Operation *op) {
  if (auto unsqueeze = dyn_cast<onnx::UnsqueezeOp>(op)) {
    auto axes = onnx::getConstantInts(unsqueeze.getAxes());
    auto type = cast<RankedTensorType>(unsqueeze.getType());
    return axes ? normalizedAxes(*axes, type.getRank()) : std::nullopt;
  }
  auto squeeze = cast<onnx::SqueezeOp>(op);
  auto type = cast<RankedTensorType>(squeeze.getData().getType());
  if (!squeeze.getAxes()) {
    SmallVector<int64_t> ones;
    for (int64_t axis = 0; axis < type.getRank(); ++axis)
      if (type.getDimSize(axis) == 1)
        ones.push_back(axis);
    return ones;
  }
  auto axes = onnx::getConstantInts(squeeze.getAxes());
  return axes ? normalizedAxes(*axes, type.getRank()) : std::nullopt;
}

/// The sizes of `type`'s dimensions: static ones as attributes, symbolic
/// ones from `dynamic(axis)`.
SmallVector<OpFoldResult>
mixedSizes(OpBuilder &b, RankedTensorType type,
           llvm::function_ref<Value(int64_t)> dynamic) {
  SmallVector<OpFoldResult> sizes;
  for (int64_t axis = 0; axis < type.getRank(); ++axis)
    sizes.push_back(type.isDynamicDim(axis)
                        ? OpFoldResult(dynamic(axis))
                        : OpFoldResult(b.getIndexAttr(type.getDimSize(axis))));
  return sizes;
}

Value index(OpBuilder &b, Location loc, int64_t value) {
  return b.create<arith::ConstantIndexOp>(loc, value);
}

/// Reshape to the run-time values of its shape operand.
Value reshapeAtRunTime(OpBuilder &b, Location loc, onnx::ReshapeOp op) {
  Value input = op.getData();
  auto inputType = cast<RankedTensorType>(input.getType());
  auto type = cast<RankedTensorType>(op.getType());
  auto dimension = [&](int64_t axis) -> Value {
    return inputType.isDynamicDim(axis)
               ? b.create<tensor::DimOp>(loc, input, axis).getResult()
               : index(b, loc, inputType.getDimSize(axis));
  };
  Value total = index(b, loc, 1);
  for (int64_t axis = 0; axis < inputType.getRank(); ++axis)
    total = b.create<arith::MulIOp>(loc, total, dimension(axis));

  // Each entry: static where the result type knows it, else the shape
  // operand's value (0 copying the input's dimension, unless allowzero).
  SmallVector<Value> sizes;
  Value known = index(b, loc, 1);
  Value zero = index(b, loc, 0), minusOne = index(b, loc, -1);
  for (int64_t axis = 0; axis < type.getRank(); ++axis) {
    if (!type.isDynamicDim(axis)) {
      sizes.push_back(index(b, loc, type.getDimSize(axis)));
      known = b.create<arith::MulIOp>(loc, known, sizes.back());
      continue;
    }
    Value entry = b.create<arith::IndexCastOp>(
        loc, b.getIndexType(),
        b.create<tensor::ExtractOp>(loc, op.getShape(),
                                    ValueRange{index(b, loc, axis)}));
    if (!op.getAllowzero() && axis < inputType.getRank())
      entry = b.create<arith::SelectOp>(
          loc,
          b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, entry, zero),
          dimension(axis), entry);
    Value isInferred =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, entry, minusOne);
    known = b.create<arith::MulIOp>(
        loc, known,
        b.create<arith::SelectOp>(loc, isInferred, index(b, loc, 1), entry));
    sizes.push_back(entry);
  }
  // The -1 entry takes what the others leave of the total.
  Value leftOver = b.create<arith::DivUIOp>(loc, total, known);
  for (int64_t axis = 0; axis < type.getRank(); ++axis)
    if (type.isDynamicDim(axis))
      sizes[axis] = b.create<arith::SelectOp>(
          loc,
          b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, sizes[axis],
                                  minusOne),
          leftOver, sizes[axis]);
  Value shape = b.create<tensor::FromElementsOp>(
      loc, RankedTensorType::get({type.getRank()}, b.getIndexType()), sizes);
  return b.create<tensor::ReshapeOp>(loc, type, input, shape);
}

} // namespace

std::optional<std::string> mlir::kiln::checkSymbolicReshape(Operation *op) {
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  auto inputType = dyn_cast<RankedTensorType>(op->getOperand(0).getType());
  if (!inputType)
    return std::string("the rank of its input is unknown");
  if (isa<onnx::UnsqueezeOp, onnx::SqueezeOp>(op)) {
    std::optional<SmallVector<int64_t>> axes = unitAxesOf(op);
    if (!axes)
      return std::string("its axes must be constants within its rank");
    RankedTensorType larger = isa<onnx::UnsqueezeOp>(op) ? type : inputType;
    RankedTensorType smaller = isa<onnx::UnsqueezeOp>(op) ? inputType : type;
    if (larger.getRank() != smaller.getRank() + (int64_t)axes->size())
      return std::string("its axes do not match its ranks");
    for (int64_t axis : *axes)
      if (larger.getDimSize(axis) != 1)
        return "its axis " + std::to_string(axis) +
               " is not a static unit dimension";
    return std::nullopt;
  }
  if (isa<onnx::FlattenOp>(op)) {
    if (type.getRank() != 2)
      return std::string("its result is not 2-D");
    return std::nullopt;
  }
  auto reshape = cast<onnx::ReshapeOp>(op);
  auto shapeType = dyn_cast<RankedTensorType>(reshape.getShape().getType());
  if (!shapeType || shapeType.getRank() != 1 ||
      shapeType.getDimSize(0) != type.getRank())
    return std::string("its shape operand does not match its result's rank");
  return std::nullopt;
}

Value mlir::kiln::lowerSymbolicReshape(OpBuilder &b, Operation *op) {
  Location loc = op->getLoc();
  Value input = op->getOperand(0);
  auto inputType = cast<RankedTensorType>(input.getType());
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  auto inputDimension = [&](int64_t axis) -> Value {
    return b.create<tensor::DimOp>(loc, input, axis);
  };
  if (isa<onnx::UnsqueezeOp>(op)) {
    SmallVector<int64_t> added = *unitAxesOf(op);
    // Result axis -> input axis, skipping the added ones.
    SmallVector<int64_t> source;
    for (int64_t axis = 0, from = 0; axis < type.getRank(); ++axis)
      source.push_back(llvm::is_contained(added, axis) ? -1 : from++);
    return b.create<tensor::ExpandShapeOp>(
        loc, type, input, unitGroups(type.getRank(), added),
        mixedSizes(b, type,
                   [&](int64_t axis) { return inputDimension(source[axis]); }));
  }
  if (isa<onnx::SqueezeOp>(op))
    return b.create<tensor::CollapseShapeOp>(
        loc, type, input, unitGroups(inputType.getRank(), *unitAxesOf(op)));
  if (auto flatten = dyn_cast<onnx::FlattenOp>(op)) {
    int64_t rank = inputType.getRank();
    auto axis = static_cast<int64_t>(flatten.getAxis());
    if (axis < 0)
      axis += rank;
    if (axis > 0 && axis < rank) {
      ReassociationIndices outer, inner;
      for (int64_t i = 0; i < rank; ++i)
        (i < axis ? outer : inner).push_back(i);
      return b.create<tensor::CollapseShapeOp>(
          loc, type, input, ArrayRef<ReassociationIndices>{outer, inner});
    }
    // [1, N] or [N, 1]: all of it in one dimension, then the unit one.
    ReassociationIndices all;
    for (int64_t i = 0; i < rank; ++i)
      all.push_back(i);
    auto flatType = RankedTensorType::get(
        {axis == 0 ? type.getDimSize(1) : type.getDimSize(0)},
        type.getElementType());
    Value flat = rank == 1 ? input
                           : b.create<tensor::CollapseShapeOp>(
                                 loc, flatType, input,
                                 ArrayRef<ReassociationIndices>{all});
    Value length = b.create<tensor::DimOp>(loc, flat, 0);
    return b.create<tensor::ExpandShapeOp>(
        loc, type, flat, ArrayRef<ReassociationIndices>{{0, 1}},
        mixedSizes(b, type, [&](int64_t) { return length; }));
  }
  return reshapeAtRunTime(b, loc, cast<onnx::ReshapeOp>(op));
}
