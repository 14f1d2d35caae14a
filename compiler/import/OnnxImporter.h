//===- OnnxImporter.h - ONNX ModelProto to the onnx dialect -----*- C++ -*-===//

#ifndef KILN_COMPILER_IMPORT_ONNXIMPORTER_H
#define KILN_COMPILER_IMPORT_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>

namespace mlir::kiln::onnx {

struct ImportOptions {
  /// Run ONNX shape inference (with data propagation) before importing, so
  /// that values the model leaves untyped get types.
  bool inferShapes = true;
};

/// Imports the ONNX model at `path` as a module holding one `func.func
/// @main`. Every problem is reported through the context's diagnostic
/// engine, located at the ONNX node it concerns, and the result is null.
/// Exceptions from libonnx and protobuf never escape.
OwningOpRef<ModuleOp> importOnnxModel(MLIRContext &context,
                                      const std::string &path,
                                      const ImportOptions &options = {});

} // namespace mlir::kiln::onnx

#endif // KILN_COMPILER_IMPORT_ONNXIMPORTER_H
