//===- OnnxTensors.cpp - ONNX tensors and types as MLIR -------------------===//

#include "compiler/import/OnnxTensors.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::kiln::onnx;

namespace {

/// TensorProto.DataType values; the Debian protobuf predates the newer ones.
enum DataType : int32_t {
  Undefined = 0, Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5,
  Int32 = 6, Int64 = 7, String = 8, Bool = 9, Float16 = 10, Double = 11,
  UInt32 = 12, UInt64 = 13, Complex64 = 14, Complex128 = 15, BFloat16 = 16,
  Float8E4M3FN = 17, Float8E4M3FNUZ = 18, Float8E5M2 = 19,
  Float8E5M2FNUZ = 20, UInt4 = 21, Int4 = 22, Float4E2M1 = 23,
  Float8E8M0 = 24, UInt2 = 25, Int2 = 26,
};

/// Bits one element occupies in ONNX's raw layout.
unsigned storageBits(int32_t dataType) {
  switch (dataType) {
  case Bool: case UInt8: case Int8: case Float8E4M3FN: case Float8E4M3FNUZ:
  case Float8E5M2: case Float8E5M2FNUZ: return 8;
  case UInt16: case Int16: case Float16: case BFloat16: return 16;
  case Float: case Int32: case UInt32: return 32;
  case Int64: case UInt64: case Double: case Complex64: return 64;
  case Complex128: return 128;
  case UInt4: case Int4: return 4;
  case UInt2: case Int2: return 2;
  default: return 0;
  }
}

std::string shapeString(ArrayRef<int64_t> shape) {
  if (shape.empty())
    return "scalar";
  std::string text;
  for (int64_t dim : shape)
    text += (text.empty() ? "" : "x") + std::to_string(dim);
  return text;
}

FailureOr<std::string> escapes(const std::string &location,
                               std::string &error) {
  error = "external data path '" + location +
          "' escapes the model's directory";
  return failure();
}

/// Reads `length` bytes at `offset` of an external data file, refusing any
/// path that leaves the model's directory.
FailureOr<std::string> readExternalData(const ::onnx::TensorProto &tensor,
                                        const TensorContext &where,
                                        std::string &error) {
  std::string location;
  uint64_t offset = 0, length = 0;
  bool hasLength = false;
  for (const auto &entry : tensor.external_data()) {
    if (entry.key() == "location")
      location = entry.value();
    else if (entry.key() == "offset" || entry.key() == "length") {
      uint64_t value;
      if (llvm::StringRef(entry.value()).getAsInteger(10, value)) {
        error = "external data " + entry.key() + " '" + entry.value() +
                "' is not a number";
        return failure();
      }
      (entry.key() == "offset" ? offset : length) = value;
      hasLength |= entry.key() == "length";
    }
  }
  if (location.empty()) {
    error = "external data has no location";
    return failure();
  }
  if (llvm::sys::path::is_absolute(location) ||
      llvm::sys::path::has_root_name(location)) {
    error = "external data path '" + location +
            "' is absolute; it must be relative to the model's directory";
    return failure();
  }
  // Refuse escapes by the path's text first, then by where symlinks lead.
  llvm::SmallString<256> lexical(location);
  llvm::sys::path::remove_dots(lexical, /*remove_dot_dot=*/true);
  if (lexical.starts_with(".."))
    return escapes(location, error);
  llvm::SmallString<256> directory, joined, resolved;
  if (llvm::sys::fs::real_path(where.modelDirectory, directory)) {
    error = "cannot resolve the model directory for external data";
    return failure();
  }
  joined = directory;
  llvm::sys::path::append(joined, location);
  if (llvm::sys::fs::real_path(joined, resolved)) {
    error = "external data file '" + location + "' does not exist";
    return failure();
  }
  llvm::StringRef inside = resolved;
  if (!inside.starts_with(directory) ||
      (inside.size() > directory.size() &&
       !llvm::sys::path::is_separator(inside[directory.size()])))
    return escapes(location, error);
  uint64_t fileSize = 0;
  if (llvm::sys::fs::file_size(resolved, fileSize) || offset > fileSize ||
      (hasLength && length > fileSize - offset)) {
    error = "external data '" + location + "' is shorter than offset " +
            std::to_string(offset) + " + length " + std::to_string(length);
    return failure();
  }
  if (!hasLength)
    length = fileSize - offset;
  auto buffer = llvm::MemoryBuffer::getFileSlice(resolved, length, offset,
                                                 /*IsVolatile=*/false);
  if (!buffer) {
    error = "cannot read external data '" + location +
            "': " + buffer.getError().message();
    return failure();
  }
  return (*buffer)->getBuffer().str();
}

/// The tensor's bytes in ONNX's raw little-endian layout, from whichever
/// field holds them.
FailureOr<std::string> rawBytes(const ::onnx::TensorProto &tensor,
                                const TensorContext &where, unsigned bits,
                                std::string &error) {
  if (tensor.data_location() == ::onnx::TensorProto::EXTERNAL)
    return readExternalData(tensor, where, error);
  if (tensor.has_raw_data())
    return tensor.raw_data();
  std::string bytes;
  auto append = [&](const void *data, size_t size) {
    bytes.append(static_cast<const char *>(data), size);
  };
  switch (tensor.data_type()) {
  case Float: case Complex64:
    append(tensor.float_data().data(), tensor.float_data_size() * 4);
    break;
  case Double: case Complex128:
    append(tensor.double_data().data(), tensor.double_data_size() * 8);
    break;
  case Int64:
    append(tensor.int64_data().data(), tensor.int64_data_size() * 8);
    break;
  case UInt32:
    for (uint64_t value : tensor.uint64_data()) {
      uint32_t narrow = value;
      append(&narrow, 4);
    }
    break;
  case UInt64:
    append(tensor.uint64_data().data(), tensor.uint64_data_size() * 8);
    break;
  case Int32:
    append(tensor.int32_data().data(), tensor.int32_data_size() * 4);
    break;
  default:
    // Narrow types keep one element (or, below 8 bits, one packed byte) in
    // the low bits of each int32_data entry.
    for (int32_t value : tensor.int32_data()) {
      uint32_t bitsValue = value;
      append(&bitsValue, bits >= 16 ? 2 : 1);
    }
    break;
  }
  return bytes;
}

} // namespace

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

