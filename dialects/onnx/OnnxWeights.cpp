//===- OnnxWeights.cpp - reading and making float weights -----------------===//
//
// The graph rewrites that fold BatchNormalization into a convolution or
// pack a filter for the microkernels compute new weights at compile time.
// They read payloads in place and write new `dense_resource` blobs, so a
// weight is never expanded into an uniqued DenseElementsAttr.
//
//===----------------------------------------------------------------------===//

#include "dialects/onnx/OnnxConstants.h"
#include "dialects/onnx/OnnxOps.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringExtras.h"

#include <cstring>

using namespace mlir;
using namespace mlir::kiln::onnx;

std::optional<std::vector<float>>
mlir::kiln::onnx::getConstantFloats(Value value) {
  auto constant = value.getDefiningOp<ConstantOp>();
  if (!constant || !constant.getValueAttr())
    return std::nullopt;
  ElementsAttr payload = constant.getValueAttr();
  auto type = dyn_cast<RankedTensorType>(payload.getType());
  if (!type || !type.getElementType().isF32() || !type.hasStaticShape())
    return std::nullopt;
  int64_t count = type.getNumElements();
  if (auto dense = dyn_cast<DenseFPElementsAttr>(payload)) {
    std::vector<float> values;
    values.reserve(count);
    for (const APFloat &v : dense.getValues<APFloat>())
      values.push_back(v.convertToFloat());
    return values;
  }
  auto resource = dyn_cast<DenseResourceElementsAttr>(payload);
  if (!resource)
    return std::nullopt;
  AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  if (!blob || blob->getData().size() != size_t(count) * sizeof(float))
    return std::nullopt;
  std::vector<float> values(count);
  std::memcpy(values.data(), blob->getData().data(), count * sizeof(float));
  return values;
}

namespace {

/// An onnx.Constant of `type` holding `bytes` as a `dense_resource` blob.
Value createBlobConstant(OpBuilder &builder, Location loc,
                         RankedTensorType type, ArrayRef<char> bytes,
                         StringRef name) {
  auto blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, 64);
  // Blob names are printed as bare keys: keep them identifiers.
  std::string key = name.empty() ? "weight" : name.str();
  for (char &c : key)
    if (!llvm::isAlnum(c) && c != '_' && c != '.')
      c = '_';
  if (!llvm::isAlpha(key[0]) && key[0] != '_')
    key = "t_" + key;
  return createConstant(builder, loc,
                        DenseResourceElementsAttr::get(type, key, std::move(blob)));
}

} // namespace

Value mlir::kiln::onnx::createFloatConstant(OpBuilder &builder, Location loc,
                                            RankedTensorType type,
                                            ArrayRef<float> values,
                                            StringRef name) {
  assert(type.getNumElements() == int64_t(values.size()) &&
         type.getElementType().isF32());
  return createBlobConstant(
      builder, loc, type,
      {reinterpret_cast<const char *>(values.data()),
       values.size() * sizeof(float)},
      name);
}

Value mlir::kiln::onnx::createBf16Constant(OpBuilder &builder, Location loc,
                                           RankedTensorType type,
                                           ArrayRef<uint16_t> values,
                                           StringRef name) {
  assert(type.getNumElements() == int64_t(values.size()) &&
         type.getElementType().isBF16());
  return createBlobConstant(
      builder, loc, type,
      {reinterpret_cast<const char *>(values.data()),
       values.size() * sizeof(uint16_t)},
      name);
}

Value mlir::kiln::onnx::createRawConstant(OpBuilder &builder, Location loc,
                                          RankedTensorType type,
                                          ArrayRef<char> bytes,
                                          StringRef name) {
  assert(type.getElementType().getIntOrFloatBitWidth() % 8 == 0 &&
         int64_t(bytes.size()) ==
             type.getNumElements() *
                 type.getElementType().getIntOrFloatBitWidth() / 8);
  return createBlobConstant(builder, loc, type, bytes, name);
}

uint16_t mlir::kiln::onnx::toBf16Bits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  if ((bits & 0x7fffffff) > 0x7f800000) // NaN: stays a (quiet) NaN
    return uint16_t(bits >> 16) | 0x40;
  bits += 0x7fff + ((bits >> 16) & 1);
  return uint16_t(bits >> 16);
}
