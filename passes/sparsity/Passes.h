//===- Passes.h - sparsity passes -------------------------------*- C++ -*-===//

#ifndef KILN_PASSES_SPARSITY_PASSES_H
#define KILN_PASSES_SPARSITY_PASSES_H

#include "dialects/kiln/KilnOps.h"
#include "dialects/onnx/OnnxOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir::kiln {

#define GEN_PASS_DECL
#include "passes/sparsity/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/sparsity/Passes.h.inc"

} // namespace mlir::kiln

#endif // KILN_PASSES_SPARSITY_PASSES_H
