//===- OnnxVerifiers.cpp - attribute checks ONNX states in prose ----------===//
//
// ODS checks arity, element types and attribute kinds. These verifiers add
// the rules the ONNX operator documentation states but the schema does not
// encode: axis ranges, permutations, enumerated strings, group divisibility.
// Each checks only its own op and only what the types make known.
//
//===----------------------------------------------------------------------===//

#include "dialects/onnx/OnnxConstants.h"
#include "dialects/onnx/OnnxOps.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallBitVector.h"

using namespace mlir;
using namespace mlir::kiln::onnx;

namespace {

/// Rank of `value` when its type is ranked, else nullopt.
std::optional<int64_t> rankOf(Value value) {
  if (auto type = dyn_cast<RankedTensorType>(value.getType()))
    return type.getRank();
  return std::nullopt;
}

/// Checks that `axis` lies in [-rank, rank) (or [-rank-1, rank] when
/// `inclusiveEnd`), which is how ONNX bounds every axis attribute.
LogicalResult verifyAxis(Operation *op, StringRef what, int64_t axis,
                         std::optional<int64_t> rank,
                         bool inclusiveEnd = false) {
  if (!rank)
    return success();
  int64_t upper = inclusiveEnd ? *rank + 1 : *rank;
  if (axis < -upper || axis >= upper)
    return op->emitOpError() << what << " " << axis
                             << " is out of range for rank " << *rank;
  return success();
}

/// The op's `axis` attribute must index a dimension of `operand`.
LogicalResult verifyAxisOf(Operation *op, Value operand) {
  auto axis = op->getAttrOfType<IntegerAttr>("axis");
  return axis ? verifyAxis(op, "axis", axis.getInt(), rankOf(operand))
              : success();
}

LogicalResult verifyAutoPad(Operation *op, StringRef autoPad) {
  if (llvm::is_contained({"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"},
                         autoPad))
    return success();
  return op->emitOpError()
         << "auto_pad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, not '"
         << autoPad << "'";
}

/// Window attributes shared by Conv, ConvTranspose and the pools: every
/// stride, dilation and kernel extent positive, and pads non-negative with
/// one begin and one end per spatial axis.
LogicalResult verifyWindow(Operation *op, Value input,
                           std::optional<ArrayAttr> kernelShape,
                           std::optional<ArrayAttr> strides,
                           std::optional<ArrayAttr> dilations,
                           std::optional<ArrayAttr> pads) {
  std::optional<int64_t> rank = rankOf(input);
  std::optional<int64_t> spatial;
  if (rank) {
    if (*rank < 3)
      return op->emitOpError() << "expects an input of rank 3 or more (N, C, "
                                  "spatial...), got rank "
                               << *rank;
    spatial = *rank - 2;
  }
  auto check = [&](StringRef name, std::optional<ArrayAttr> values,
                   int64_t expectedSize, bool allowZero) -> LogicalResult {
    if (!values)
      return success();
    if (spatial && (int64_t)values->size() != expectedSize)
      return op->emitOpError()
             << name << " has " << values->size() << " values, expected "
             << expectedSize;
    for (Attribute value : *values) {
      int64_t v = cast<IntegerAttr>(value).getInt();
      if (v < 0 || (!allowZero && v == 0))
        return op->emitOpError()
               << name << " values must be " << (allowZero ? "non-negative" : "positive")
               << ", got " << v;
    }
    return success();
  };
  int64_t n = spatial.value_or(0);
  if (failed(check("kernel_shape", kernelShape, n, false)) ||
      failed(check("strides", strides, n, false)) ||
      failed(check("dilations", dilations, n, false)) ||
      failed(check("pads", pads, 2 * n, true)))
    return failure();
  return success();
}

LogicalResult verifyAxesList(Operation *op, ArrayRef<int64_t> axes,
                             std::optional<int64_t> rank) {
  if (!rank)
    return success();
  llvm::SmallBitVector seen(*rank);
  for (int64_t axis : axes) {
    if (failed(verifyAxis(op, "axis", axis, rank)))
      return failure();
    int64_t normalized = axis < 0 ? axis + *rank : axis;
    if (seen.test(normalized))
      return op->emitOpError() << "axis " << axis << " appears twice";
    seen.set(normalized);
  }
  return success();
}

} // namespace

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  return verifyAxisOf(*this, getInputs().front());
}

