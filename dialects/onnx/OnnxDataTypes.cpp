//===- OnnxDataTypes.cpp - ONNX element types as MLIR types ---------------===//

#include "dialects/onnx/OnnxDataTypes.h"
#include "dialects/onnx/OnnxOps.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::kiln::onnx;
using namespace mlir::kiln::onnx::data_type;

Value mlir::kiln::onnx::createCast(OpBuilder &builder, Location loc,
                                   Value input, Type element) {
  auto type = cast<RankedTensorType>(input.getType());
  if (type.getElementType() == element)
    return input;
  return builder.create<CastOp>(loc, type.clone(element), input,
                                /*round_mode=*/"up", /*saturate=*/1,
                                *dataTypeOf(element));
}

Type mlir::kiln::onnx::convertElementType(MLIRContext *context,
                                          int32_t dataType) {
  Builder b(context);
  auto unsignedInt = [&](unsigned width) {
    return IntegerType::get(context, width, IntegerType::Unsigned);
  };
  switch (dataType) {
  case Float: return b.getF32Type();
  case Double: return b.getF64Type();
  case Float16: return b.getF16Type();
  case BFloat16: return b.getBF16Type();
  case Int8: return b.getIntegerType(8);
  case Int16: return b.getIntegerType(16);
  case Int32: return b.getIntegerType(32);
  case Int64: return b.getIntegerType(64);
  case UInt8: return unsignedInt(8);
  case UInt16: return unsignedInt(16);
  case UInt32: return unsignedInt(32);
  case UInt64: return unsignedInt(64);
  case Bool: return b.getI1Type();
  case Complex64: return ComplexType::get(b.getF32Type());
  case Complex128: return ComplexType::get(b.getF64Type());
  case Float8E4M3FN: return b.getFloat8E4M3FNType();
  case Float8E4M3FNUZ: return b.getFloat8E4M3FNUZType();
  case Float8E5M2: return b.getFloat8E5M2Type();
  case Float8E5M2FNUZ: return b.getFloat8E5M2FNUZType();
  case Int4: return b.getIntegerType(4);
  case UInt4: return unsignedInt(4);
  case Int2: return b.getIntegerType(2);
  case UInt2: return unsignedInt(2);
  default: return {};
  }
}

std::string mlir::kiln::onnx::dataTypeName(int32_t dataType) {
  static const char *const names[] = {
      "undefined", "float", "uint8", "int8", "uint16", "int16", "int32",
      "int64", "string", "bool", "float16", "double", "uint32", "uint64",
      "complex64", "complex128", "bfloat16", "float8e4m3fn",
      "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz", "uint4", "int4",
      "float4e2m1", "float8e8m0", "uint2", "int2"};
  if (dataType >= 0 && dataType < (int32_t)std::size(names))
    return names[dataType];
  return "data type " + std::to_string(dataType);
}

Type mlir::kiln::onnx::elementTypeFromName(MLIRContext *context,
                                           llvm::StringRef name) {
  for (int32_t dataType = Float; dataType <= Int2; ++dataType)
    if (dataTypeName(dataType) == name)
      return convertElementType(context, dataType);
  return {};
}

std::optional<int32_t> mlir::kiln::onnx::dataTypeOf(Type element) {
  for (int32_t dataType = Float; dataType <= Int2; ++dataType)
    if (convertElementType(element.getContext(), dataType) == element)
      return dataType;
  return std::nullopt;
}
