//===- LoopEmitter.cpp - kernels written as scf loops ---------------------===//

#include "codegen/common/LoopEmitter.h"
#include "dialects/kiln/KilnAttributes.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <limits>

using namespace mlir;
using namespace mlir::kiln;

void mlir::kiln::markThreaded(scf::ParallelOp loop, int64_t operations) {
  constexpr int64_t kThreadedOperations = 1 << 17;
  if (operations >= kThreadedOperations)
    loop->setAttr(kThreadedAttrName, UnitAttr::get(loop.getContext()));
}

int64_t mlir::kiln::operationsOf(ArrayRef<Value> extents, int64_t perElement) {
  int64_t operations = perElement;
  for (Value extent : extents) {
    std::optional<int64_t> size = getConstantIntValue(extent);
    if (!size)
      return std::numeric_limits<int64_t>::max();
    operations *= *size;
  }
  return operations;
}

Value mlir::kiln::flattenBuffer(OpBuilder &b, Location loc, Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  if (!type.getLayout().isIdentity()) {
    // Views with strides: a contiguous copy (rare: the graph hands whole
    // buffers to the kernels), of the view's run-time sizes, freed after
    // the op being lowered (the kernel's code goes before it).
    auto contiguous = MemRefType::get(type.getShape(), type.getElementType());
    SmallVector<Value> sizes;
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (type.isDynamicDim(d))
        sizes.push_back(b.create<memref::DimOp>(loc, buffer, d));
    Value copy = b.create<memref::AllocOp>(loc, contiguous, sizes);
    b.create<memref::CopyOp>(loc, buffer, copy);
    Block *block = b.getInsertionBlock();
    if (b.getInsertionPoint() != block->end()) {
      OpBuilder after(block, std::next(b.getInsertionPoint()));
      after.create<memref::DeallocOp>(loc, copy);
    }
    buffer = copy;
  }
  ReassociationIndices all;
  for (int64_t i = 0; i < type.getRank(); ++i)
    all.push_back(i);
  return b.create<memref::CollapseShapeOp>(loc, buffer,
                                           ArrayRef<ReassociationIndices>{all});
}
