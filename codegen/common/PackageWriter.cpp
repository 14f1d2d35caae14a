//===- PackageWriter.cpp - writing .kiln packages -------------------------===//

#include "codegen/common/PackageWriter.h"
#include "codegen/common/Passes.h"

#include "kiln/runtime.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace mlir;
using namespace mlir::kiln;
namespace package = ::kiln::package;

//===----------------------------------------------------------------------===//
// Signature

namespace {

/// The runtime's element type for `type`, or 0.
uint32_t dtypeOf(Type type) {
  if (type.isF32())
    return KILN_DTYPE_FLOAT32;
  if (type.isF64())
    return KILN_DTYPE_FLOAT64;
  if (type.isF16())
    return KILN_DTYPE_FLOAT16;
  if (type.isBF16())
    return KILN_DTYPE_BFLOAT16;
  if (type.isInteger(1))
    return KILN_DTYPE_BOOL;
  auto integer = dyn_cast<IntegerType>(type);
  if (!integer)
    return 0;
  bool isUnsigned = integer.isUnsigned();
  switch (integer.getWidth()) {
  case 8:
    return isUnsigned ? KILN_DTYPE_UINT8 : KILN_DTYPE_INT8;
  case 16:
    return isUnsigned ? KILN_DTYPE_UINT16 : KILN_DTYPE_INT16;
  case 32:
    return isUnsigned ? KILN_DTYPE_UINT32 : KILN_DTYPE_INT32;
  case 64:
    return isUnsigned ? KILN_DTYPE_UINT64 : KILN_DTYPE_INT64;
  }
  return 0;
}

LogicalResult describeTensor(func::FuncOp function, Type type,
                             DictionaryAttr attrs, const char *role,
                             size_t index,
                             package::TensorSignature &signature) {
  auto name = attrs ? attrs.getAs<StringAttr>("onnx.name") : StringAttr();
  signature.name = name ? name.str() : role + std::to_string(index);
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return function.emitError() << role << " '" << signature.name
                                << "' has no known rank (" << type
                                << "); the CPU target needs one";
  signature.dtype = dtypeOf(tensor.getElementType());
  if (!signature.dtype)
    return function.emitError()
           << role << " '" << signature.name << "' has element type "
           << tensor.getElementType() << ", which the runtime cannot pass";
  for (int64_t dim : tensor.getShape())
    signature.shape.push_back(ShapedType::isDynamic(dim) ? -1 : dim);
  signature.dimNames.assign(tensor.getRank(), "");
  auto names = attrs ? attrs.getAs<ArrayAttr>("onnx.dim_params") : ArrayAttr();
  if (names && (int64_t)names.size() == tensor.getRank())
    for (auto [dim, dimName] : llvm::enumerate(names))
      if (auto text = dyn_cast<StringAttr>(dimName);
          text && ShapedType::isDynamic(tensor.getDimSize(dim)))
        signature.dimNames[dim] = text.str();
  return success();
}

} // namespace

LogicalResult mlir::kiln::describeSignature(func::FuncOp function,
                                            package::Manifest &manifest) {
  FunctionType type = function.getFunctionType();
  manifest.inputs.clear();
  manifest.outputs.resize(type.getNumResults());
  // The session cache's arguments follow the model's inputs; the session
  // passes them, so the signature leaves them out.
  for (auto [index, input] : llvm::enumerate(type.getInputs())) {
    if (function.getArgAttr(index, kKvCacheLengthAttrName))
      continue;
    if (auto state = function.getArgAttrOfType<DictionaryAttr>(
            index, kKvCacheStateAttrName)) {
      auto tensor = cast<ShapedType>(input);
      auto boundsPage = state.getAs<IntegerAttr>("page_bounds");
      manifest.cache.states.push_back({state.getAs<StringAttr>("past").str(),
                                       state.getAs<StringAttr>("present").str(),
                                       dtypeOf(tensor.getElementType()),
                                       std::vector<int64_t>(tensor.getShape()),
                                       boundsPage ? boundsPage.getInt() : 0});
      continue;
    }
    manifest.inputs.emplace_back();
    if (failed(describeTensor(function, input, function.getArgAttrDict(index),
                              "input", index, manifest.inputs.back())))
      return failure();
  }
  for (auto [index, output] : llvm::enumerate(type.getResults()))
    if (failed(describeTensor(function, output,
                              function.getResultAttrDict(index), "output",
                              index, manifest.outputs[index])))
      return failure();
  if (auto cache = function->getAttrOfType<DictionaryAttr>(kKvCacheAttrName)) {
    manifest.cache.capacity = cache.getAs<IntegerAttr>("capacity").getInt();
    manifest.cache.pageTokens = cache.getAs<IntegerAttr>("page").getInt();
    manifest.cache.pastDim = cache.getAs<StringAttr>("past_dim").str();
    manifest.cache.totalDim = cache.getAs<StringAttr>("total_dim").str();
    manifest.cache.batchDim = cache.getAs<StringAttr>("batch_dim").str();
    if (auto newDim = cache.getAs<StringAttr>("new_dim"))
      manifest.cache.newDim = newDim.str();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Weights

namespace {

/// Writes `value` as the code reads it: natural width, little-endian, one
/// byte per element for booleans and sub-byte integers.
LogicalResult writeElements(Operation *module, ElementsAttr value, char *out,
                            uint64_t bytes) {
  Type element = value.getElementType();
  unsigned width = element.getIntOrFloatBitWidth();
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob || width < 8 || blob->getData().size() != bytes)
      return module->emitError() << "the weight '"
                                 << resource.getRawHandle().getKey()
                                 << "' has no data of the expected size";
    std::memcpy(out, blob->getData().data(), bytes);
    return success();
  }
  auto dense = dyn_cast<DenseElementsAttr>(value);
  if (!dense)
    return module->emitError("a weight is neither dense nor a resource");
  if (width < 8) {
    for (auto [index, element] : llvm::enumerate(dense.getValues<APInt>()))
      out[index] = static_cast<char>(element.getZExtValue());
    return success();
  }
  ArrayRef<char> raw = dense.getRawData();
  size_t elementBytes = width / 8;
  if (dense.isSplat()) {
    for (uint64_t offset = 0; offset < bytes; offset += elementBytes)
      std::memcpy(out + offset, raw.data(), elementBytes);
    return success();
  }
  if (raw.size() != bytes)
    return module->emitError("a weight's data does not match its type");
  std::memcpy(out, raw.data(), bytes);
  return success();
}

} // namespace

