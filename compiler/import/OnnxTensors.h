//===- OnnxTensors.h - ONNX tensors and types as MLIR -----------*- C++ -*-===//

#ifndef KILN_COMPILER_IMPORT_ONNXTENSORS_H
#define KILN_COMPILER_IMPORT_ONNXTENSORS_H

#include "dialects/onnx/OnnxDataTypes.h"

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

/// Converts a tensor to an elements attribute. Fails with a message in
/// `error` when the type is unsupported, the data does not match the shape,
/// or external data cannot be read safely.
FailureOr<ElementsAttr> convertTensor(MLIRContext *context,
                                      const ::onnx::TensorProto &tensor,
                                      const TensorContext &where,
                                      std::string &error);

} // namespace mlir::kiln::onnx

#endif // KILN_COMPILER_IMPORT_ONNXTENSORS_H
