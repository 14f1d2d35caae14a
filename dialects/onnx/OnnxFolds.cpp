//===- OnnxFolds.cpp - folding the shape arithmetic exporters emit --------===//
//
// Exporters compute shapes at run time: Shape -> Gather -> Unsqueeze ->
// Concat -> Reshape, ConstantOfShape, integer Add/Mul/Div on dimensions.
// When the input shapes are static, all of it folds to constants. Folds
// only touch small constants (see getConstantElements), never weights.
//
//===----------------------------------------------------------------------===//

#include "dialects/onnx/OnnxConstants.h"
#include "dialects/onnx/OnnxOps.h"
#include "dialects/onnx/OnnxShapeValues.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlir::kiln::onnx;

//===----------------------------------------------------------------------===//
// Constant helpers
//===----------------------------------------------------------------------===//

DenseElementsAttr mlir::kiln::onnx::getConstantElements(Value value,
                                                       int64_t maxElements) {
  auto constant = value.getDefiningOp<ConstantOp>();
  if (!constant || !constant.getValueAttr())
    return {};
  ElementsAttr payload = constant.getValueAttr();
  if (auto dense = dyn_cast<DenseElementsAttr>(payload))
    return dense;
  auto resource = dyn_cast<DenseResourceElementsAttr>(payload);
  if (!resource || resource.getNumElements() > maxElements)
    return {};
  // Booleans are stored inline by the importer, so every blob here has a
  // whole number of bytes per element, laid out as DenseElementsAttr expects.
  Type element = resource.getType().getElementType();
  if (element.isInteger(1) || element.getIntOrFloatBitWidth() % 8 != 0)
    return {};
  AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  if (!blob)
    return {};
  ArrayRef<char> bytes = blob->getData();
  bool isSplat = false;
  if (!DenseElementsAttr::isValidRawBuffer(resource.getType(), bytes, isSplat))
    return {};
  return DenseElementsAttr::getFromRawBuffer(resource.getType(), bytes);
}

std::optional<std::vector<char>>
mlir::kiln::onnx::getConstantBytes(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  DenseElementsAttr elements =
      getConstantElements(value, type.getNumElements());
  if (!elements)
    return std::nullopt;
  ArrayRef<char> data = elements.getRawData();
  if (!elements.isSplat())
    return std::vector<char>(data.begin(), data.end());
  std::vector<char> expanded;
  expanded.reserve(data.size() * type.getNumElements());
  for (int64_t i = 0; i < type.getNumElements(); ++i)
    expanded.insert(expanded.end(), data.begin(), data.end());
  return expanded;
}

std::optional<SmallVector<int64_t>>
mlir::kiln::onnx::getConstantInts(Value value) {
  auto dense = dyn_cast_or_null<DenseIntElementsAttr>(getConstantElements(value));
  if (!dense || dense.getElementType().isInteger(1))
    return std::nullopt;
  bool isUnsigned = dense.getElementType().isUnsignedInteger();
  return llvm::to_vector(
      llvm::map_range(dense.getValues<APInt>(), [&](const APInt &v) {
        return isUnsigned ? (int64_t)v.getZExtValue() : v.getSExtValue();
      }));
}

SmallVector<int64_t> mlir::kiln::onnx::intsOr(std::optional<ArrayAttr> attr,
                                              size_t count,
                                              int64_t otherwise) {
  SmallVector<int64_t> values(count, otherwise);
  if (attr)
    for (auto [i, value] : llvm::enumerate(*attr))
      if (i < count)
        values[i] = cast<IntegerAttr>(value).getInt();
  return values;
}

Value mlir::kiln::onnx::createConstant(OpBuilder &builder, Location loc,
                                       ElementsAttr value) {
  OperationState state(loc, ConstantOp::getOperationName());
  state.addTypes(value.getType());
  state.addAttribute("value", value);
  return builder.create(state)->getResult(0);
}

Operation *OnnxDialect::materializeConstant(OpBuilder &builder,
                                            Attribute value, Type type,
                                            Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return createConstant(builder, loc, elements).getDefiningOp();
}

