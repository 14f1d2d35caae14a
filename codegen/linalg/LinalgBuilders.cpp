//===- LinalgBuilders.cpp - small builders the op families share ----------===//

#include "codegen/linalg/LinalgBuilders.h"

#include "codegen/linalg/Passes.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

using namespace mlir;

Value mlir::kiln::floatConstant(OpBuilder &b, Location loc, Type type,
                                double value) {
  return b.create<arith::ConstantOp>(loc, b.getFloatAttr(type, value));
}

Value mlir::kiln::filledTensor(OpBuilder &b, Location loc,
                               ArrayRef<int64_t> shape, TypedAttr value,
                               ValueRange dynamicSizes) {
  Value empty =
      b.create<tensor::EmptyOp>(loc, shape, value.getType(), dynamicSizes);
  Value scalar = b.create<arith::ConstantOp>(loc, value);
  return b.create<linalg::FillOp>(loc, scalar, empty).getResult(0);
}

Value mlir::kiln::mapElements(
    OpBuilder &b, Location loc, Value input,
    function_ref<Value(OpBuilder &, Location, Value)> f) {
  auto type = cast<RankedTensorType>(input.getType());
  Value empty =
      b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType());
  int64_t rank = type.getRank();
  return b
      .create<linalg::GenericOp>(
          loc, type, input, empty,
          ArrayRef{b.getMultiDimIdentityMap(rank),
                   b.getMultiDimIdentityMap(rank)},
          SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
          [&](OpBuilder &nb, Location l, ValueRange args) {
            nb.create<linalg::YieldOp>(l, f(nb, l, args[0]));
          })
      .getResult(0);
}