FailureOr<ElementsAttr>
mlir::kiln::onnx::convertTensor(MLIRContext *context,
                                const ::onnx::TensorProto &tensor,
                                const TensorContext &where,
                                std::string &error) {
  int32_t dataType = tensor.data_type();
  Type elementType = convertElementType(context, dataType);
  if (!elementType) {
    error = "has element type " + dataTypeName(dataType) +
            ", which Kiln does not support";
    return failure();
  }
  SmallVector<int64_t> shape;
  int64_t count = 1;
  for (int64_t dim : tensor.dims()) {
    if (dim < 0) {
      error = "has a negative dimension " + std::to_string(dim);
      return failure();
    }
    if (dim != 0 && count > (int64_t(1) << 40) / dim) {
      error = "is too large (more than 2^40 elements)";
      return failure();
    }
    count *= dim;
    shape.push_back(dim);
  }
  auto type = RankedTensorType::get(shape, elementType);
  unsigned bits = storageBits(dataType);
  FailureOr<std::string> bytes = rawBytes(tensor, where, bits, error);
  if (failed(bytes))
    return failure();
  uint64_t expected = (uint64_t(count) * bits + 7) / 8;
  if (bytes->size() != expected) {
    error = "has " + std::to_string(bytes->size()) +
            " bytes of data, but its shape " + shapeString(shape) + " of " +
            dataTypeName(dataType) + " needs " + std::to_string(expected);
    return failure();
  }

  // Booleans and sub-byte integers are unpacked to one value per element,
  // the layout MLIR's dense attributes use for them.
  if (bits < 8 || dataType == Bool) {
    SmallVector<APInt> values;
    values.reserve(count);
    unsigned width = elementType.getIntOrFloatBitWidth();
    bool isSigned = dataType == Int4 || dataType == Int2;
    for (int64_t i = 0; i < count; ++i) {
      uint8_t byte = (*bytes)[i * bits / 8];
      uint64_t field =
          bits == 8 ? (byte != 0) : (byte >> ((i * bits) % 8)) & ((1u << bits) - 1);
      values.push_back(APInt(width, field, isSigned));
    }
    return cast<ElementsAttr>(DenseElementsAttr::get(type, values));
  }

  ArrayRef<char> data(bytes->data(), bytes->size());
  if (where.asResource && count > 0) {
    auto blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
        data, alignof(std::max_align_t));
    // Blob names are printed as bare keys: keep them identifiers.
    std::string name = tensor.name().empty() ? "tensor" : tensor.name();
    for (char &c : name)
      if (!llvm::isAlnum(c) && c != '_' && c != '.')
        c = '_';
    if (!llvm::isAlpha(name[0]) && name[0] != '_')
      name = "t_" + name;
    return cast<ElementsAttr>(
        DenseResourceElementsAttr::get(type, name, std::move(blob)));
  }
  bool isSplat = false;
  if (!DenseElementsAttr::isValidRawBuffer(type, data, isSplat)) {
    error = "has data MLIR cannot lay out for " + dataTypeName(dataType);
    return failure();
  }
  return cast<ElementsAttr>(DenseElementsAttr::getFromRawBuffer(type, data));
}
