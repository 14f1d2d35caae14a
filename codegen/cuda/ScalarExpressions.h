//===- ScalarExpressions.h - arith and math ops as C++ ----------*- C++ -*-===//

#ifndef KILN_CODEGEN_CUDA_SCALAREXPRESSIONS_H
#define KILN_CODEGEN_CUDA_SCALAREXPRESSIONS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/Operation.h"

#include <optional>
#include <string>

namespace mlir::kiln::cuda {

/// The C++ type of a value of `type` in registers (16-bit floats are held
/// as float); fails with an error on `op` for types the emitter lacks.
FailureOr<std::string> registerType(Type type, Operation *op);
/// The C++ type of an element in memory (16-bit floats as their bits).
FailureOr<std::string> storageType(Type type, Operation *op);
/// The unsigned integer type of `type`'s width.
std::string unsignedType(Type type);

FailureOr<std::string> constantExpression(arith::ConstantOp op);
/// The C++ expression of an arith or math op (a constant included), its
/// operands named by `name`; fails with an error on `op` for ops it lacks.
FailureOr<std::string> scalarExpression(Operation *op,
                                        function_ref<std::string(Value)> name);

/// An affine expression over loop variables as C++ (empty if it uses
/// symbols). Affine mod and floordiv round toward negative infinity.
std::string affineExpression(AffineExpr expr, ArrayRef<std::string> dims);
/// `combiner` (an associative float op) applied to two C++ values.
std::string combine(Operation *combiner, const std::string &a,
                    const std::string &b);

std::string join(ArrayRef<std::string> items, StringRef separator);
bool isHalf(Type type);
std::string integerLiteral(int64_t value);
std::optional<int64_t> parseInteger(const std::string &text);

} // namespace mlir::kiln::cuda

#endif // KILN_CODEGEN_CUDA_SCALAREXPRESSIONS_H
