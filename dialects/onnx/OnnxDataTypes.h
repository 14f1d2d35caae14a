//===- OnnxDataTypes.h - ONNX element types as MLIR types -------*- C++ -*-===//

#ifndef KILN_DIALECTS_ONNX_ONNXDATATYPES_H
#define KILN_DIALECTS_ONNX_ONNXDATATYPES_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include <optional>
#include <string>

namespace mlir::kiln::onnx {

namespace data_type {
/// TensorProto.DataType values; the Debian protobuf predates the newer ones.
enum DataType : int32_t {
  Undefined = 0, Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5,
  Int32 = 6, Int64 = 7, String = 8, Bool = 9, Float16 = 10, Double = 11,
  UInt32 = 12, UInt64 = 13, Complex64 = 14, Complex128 = 15, BFloat16 = 16,
  Float8E4M3FN = 17, Float8E4M3FNUZ = 18, Float8E5M2 = 19,
  Float8E5M2FNUZ = 20, UInt4 = 21, Int4 = 22, Float4E2M1 = 23,
  Float8E8M0 = 24, UInt2 = 25, Int2 = 26,
};
} // namespace data_type

/// The MLIR element type of an ONNX `TensorProto::DataType`, or null when
/// Kiln has none (string, float4, float6, float8e8m0, undefined).
Type convertElementType(MLIRContext *context, int32_t dataType);

/// The ONNX `TensorProto::DataType` of an MLIR element type, or nullopt.
std::optional<int32_t> dataTypeOf(Type element);

/// An onnx.Cast of the tensor `input` to elements of `element` (rounded
/// to nearest even), or `input` when it has them already.
Value createCast(OpBuilder &builder, Location loc, Value input, Type element);

/// The ONNX name of a data type ("float", "int64"), for messages.
std::string dataTypeName(int32_t dataType);

/// The MLIR element type for an ONNX element type name ("int64"), or null.
Type elementTypeFromName(MLIRContext *context, llvm::StringRef name);

} // namespace mlir::kiln::onnx

#endif // KILN_DIALECTS_ONNX_ONNXDATATYPES_H
