//===- Translation.cpp - kiln-translate --kiln-to-cuda --------------------===//

#include "codegen/cuda/KernelEmitter.h"

#include "compiler/pipelines/Pipelines.h"

#include "mlir/Tools/mlir-translate/Translation.h"

using namespace mlir;

void mlir::kiln::cuda::registerCudaTranslation() {
  TranslateFromMLIRRegistration registration(
      "kiln-to-cuda",
      "The CUDA C++ of a module lowered by kiln-cuda-lowering-pipeline",
      [](Operation *op, raw_ostream &output) -> LogicalResult {
        auto module = dyn_cast<ModuleOp>(op);
        if (!module)
          return op->emitError("expected a module");
        FailureOr<CudaProgram> program = emitCudaProgram(module);
        if (failed(program))
          return failure();
        output << program->source;
        return success();
      },
      [](DialectRegistry &registry) {
        registerPipelineDialects(registry);
      });
}
