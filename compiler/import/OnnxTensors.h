//===- OnnxTensors.h - ONNX tensors and types as MLIR -----------*- C++ -*-===//

#ifndef KILN_COMPILER_IMPORT_ONNXTENSORS_H
#define KILN_COMPILER_IMPORT_ONNXTENSORS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Support/LogicalResult.h"

#include "onnx/onnx_pb.h"

#include <string>

namespace mlir::kiln::onnx {

/// Where a tensor's bytes come from and how they are kept.
struct TensorContext {
  /// The directory of the model file; external data must lie inside it.
  std::string modelDirectory;
  /// True for initializers: keep the bytes as a `dense_resource` blob.
  bool asResource = false;
};

/// The MLIR element type of an ONNX `TensorProto::DataType`, or null when
/// Kiln has none (string, float4, float6, float8e8m0, undefined).
Type convertElementType(MLIRContext *context, int32_t dataType);

/// The ONNX name of a data type ("float", "int64"), for messages.
std::string dataTypeName(int32_t dataType);

/// The MLIR element type for an ONNX element type name ("int64"), or null.
Type elementTypeFromName(MLIRContext *context, llvm::StringRef name);

/// Converts a tensor to an elements attribute. Fails with a message in
/// `error` when the type is unsupported, the data does not match the shape,
/// or external data cannot be read safely.
FailureOr<ElementsAttr> convertTensor(MLIRContext *context,
                                      const ::onnx::TensorProto &tensor,
                                      const TensorContext &where,
                                      std::string &error);

} // namespace mlir::kiln::onnx

#endif // KILN_COMPILER_IMPORT_ONNXTENSORS_H
