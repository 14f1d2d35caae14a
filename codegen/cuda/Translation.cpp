//===- Translation.cpp - kiln-translate --kiln-to-cuda --------------------===//

#include "codegen/cuda/KernelEmitter.h"
#include "dialects/kiln/KilnOps.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"

#include "mlir/Tools/mlir-translate/Translation.h"

#include "llvm/Support/CommandLine.h"

using namespace mlir;

static llvm::cl::opt<std::string> cudaPrecision(
    "kiln-cuda-precision",
    llvm::cl::desc("The GEMM kernels' precision: fp32, tf32, fp16 or bf16"),
    llvm::cl::init("fp32"));

void mlir::kiln::cuda::registerCudaTranslation() {
  TranslateFromMLIRRegistration registration(
      "kiln-to-cuda",
      "The CUDA C++ of a module lowered by kiln-cuda-lowering-pipeline",
      [](Operation *op, raw_ostream &output) -> LogicalResult {
        auto module = dyn_cast<ModuleOp>(op);
        if (!module)
          return op->emitError("expected a module");
        std::optional<GemmPrecision> precision =
            parseGemmPrecision(cudaPrecision);
        if (!precision)
          return module.emitError("unknown --kiln-cuda-precision ")
                 << cudaPrecision;
        FailureOr<CudaProgram> program = emitCudaProgram(module, *precision);
        if (failed(program))
          return failure();
        output << program->source;
        return success();
      },
      [](DialectRegistry &registry) {
        registerAllDialects(registry);
        registerAllExtensions(registry);
        // Ops the emitter takes whole (kiln.attention).
        registry.insert<kiln::KilnDialect>();
      });
}
