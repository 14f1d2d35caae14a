//===- OnnxToLinalg.h - the onnx lowering patterns, by op family -*- C++ -*-===//
//
// Each op family lives in its own file and offers two things: whether an op
// of the family can be lowered (and if not, why, for the user), and the
// patterns that lower it.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_LINALG_ONNXTOLINALG_H
#define KILN_CODEGEN_LINALG_ONNXTOLINALG_H

#include "mlir/IR/PatternMatch.h"

#include <optional>
#include <string>

namespace mlir::kiln {

/// For an op the elementwise family handles: nullopt if it can be lowered,
/// else the reason it cannot. Not the family's op: "" (empty reason).
std::optional<std::string> checkElementwiseLowering(Operation *op);
bool isElementwiseOp(Operation *op);
void populateElementwiseLowering(RewritePatternSet &patterns);

/// MatMul (numpy semantics) and Gemm.
std::optional<std::string> checkMatMulLowering(Operation *op);
void populateMatMulLowering(RewritePatternSet &patterns);

/// onnx.Constant to arith.constant.
void populateConstantLowering(RewritePatternSet &patterns);

} // namespace mlir::kiln

#endif // KILN_CODEGEN_LINALG_ONNXTOLINALG_H
