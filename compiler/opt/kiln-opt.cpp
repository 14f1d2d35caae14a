//===- kiln-opt.cpp - mlir-opt with Kiln's dialects and passes ------------===//

#include "compiler/pipelines/Pipelines.h"
#include "dialects/onnx/OnnxOps.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::kiln::registerPipelines();

  mlir::DialectRegistry registry;
  mlir::kiln::registerPipelineDialects(registry);
  registry.insert<mlir::kiln::onnx::OnnxDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Kiln optimizer driver\n", registry));
}