namespace {

/// `type` as a statically shaped tensor type, or null.
RankedTensorType staticType(Type type) {
  auto ranked = dyn_cast<RankedTensorType>(type);
  return ranked && ranked.hasStaticShape() ? ranked : RankedTensorType();
}

/// Row-major strides of `shape`.
SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t i = (int64_t)shape.size() - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

/// Folds an elementwise integer binary op when both sides are constants of
/// the result's shape or scalars (the shapes that shape arithmetic uses).
/// The elements of a small integer constant that is a splat or has
/// `count` elements, as `count` values.
std::optional<SmallVector<APInt>> broadcastInts(Attribute attr, int64_t count) {
  auto dense = dyn_cast_or_null<DenseIntElementsAttr>(attr);
  if (!dense || (!dense.isSplat() && dense.getNumElements() != count))
    return std::nullopt;
  if (dense.isSplat())
    return SmallVector<APInt>(count, dense.getSplatValue<APInt>());
  return llvm::to_vector(dense.getValues<APInt>());
}

OpFoldResult foldIntegerBinary(Operation *op, Attribute lhsAttr,
                               Attribute rhsAttr,
                               function_ref<std::optional<APInt>(
                                   const APInt &, const APInt &)> compute) {
  RankedTensorType resultType = staticType(op->getResult(0).getType());
  if (!resultType || resultType.getNumElements() > 4096 ||
      !isa<IntegerType>(resultType.getElementType()) ||
      resultType.getElementType().isInteger(1))
    return {};
  auto lhsType = dyn_cast_or_null<TypedAttr>(lhsAttr);
  if (!lhsType || cast<ShapedType>(lhsType.getType()).getRank() >
                      resultType.getRank())
    return {};
  int64_t count = resultType.getNumElements();
  std::optional<SmallVector<APInt>> lhs = broadcastInts(lhsAttr, count);
  std::optional<SmallVector<APInt>> rhs = broadcastInts(rhsAttr, count);
  if (!lhs || !rhs)
    return {};
  SmallVector<APInt> results;
  results.reserve(count);
  for (int64_t i = 0; i < count; ++i) {
    std::optional<APInt> r = compute((*lhs)[i], (*rhs)[i]);
    if (!r)
      return {};
    results.push_back(*r);
  }
  return DenseElementsAttr::get(resultType, results);
}

} // namespace

//===----------------------------------------------------------------------===//
// Folders
//===----------------------------------------------------------------------===//

OpFoldResult IdentityOp::fold(FoldAdaptor) {
  if (getInput().getType() == getOutput().getType())
    return getInput();
  return {};
}

OpFoldResult ConstantOp::fold(FoldAdaptor) {
  if (ElementsAttr value = getValueAttr())
    return value;
  return {};
}

OpFoldResult ShapeOp::fold(FoldAdaptor) {
  // A Cast keeps the shape: read it from the Cast's input, so that the
  // Cast need not run for it (a bf16 cache widened for its other users).
  if (auto cast = getData().getDefiningOp<CastOp>()) {
    getDataMutable().assign(cast.getInput());
    return getResult();
  }
  auto input = dyn_cast<RankedTensorType>(getData().getType());
  RankedTensorType resultType = staticType(getShape().getType());
  if (!input || !resultType)
    return {};
  auto [first, last] = shapeRange(*this, input.getRank());
  ArrayRef<int64_t> dims = input.getShape().slice(first, last - first);
  if (ShapedType::isDynamicShape(dims) ||
      resultType.getNumElements() != (int64_t)dims.size())
    return {};
  return DenseElementsAttr::get(resultType, dims);
}

