//===- LinalgBuilders.h - small builders the op families share -*- C++ -*-===//

#ifndef KILN_CODEGEN_LINALG_LINALGBUILDERS_H
#define KILN_CODEGEN_LINALG_LINALGBUILDERS_H

#include "mlir/IR/Builders.h"

namespace mlir::kiln {

/// A float constant of `type`.
Value floatConstant(OpBuilder &b, Location loc, Type type, double value);

/// A tensor of `shape` filled with `value` (tensor.empty + linalg.fill).
Value filledTensor(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                   TypedAttr value, ValueRange dynamicSizes = {});

/// f(x) applied to every element of a statically shaped tensor.
Value mapElements(OpBuilder &b, Location loc, Value input,
                  function_ref<Value(OpBuilder &, Location, Value)> f);

} // namespace mlir::kiln

#endif // KILN_CODEGEN_LINALG_LINALGBUILDERS_H
