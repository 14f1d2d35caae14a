//===- Passes.h - graph-stage passes ----------------------------*- C++ -*-===//

#ifndef KILN_PASSES_GRAPH_PASSES_H
#define KILN_PASSES_GRAPH_PASSES_H

#include "dialects/kiln/KilnOps.h"
#include "dialects/onnx/OnnxOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::kiln {

#define GEN_PASS_DECL
#include "passes/graph/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/graph/Passes.h.inc"

/// Adds to `function`'s pass manager what sizes an imported graph: folding,
/// then two rounds of shape inference and the folds its shapes enable
/// (Shape of a now-static value), whose constants fix more shapes (Reshape
/// targets), which reach static IR for the exporters' usual chains.
void addGraphSizingPasses(OpPassManager &function);

} // namespace mlir::kiln

#endif // KILN_PASSES_GRAPH_PASSES_H
