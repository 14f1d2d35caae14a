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

Value mlir::kiln::onnx::createFloatConstant(OpBuilder &builder, Location loc,
                                            RankedTensorType type,
                                            ArrayRef<float> values,
                                            StringRef name) {
  assert(type.getNumElements() == int64_t(values.size()));
  ArrayRef<char> bytes(reinterpret_cast<const char *>(values.data()),
                       values.size() * sizeof(float));
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
