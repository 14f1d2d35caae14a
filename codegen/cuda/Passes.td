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

def CudaTransposeVectorWeightsPass
    : Pass<"kiln-cuda-transpose-vector-weights", "func::FuncOp"> {
  let summary = "Store the constant weights of matrix-vector products row by row";
  let description = [{
    Runs on linalg on tensors. A multiply-accumulate `linalg.generic` with
    a constant 2-D f32 weight indexed (k, n), k a reduction loop and n a
    parallel one, whose other operands' product over the loops the weight
    does not index is too narrow for the tiled GEMM kernels (fewer than 16
    rows, or a count known only at run time: a decoder's projections) runs
    with one warp per output: its lanes would read the weight down a
    column, 32 rows apart. The weight is stored transposed instead, (n, k),
    at compile time, so that each warp reads a contiguous row.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect"];
}

#endif // KILN_CODEGEN_CUDA_PASSES
