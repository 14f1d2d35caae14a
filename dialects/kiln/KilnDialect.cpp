//===- KilnDialect.cpp - the kiln dialect, its attributes and verifiers ---===//

#include "dialects/kiln/KilnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::kiln;

#include "dialects/kiln/KilnDialect.cpp.inc"
#include "dialects/kiln/KilnEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/kiln/KilnAttrs.cpp.inc"

#define GET_OP_CLASSES
#include "dialects/kiln/KilnOps.cpp.inc"

void KilnDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/kiln/KilnAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialects/kiln/KilnOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// PackedConv2DOp
//===----------------------------------------------------------------------===//

LogicalResult PackedConv2DOp::verify() {
  auto input = cast<ShapedType>(getInput().getType());
  auto filter = cast<ShapedType>(getFilter().getType());
  auto bias = cast<ShapedType>(getBias().getType());
  auto init = cast<ShapedType>(getInit().getType());
  bool tensors = isa<RankedTensorType>(input) && isa<RankedTensorType>(filter) &&
                 isa<RankedTensorType>(bias) && isa<RankedTensorType>(init);
  bool buffers = isa<MemRefType>(input) && isa<MemRefType>(filter) &&
                 isa<MemRefType>(bias) && isa<MemRefType>(init);
  if (!tensors && !buffers)
    return emitOpError("takes all tensors or all memrefs");
  if (tensors != (getNumResults() == 1))
    return emitOpError("has one result on tensors and none on memrefs");
  if (tensors && getResult()[0].getType() != init)
    return emitOpError("result type must be the init's type");
  if (!input.hasStaticShape() || !filter.hasStaticShape() ||
      !bias.hasStaticShape() || !init.hasStaticShape())
    return emitOpError("needs static shapes");
  if (input.getRank() != 4 || init.getRank() != 4)
    return emitOpError("input and init must be 4-D (NHWC)");
  if (filter.getRank() != 5)
    return emitOpError("filter must be packed as [F/F0, KH, KW, C, F0]");
  if (bias.getRank() != 1)
    return emitOpError("bias must be 1-D");
  Type element = input.getElementType();
  if (!element.isF32() || filter.getElementType() != element ||
      bias.getElementType() != element || init.getElementType() != element)
    return emitOpError("supports f32 only");
  if (getStrides().size() != 2 || getDilations().size() != 2 ||
      llvm::any_of(getStrides(), [](int64_t s) { return s < 1; }) ||
      llvm::any_of(getDilations(), [](int64_t d) { return d < 1; }))
    return emitOpError("needs two positive strides and dilations");

  ArrayRef<int64_t> in = input.getShape(), w = filter.getShape(),
                    out = init.getShape();
  if (w[3] != in[3])
    return emitOpError("filter has ")
           << w[3] << " input channels, the input " << in[3];
  if (out[0] != in[0])
    return emitOpError("batch of init (") << out[0]
                                          << ") differs from the input's ("
                                          << in[0] << ")";
  if (out[3] > w[0] * w[4] || out[3] <= (w[0] - 1) * w[4])
    return emitOpError("init has ")
           << out[3] << " channels, the filter packs " << w[0] << " tiles of "
           << w[4];
  if (bias.getDimSize(0) != w[0] * w[4])
    return emitOpError("bias must have ") << w[0] * w[4] << " elements";
  for (int axis = 0; axis < 2; ++axis) {
    int64_t span = (out[axis + 1] - 1) * getStrides()[axis] +
                   (w[axis + 1] - 1) * getDilations()[axis] + 1;
    if (out[axis + 1] < 1 || span > in[axis + 1])
      return emitOpError("output dimension ")
             << axis + 1 << " (" << out[axis + 1]
             << ") does not fit the input (" << in[axis + 1] << ")";
  }
  if (getActivation() == Activation::Clip && !(getClipMin() <= getClipMax()))
    return emitOpError("clip_min must not exceed clip_max");
  return success();
}

void PackedConv2DOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  if (!isa<MemRefType>(getInit().getType()))
    return;
  for (OpOperand *operand : getDpsInputOperands())
    effects.emplace_back(MemoryEffects::Read::get(), operand,
                         SideEffects::DefaultResource::get());
  if (getAccumulate())
    effects.emplace_back(MemoryEffects::Read::get(), &getInitMutable(),
                         SideEffects::DefaultResource::get());
  effects.emplace_back(MemoryEffects::Write::get(), &getInitMutable(),
                       SideEffects::DefaultResource::get());
}
