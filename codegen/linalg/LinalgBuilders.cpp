//===- LinalgBuilders.cpp - small builders the op families share ----------===//

#include "codegen/linalg/LinalgBuilders.h"

#include "codegen/linalg/Passes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;

bool mlir::kiln::hasUnsignedElements(Type type) {
  auto integer = dyn_cast<IntegerType>(getElementTypeOrSelf(type));
  return integer && integer.isUnsigned();
}

Type mlir::kiln::withSignlessElements(Type type) {
  if (!hasUnsignedElements(type))
    return type;
  auto signless = IntegerType::get(
      type.getContext(), getElementTypeOrSelf(type).getIntOrFloatBitWidth());
  if (auto shaped = dyn_cast<ShapedType>(type))
    return shaped.clone(signless);
  return signless;
}

Value mlir::kiln::floatToF32(OpBuilder &b, Location loc, Value value) {
  if (value.getType().isF32())
    return value;
  return b.create<arith::ExtFOp>(loc, b.getF32Type(), value);
}

Value mlir::kiln::bitcastTensor(OpBuilder &b, Location loc, Value tensor,
                                Type type) {
  if (tensor.getType() == type)
    return tensor;
  return b.create<tensor::BitcastOp>(loc, type, tensor);
}

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

AffineMap mlir::kiln::broadcastMap(ArrayRef<int64_t> operandShape,
                                   ArrayRef<int64_t> resultShape,
                                   MLIRContext *context) {
  int64_t offset = resultShape.size() - operandShape.size();
  SmallVector<AffineExpr> exprs;
  for (auto [i, dim] : llvm::enumerate(operandShape)) {
    int64_t resultDim = resultShape[offset + i];
    if (dim == 1 && resultDim != 1)
      exprs.push_back(getAffineConstantExpr(0, context));
    else
      exprs.push_back(getAffineDimExpr(offset + i, context));
  }
  return AffineMap::get(resultShape.size(), 0, exprs, context);
}

Value mlir::kiln::padTensor(OpBuilder &b, Location loc,
                            RankedTensorType resultType, Value source,
                            ArrayRef<int64_t> low, ArrayRef<int64_t> high,
                            Value padding) {
  auto asFoldResults = [&](ArrayRef<int64_t> values) {
    return llvm::to_vector(llvm::map_range(values, [&](int64_t v) {
      return OpFoldResult(b.getIndexAttr(v));
    }));
  };
  return b.create<tensor::PadOp>(loc, resultType, source, asFoldResults(low),
                                 asFoldResults(high), padding);
}

SmallVector<Value> mlir::kiln::dynamicSizesOf(OpBuilder &b, Location loc,
                                              Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<Value> sizes;
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (type.isDynamicDim(i))
      sizes.push_back(b.create<tensor::DimOp>(loc, tensor, i));
  return sizes;
}

Value mlir::kiln::mapElements(
    OpBuilder &b, Location loc, Value input,
    function_ref<Value(OpBuilder &, Location, Value)> f) {
  auto type = cast<RankedTensorType>(input.getType());
  Value empty = b.create<tensor::EmptyOp>(loc, type.getShape(),
                                          type.getElementType(),
                                          dynamicSizesOf(b, loc, input));
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

Value mlir::kiln::generateTensor(
    OpBuilder &b, Location loc, RankedTensorType type, ValueRange dynamicSizes,
    function_ref<Value(OpBuilder &, Location)> element) {
  int64_t rank = type.getRank();
  Value empty = b.create<tensor::EmptyOp>(loc, type.getShape(),
                                          type.getElementType(), dynamicSizes);
  return b
      .create<linalg::GenericOp>(
          loc, type, ValueRange{}, empty,
          ArrayRef{b.getMultiDimIdentityMap(rank)},
          SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
          [&](OpBuilder &nb, Location l, ValueRange) {
            nb.create<linalg::YieldOp>(l, element(nb, l));
          })
      .getResult(0);
}

Value mlir::kiln::forEachPosition(
    OpBuilder &b, Location loc, ArrayRef<int64_t> shape, Value output,
    function_ref<Value(OpBuilder &, Location, ValueRange, Value)> body) {
  SmallVector<Value> position;
  std::function<Value(OpBuilder &, size_t, Value)> nest =
      [&](OpBuilder &nb, size_t dim, Value current) -> Value {
    if (dim == shape.size())
      return body(nb, loc, position, current);
    Value zero = nb.create<arith::ConstantIndexOp>(loc, 0);
    Value one = nb.create<arith::ConstantIndexOp>(loc, 1);
    Value extent = nb.create<arith::ConstantIndexOp>(loc, shape[dim]);
    auto loop = nb.create<scf::ForOp>(
        loc, zero, extent, one, current,
        [&](OpBuilder &lb, Location, Value iv, ValueRange carried) {
          position.push_back(iv);
          Value next = nest(lb, dim + 1, carried[0]);
          position.pop_back();
          lb.create<scf::YieldOp>(loc, next);
        });
    return loop.getResult(0);
  };
  return nest(b, 0, output);
}


Value mlir::kiln::dimensionIndex(OpBuilder &b, Location loc, Value index,
                                 Value extent) {
  index = b.create<arith::IndexCastOp>(loc, b.getIndexType(), index);
  Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
  Value negative =
      b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, index, zero);
  index = b.create<arith::SelectOp>(
      loc, negative, b.create<arith::AddIOp>(loc, index, extent), index);
  Value last = b.create<arith::SubIOp>(
      loc, extent, b.create<arith::ConstantIndexOp>(loc, 1));
  return b.create<arith::MaxSIOp>(loc, b.create<arith::MinSIOp>(loc, index, last),
                                  zero);
}
