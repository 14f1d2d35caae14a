//===- kiln-translate.cpp - mlir-translate with Kiln's translations -------===//
//
// `kiln-translate --kiln-to-cuda` prints the CUDA C++ of a module that
// `kiln-opt --kiln-cuda-lowering-pipeline` produced, so lit tests can check
// the kernel emitter on its own.
//
//===----------------------------------------------------------------------===//

#include "codegen/cuda/KernelEmitter.h"

#include "mlir/Support/LogicalResult.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"

int main(int argc, char **argv) {
  mlir::kiln::cuda::registerCudaTranslation();
  return mlir::failed(
      mlir::mlirTranslateMain(argc, argv, "Kiln translation driver\n"));
}