LogicalResult TransposeOp::verify() {
  std::optional<ArrayAttr> perm = getPerm();
  if (!perm)
    return success();
  std::optional<int64_t> rank = rankOf(getData());
  if (rank && (int64_t)perm->size() != *rank)
    return emitOpError() << "perm has " << perm->size()
                         << " entries but the input has rank " << *rank;
  llvm::SmallBitVector seen(perm->size());
  for (Attribute entry : *perm) {
    int64_t axis = cast<IntegerAttr>(entry).getInt();
    if (axis < 0 || axis >= (int64_t)perm->size() || seen.test(axis))
      return emitOpError() << "perm is not a permutation of 0.."
                           << perm->size() - 1;
    seen.set(axis);
  }
  return success();
}

LogicalResult SoftmaxOp::verify() {
  return verifyAxisOf(*this, getInput());
}
LogicalResult LogSoftmaxOp::verify() {
  return verifyAxisOf(*this, getInput());
}
LogicalResult HardmaxOp::verify() {
  return verifyAxisOf(*this, getInput());
}

LogicalResult LayerNormalizationOp::verify() {
  return verifyAxisOf(*this, getX());
}
LogicalResult ArgMaxOp::verify() {
  return verifyAxisOf(*this, getData());
}
LogicalResult ArgMinOp::verify() {
  return verifyAxisOf(*this, getData());
}
LogicalResult GatherElementsOp::verify() {
  return verifyAxisOf(*this, getData());
}
LogicalResult ScatterElementsOp::verify() {
  return verifyAxisOf(*this, getData());
}
LogicalResult TopKOp::verify() {
  return verifyAxisOf(*this, getX());
}

LogicalResult FlattenOp::verify() {
  return verifyAxis(*this, "axis", (int64_t)getAxis(), rankOf(getInput()),
                    /*inclusiveEnd=*/true);
}

LogicalResult GatherOp::verify() {
  return verifyAxisOf(*this, getData());
}

LogicalResult ConvOp::verify() {
  if (failed(verifyAutoPad(*this, getAutoPad())))
    return failure();
  if ((int64_t)getGroup() < 1)
    return emitOpError() << "group must be positive, got "
                         << (int64_t)getGroup();
  if (failed(verifyWindow(*this, getX(), getKernelShape(), getStrides(),
                          getDilations(), getPads())))
    return failure();
  auto input = dyn_cast<RankedTensorType>(getX().getType());
  auto weight = dyn_cast<RankedTensorType>(getW().getType());
  if (input && weight) {
    if (weight.getRank() != input.getRank())
      return emitOpError() << "weight rank " << weight.getRank()
                           << " does not match input rank " << input.getRank();
    int64_t channels = input.getDimSize(1);
    int64_t perGroup = weight.getDimSize(1);
    int64_t group = (int64_t)getGroup();
    if (!ShapedType::isDynamic(channels) && !ShapedType::isDynamic(perGroup) &&
        channels != perGroup * group)
      return emitOpError() << "input has " << channels
                           << " channels but weight expects " << perGroup
                           << " per group x " << group << " groups";
  }
  return success();
}

LogicalResult ConvTransposeOp::verify() {
  if (failed(verifyAutoPad(*this, getAutoPad())))
    return failure();
  if ((int64_t)getGroup() < 1)
    return emitOpError() << "group must be positive, got "
                         << (int64_t)getGroup();
  return verifyWindow(*this, getX(), getKernelShape(), getStrides(),
                      getDilations(), getPads());
}

LogicalResult MaxPoolOp::verify() {
  if (failed(verifyAutoPad(*this, getAutoPad())))
    return failure();
  if (getStorageOrder() > 1)
    return emitOpError("storage_order must be 0 (row major) or 1 (column major)");
  return verifyWindow(*this, getX(), getKernelShape(), getStrides(),
                      getDilations(), getPads());
}

