//===- KernelForms.h - What every kernel op's verifier checks ---*- C++ -*-===//
//
// Kiln's kernel ops are in destination-passing style, on tensors (one
// result, the init's type) or on memrefs (none); besides their shaped
// operands they may take index scalars (counts known only at run time).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_KERNELFORMS_H
#define KILN_DIALECTS_KILN_KERNELFORMS_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::kiln {

/// One form (all shaped operands tensors, with the init's type as the one
/// result, or all memrefs without results) and static shapes; with
/// `image`, the NHWC input and init may have a symbolic batch, height and
/// width; with `anySymbolic`, any extent may be symbolic (the op checks
/// which). Index operands are scalars and take no part.
LogicalResult verifyKernelForm(Operation *op, ValueRange operands, Value init,
                               Value image = {}, bool anySymbolic = false);

/// Reads of the shaped inputs; a write (and with `readsInit` a read) of
/// the init; on memrefs only.
void addKernelEffects(
    Operation *op, OpOperand &init, bool readsInit,
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects);

/// A shaped value's extents and element type.
inline ArrayRef<int64_t> shapeOf(Value value) {
  return cast<ShapedType>(value.getType()).getShape();
}
inline Type elementOf(Value value) {
  return cast<ShapedType>(value.getType()).getElementType();
}

/// Whether two extents differ: both known, and not equal.
inline bool differ(int64_t a, int64_t b) {
  return !ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b;
}

} // namespace mlir::kiln

#endif // KILN_DIALECTS_KILN_KERNELFORMS_H
