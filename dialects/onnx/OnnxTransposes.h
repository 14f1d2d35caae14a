//===- OnnxTransposes.h - making and reading onnx.Transpose -----*- C++ -*-===//

#ifndef KILN_DIALECTS_ONNX_ONNXTRANSPOSES_H
#define KILN_DIALECTS_ONNX_ONNXTRANSPOSES_H

#include "dialects/onnx/OnnxOps.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::kiln {

/// NHWC -> NCHW and NCHW -> NHWC.
inline constexpr int64_t kToChannelsFirst[] = {0, 3, 1, 2};
inline constexpr int64_t kToChannelsLast[] = {0, 2, 3, 1};

/// An onnx.Transpose of `value` by `perm`, with its result type.
Value createTranspose(OpBuilder &builder, Location loc, Value value,
                      ArrayRef<int64_t> perm);

/// The Transpose defining `value`, when its input is ranked; else null.
onnx::TransposeOp transposeOf(Value value);

/// The permutation of `op` (the reversal when it has no `perm`).
SmallVector<int64_t> permOf(onnx::TransposeOp op);

} // namespace mlir::kiln

#endif // KILN_DIALECTS_ONNX_ONNXTRANSPOSES_H
