//===- QuantizeOps.cpp - verifiers of Kiln's quantization ops -------------===//

#include "dialects/kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;

LogicalResult DequantizeOp::verify() {
  auto input = cast<RankedTensorType>(getInput().getType());
  auto scale = cast<RankedTensorType>(getScale().getType());
  auto result = cast<RankedTensorType>(getResult().getType());
  auto integer = dyn_cast<IntegerType>(input.getElementType());
  if (!integer || (integer.getWidth() != 4 && integer.getWidth() != 8))
    return emitOpError("input must hold integers of 4 or 8 bits, not ")
           << input.getElementType();
  Type scaleElement = scale.getElementType();
  if (!scaleElement.isF32() && !scaleElement.isF16() && !scaleElement.isBF16())
    return emitOpError("scale must be f32, f16 or bf16");
  if (!result.getElementType().isF32() || result.getShape() != input.getShape())
    return emitOpError("result must be f32 of the input's shape");
  if (Value zero = getZeroPoint()) {
    auto zeroType = cast<RankedTensorType>(zero.getType());
    if (zeroType.getElementType() != integer ||
        zeroType.getShape() != scale.getShape())
      return emitOpError("zero_point must have the input's element type and "
                         "the scale's shape");
  }
  int64_t axis = getAxis(), group = getGroupSize();
  if (scale.getRank() == 0) {
    if (group != 0)
      return emitOpError("a per-tensor scale takes no group_size");
    return success();
  }
  if (axis < 0 || axis >= input.getRank())
    return emitOpError("axis ")
           << axis << " is out of range for rank " << input.getRank();
  int64_t extent = input.getDimSize(axis);
  if (group == 0) {
    if (scale.getRank() != 1 || scale.getDimSize(0) != extent)
      return emitOpError("a per-axis scale must be 1-D with ")
             << extent << " values (the input's extent along axis " << axis
             << ")";
    return success();
  }
  if (group < 0 || ShapedType::isDynamic(extent) || extent % group)
    return emitOpError("group_size ")
           << group << " must divide the input's extent " << extent
           << " along axis " << axis;
  if (scale.getRank() != input.getRank())
    return emitOpError("a grouped scale must have the input's rank");
  for (int64_t d = 0; d < input.getRank(); ++d) {
    int64_t want = d == axis ? extent / group : input.getDimSize(d);
    if (scale.getDimSize(d) != want)
      return emitOpError("a grouped scale must have extent ")
             << want << " along dimension " << d << ", not "
             << scale.getDimSize(d);
  }
  return success();
}
