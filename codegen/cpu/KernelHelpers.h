//===- KernelHelpers.h - what the kernel lowerings share --------*- C++ -*-===//

#ifndef KILN_CODEGEN_CPU_KERNELHELPERS_H
#define KILN_CODEGEN_CPU_KERNELHELPERS_H

#include "dialects/kiln/KilnOps.h"

#include "mlir/IR/Builders.h"

namespace mlir::kiln {

/// `activation` applied to the float vector `x` (clip bounds for Clip).
Value applyActivation(OpBuilder &b, Location loc, Value x,
                      Activation activation, float clipMin, float clipMax);

/// `buffer` as a 1-D memref over the same elements (a contiguous copy
/// first if it has strides), for index arithmetic the kernels control.
Value flattenBuffer(OpBuilder &b, Location loc, Value buffer);

} // namespace mlir::kiln

#endif // KILN_CODEGEN_CPU_KERNELHELPERS_H
