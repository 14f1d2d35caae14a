//===- KernelEmitter.h - loop nests to CUDA C++ -----------------*- C++ -*-===//

#ifndef KILN_CODEGEN_CUDA_KERNELEMITTER_H
#define KILN_CODEGEN_CUDA_KERNELEMITTER_H

#include "codegen/cuda/CudaProgram.h"
#include "codegen/cuda/Gemm.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"

namespace mlir::kiln::cuda {

/// Translates the model function of `module` — bufferized, memory-planned
/// and lowered to scf loops by buildCudaLoweringPipeline — into CUDA C++:
/// each top-level scf.parallel becomes a kernel with one thread per
/// iteration, each run of other top-level loops a single-thread kernel, and
/// views of the weights, workspace, inputs and outputs become address
/// arithmetic on the kernel's parameters, and the contractions left as
/// linalg ops become tiled GEMM kernels computing with `precision`. Reports
/// what it cannot translate on the op (so on its ONNX node) and fails.
FailureOr<CudaProgram>
emitCudaProgram(ModuleOp module, GemmPrecision precision = GemmPrecision::Fp32);

/// Registers the translation `kiln-to-cuda` for kiln-translate (with its
/// option --kiln-cuda-precision).
void registerCudaTranslation();

} // namespace mlir::kiln::cuda

#endif // KILN_CODEGEN_CUDA_KERNELEMITTER_H
