//===- AmxConv.h - the packed convolution on AMX tiles ----------*- C++ -*-===//

#ifndef KILN_CODEGEN_CPU_AMXCONV_H
#define KILN_CODEGEN_CPU_AMXCONV_H

#include "dialects/kiln/KilnOps.h"

#include "mlir/IR/Builders.h"

namespace mlir::kiln {

/// The output pixels below which the tiles idle: one tile's rows.
constexpr int64_t kAmxLeastPixels = 32;

/// Whether the memref form of `op` runs on AMX tiles: bf16 operands, its
/// filter tile a multiple of 16, a window (KH * KW * C) that is whole
/// blocks of 32 values or at most 4,096, and at least 32 output pixels (or
/// a symbolic count).
bool amxCanRun(PackedConv2DOp op);

/// Emits the AMX kernel of `op` (amxCanRun) at `b`'s insertion point.
void emitAmxConv(PackedConv2DOp op, OpBuilder &b);

} // namespace mlir::kiln

#endif // KILN_CODEGEN_CPU_AMXCONV_H
