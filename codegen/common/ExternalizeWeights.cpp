//===- ExternalizeWeights.cpp - kiln-externalize-weights --------------===//
//
// Weights stay in the package's weights section, which the runtime maps
// read-only and hands to the model as one byte buffer; the code reads each
// weight through a view at its offset.
//
//===----------------------------------------------------------------------===//

#include "codegen/common/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/MathExtras.h"

#include <map>

namespace mlir::kiln {
#define GEN_PASS_DEF_EXTERNALIZEWEIGHTSPASS
#include "codegen/common/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// Weights inside the section start on cache-line (and AVX-512) boundaries.
constexpr int64_t kWeightAlignment = 64;


/// A global whose initial value is a resource blob, given its elements
/// inline (booleans and sub-byte types, stored otherwise, are left alone).
LogicalResult inlineResource(memref::GlobalOp global) {
  auto resource =
      dyn_cast_or_null<DenseResourceElementsAttr>(global.getInitialValueAttr());
  if (!resource)
    return success();
  AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  auto type = RankedTensorType::get(global.getType().getShape(),
                                    global.getType().getElementType());
  bool splat = false;
  if (blob && type.getElementType().getIntOrFloatBitWidth() >= 8 &&
      DenseElementsAttr::isValidRawBuffer(type, blob->getData(), splat)) {
    global.setInitialValueAttr(
        DenseElementsAttr::getFromRawBuffer(type, blob->getData()));
    return success();
  }
  return global.emitError() << "the constant '" << global.getSymName()
                            << "' has no data of its type's size";
}

struct ExternalizeWeightsPass
    : kiln::impl::ExternalizeWeightsPassBase<ExternalizeWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp main = lookupModelFunction(module);
    if (!main)
      return signalPassFailure();

    // Choose the weights and their offsets, in the order of the module.
    MLIRContext *context = &getContext();
    OpBuilder builder(context);
    llvm::MapVector<StringAttr, int64_t> offsets;
    SmallVector<Attribute> layout;
    int64_t sectionBytes = 0;
    // Weights of the same bytes share their place (a model copied into a
    // graph twice, as SparseRefine's two resolutions, packs its filters
    // twice into blobs of their own).
    llvm::DenseMap<Attribute, int64_t> offsetOfValue;
    std::map<StringRef, int64_t> offsetOfBytes;
    for (auto global : module.getOps<memref::GlobalOp>()) {
      auto value = dyn_cast_or_null<ElementsAttr>(global.getInitialValueAttr());
      MemRefType type = global.getType();
      int64_t bytes = elementBytes(type.getElementType()) *
                      type.getNumElements();
      if (!global.getConstant() || !value || !type.hasStaticShape() ||
          !type.getLayout().isIdentity() || bytes == 0)
        continue;
      if (bytes < minBytes) {
        // Small constants stay in the code, where the LLVM lowering needs
        // their elements inline rather than as a resource blob.
        if (failed(inlineResource(global)))
          return signalPassFailure();
        continue;
      }
      StringRef payload;
      if (auto resource = dyn_cast<DenseResourceElementsAttr>(value))
        if (AsmResourceBlob *blob = resource.getRawHandle().getBlob();
            blob && int64_t(blob->getData().size()) == bytes)
          payload = StringRef(blob->getData().data(), bytes);
      auto same = offsetOfValue.find(value);
      if (same != offsetOfValue.end()) {
        offsets[global.getSymNameAttr()] = same->second;
        continue;
      }
      if (auto equal = offsetOfBytes.find(payload);
          !payload.empty() && equal != offsetOfBytes.end()) {
        offsets[global.getSymNameAttr()] = equal->second;
        continue;
      }
      sectionBytes = llvm::alignTo(sectionBytes, kWeightAlignment);
      offsets[global.getSymNameAttr()] = sectionBytes;
      offsetOfValue[value] = sectionBytes;
      if (!payload.empty())
        offsetOfBytes[payload] = sectionBytes;
      layout.push_back(builder.getDictionaryAttr(
          {builder.getNamedAttr("offset",
                                builder.getI64IntegerAttr(sectionBytes)),
           builder.getNamedAttr("value", value)}));
      sectionBytes += bytes;
    }

    Type bytesType = MemRefType::get({ShapedType::kDynamic},
                                     IntegerType::get(context, 8));
    main.insertArgument(0, bytesType,
                        builder.getDictionaryAttr(builder.getNamedAttr(
                            kWeightsAttrName, builder.getUnitAttr())),
                        main.getLoc());
    Value section = main.getArgument(0);

    WalkResult walk = module.walk([&](memref::GetGlobalOp get) {
      auto found = offsets.find(get.getNameAttr().getAttr());
      if (found == offsets.end())
        return WalkResult::advance();
      if (get->getParentOfType<func::FuncOp>() != main) {
        get.emitError("a weight is used outside @main");
        return WalkResult::interrupt();
      }
      builder.setInsertionPoint(get);
      Value offset = builder.create<arith::ConstantIndexOp>(get.getLoc(),
                                                            found->second);
      Value view = builder.create<memref::ViewOp>(
          get.getLoc(), get.getType(), section, offset, ValueRange{});
      get.replaceAllUsesWith(view);
      get.erase();
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();

    for (auto &[name, offset] : offsets)
      module.lookupSymbol(name)->erase();
    module->setAttr(kWeightsAttrName, builder.getArrayAttr(layout));
  }
};

} // namespace
