//===- Pipelines.cpp - the stages of `kiln compile` -----------------------===//

#include "compiler/pipelines/Pipelines.h"

#include "codegen/linalg/Passes.h"
#include "passes/graph/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::kiln::buildGraphPipeline(OpPassManager &pm) {
  OpPassManager &function = pm.nest<func::FuncOp>();
  function.addPass(createCanonicalizerPass());
  function.addPass(createCSEPass());
  // Shapes found enable folds (Shape of a now-static value), whose constants
  // in turn fix more shapes (Reshape targets): two rounds reach static IR
  // for the exporters' usual chains.
  for (int round = 0; round < 2; ++round) {
    function.addPass(createGraphInferShapesPass());
    function.addPass(createCanonicalizerPass());
  }
}

void mlir::kiln::buildLinalgPipeline(OpPassManager &pm) {
  buildGraphPipeline(pm);
  OpPassManager &function = pm.nest<func::FuncOp>();
  function.addPass(createLowerOnnxToLinalgPass());
  function.addPass(createCanonicalizerPass());
  function.addPass(createCSEPass());
}

void mlir::kiln::registerPipelines() {
  registerKilnGraphPasses();
  registerKilnCodegenLinalgPasses();
  PassPipelineRegistration<>(
      "kiln-linalg-pipeline",
      "The tensor stage: the graph stage, then onnx lowered to linalg",
      buildLinalgPipeline);
  PassPipelineRegistration<>(
      "kiln-graph-pipeline",
      "The graph stage: fold constants and canonicalize the onnx dialect",
      buildGraphPipeline);
}
