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

using namespace mlir::kiln::onnx::data_type;

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
