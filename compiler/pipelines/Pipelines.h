//===- Pipelines.h - the stages of `kiln compile` ---------------*- C++ -*-===//

#ifndef KILN_COMPILER_PIPELINES_PIPELINES_H
#define KILN_COMPILER_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"

namespace mlir::kiln {

/// The graph stage: constant folding and canonicalization of the onnx
/// dialect, so that the shape arithmetic of static models folds away.
void buildGraphPipeline(OpPassManager &pm);

/// The tensor stage: the graph stage, then every onnx op lowered to linalg,
/// tensor, arith and math.
void buildLinalgPipeline(OpPassManager &pm);

/// Registers every pipeline with the pass registry (`kiln-opt
/// --kiln-graph-pipeline`).
void registerPipelines();

} // namespace mlir::kiln

#endif // KILN_COMPILER_PIPELINES_PIPELINES_H
