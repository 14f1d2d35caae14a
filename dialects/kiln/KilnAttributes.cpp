//===- KilnAttributes.cpp - verifying the attributes Kiln owns ------------===//

#include "dialects/kiln/KilnAttributes.h"
#include "dialects/kiln/KilnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

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

/// The session cache's description on the model function.
LogicalResult verifyKvCache(Operation *op, Attribute value) {
  auto cache = dyn_cast<DictionaryAttr>(value);
  auto capacity = cache ? cache.getAs<IntegerAttr>("capacity") : IntegerAttr();
  auto page = cache ? cache.getAs<IntegerAttr>("page") : IntegerAttr();
  if (!isa<FunctionOpInterface>(op) || !capacity || !page ||
      capacity.getInt() <= 0 ||
      page.getInt() <= 0 || capacity.getInt() % page.getInt() ||
      !cache.getAs<StringAttr>("past_dim") ||
      !cache.getAs<StringAttr>("total_dim") ||
      !cache.getAs<StringAttr>("batch_dim"))
    return op->emitError()
           << "'" << kKvCacheAttrName
           << "' belongs on the model function: a positive 'capacity' that "
              "its positive 'page' divides, and the strings 'past_dim', "
              "'total_dim' and 'batch_dim'";
  return success();
}

/// A cache argument: [1, heads, capacity, head_dim] with the names of the
/// input and output it replaces.
LogicalResult verifyKvCacheState(func::FuncOp function, unsigned argument,
                                 Attribute value) {
  auto names = dyn_cast<DictionaryAttr>(value);
  auto type = dyn_cast<ShapedType>(function.getArgument(argument).getType());
  auto cache = function->getAttrOfType<DictionaryAttr>(kKvCacheAttrName);
  auto capacity = cache ? cache.getAs<IntegerAttr>("capacity") : IntegerAttr();
  if (!names || !names.getAs<StringAttr>("past") ||
      !names.getAs<StringAttr>("present"))
    return function.emitError() << "'" << kKvCacheStateAttrName
                                << "' needs the strings 'past' and 'present'";
  // Quest's page bounds of a key cache: a minimum and a maximum row per
  // page of `page_bounds` tokens.
  auto boundsPage = names.getAs<IntegerAttr>("page_bounds");
  if (boundsPage && boundsPage.getInt() < 1)
    return function.emitError() << "'" << kKvCacheStateAttrName
                                << "' needs a positive 'page_bounds'";
  int64_t rows = 0;
  if (capacity)
    rows = boundsPage
               ? 2 * llvm::divideCeil(capacity.getInt(), boundsPage.getInt())
               : capacity.getInt();
  if (!type || !type.hasStaticShape() || type.getRank() != 4 ||
      type.getDimSize(0) != 1 || (capacity && type.getDimSize(2) != rows))
    return function.emitError()
           << "'" << kKvCacheStateAttrName << "' marks a "
           << (boundsPage ? "[1, heads, 2 x pages, head_dim]"
                          : "[1, heads, capacity, head_dim]")
           << " argument, not " << function.getArgument(argument).getType();
  return success();
}

