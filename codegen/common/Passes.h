//===- Passes.h - the code generators' shared passes ------------*- C++ -*-===//

#ifndef KILN_CODEGEN_COMMON_PASSES_H
#define KILN_CODEGEN_COMMON_PASSES_H

#include "dialects/kiln/KilnAttributes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::kiln {

#define GEN_PASS_DECL
#include "codegen/common/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "codegen/common/Passes.h.inc"

/// The names the package and the runtime agree on.
inline constexpr llvm::StringLiteral kModelFunctionName = "kiln_model";
inline constexpr llvm::StringLiteral kEntryPointName = "kiln_entry";

/// Bytes one element of `type` takes in memory (booleans a byte), or 0 for
/// types that are not integers or floats.
inline int64_t elementBytes(Type type) {
  return type.isIntOrFloat() ? (type.getIntOrFloatBitWidth() + 7) / 8 : 0;
}

/// The model's function @main, or null after an error on `module`.
inline func::FuncOp lookupModelFunction(ModuleOp module) {
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (main && !main.isExternal())
    return main;
  module.emitError("the model has no function @main to compile");
  return {};
}

} // namespace mlir::kiln

#endif // KILN_CODEGEN_COMMON_PASSES_H
