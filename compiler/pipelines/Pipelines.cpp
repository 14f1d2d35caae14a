//===- Pipelines.cpp - the stages of `kiln compile` -----------------------===//

#include "compiler/pipelines/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::kiln::buildGraphPipeline(OpPassManager &pm) {
  OpPassManager &function = pm.nest<func::FuncOp>();
  function.addPass(createCanonicalizerPass());
  function.addPass(createCSEPass());
  function.addPass(createCanonicalizerPass());
}

void mlir::kiln::registerPipelines() {
  PassPipelineRegistration<>(
      "kiln-graph-pipeline",
      "The graph stage: fold constants and canonicalize the onnx dialect",
      buildGraphPipeline);
}
