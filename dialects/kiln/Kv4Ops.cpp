//===- Kv4Ops.cpp - kiln.pack_kv4 and kiln.unpack_kv4 ---------------------===//

#include "dialects/kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// Checks that `rows` (f32 [..., D]) and `packed` (i8 [..., D/2 + 4]) are
/// a row tensor and its packed form: same leading extents, D static and
/// even.
LogicalResult verifyPackedRows(Operation *op, RankedTensorType rows,
                               RankedTensorType packed) {
  auto fail = [&]() {
    return op->emitOpError("takes f32 rows [..., D], D static and even, and "
                           "their i8 packed form [..., D/2 + 4], not ")
           << rows << " and " << packed;
  };
  if (!rows.getElementType().isF32() || !packed.getElementType().isInteger(8) ||
      !packed.getElementType().isSignlessInteger() || rows.getRank() < 1 ||
      rows.getRank() != packed.getRank())
    return fail();
  int64_t d = rows.getShape().back();
  if (ShapedType::isDynamic(d) || d % 2 ||
      packed.getShape().back() != d / 2 + 4)
    return fail();
  for (int64_t i = 0; i + 1 < rows.getRank(); ++i)
    if (!rows.isDynamicDim(i) && !packed.isDynamicDim(i) &&
        rows.getDimSize(i) != packed.getDimSize(i))
      return fail();
  return success();
}

} // namespace

LogicalResult PackKv4Op::verify() {
  return verifyPackedRows(*this, cast<RankedTensorType>(getInput().getType()),
                          cast<RankedTensorType>(getType()));
}

LogicalResult UnpackKv4Op::verify() {
  return verifyPackedRows(*this, cast<RankedTensorType>(getType()),
                          cast<RankedTensorType>(getInput().getType()));
}
