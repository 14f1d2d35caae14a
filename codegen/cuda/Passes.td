//===- Passes.td - the CUDA target's passes ----------------*- tablegen -*-===//

#ifndef KILN_CODEGEN_CUDA_PASSES
#define KILN_CODEGEN_CUDA_PASSES

include "mlir/Pass/PassBase.td"

def CudaLowerToLoopsPass : Pass<"kiln-cuda-lower-to-loops", "func::FuncOp"> {
  let summary = "Lower linalg ops on buffers to loops, except GEMMs and warp reductions";
  let description = [{
    Lowers every linalg op to an scf.parallel nest over its parallel
    dimensions (one GPU thread per iteration, reductions sequential inside)
    — except the contractions the CUDA emitter turns into tiled GEMM kernels
    (codegen/cuda/Gemm.h) and the reductions it gives one warp per output
    (codegen/cuda/WarpReduction.h), which stay linalg ops.
  }];
  let dependentDialects = ["scf::SCFDialect", "memref::MemRefDialect",
                           "arith::ArithDialect"];
}

#endif // KILN_CODEGEN_CUDA_PASSES
