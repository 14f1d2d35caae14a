//===- SignlessIntegers.cpp - kiln-signless-integers ----------------------===//
//
// Unsigned element types survive the tensor stage only where nothing
// computes on them: op boundaries, the function's signature, data movement.
// Every op that computes reads them through tensor.bitcast as signless
// integers and chooses the unsigned arith ops itself, so here the types can
// simply be renamed: ui8 becomes i8 everywhere, bits unchanged, and each
// bitcast between the two becomes an identity to erase. Bufferization,
// which has no bitcast of buffers, then sees signless integers only.
//
//===----------------------------------------------------------------------===//

#include "codegen/common/Passes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AttrTypeSubElements.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_SIGNLESSINTEGERSPASS
#include "codegen/common/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

struct SignlessIntegersPass
    : mlir::kiln::impl::SignlessIntegersPassBase<SignlessIntegersPass> {
  void runOnOperation() override {
    AttrTypeReplacer replacer;
    replacer.addReplacement([](IntegerType type) -> std::optional<Type> {
      if (type.isSignless())
        return std::nullopt;
      return IntegerType::get(type.getContext(), type.getWidth());
    });
    // Constants' elements carry their type but do not expose it as a
    // sub-element: they are rebuilt with the signless one.
    replacer.addReplacement(
        [&](DenseElementsAttr elements) -> std::optional<Attribute> {
          auto type = cast<ShapedType>(replacer.replace(elements.getType()));
          if (type == elements.getType())
            return std::nullopt;
          return elements.bitcast(type.getElementType());
        });
    replacer.addReplacement(
        [&](DenseResourceElementsAttr elements) -> std::optional<Attribute> {
          auto type = cast<ShapedType>(replacer.replace(elements.getType()));
          if (type == elements.getType())
            return std::nullopt;
          return DenseResourceElementsAttr::get(type,
                                                elements.getRawHandle());
        });
    // Function types are attributes of the functions, block arguments and
    // results are types: both kinds are rewritten.
    replacer.recursivelyReplaceElementsIn(getOperation(),
                                          /*replaceAttrs=*/true,
                                          /*replaceLocs=*/false,
                                          /*replaceTypes=*/true);
    getOperation().walk([](tensor::BitcastOp bitcast) {
      if (bitcast.getSource().getType() != bitcast.getType())
        return;
      bitcast.replaceAllUsesWith(bitcast.getSource());
      bitcast.erase();
    });
  }
};

} // namespace
