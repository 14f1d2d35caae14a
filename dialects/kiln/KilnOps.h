//===- KilnOps.h - the kiln dialect -----------------------------*- C++ -*-===//

#ifndef KILN_DIALECTS_KILN_KILNOPS_H
#define KILN_DIALECTS_KILN_KILNOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/kiln/KilnDialect.h.inc"
#include "dialects/kiln/KilnEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/kiln/KilnAttrs.h.inc"

namespace mlir::kiln {
/// The eight AMX tile registers, the state the kiln.amx_* ops share.
struct AmxTilesResource : public SideEffects::Resource::Base<AmxTilesResource> {
  StringRef getName() final { return "AmxTiles"; }
};
} // namespace mlir::kiln

#define GET_OP_CLASSES
#include "dialects/kiln/KilnOps.h.inc"

namespace mlir {
class DialectRegistry;
namespace kiln {
/// Lets One-Shot Bufferize turn Kiln's tensor ops into their memref forms.
void registerKilnBufferizationModels(DialectRegistry &registry);

/// The floats quantization converts from and to: f32, f16, bf16.
bool isQuantizationFloat(Type type);

/// Whether `type` holds a quantized tensor's integers: 2, 4, 8 or 16 bits
/// (and 32 for `allowWide`: ONNX's dequantized biases), signed or
/// unsigned.
bool isQuantizedInteger(Type type, bool allowWide);
} // namespace kiln
} // namespace mlir

#endif // KILN_DIALECTS_KILN_KILNOPS_H
