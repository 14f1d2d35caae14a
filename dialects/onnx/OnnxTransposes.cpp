//===- OnnxTransposes.cpp - making and reading onnx.Transpose -------------===//

#include "dialects/onnx/OnnxTransposes.h"

using namespace mlir;
using namespace mlir::kiln;

Value mlir::kiln::createTranspose(OpBuilder &builder, Location loc,
                                  Value value, ArrayRef<int64_t> perm) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<int64_t> shape;
  for (int64_t axis : perm)
    shape.push_back(type.getDimSize(axis));
  return builder.create<onnx::TransposeOp>(
      loc, RankedTensorType::get(shape, type.getElementType()), value,
      builder.getI64ArrayAttr(perm));
}

onnx::TransposeOp mlir::kiln::transposeOf(Value value) {
  auto op = value.getDefiningOp<onnx::TransposeOp>();
  if (!op || !isa<RankedTensorType>(op.getData().getType()))
    return {};
  return op;
}

SmallVector<int64_t> mlir::kiln::permOf(onnx::TransposeOp op) {
  auto type = cast<RankedTensorType>(op.getData().getType());
  SmallVector<int64_t> perm;
  if (std::optional<ArrayAttr> attr = op.getPerm()) {
    for (Attribute axis : *attr)
      perm.push_back(cast<IntegerAttr>(axis).getInt());
  } else {
    for (int64_t i = type.getRank() - 1; i >= 0; --i)
      perm.push_back(i);
  }
  return perm;
}
