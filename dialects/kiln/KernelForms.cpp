//===- KernelForms.cpp - What every kernel op's verifier checks -----------===//

#include "dialects/kiln/KernelForms.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

LogicalResult mlir::kiln::verifyKernelForm(Operation *op, ValueRange operands,
                                           Value init, Value image,
                                           bool anySymbolic) {
  auto shaped = llvm::make_filter_range(
      operands, [](Value v) { return !v.getType().isIndex(); });
  bool tensors = llvm::all_of(
      shaped, [](Value v) { return isa<RankedTensorType>(v.getType()); });
  bool buffers = llvm::all_of(
      shaped, [](Value v) { return isa<MemRefType>(v.getType()); });
  if (!tensors && !buffers)
    return op->emitOpError("takes all tensors or all memrefs");
  if (tensors != (op->getNumResults() == 1))
    return op->emitOpError("has one result on tensors and none on memrefs");
  if (tensors && op->getResult(0).getType() != init.getType())
    return op->emitOpError("result type must be the init's type");
  for (Value operand : shaped) {
    auto type = cast<ShapedType>(operand.getType());
    if (type.hasStaticShape() || anySymbolic)
      continue;
    bool symbolicImage = image && (operand == image || operand == init) &&
                         type.getRank() == 4 && !type.isDynamicDim(3);
    if (!symbolicImage)
      return op->emitOpError(image ? "needs static shapes but for the "
                                     "image's batch, height and width"
                                   : "needs static shapes");
  }
  return success();
}

void mlir::kiln::addKernelEffects(
    Operation *op, OpOperand &init, bool readsInit,
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  if (!isa<MemRefType>(init.get().getType()))
    return;
  for (OpOperand &operand : op->getOpOperands())
    if (&operand != &init && isa<MemRefType>(operand.get().getType()))
      effects.emplace_back(MemoryEffects::Read::get(), &operand,
                           SideEffects::DefaultResource::get());
  if (readsInit)
    effects.emplace_back(MemoryEffects::Read::get(), &init,
                         SideEffects::DefaultResource::get());
  effects.emplace_back(MemoryEffects::Write::get(), &init,
                       SideEffects::DefaultResource::get());
}
