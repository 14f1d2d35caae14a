//===- KilnAttributes.cpp - verifying the attributes Kiln owns ------------===//

#include "dialects/kiln/KilnAttributes.h"
#include "dialects/kiln/KilnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

LogicalResult verifyCount(Operation *op, NamedAttribute attribute) {
  auto count = dyn_cast<IntegerAttr>(attribute.getValue());
  if (!count || !count.getType().isInteger(64) || count.getInt() < 0)
    return op->emitError() << "'" << attribute.getName().getValue()
                           << "' must be a non-negative i64";
  return success();
}

/// The weights section's layout: each constant's byte `offset` and `value`.
LogicalResult verifyWeightsLayout(Operation *op, Attribute value) {
  auto layout = dyn_cast<ArrayAttr>(value);
  if (!layout)
    return op->emitError() << "'" << kWeightsAttrName
                           << "' on the module must be the weights' layout";
  for (Attribute constant : layout) {
    auto entry = dyn_cast<DictionaryAttr>(constant);
    auto offset = entry ? entry.getAs<IntegerAttr>("offset") : IntegerAttr();
    if (!entry || !offset || offset.getInt() < 0 ||
        !entry.getAs<ElementsAttr>("value"))
      return op->emitError() << "each of '" << kWeightsAttrName
                             << "' needs a non-negative 'offset' and "
                                "elements 'value'";
  }
  return success();
}

LogicalResult verifyKernels(Operation *op, Attribute value) {
  auto kernels = dyn_cast<ArrayAttr>(value);
  if (!kernels)
    return op->emitError() << "'" << kKernelsAttrName
                           << "' must be an array of kernel dictionaries";
  for (Attribute kernel : kernels) {
    auto entry = dyn_cast<DictionaryAttr>(kernel);
    auto flops = entry ? entry.getAs<IntegerAttr>("flops") : IntegerAttr();
    if (!entry || !entry.getAs<StringAttr>("name") || !flops ||
        flops.getInt() < 0)
      return op->emitError() << "each of '" << kKernelsAttrName
                             << "' needs a string 'name' and a "
                                "non-negative 'flops'";
  }
  return success();
}

} // namespace

LogicalResult KilnDialect::verifyOperationAttribute(Operation *op,
                                                    NamedAttribute attribute) {
  StringRef name = attribute.getName().getValue();
  if (name == kWorkspaceBytesAttrName || name == kDynamicBuffersAttrName ||
      name == kKernelsAttrName) {
    if (!isa<ModuleOp>(op))
      return op->emitError() << "'" << name << "' belongs on the module";
    return name == kKernelsAttrName ? verifyKernels(op, attribute.getValue())
                                    : verifyCount(op, attribute);
  }
  if (name == kThreadedAttrName) {
    if (!isa<scf::ParallelOp>(op) || !isa<UnitAttr>(attribute.getValue()))
      return op->emitError() << "'" << name
                             << "' is a unit attribute of scf.parallel";
    return success();
  }
  if (name == kWeightsAttrName && isa<ModuleOp>(op))
    return verifyWeightsLayout(op, attribute.getValue());
  if (name == kWeightsAttrName || name == kWorkspaceAttrName)
    return op->emitError() << "'" << name
                           << "' belongs on an argument of the model function";
  return op->emitError() << "unknown Kiln attribute '" << name << "'";
}

LogicalResult KilnDialect::verifyRegionArgAttribute(Operation *op,
                                                    unsigned region,
                                                    unsigned argument,
                                                    NamedAttribute attribute) {
  StringRef name = attribute.getName().getValue();
  if (name != kWeightsAttrName && name != kWorkspaceAttrName)
    return op->emitError() << "unknown Kiln argument attribute '" << name
                           << "'";
  auto function = dyn_cast<func::FuncOp>(op);
  if (!function || !isa<UnitAttr>(attribute.getValue()))
    return op->emitError() << "'" << name
                           << "' is a unit attribute of a function argument";
  auto type = dyn_cast<MemRefType>(function.getArgument(argument).getType());
  if (!type || type.getRank() != 1 || !type.isDynamicDim(0) ||
      !type.getElementType().isInteger(8))
    return op->emitError() << "'" << name << "' marks a memref<?xi8> argument, "
                           << "not " << function.getArgument(argument).getType();
  for (unsigned other = 0; other < function.getNumArguments(); ++other)
    if (other != argument && function.getArgAttr(other, name))
      return op->emitError() << "arguments " << std::min(argument, other)
                             << " and " << std::max(argument, other)
                             << " are both marked '" << name << "'";
  return success();
}
