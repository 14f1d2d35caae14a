//===- Passes.h - quantization passes ---------------------------*- C++ -*-===//

#ifndef KILN_PASSES_QUANT_PASSES_H
#define KILN_PASSES_QUANT_PASSES_H

#include "dialects/kiln/KilnOps.h"
#include "dialects/onnx/OnnxOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir::kiln {

#define GEN_PASS_DECL
#include "passes/quant/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/quant/Passes.h.inc"

} // namespace mlir::kiln

#endif // KILN_PASSES_QUANT_PASSES_H
