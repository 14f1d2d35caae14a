//===- Gemm.h - contractions that run as tiled GEMM kernels -----*- C++ -*-===//

#ifndef KILN_CODEGEN_CUDA_GEMM_H
#define KILN_CODEGEN_CUDA_GEMM_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <optional>
#include <string>

namespace mlir::kiln::cuda {

/// How the tiled GEMM kernels multiply: FP32 on the CUDA cores, or tensor
/// cores with TF32, FP16 or BF16 operands (FP32 accumulation), or signed
/// bytes (s32 accumulation: what integer products always use).
enum class GemmPrecision { Fp32, Tf32, Fp16, Bf16, Int8 };

std::optional<GemmPrecision> parseGemmPrecision(llvm::StringRef name);

/// One loop of a GEMM and the element stride each operand moves by along
/// it (zero where the operand does not depend on the loop).
struct GemmLoop {
  int64_t size = 1;
  int64_t a = 0, b = 0, c = 0;
};

/// A multiply-accumulate C[batch, m, n] += A[batch, m, k] * B[batch, k, n]
/// whose operands are addressed by affine sums of the loops: matrix
/// products in any layout, and convolutions as implicit GEMMs (M the
/// filters, N the images and output positions, K the channels and kernel
/// taps, B gathered from the padded input). Each of m, n, k and batch may
/// span several loops, outermost first.
struct GemmShape {
  llvm::SmallVector<GemmLoop> m, n, k, batch;
  /// Which of the op's two inputs is A: the second when that makes C
  /// contiguous along N, so that the kernels' stores coalesce.
  unsigned aInput = 0;
  /// Each operand's element offset from the constant terms of its indices.
  int64_t aOffset = 0, bOffset = 0, cOffset = 0;
  /// Positive when B is 4-bit weights in groups of this many k, packed as
  /// codegen/common/FourBitProducts.h lays them out (its strides above are
  /// then those of the [K, N] matrix they stand for).
  int64_t fourBitGroup = 0;
  /// With fourBitGroup, whether the integer form's weights are in the INT8
  /// tensor cores' fragment order (FourBitOrder::Fragments), which the
  /// kernel's warps read straight into registers.
  bool fourBitFragments = false;

  static int64_t size(llvm::ArrayRef<GemmLoop> loops);
  int64_t mSize() const { return size(m); }
  int64_t nSize() const { return size(n); }
  int64_t kSize() const { return size(k); }
  int64_t batchSize() const { return size(batch); }
};

/// Whether `op`'s body is `yield out + in0 * in1` (in either order; integer
/// inputs may be sign-extended to the accumulator's type first).
bool isMultiplyAccumulate(linalg::LinalgOp op);

/// The shape of `op` if it is a multiply-accumulate the GEMM kernel
/// computes (and large enough to be worth tiling), or a product by 4-bit
/// weights whose groups and K are multiples of 8, else nothing: it is then
/// lowered to loops like any other op.
std::optional<GemmShape> matchGemm(linalg::LinalgOp op);

} // namespace mlir::kiln::cuda

#endif // KILN_CODEGEN_CUDA_GEMM_H