OpFoldResult SizeOp::fold(FoldAdaptor) {
  auto input = staticType(getData().getType());
  RankedTensorType resultType = staticType(getSize().getType());
  if (!input || !resultType)
    return {};
  return DenseElementsAttr::get(resultType, input.getNumElements());
}

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getOutput().getType())
    return getInput();
  auto input = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput());
  RankedTensorType resultType = staticType(getOutput().getType());
  if (!input || !resultType || input.getNumElements() > 4096)
    return {};
  Type from = input.getElementType();
  Type to = resultType.getElementType();
  auto fromInt = dyn_cast<IntegerType>(from);
  auto toInt = dyn_cast<IntegerType>(to);
  // Integer-to-integer casts are what shape code uses; they wrap as in ONNX.
  if (!fromInt || !toInt)
    return {};
  SmallVector<APInt> values;
  for (const APInt &value : input.getValues<APInt>()) {
    if (toInt.getWidth() == 1)
      values.push_back(APInt(1, !value.isZero()));
    else if (fromInt.isUnsigned() || fromInt.getWidth() == 1)
      values.push_back(value.zextOrTrunc(toInt.getWidth()));
    else
      values.push_back(value.sextOrTrunc(toInt.getWidth()));
  }
  return DenseElementsAttr::get(resultType, values);
}

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  return foldIntegerBinary(*this, adaptor.getA(), adaptor.getB(),
                           [](const APInt &a, const APInt &b) { return a + b; });
}

OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  return foldIntegerBinary(*this, adaptor.getA(), adaptor.getB(),
                           [](const APInt &a, const APInt &b) { return a - b; });
}

OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  return foldIntegerBinary(*this, adaptor.getA(), adaptor.getB(),
                           [](const APInt &a, const APInt &b) { return a * b; });
}

OpFoldResult DivOp::fold(FoldAdaptor adaptor) {
  bool isUnsigned = getElementTypeOrSelf(getC().getType()).isUnsignedInteger();
  return foldIntegerBinary(
      *this, adaptor.getA(), adaptor.getB(),
      [&](const APInt &a, const APInt &b) -> std::optional<APInt> {
        if (b.isZero())
          return std::nullopt; // Leave the run-time error to run time.
        return isUnsigned ? a.udiv(b) : a.sdiv(b);
      });
}

// Equal and Where on constants: how exporters spell "this dimension, or
// keep the input's where the shape says -1" (Expand's shape operand).
OpFoldResult EqualOp::fold(FoldAdaptor adaptor) {
  RankedTensorType resultType = staticType(getC().getType());
  if (!resultType || resultType.getNumElements() > 4096)
    return {};
  int64_t count = resultType.getNumElements();
  std::optional<SmallVector<APInt>> a = broadcastInts(adaptor.getA(), count);
  std::optional<SmallVector<APInt>> b = broadcastInts(adaptor.getB(), count);
  if (!a || !b)
    return {};
  SmallVector<bool> equal;
  for (int64_t i = 0; i < count; ++i)
    equal.push_back((*a)[i] == (*b)[i]);
  return DenseElementsAttr::get(resultType, equal);
}

OpFoldResult WhereOp::fold(FoldAdaptor adaptor) {
  RankedTensorType resultType = staticType(getOutput().getType());
  if (!resultType || resultType.getNumElements() > 4096)
    return {};
  int64_t count = resultType.getNumElements();
  std::optional<SmallVector<APInt>> condition =
      broadcastInts(adaptor.getCondition(), count);
  std::optional<SmallVector<APInt>> x = broadcastInts(adaptor.getX(), count);
  std::optional<SmallVector<APInt>> y = broadcastInts(adaptor.getY(), count);
  if (!condition || !x || !y)
    return {};
  SmallVector<APInt> chosen;
  for (int64_t i = 0; i < count; ++i)
    chosen.push_back((*condition)[i].isZero() ? (*y)[i] : (*x)[i]);
  return DenseElementsAttr::get(resultType, chosen);
}

//===----------------------------------------------------------------------===//
// Canonicalization patterns
//===----------------------------------------------------------------------===//

namespace {

/// A shape-only op (Reshape, Squeeze, Unsqueeze) of a small constant becomes
/// the constant with the result's shape.
template <typename OpTy>
struct ReshapeConstant : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType resultType = staticType(op->getResult(0).getType());
    DenseElementsAttr input = getConstantElements(op->getOperand(0));
    if (!resultType || !input ||
        input.getNumElements() != resultType.getNumElements())
      return failure();
    rewriter.replaceOp(op, createConstant(rewriter, op.getLoc(),
                                          input.reshape(resultType)));
    return success();
  }
};

