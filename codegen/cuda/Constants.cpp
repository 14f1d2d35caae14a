//===- Constants.cpp - constant globals as device arrays --------------------===//

#include "codegen/cuda/CudaEmitter.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::cuda;

/// Constant globals small enough to stay in the code (larger ones are in
/// the weights section) become device arrays of their bytes; a blob
/// shorter than its type is an error on the global.
LogicalResult CudaEmitter::emitGlobals() {
  unsigned index = 0;
  for (auto global : module.getOps<memref::GlobalOp>()) {
    auto value = dyn_cast_or_null<ElementsAttr>(global.getInitialValueAttr());
    if (!global.getConstant() || !value)
      continue;
    std::string variable = "kiln_constant_" + std::to_string(index++);
    MemRefType type = global.getType();
    Type elementType = type.getElementType();
    unsigned elementBytes = kiln::elementBytes(elementType);
    std::vector<uint8_t> bytes;
    if (elementBytes) {
      for (int64_t i = 0; i < type.getNumElements(); ++i) {
        APInt bits;
        if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
          if (isa<FloatType>(elementType))
            bits = (*(dense.getValues<APFloat>().begin() +
                      (dense.isSplat() ? 0 : i)))
                       .bitcastToAPInt();
          else
            bits = *(dense.getValues<APInt>().begin() + (dense.isSplat() ? 0 : i));
        } else if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
          ArrayRef<char> data;
          if (AsmResourceBlob *blob = resource.getRawHandle().getBlob())
            data = blob->getData();
          // A blob shorter than its type would be zeros in the code: a
          // wrong constant, not a padded one.
          uint64_t needed = uint64_t(type.getNumElements()) * elementBytes;
          if (data.size() < needed)
            return global.emitError("constant '")
                   << global.getSymName() << "' holds " << data.size()
                   << " bytes; its type " << type << " needs " << needed;
          uint64_t word = 0;
          std::memcpy(&word, data.data() + i * elementBytes, elementBytes);
          bits = APInt(elementBytes * 8, word);
        }
        uint64_t word = bits.getBitWidth() ? bits.getZExtValue() : 0;
        if (elementType.isInteger(1))
          word &= 1;
        for (unsigned b = 0; b < elementBytes; ++b)
          bytes.push_back(uint8_t(word >> (8 * b)));
      }
    }
    if (bytes.empty())
      bytes.push_back(0);
    std::string text = "__device__ const __align__(16) unsigned char " +
                       variable + "[" + std::to_string(bytes.size()) +
                       "] = {";
    for (size_t i = 0; i < bytes.size(); ++i) {
      if (i % 16 == 0)
        text += "\n   ";
      text += " " + std::to_string(bytes[i]) + ",";
    }
    line(text + "\n};");
    globals[global.getSymNameAttr()] =
        "const_cast<unsigned char *>(" + variable + ")";
  }
  if (index)
    line("");
  return success();
}
