//===- Passes.h - the CUDA target's passes ----------------------*- C++ -*-===//

#ifndef KILN_CODEGEN_CUDA_PASSES_H
#define KILN_CODEGEN_CUDA_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"

namespace mlir::kiln {

/// The largest head size CUDA's fused attention kernel
/// (kiln/cuda/attention.h) takes, with f32 keys and values: a lane holds at
/// most 8 channels of each output row. Other attentions are lowered to
/// linalg before bufferization.
constexpr int64_t kMostFusedAttentionDepth = 256;

#define GEN_PASS_DECL
#include "codegen/cuda/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "codegen/cuda/Passes.h.inc"

} // namespace mlir::kiln

#endif // KILN_CODEGEN_CUDA_PASSES_H
