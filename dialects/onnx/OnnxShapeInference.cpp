//===- OnnxShapeInference.cpp - result shapes of onnx ops -----------------===//

#include "dialects/onnx/OnnxShapeInference.h"

#include "dialects/onnx/OnnxConstants.h"
#include "dialects/onnx/OnnxOps.h"
#include "dialects/onnx/OnnxShapeValues.h"

#include "mlir/Dialect/Traits.h"

#include "llvm/ADT/StringSet.h"

#include <cmath>

using namespace mlir;
using namespace mlir::kiln::onnx;

namespace {

using Shape = SmallVector<int64_t>;
using MaybeShape = std::optional<Shape>;

constexpr int64_t kDynamic = ShapedType::kDynamic;

MaybeShape shapeOf(Value value) {
  if (!value)
    return std::nullopt;
  if (auto ranked = dyn_cast<RankedTensorType>(value.getType()))
    return Shape(ranked.getShape());
  return std::nullopt;
}

/// Multidirectional (numpy) broadcasting of every operand.
MaybeShape broadcastAll(ValueRange operands) {
  Shape result;
  for (Value operand : operands) {
    MaybeShape shape = shapeOf(operand);
    if (!shape)
      return std::nullopt;
    Shape next;
    if (!OpTrait::util::getBroadcastedShape(result, *shape, next))
      return std::nullopt;
    result = next;
  }
  return result;
}

int64_t normalizeAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

int64_t intAttr(Operation *op, StringRef name, int64_t otherwise) {
  if (auto attr = op->getAttrOfType<IntegerAttr>(name))
    return attr.getInt();
  return otherwise;
}

std::optional<SmallVector<int64_t>> intsAttr(Operation *op, StringRef name) {
  auto attr = op->getAttrOfType<ArrayAttr>(name);
  if (!attr)
    return std::nullopt;
  SmallVector<int64_t> values;
  for (Attribute element : attr)
    values.push_back(cast<IntegerAttr>(element).getInt());
  return values;
}

/// ONNX Reshape: 0 copies the input dimension (unless allowzero), -1 takes
/// what is left.
MaybeShape reshape(ReshapeOp op) {
  std::optional<SmallVector<int64_t>> target = getKnownInts(op.getShape());
  if (!target)
    return std::nullopt;
  MaybeShape input = shapeOf(op.getData());
  Shape result;
  int64_t known = 1, inferAt = -1;
  for (auto [i, dim] : llvm::enumerate(*target)) {
    int64_t size = dim;
    if (dim == 0 && op.getAllowzero() == 0)
      size = input && (int64_t)i < (int64_t)input->size() ? (*input)[i]
                                                         : kDynamic;
    if (dim == -1) {
      inferAt = i;
      size = kDynamic;
    }
    // A size known only at run time (kDynamic) stays unknown.
    if (size != kDynamic && dim != -1)
      known *= size;
    else if (dim != -1)
      known = kDynamic;
    result.push_back(size);
  }
  if (inferAt >= 0 && input && known != kDynamic && known != 0 &&
      !ShapedType::isDynamicShape(*input)) {
    int64_t total = ShapedType::getNumElements(*input);
    if (total % known == 0)
      result[inferAt] = total / known;
  }
  return result;
}

/// Output extent of a convolution or pooling window along one axis.
int64_t windowOutput(int64_t input, int64_t kernel, int64_t stride,
                     int64_t dilation, int64_t padBegin, int64_t padEnd,
                     StringRef autoPad, bool ceilMode) {
  if (input == kDynamic || kernel == kDynamic)
    return kDynamic;
  if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER")
    return (input + stride - 1) / stride;
  int64_t effective = (kernel - 1) * dilation + 1;
  if (autoPad == "VALID")
    return (input - effective) / stride + 1;
  int64_t span = input + padBegin + padEnd - effective;
  if (span < 0)
    return kDynamic;
  int64_t out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
  // With ceil_mode the last window must start inside the padded input.
  if (ceilMode && (out - 1) * stride >= input + padBegin)
    --out;
  return out;
}

/// Conv, ConvTranspose is not covered; MaxPool and AveragePool.
MaybeShape window(Operation *op, Value input, Value weight, bool isConv) {
  MaybeShape in = shapeOf(input);
  if (!in || in->size() < 3)
    return std::nullopt;
  int64_t spatial = in->size() - 2;
  std::optional<SmallVector<int64_t>> kernel = intsAttr(op, "kernel_shape");
  MaybeShape w = isConv ? shapeOf(weight) : std::nullopt;
  if (!kernel && w && (int64_t)w->size() == spatial + 2)
    kernel = SmallVector<int64_t>(w->begin() + 2, w->end());
  if (!kernel || (int64_t)kernel->size() != spatial)
    return std::nullopt;
  auto strides = intsAttr(op, "strides").value_or(SmallVector<int64_t>(spatial, 1));
  auto dilations =
      intsAttr(op, "dilations").value_or(SmallVector<int64_t>(spatial, 1));
  auto pads = intsAttr(op, "pads").value_or(SmallVector<int64_t>(2 * spatial, 0));
  if ((int64_t)strides.size() != spatial || (int64_t)dilations.size() != spatial ||
      (int64_t)pads.size() != 2 * spatial)
    return std::nullopt;
  StringRef autoPad = "NOTSET";
  if (auto attr = op->getAttrOfType<StringAttr>("auto_pad"))
    autoPad = attr.getValue();
  bool ceilMode = intAttr(op, "ceil_mode", 0) != 0;
  Shape result = {(*in)[0], isConv ? (w ? (*w)[0] : kDynamic) : (*in)[1]};
  for (int64_t i = 0; i < spatial; ++i)
    result.push_back(windowOutput((*in)[i + 2], (*kernel)[i], strides[i],
                                  dilations[i], pads[i], pads[i + spatial],
                                  autoPad, ceilMode));
  return result;
}

MaybeShape matmul(Value a, Value b) {
  MaybeShape lhs = shapeOf(a), rhs = shapeOf(b);
  if (!lhs || !rhs || lhs->empty() || rhs->empty())
    return std::nullopt;
  bool lhsVector = lhs->size() == 1, rhsVector = rhs->size() == 1;
  Shape l = *lhs, r = *rhs;
  if (lhsVector)
    l.insert(l.begin(), 1);
  if (rhsVector)
    r.push_back(1);
  Shape lBatch(l.begin(), l.end() - 2), rBatch(r.begin(), r.end() - 2), batch;
  if (!OpTrait::util::getBroadcastedShape(lBatch, rBatch, batch))
    return std::nullopt;
  Shape result = batch;
  if (!lhsVector)
    result.push_back(l[l.size() - 2]);
  if (!rhsVector)
    result.push_back(r.back());
  return result;
}

MaybeShape reduce(Operation *op, Value data, Value axesOperand) {
  MaybeShape in = shapeOf(data);
  if (!in)
    return std::nullopt;
  int64_t rank = in->size();
  bool keepDims = intAttr(op, "keepdims", 1) != 0;
  std::optional<SmallVector<int64_t>> axes;
  if (axesOperand)
    axes = getConstantInts(axesOperand);
  else if (!(axes = intsAttr(op, "axes")))
    axes = SmallVector<int64_t>();
  if (!axes)
    return std::nullopt;
  if (axes->empty()) {
    if (intAttr(op, "noop_with_empty_axes", 0))
      return in;
    for (int64_t i = 0; i < rank; ++i)
      axes->push_back(i);
  }
  llvm::SmallBitVector reduced(rank);
  for (int64_t axis : *axes) {
    axis = normalizeAxis(axis, rank);
    if (axis < 0 || axis >= rank)
      return std::nullopt;
    reduced.set(axis);
  }
  Shape result;
  for (int64_t i = 0; i < rank; ++i)
    if (!reduced.test(i))
      result.push_back((*in)[i]);
    else if (keepDims)
      result.push_back(1);
  return result;
}

/// Operators whose (first) output has the shape of their first input.
/// Slice: each sliced axis's length, where the bounds are constants and
/// the axis static; the other sliced axes are dynamic, the rest kept.
MaybeShape sliceShape(SliceOp op) {
  MaybeShape in = shapeOf(op.getData());
  if (!in)
    return std::nullopt;
  int64_t rank = in->size();
  auto startsType = dyn_cast<RankedTensorType>(op.getStarts().getType());
  if (!startsType || startsType.getRank() != 1 || startsType.isDynamicDim(0))
    return std::nullopt;
  int64_t count = startsType.getDimSize(0);
  std::optional<SmallVector<int64_t>> axes;
  if (op.getAxes())
    axes = getConstantInts(op.getAxes());
  else
    axes = llvm::to_vector(llvm::seq<int64_t>(0, count));
  if (!axes || (int64_t)axes->size() != count)
    return Shape(rank, ShapedType::kDynamic);
  auto starts = getConstantInts(op.getStarts());
  auto ends = getConstantInts(op.getEnds());
  std::optional<SmallVector<int64_t>> steps =
      op.getSteps() ? getConstantInts(op.getSteps())
                    : SmallVector<int64_t>(count, 1);
  Shape result = *in;
  for (int64_t k = 0; k < count; ++k) {
    int64_t axis = normalizeAxis((*axes)[k], rank);
    if (axis < 0 || axis >= rank)
      return std::nullopt;
    int64_t dim = (*in)[axis];
    if (!starts || !ends || !steps || ShapedType::isDynamic(dim) ||
        (int64_t)starts->size() != count || (int64_t)ends->size() != count ||
        (int64_t)steps->size() != count || (*steps)[k] == 0) {
      result[axis] = ShapedType::kDynamic;
      continue;
    }
    int64_t start = (*starts)[k], end = (*ends)[k];
    result[axis] = normalizeSliceBounds(start, end, (*steps)[k], dim);
  }
  return result;
}

bool keepsShape(StringRef name) {
  static const llvm::StringSet<> names = {
      "Abs", "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh",
      "BatchNormalization", "Cast", "CastLike", "Ceil", "Celu", "Clip",
      "Cos", "Cosh", "CumSum", "Dropout", "Elu", "Erf", "Exp", "Floor",
      "Gelu", "HardSigmoid", "HardSwish", "Hardmax", "Identity",
      "InstanceNormalization", "IsInf", "IsNaN", "LayerNormalization",
      "LeakyRelu", "Log", "LogSoftmax", "LpNormalization", "LRN",
      "MeanVarianceNormalization", "Mish", "Neg", "Not", "Reciprocal",
      "Relu", "Round", "Selu", "Shrink", "Sigmoid", "Sign", "Sin", "Sinh",
      "Softmax", "Softplus", "Softsign", "Sqrt", "Tan", "Tanh",
      "ThresholdedRelu", "Trilu", "GroupNormalization",
      "RMSNormalization", "Swish"};
  return names.contains(name);
}

/// Operators whose output broadcasts all their inputs.
bool broadcasts(StringRef name) {
  static const llvm::StringSet<> names = {
      "Add", "And", "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor",
      "Div", "Equal", "Greater", "GreaterOrEqual", "Less", "LessOrEqual",
      "Max", "Mean", "Min", "Mod", "Mul", "Or", "Pow", "PRelu", "Sub", "Sum",
      "Where", "Xor"};
  return names.contains(name);
}

/// Resize to sizes (every axis, "stretch"; those known at compile time), or
/// by constant scales of a known input: floor(input * scale), as the ONNX
/// rule says.
MaybeShape resizeShape(ResizeOp resize) {
  MaybeShape in = shapeOf(resize.getX());
  if (!in || resize.getAxes())
    return std::nullopt;
  if (resize.getSizes()) {
    auto sizes = getKnownInts(resize.getSizes());
    if (!sizes || sizes->size() != in->size() ||
        resize.getKeepAspectRatioPolicy() != "stretch")
      return std::nullopt;
    return Shape(sizes->begin(), sizes->end());
  }
  if (!resize.getScales())
    return std::nullopt;
  DenseElementsAttr scales = getConstantElements(resize.getScales());
  if (!scales || scales.getNumElements() != int64_t(in->size()))
    return std::nullopt;
  Shape result;
  for (auto [size, scale] : llvm::zip(*in, scales.getValues<APFloat>()))
    result.push_back(size == kDynamic
                         ? kDynamic
                         : int64_t(std::floor(double(size) *
                                              scale.convertToDouble())));
  return result;
}

MaybeShape firstResult(Operation *op) {
  StringRef name = op->getName().stripDialect();
  if (keepsShape(name))
    return shapeOf(op->getOperand(0));
  if (broadcasts(name))
    return broadcastAll(op->getOperands());

  if (auto reshapeOp = dyn_cast<ReshapeOp>(op))
    return reshape(reshapeOp);
  if (auto matmulOp = dyn_cast<MatMulOp>(op))
    return matmul(matmulOp.getA(), matmulOp.getB());
  if (auto gemm = dyn_cast<GemmOp>(op)) {
    MaybeShape a = shapeOf(gemm.getA()), b = shapeOf(gemm.getB());
    if (!a || !b || a->size() != 2 || b->size() != 2)
      return std::nullopt;
    return Shape{(*a)[gemm.getTransA() ? 1 : 0], (*b)[gemm.getTransB() ? 0 : 1]};
  }
  if (auto conv = dyn_cast<ConvOp>(op))
    return window(op, conv.getX(), conv.getW(), /*isConv=*/true);
  if (isa<MaxPoolOp, AveragePoolOp, LpPoolOp>(op))
    return window(op, op->getOperand(0), Value(), /*isConv=*/false);
  if (isa<GlobalAveragePoolOp, GlobalMaxPoolOp, GlobalLpPoolOp>(op)) {
    MaybeShape in = shapeOf(op->getOperand(0));
    if (!in || in->size() < 2)
      return std::nullopt;
    Shape result = {(*in)[0], (*in)[1]};
    result.append(in->size() - 2, 1);
    return result;
  }
  if (auto transpose = dyn_cast<TransposeOp>(op)) {
    MaybeShape in = shapeOf(transpose.getData());
    if (!in)
      return std::nullopt;
    SmallVector<int64_t> perm;
    if (auto given = intsAttr(op, "perm"))
      perm = *given;
    else
      for (int64_t i = in->size() - 1; i >= 0; --i)
        perm.push_back(i);
    if (perm.size() != in->size())
      return std::nullopt;
    Shape result;
    for (int64_t axis : perm) {
      if (axis < 0 || axis >= (int64_t)in->size())
        return std::nullopt;
      result.push_back((*in)[axis]);
    }
    return result;
  }
  if (auto flatten = dyn_cast<FlattenOp>(op)) {
    MaybeShape in = shapeOf(flatten.getInput());
    if (!in)
      return std::nullopt;
    int64_t axis = normalizeAxis((int64_t)flatten.getAxis(), in->size());
    if (axis < 0 || axis > (int64_t)in->size())
      return std::nullopt;
    auto product = [](ArrayRef<int64_t> dims) {
      return ShapedType::isDynamicShape(dims) ? kDynamic
                                              : ShapedType::getNumElements(dims);
    };
    return Shape{product(ArrayRef(*in).take_front(axis)),
                 product(ArrayRef(*in).drop_front(axis))};
  }
  if (auto concat = dyn_cast<ConcatOp>(op)) {
    MaybeShape result = shapeOf(concat.getInputs().front());
    if (!result)
      return std::nullopt;
    int64_t axis = normalizeAxis(concat.getAxisAttr().getInt(), result->size());
    if (axis < 0 || axis >= (int64_t)result->size())
      return std::nullopt;
    for (Value input : concat.getInputs().drop_front()) {
      MaybeShape shape = shapeOf(input);
      if (!shape || shape->size() != result->size())
        return std::nullopt;
      for (size_t i = 0; i < shape->size(); ++i) {
        if ((int64_t)i == axis)
          (*result)[i] = (*result)[i] == kDynamic || (*shape)[i] == kDynamic
                             ? kDynamic
                             : (*result)[i] + (*shape)[i];
        else if ((*result)[i] == kDynamic)
          (*result)[i] = (*shape)[i];
      }
    }
    return result;
  }
  if (auto unsqueeze = dyn_cast<UnsqueezeOp>(op)) {
    MaybeShape in = shapeOf(unsqueeze.getData());
    auto axes = getConstantInts(unsqueeze.getAxes());
    if (!in || !axes)
      return std::nullopt;
    int64_t rank = in->size() + axes->size();
    llvm::SmallBitVector inserted(rank);
    for (int64_t axis : *axes) {
      axis = normalizeAxis(axis, rank);
      if (axis < 0 || axis >= rank)
        return std::nullopt;
      inserted.set(axis);
    }
    Shape result;
    auto next = in->begin();
    for (int64_t i = 0; i < rank; ++i)
      result.push_back(inserted.test(i) ? 1 : *next++);
    return result;
  }
  if (auto squeeze = dyn_cast<SqueezeOp>(op)) {
    MaybeShape in = shapeOf(squeeze.getData());
    if (!in)
      return std::nullopt;
    int64_t rank = in->size();
    llvm::SmallBitVector removed(rank);
    if (squeeze.getAxes()) {
      auto axes = getConstantInts(squeeze.getAxes());
      if (!axes)
        return std::nullopt;
      for (int64_t axis : *axes) {
        axis = normalizeAxis(axis, rank);
        if (axis < 0 || axis >= rank)
          return std::nullopt;
        removed.set(axis);
      }
    } else {
      for (int64_t i = 0; i < rank; ++i) {
        if ((*in)[i] == kDynamic)
          return std::nullopt; // Which axes go depends on run-time sizes.
        if ((*in)[i] == 1)
          removed.set(i);
      }
    }
    Shape result;
    for (int64_t i = 0; i < rank; ++i)
      if (!removed.test(i))
        result.push_back((*in)[i]);
    return result;
  }
  if (auto gather = dyn_cast<GatherOp>(op)) {
    MaybeShape data = shapeOf(gather.getData());
    MaybeShape indices = shapeOf(gather.getIndices());
    if (!data || !indices)
      return std::nullopt;
    int64_t axis = normalizeAxis((int64_t)gather.getAxis(), data->size());
    if (axis < 0 || axis >= (int64_t)data->size())
      return std::nullopt;
    Shape result(data->begin(), data->begin() + axis);
    result.append(indices->begin(), indices->end());
    result.append(data->begin() + axis + 1, data->end());
    return result;
  }
  if (auto shape = dyn_cast<ShapeOp>(op)) {
    MaybeShape in = shapeOf(shape.getData());
    if (!in)
      return std::nullopt;
    int64_t rank = in->size();
    auto clampAxis = [&](int64_t axis) {
      return std::clamp<int64_t>(normalizeAxis(axis, rank), 0, rank);
    };
    int64_t start = clampAxis((int64_t)shape.getStart());
    int64_t end = shape.getEndAttr() ? clampAxis(shape.getEndAttr().getInt())
                                     : rank;
    return Shape{std::max<int64_t>(0, end - start)};
  }
  if (isa<SizeOp>(op))
    return Shape{};
  if (auto expand = dyn_cast<ExpandOp>(op)) {
    MaybeShape in = shapeOf(expand.getInput());
    auto target = getConstantInts(expand.getShape());
    if (!in || !target)
      return std::nullopt;
    Shape result;
    if (!OpTrait::util::getBroadcastedShape(*in, *target, result))
      return std::nullopt;
    return result;
  }
  if (auto constantOfShape = dyn_cast<ConstantOfShapeOp>(op)) {
    auto target = getConstantInts(constantOfShape.getInput());
    if (!target)
      return std::nullopt;
    return Shape(*target);
  }
  if (auto tile = dyn_cast<TileOp>(op)) {
    MaybeShape in = shapeOf(tile.getInput());
    auto repeats = getConstantInts(tile.getRepeats());
    if (!in || !repeats || repeats->size() != in->size())
      return std::nullopt;
    Shape result;
    for (auto [dim, times] : llvm::zip(*in, *repeats))
      result.push_back(dim == kDynamic ? kDynamic : dim * times);
    return result;
  }
  if (auto pad = dyn_cast<PadOp>(op)) {
    MaybeShape in = shapeOf(pad.getData());
    auto pads = getConstantInts(pad.getPads());
    if (!in || !pads || pad.getAxes() || pads->size() != 2 * in->size())
      return std::nullopt;
    Shape result;
    for (size_t i = 0; i < in->size(); ++i)
      result.push_back((*in)[i] == kDynamic
                           ? kDynamic
                           : (*in)[i] + (*pads)[i] + (*pads)[i + in->size()]);
    return result;
  }
  if (isa<ReduceMeanOp, ReduceSumOp, ReduceMaxOp, ReduceMinOp, ReduceProdOp,
          ReduceL1Op, ReduceL2Op, ReduceLogSumOp, ReduceLogSumExpOp,
          ReduceSumSquareOp>(op))
    return reduce(op, op->getOperand(0),
                  op->getNumOperands() > 1 ? op->getOperand(1) : Value());
  if (auto slice = dyn_cast<SliceOp>(op))
    return sliceShape(slice);
  if (auto resize = dyn_cast<ResizeOp>(op))
    return resizeShape(resize);
  if (isa<ArgMaxOp, ArgMinOp>(op)) {
    MaybeShape in = shapeOf(op->getOperand(0));
    if (!in)
      return std::nullopt;
    int64_t axis = normalizeAxis(intAttr(op, "axis", 0), in->size());
    if (axis < 0 || axis >= (int64_t)in->size())
      return std::nullopt;
    Shape result = *in;
    if (intAttr(op, "keepdims", 1))
      result[axis] = 1;
    else
      result.erase(result.begin() + axis);
    return result;
  }
  return std::nullopt;
}

} // namespace

SmallVector<std::optional<SmallVector<int64_t>>>
mlir::kiln::onnx::inferResultShapes(Operation *op) {
  SmallVector<std::optional<SmallVector<int64_t>>> shapes(op->getNumResults());
  if (op->getNumResults() == 0 || op->getNumOperands() == 0)
    return shapes;
  shapes[0] = firstResult(op);
  return shapes;
}
