//===- NodeNames.h - the ONNX nodes behind generated code -------*- C++ -*-===//

#ifndef KILN_CODEGEN_COMMON_NODENAMES_H
#define KILN_CODEGEN_COMMON_NODENAMES_H

#include "mlir/IR/Operation.h"

#include <string>

namespace mlir::kiln {

/// The ONNX nodes `ops` (and the ops nested in them) came from, as their
/// locations name them, in order and without repeats, joined with ", " and
/// cut with ", ..." past about 200 characters. Empty when none is named.
std::string nodeNamesOf(ArrayRef<Operation *> ops);

} // namespace mlir::kiln

#endif // KILN_CODEGEN_COMMON_NODENAMES_H
