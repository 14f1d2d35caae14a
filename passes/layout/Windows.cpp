//===- Windows.cpp - the NHWC window arithmetic of the layout passes ------===//

#include "passes/layout/Windows.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::kiln;

Value mlir::kiln::emptyWindowResult(OpBuilder &builder, Location loc,
                                    Value input, ArrayRef<int64_t> outputShape,
                                    ArrayRef<int64_t> kernel,
                                    ArrayRef<int64_t> strides,
                                    ArrayRef<int64_t> dilations,
                                    ArrayRef<int64_t> pads) {
  SmallVector<int64_t> padding(pads);
  padding.resize(4, 0);
  auto constant = [&](int64_t v) -> Value {
    return builder.create<arith::ConstantIndexOp>(loc, v);
  };
  SmallVector<Value> sizes;
  for (int64_t d = 0; d < 3; ++d) {
    if (!ShapedType::isDynamic(outputShape[d]))
      continue;
    Value extent = builder.create<tensor::DimOp>(loc, input, d);
    if (d == 0) {
      sizes.push_back(extent);
      continue;
    }
    int64_t axis = d - 1;
    int64_t window = (kernel[axis] - 1) * dilations[axis] + 1;
    Value room = builder.create<arith::AddIOp>(
        loc, extent, constant(padding[axis] + padding[axis + 2] - window));
    Value positions = builder.create<arith::AddIOp>(
        loc,
        builder.create<arith::FloorDivSIOp>(loc, room, constant(strides[axis])),
        constant(1));
    sizes.push_back(
        builder.create<arith::MaxSIOp>(loc, positions, constant(0)));
  }
  return builder.create<tensor::EmptyOp>(loc, outputShape, builder.getF32Type(),
                                         sizes);
}
