//===- GemmKernel.h - the tiled GEMM kernels --------------------*- C++ -*-===//

#ifndef KILN_CODEGEN_CUDA_GEMMKERNEL_H
#define KILN_CODEGEN_CUDA_GEMMKERNEL_H

#include "codegen/cuda/Gemm.h"

#include <string>
#include <vector>

namespace mlir::kiln::cuda {

/// Where one operand's view is: `pointer` (a C++ expression of a byte
/// pointer) plus `offset` elements; GemmShape gives the rest of its layout.
struct GemmOperand {
  std::string pointer;
  int64_t offset = 0;
  /// The bytes `pointer` adds to its buffer's start (buffers are 16-byte
  /// aligned).
  int64_t byteShift = 0;
  /// "float", "f16", "bf16", "s8" or "s32": how elements are stored.
  std::string storage;
};

/// The scales and zero points of a 4-bit B (GemmShape::fourBitGroup).
struct GemmGroups {
  GemmOperand scales, zeros;
};

struct GemmKernelSource {
  std::string text;
  uint32_t blockThreads = 0;
  uint32_t grid[3] = {1, 1, 1};
};

/// The body of a kernel computing C += A * B over 64x64 tiles of C, staged
/// through shared memory: on the CUDA cores (FP32, 4x4 outputs per thread)
/// or the tensor cores (warps of 32x32 outputs with m16n8k8 TF32 or
/// m16n8k16 FP16/BF16 MMA, FP32 accumulation; m16n8k32 s8 MMA, s32
/// accumulation, for signed bytes into s32). A 4-bit B (`b` its nibbles,
/// `groups` its scales and zero points) is dequantized in registers into
/// FP16 tiles, whatever `precision` says. `signature` is the kernel's
/// declaration up to its opening brace.
GemmKernelSource gemmKernel(const std::string &signature,
                            const GemmShape &shape, const GemmOperand &a,
                            const GemmOperand &b, const GemmOperand &c,
                            GemmPrecision precision,
                            const GemmGroups *groups = nullptr);

} // namespace mlir::kiln::cuda

#endif // KILN_CODEGEN_CUDA_GEMMKERNEL_H