/// Reshape(Reshape(x, s1), s2) -> Reshape(x, s2) when s2 does not copy
/// dimensions from its input (no 0 entries, or allowzero = 1); and a Reshape
/// to the type it already has disappears.
struct SimplifyReshape : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType resultType = staticType(op.getType());
    if (resultType && op.getData().getType() == resultType) {
      rewriter.replaceOp(op, op.getData());
      return success();
    }
    auto inner = op.getData().getDefiningOp<ReshapeOp>();
    std::optional<SmallVector<int64_t>> shape = getConstantInts(op.getShape());
    if (!inner || !shape ||
        (op.getAllowzero() == 0 && llvm::is_contained(*shape, 0)))
      return failure();
    rewriter.modifyOpInPlace(
        op, [&] { op.getDataMutable().assign(inner.getData()); });
    return success();
  }
};

/// Gather on a small constant with constant indices.
struct GatherConstant : OpRewritePattern<GatherOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType resultType = staticType(op.getType());
    DenseElementsAttr data = getConstantElements(op.getData());
    std::optional<SmallVector<int64_t>> indices =
        getConstantInts(op.getIndices());
    if (!resultType || !data || !indices)
      return failure();
    ArrayRef<int64_t> shape = data.getType().getShape();
    int64_t rank = shape.size();
    int64_t axis = (int64_t)op.getAxis();
    if (axis < 0)
      axis += rank;
    if (axis < 0 || axis >= rank)
      return failure();
    // Gather = outer x indices x inner blocks of the data.
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < axis; ++i)
      outer *= shape[i];
    for (int64_t i = axis + 1; i < rank; ++i)
      inner *= shape[i];
    int64_t extent = shape[axis];
    auto values = llvm::to_vector(data.getValues<Attribute>());
    SmallVector<Attribute> result;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t index : *indices) {
        if (index < -extent || index >= extent)
          return failure(); // Out of range: leave it to the runtime check.
        int64_t at = index < 0 ? index + extent : index;
        for (int64_t i = 0; i < inner; ++i)
          result.push_back(values[(o * extent + at) * inner + i]);
      }
    if ((int64_t)result.size() != resultType.getNumElements())
      return failure();
    rewriter.replaceOp(op, createConstant(rewriter, op.getLoc(),
                                          DenseElementsAttr::get(resultType,
                                                                 result)));
    return success();
  }
};

/// Concat of small constants.
struct ConcatConstants : OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConcatOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType resultType = staticType(op.getType());
    if (!resultType)
      return failure();
    SmallVector<DenseElementsAttr> inputs;
    for (Value input : op.getInputs()) {
      DenseElementsAttr value = getConstantElements(input);
      if (!value)
        return failure();
      inputs.push_back(value);
    }
    int64_t rank = resultType.getRank();
    int64_t axis = (int64_t)op.getAxis();
    if (axis < 0)
      axis += rank;
    int64_t outer = 1;
    for (int64_t i = 0; i < axis; ++i)
      outer *= resultType.getDimSize(i);
    SmallVector<SmallVector<Attribute>> values;
    SmallVector<int64_t> blocks; // Elements each input adds per outer step.
    for (DenseElementsAttr input : inputs) {
      values.push_back(llvm::to_vector(input.getValues<Attribute>()));
      blocks.push_back(outer ? input.getNumElements() / outer : 0);
    }
    SmallVector<Attribute> result;
    for (int64_t o = 0; o < outer; ++o)
      for (auto [input, block] : llvm::zip(values, blocks))
        result.append(input.begin() + o * block, input.begin() + (o + 1) * block);
    if ((int64_t)result.size() != resultType.getNumElements())
      return failure();
    rewriter.replaceOp(op, createConstant(rewriter, op.getLoc(),
                                          DenseElementsAttr::get(resultType,
                                                                 result)));
    return success();
  }
};