LogicalResult AveragePoolOp::verify() {
  if (failed(verifyAutoPad(*this, getAutoPad())))
    return failure();
  return verifyWindow(*this, getX(), getKernelShape(), getStrides(),
                      getDilations(), getPads());
}

LogicalResult CastOp::verify() {
  // TensorProto.DataType: 1..16 are the classic types, 17..26 the float8,
  // int4, float4 and int2 families.
  int64_t to = getToAttr().getInt();
  if (to < 1 || to > 26 || to == 8 /*STRING*/)
    return emitOpError() << "'to' = " << to
                         << " is not a tensor element type Kiln supports";
  return success();
}

LogicalResult ReshapeOp::verify() {
  if (getAllowzero() > 1)
    return emitOpError("allowzero must be 0 or 1");
  std::optional<SmallVector<int64_t>> shape = getConstantInts(getShape());
  if (!shape)
    return success();
  if (llvm::count(*shape, -1) > 1)
    return emitOpError("shape may contain at most one -1");
  if (llvm::any_of(*shape, [](int64_t d) { return d < -1; }))
    return emitOpError("shape entries must be -1 or more");
  return success();
}

LogicalResult SqueezeOp::verify() {
  if (!getAxes())
    return success();
  std::optional<SmallVector<int64_t>> axes = getConstantInts(getAxes());
  if (!axes)
    return success();
  return verifyAxesList(*this, *axes, rankOf(getData()));
}

LogicalResult UnsqueezeOp::verify() {
  std::optional<SmallVector<int64_t>> axes = getConstantInts(getAxes());
  if (!axes)
    return success();
  std::optional<int64_t> rank = rankOf(getData());
  if (rank)
    rank = *rank + (int64_t)axes->size();
  return verifyAxesList(*this, *axes, rank);
}

LogicalResult ConstantOp::verify() {
  int present = (bool)getSparseValueAttr() + (bool)getValueAttr() +
                (bool)getValueFloatAttr() + (bool)getValueFloatsAttr() +
                (bool)getValueIntAttr() + (bool)getValueIntsAttr() +
                (bool)getValueStringAttr() + (bool)getValueStringsAttr();
  if (present != 1)
    return emitOpError() << "needs exactly one value attribute, got "
                         << present;
  if (ElementsAttr value = getValueAttr())
    if (value.getType() != getOutput().getType())
      return emitOpError() << "value type " << value.getType()
                           << " does not match result type "
                           << getOutput().getType();
  return success();
}

LogicalResult SplitOp::verify() {
  if (failed(verifyAxis(*this, "axis", (int64_t)getAxis(),
                        rankOf(getInput()))))
    return failure();
  if (getSplit() && getNumOutputs())
    return emitOpError("takes either the 'split' input or the num_outputs "
                       "attribute, not both");
  if (std::optional<uint64_t> n = getNumOutputs())
    if ((int64_t)*n != (int64_t)getOutputs().size())
      return emitOpError() << "num_outputs = " << (int64_t)*n << " but the op has "
                           << getOutputs().size() << " results";
  if (getSplit())
    if (std::optional<SmallVector<int64_t>> sizes = getConstantInts(getSplit())) {
      if (sizes->size() != getOutputs().size())
        return emitOpError() << "'split' has " << sizes->size()
                             << " sizes for " << getOutputs().size()
                             << " results";
      if (llvm::any_of(*sizes, [](int64_t s) { return s < 0; }))
        return emitOpError("'split' sizes must be non-negative");
    }
  return success();
}

LogicalResult GemmOp::verify() {
  if (getTransA() > 1 || getTransB() > 1)
    return emitOpError("transA and transB must be 0 or 1");
  for (Value operand : {getA(), getB()})
    if (std::optional<int64_t> rank = rankOf(operand); rank && *rank != 2)
      return emitOpError() << "A and B must be matrices, got rank " << *rank;
  return success();
}