FailureOr<std::string> mlir::kiln::layOutWeights(Operation *module,
                                                 ArrayAttr layout) {
  std::string section;
  for (Attribute entry : layout) {
    auto dictionary = dyn_cast<DictionaryAttr>(entry);
    auto offset = dictionary ? dictionary.getAs<IntegerAttr>("offset")
                             : IntegerAttr();
    auto value = dictionary ? dictionary.getAs<ElementsAttr>("value")
                            : ElementsAttr();
    if (!offset || !value)
      return module->emitError("malformed weights layout entry ") << entry;
    uint64_t bytes =
        value.getNumElements() * elementBytes(value.getElementType());
    uint64_t start = offset.getInt();
    if (start < section.size())
      return module->emitError("overlapping weights in the layout");
    section.resize(start + bytes, '\0');
    if (failed(writeElements(module, value, section.data() + start, bytes)))
      return failure();
  }
  return section;
}

//===----------------------------------------------------------------------===//
// The file

LogicalResult mlir::kiln::writePackage(llvm::StringRef path,
                                       const package::Manifest &manifest,
                                       llvm::ArrayRef<PackageSection> code,
                                       llvm::StringRef weights,
                                       std::string &error) {
  std::string manifestBytes = package::serializeManifest(manifest);
  struct Section {
    package::SectionKind kind;
    llvm::StringRef bytes;
    uint64_t alignment;
  };
  std::vector<Section> sections = {
      {package::SectionKind::Manifest, manifestBytes, 8}};
  for (const PackageSection &section : code)
    sections.push_back({section.kind, section.bytes, package::kPageAlignment});
  sections.push_back(
      {package::SectionKind::Weights, weights, package::kPageAlignment});

  std::vector<package::SectionEntry> table;
  uint64_t offset = sizeof(package::FileHeader) +
                    sections.size() * sizeof(package::SectionEntry);
  for (const Section &section : sections) {
    offset = llvm::alignTo(offset, section.alignment);
    package::SectionEntry entry{};
    entry.kind = static_cast<uint32_t>(section.kind);
    entry.offset = offset;
    entry.size = section.bytes.size();
    entry.crc = package::crc32c(section.bytes.data(), section.bytes.size());
    table.push_back(entry);
    offset += section.bytes.size();
  }

  package::FileHeader header{};
  std::memcpy(header.magic, package::kMagic, sizeof(header.magic));
  header.formatVersion = package::kFormatVersion;
  header.sectionCount = static_cast<uint32_t>(table.size());
  header.fileSize = offset;
  header.tableCrc = package::crc32c(
      table.data(), table.size() * sizeof(package::SectionEntry));
  header.headerCrc = package::crc32c(&header, sizeof(header));

  auto temporary = llvm::sys::fs::TempFile::create(path + ".tmp-%%%%%%");
  if (!temporary) {
    error = "cannot create " + path.str() + ": " +
            llvm::toString(temporary.takeError());
    return failure();
  }
  {
    llvm::raw_fd_ostream os(temporary->FD, /*shouldClose=*/false);
    os.write(reinterpret_cast<const char *>(&header), sizeof(header));
    os.write(reinterpret_cast<const char *>(table.data()),
             table.size() * sizeof(package::SectionEntry));
    for (auto [section, entry] : llvm::zip(sections, table)) {
      os.write_zeros(entry.offset - os.tell());
      os << section.bytes;
    }
    os.flush();
    if (os.has_error()) {
      error = "cannot write " + path.str() + ": " + os.error().message();
      os.clear_error();
      llvm::consumeError(temporary->discard());
      return failure();
    }
  }
  if (llvm::Error kept = temporary->keep(path)) {
    error = "cannot write " + path.str() + ": " + llvm::toString(std::move(kept));
    return failure();
  }
  return success();
}
