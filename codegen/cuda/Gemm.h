//===- Gemm.h - contractions that run as tiled GEMM kernels -----*- C++ -*-===//

#ifndef KILN_CODEGEN_CUDA_GEMM_H
#define KILN_CODEGEN_CUDA_GEMM_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <optional>
#include <string>

namespace mlir::kiln::cuda {

/// How the tiled GEMM kernels multiply: FP32 on the CUDA cores, or tensor
/// cores with TF32, FP16 or BF16 operands (always FP32 accumulation).
enum class GemmPrecision { Fp32, Tf32, Fp16, Bf16 };

std::optional<GemmPrecision> parseGemmPrecision(llvm::StringRef name);

/// A linalg contraction C[batch, m, n] += A[batch, m, k] * B[batch, k, n]
/// (any layout, transposes and broadcasts in the indexing maps) with static
/// sizes and float operands of one type. Several m (or n) loops that walk
/// their operands contiguously — a Linear layer applied to [batch, tokens,
/// features] — count as one.
struct GemmShape {
  int64_t m = 0, n = 0, k = 0;
  /// The loops of the batch dimensions, and every loop's size.
  llvm::SmallVector<unsigned> batchLoops;
  llvm::SmallVector<int64_t> loopSizes;
  /// Where an operand's elements are, in elements from its view: a fixed
  /// offset (constant indices), the stride along m, n and k, and the
  /// stride of each loop (used for the batch loops).
  struct Layout {
    int64_t offset = 0;
    int64_t m = 0, n = 0, k = 0;
    llvm::SmallVector<int64_t> loops;
  };
  Layout a, b, c;
  int64_t batch() const;
};

/// The shape of `op` if it is a contraction the GEMM kernel computes (and
/// large enough to be worth tiling), else nothing: it is then lowered to
/// loops like any other op.
std::optional<GemmShape> matchGemm(linalg::LinalgOp op);

} // namespace mlir::kiln::cuda

#endif // KILN_CODEGEN_CUDA_GEMM_H