/// Slice of a small 1-D constant (the shape vectors exporters slice).
struct SliceConstant : OpRewritePattern<SliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SliceOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType resultType = staticType(op.getType());
    DenseElementsAttr data = getConstantElements(op.getData());
    auto starts = getConstantInts(op.getStarts());
    auto ends = getConstantInts(op.getEnds());
    if (!resultType || !data || data.getType().getRank() != 1 || !starts ||
        !ends || starts->size() != 1 || ends->size() != 1)
      return failure();
    int64_t step = 1;
    if (op.getSteps()) {
      auto steps = getConstantInts(op.getSteps());
      if (!steps || steps->size() != 1 || (*steps)[0] == 0)
        return failure();
      step = (*steps)[0];
    }
    if (op.getAxes()) {
      auto axes = getConstantInts(op.getAxes());
      if (!axes || axes->size() != 1 || ((*axes)[0] != 0 && (*axes)[0] != -1))
        return failure();
    }
    // ONNX clamps starts and ends to the dimension, by the step's sign.
    int64_t size = data.getNumElements();
    auto clampIndex = [&](int64_t index) {
      if (index < 0)
        index += size;
      return step > 0 ? std::clamp<int64_t>(index, 0, size)
                      : std::clamp<int64_t>(index, -1, size - 1);
    };
    int64_t start = clampIndex((*starts)[0]), end = clampIndex((*ends)[0]);
    auto values = llvm::to_vector(data.getValues<Attribute>());
    SmallVector<Attribute> result;
    for (int64_t i = start; step > 0 ? i < end : i > end; i += step)
      result.push_back(values[i]);
    if ((int64_t)result.size() != resultType.getNumElements())
      return failure();
    rewriter.replaceOp(op, createConstant(rewriter, op.getLoc(),
                                          DenseElementsAttr::get(resultType,
                                                                 result)));
    return success();
  }
};

/// ConstantOfShape with a static result: a splat constant.
struct ConstantOfShapeSplat : OpRewritePattern<ConstantOfShapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConstantOfShapeOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType resultType = staticType(op.getType());
    if (!resultType)
      return failure();
    Attribute element;
    if (std::optional<ElementsAttr> value = op.getValue()) {
      auto dense = dyn_cast<DenseElementsAttr>(*value);
      if (!dense || dense.getNumElements() != 1)
        return failure();
      element = dense.getValues<Attribute>()[0];
    } else {
      element = rewriter.getZeroAttr(resultType.getElementType());
    }
    if (!element)
      return failure();
    rewriter.replaceOp(op, createConstant(rewriter, op.getLoc(),
                                          DenseElementsAttr::get(resultType,
                                                                 element)));
    return success();
  }
};

/// The ops that carry shape values become constants where every value is
/// known (see OnnxShapeValues.h).
template <typename OpTy>
struct KnownShapeValue : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    return foldKnownShapeValue(op, rewriter);
  }
};

} // namespace

void ReshapeOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                            MLIRContext *context) {
  patterns.add<ReshapeConstant<ReshapeOp>, SimplifyReshape, KnownShapeValue<ReshapeOp>>(context);
}

void SqueezeOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                            MLIRContext *context) {
  patterns.add<ReshapeConstant<SqueezeOp>, KnownShapeValue<SqueezeOp>>(context);
}

void UnsqueezeOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                              MLIRContext *context) {
  patterns.add<ReshapeConstant<UnsqueezeOp>, KnownShapeValue<UnsqueezeOp>>(context);
}

void GatherOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                           MLIRContext *context) {
  patterns.add<GatherConstant, KnownShapeValue<GatherOp>>(context);
}

void ConcatOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                           MLIRContext *context) {
  patterns.add<ConcatConstants, KnownShapeValue<ConcatOp>>(context);
}

void SliceOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                          MLIRContext *context) {
  patterns.add<SliceConstant, KnownShapeValue<SliceOp>>(context);
}

void ConstantOfShapeOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                                    MLIRContext *context) {
  patterns.add<ConstantOfShapeSplat>(context);
}