/// Calibration statistics of a product's left operand: f32 [K] abs_max and
/// abs_mean (and, optionally, the signed mean), f32 [T, K] samples,
/// optionally the f32 [K, K] Gram matrix of every row, K the operand's last
/// extent (a convolution's: its image's channels); for a product whose
/// output a cache receives, optionally f32 [N] `cache_mean`, the mean of
/// the rows as the cache receives them, N its output's last extent.
LogicalResult verifyActivationStats(Operation *op, Attribute value) {
  auto stats = dyn_cast<DictionaryAttr>(value);
  auto fail =
      [&]() {
        return op->emitError()
               << "'" << kActivationStatsAttrName
               << "' belongs on a product: f32 [K] 'abs_max' and 'abs_mean' "
                  "(and optionally 'mean'), f32 [T, K] 'samples' (and "
                  "optionally f32 [K, K] 'gram'), K its "
                  "left operand's last extent (a "
                  "convolution's channels), and optionally f32 [N] "
                  "'cache_mean', N its output's last extent";
      };
  auto operand = op->getNumOperands()
                     ? dyn_cast<RankedTensorType>(op->getOperand(0).getType())
                     : RankedTensorType();
  if (!stats || !operand || operand.getRank() < 1)
    return fail();
  // A symbolic K (rows reshaped to [B, S, -1]) is the statistics' own.
  // A convolution's channels are its image's dimension 1.
  bool image = op->getName().getStringRef() == "onnx.Conv";
  if (image && operand.getRank() < 2)
    return fail();
  int64_t k = image ? operand.getDimSize(1) : operand.getShape().back();
  auto matches = [&](StringRef key, ArrayRef<int64_t> shape) {
    auto elements = stats.getAs<ElementsAttr>(key);
    auto type = elements ? dyn_cast<RankedTensorType>(elements.getType())
                         : RankedTensorType();
    return type && type.getElementType().isF32() &&
           type.getRank() == int64_t(shape.size()) &&
           llvm::all_of(llvm::zip(type.getShape(), shape), [](auto pair) {
             return std::get<1>(pair) < 0 ||
                    std::get<0>(pair) == std::get<1>(pair);
           });
  };
  if (!matches("abs_max", {k}) || !matches("abs_mean", {k}) ||
      !matches("samples", {-1, k}) ||
      (stats.get("mean") && !matches("mean", {k})) ||
      (stats.get("gram") && !matches("gram", {k, k})))
    return fail();
  if (stats.get("cache_mean")) {
    auto result = op->getNumResults()
                      ? dyn_cast<RankedTensorType>(op->getResult(0).getType())
                      : RankedTensorType();
    if (!result || result.getRank() < 1 ||
        !matches("cache_mean", {result.getShape().back()}))
      return fail();
  }
  return success();
}

/// The weights the quantization passes quantized: {node: string,
/// float_bytes: i64, bytes: i64} each, on a function.
LogicalResult verifyQuantizedWeights(Operation *op, Attribute value) {
  auto weights = dyn_cast<ArrayAttr>(value);
  bool valid = weights && isa<FunctionOpInterface>(op);
  for (Attribute weight : weights ? weights.getValue() : ArrayRef<Attribute>())
    if (auto fields = dyn_cast<DictionaryAttr>(weight);
        !fields || !fields.getAs<StringAttr>("node") ||
        !fields.getAs<IntegerAttr>("float_bytes") ||
        !fields.getAs<IntegerAttr>("bytes"))
      valid = false;
  if (!valid)
    return op->emitError()
           << "'" << kQuantizedWeightsAttrName
           << "' belongs on a function: one {node, float_bytes, bytes} "
              "dictionary per quantized weight";
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
  if (name == kKvCacheAttrName)
    return verifyKvCache(op, attribute.getValue());
  if (name == kActivationStatsAttrName)
    return verifyActivationStats(op, attribute.getValue());
  if (name == kQuantizedWeightsAttrName)
    return verifyQuantizedWeights(op, attribute.getValue());
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
  auto function = dyn_cast<func::FuncOp>(op);
  if (function && name == kKvCacheStateAttrName)
    return verifyKvCacheState(function, argument, attribute.getValue());
  if (function && name == kKvCacheLengthAttrName) {
    auto type = dyn_cast<ShapedType>(function.getArgument(argument).getType());
    if (!isa<UnitAttr>(attribute.getValue()) || !type || type.getRank() != 0 ||
        !type.getElementType().isInteger(64))
      return op->emitError() << "'" << name
                             << "' is a unit attribute of an i64 scalar "
                                "argument";
    return success();
  }
  if (name != kWeightsAttrName && name != kWorkspaceAttrName)
    return op->emitError() << "unknown Kiln argument attribute '" << name
                           << "'";
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
