//===- QuantizeOps.cpp - verifiers of Kiln's quantization ops -------------===//

#include "dialects/kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The checks quantize and dequantize share: the zero point's type and
/// shape, and the scale's shape for per-tensor, per-axis or grouped
/// parameters of a tensor `data` whose integers are `integer`.
LogicalResult verifyParameters(Operation *op, RankedTensorType data,
                               IntegerType integer, Value scaleValue,
                               Value zero, int64_t axis, int64_t group) {
  auto scale = cast<RankedTensorType>(scaleValue.getType());
  if (zero) {
    auto zeroType = cast<RankedTensorType>(zero.getType());
    if (zeroType.getElementType() != integer ||
        zeroType.getShape() != scale.getShape())
      return op->emitOpError("zero_point must have the integers' element "
                             "type and the scale's shape");
  }
  if (scale.getRank() == 0) {
    if (group != 0)
      return op->emitOpError("a per-tensor scale takes no group_size");
    return success();
  }
  if (axis < 0 || axis >= data.getRank())
    return op->emitOpError("axis ")
           << axis << " is out of range for rank " << data.getRank();
  int64_t extent = data.getDimSize(axis);
  if (group == 0) {
    if (scale.getRank() != 1 || scale.getDimSize(0) != extent)
      return op->emitOpError("a per-axis scale must be 1-D with ")
             << extent << " values (the input's extent along axis " << axis
             << ")";
    return success();
  }
  if (group < 0 || ShapedType::isDynamic(extent) || extent % group)
    return op->emitOpError("group_size ")
           << group << " must divide the input's extent " << extent
           << " along axis " << axis;
  if (scale.getRank() != data.getRank())
    return op->emitOpError("a grouped scale must have the input's rank");
  for (int64_t d = 0; d < data.getRank(); ++d) {
    int64_t want = d == axis ? extent / group : data.getDimSize(d);
    if (scale.getDimSize(d) != want)
      return op->emitOpError("a grouped scale must have extent ")
             << want << " along dimension " << d << ", not "
             << scale.getDimSize(d);
  }
  return success();
}

} // namespace

bool mlir::kiln::isQuantizationFloat(Type type) {
  return type.isF32() || type.isF16() || type.isBF16();
}

bool mlir::kiln::isQuantizedInteger(Type type, bool allowWide) {
  auto integer = dyn_cast<IntegerType>(type);
  return integer &&
         (llvm::is_contained({2u, 4u, 8u, 16u}, integer.getWidth()) ||
          (allowWide && integer.getWidth() == 32));
}

LogicalResult DequantizeOp::verify() {
  auto input = cast<RankedTensorType>(getInput().getType());
  auto scale = cast<RankedTensorType>(getScale().getType());
  auto result = cast<RankedTensorType>(getResult().getType());
  if (!isQuantizedInteger(input.getElementType(), /*allowWide=*/true))
    return emitOpError("input must hold integers of 2, 4, 8, 16 or 32 bits, "
                       "not ")
           << input.getElementType();
  if (!isQuantizationFloat(scale.getElementType()))
    return emitOpError("scale must be f32, f16 or bf16");
  if (!isQuantizationFloat(result.getElementType()) ||
      result.getShape() != input.getShape())
    return emitOpError("result must be f32, f16 or bf16 of the input's shape");
  return verifyParameters(*this, input,
                          cast<IntegerType>(input.getElementType()), getScale(),
                          getZeroPoint(), getAxis(), getGroupSize());
}

LogicalResult QuantizeOp::verify() {
  auto input = cast<RankedTensorType>(getInput().getType());
  auto scale = cast<RankedTensorType>(getScale().getType());
  auto result = cast<RankedTensorType>(getResult().getType());
  if (!isQuantizationFloat(input.getElementType()) ||
      !isQuantizationFloat(scale.getElementType()))
    return emitOpError("takes an f32, f16 or bf16 input and scale");
  if (!isQuantizedInteger(result.getElementType(), /*allowWide=*/false) ||
      result.getShape() != input.getShape())
    return emitOpError("result must hold integers of 2, 4, 8 or 16 bits of "
                       "the input's shape");
  return verifyParameters(
      *this, input, cast<IntegerType>(result.getElementType()), getScale(),
      getZeroPoint(), getAxis(), getGroupSize());
}
