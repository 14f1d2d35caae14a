//===- DataMovement.cpp - reshapes, Transpose and Concat to tensor/linalg -===//
//
// Reshape, Flatten, Squeeze and Unsqueeze only reinterpret the row-major
// data: they become tensor.collapse_shape / expand_shape (through a 1-D
// view when neither alone fits), which bufferize without copies; over
// symbolic dimensions, see SymbolicReshapes.cpp. Transpose
// is linalg.transpose; Concat inserts each input into its slice of the
// result; a constant-mode Pad is tensor.pad. Split extracts each output's
// slice. Dropout outside training is the identity (with an all-true mask).
// Shape reads the dimensions (symbolic ones at run time).
//
//===----------------------------------------------------------------------===//

#include "codegen/linalg/LinalgBuilders.h"
#include "codegen/linalg/OnnxToLinalg.h"
#include "codegen/linalg/Passes.h"

#include "dialects/onnx/OnnxConstants.h"
#include "dialects/onnx/OnnxShapeValues.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

bool isReshapeLike(Operation *op) {
  return isa<onnx::ReshapeOp, onnx::FlattenOp, onnx::SqueezeOp,
             onnx::UnsqueezeOp>(op);
}

/// `source` viewed with the static type `target`.
Value reshapeStatic(OpBuilder &b, Location loc, Value source,
                    RankedTensorType target) {
  auto sourceType = cast<RankedTensorType>(source.getType());
  if (sourceType == target)
    return source;
  if (target.getRank() < sourceType.getRank())
    if (auto groups = getReassociationIndicesForCollapse(sourceType.getShape(),
                                                         target.getShape()))
      return b.create<tensor::CollapseShapeOp>(loc, target, source, *groups);
  if (target.getRank() > sourceType.getRank())
    if (auto groups = getReassociationIndicesForCollapse(target.getShape(),
                                                         sourceType.getShape()))
      return b.create<tensor::ExpandShapeOp>(loc, target, source, *groups);
  // Neither fits: through the flat view.
  auto flatType = RankedTensorType::get({sourceType.getNumElements()},
                                        sourceType.getElementType());
  ReassociationIndices all;
  for (int64_t i = 0; i < sourceType.getRank(); ++i)
    all.push_back(i);
  Value flat = sourceType.getRank() == 1
                   ? source
                   : b.create<tensor::CollapseShapeOp>(
                         loc, flatType, source, ArrayRef{all});
  if (target.getRank() == 1)
    return flat;
  ReassociationIndices allTarget;
  for (int64_t i = 0; i < target.getRank(); ++i)
    allTarget.push_back(i);
  if (target.getRank() == 0)
    return b.create<tensor::CollapseShapeOp>(loc, target, flat,
                                             ArrayRef<ReassociationIndices>{});
  return b.create<tensor::ExpandShapeOp>(loc, target, flat,
                                         ArrayRef{allTarget});
}

struct LowerReshapeLike : RewritePattern {
  LowerReshapeLike(MLIRContext *context)
      : RewritePattern(MatchAnyOpTypeTag(), 1, context) {}
  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isReshapeLike(op) || checkDataMovementLowering(op))
      return failure();
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    auto inputType = cast<RankedTensorType>(op->getOperand(0).getType());
    rewriter.replaceOp(
        op, type.hasStaticShape() && inputType.hasStaticShape()
                ? reshapeStatic(rewriter, op->getLoc(), op->getOperand(0), type)
                : lowerSymbolicReshape(rewriter, op));
    return success();
  }
};

struct LowerTranspose : OpRewritePattern<onnx::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::TransposeOp op,
                                PatternRewriter &rewriter) const override {
    if (checkDataMovementLowering(op))
      return failure();
    Location loc = op.getLoc();
    auto inputType = cast<RankedTensorType>(op.getData().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    SmallVector<int64_t> perm;
    if (std::optional<ArrayAttr> given = op.getPerm())
      for (Attribute axis : *given)
        perm.push_back(cast<IntegerAttr>(axis).getInt());
    else
      for (int64_t i = inputType.getRank() - 1; i >= 0; --i)
        perm.push_back(i);
    SmallVector<Value> sizes;
    for (auto [i, axis] : llvm::enumerate(perm))
      if (resultType.isDynamicDim(i))
        sizes.push_back(rewriter.create<tensor::DimOp>(loc, op.getData(), axis));
    Value init = rewriter.create<tensor::EmptyOp>(
        loc, resultType.getShape(), resultType.getElementType(), sizes);
    rewriter.replaceOp(op, rewriter
                               .create<linalg::TransposeOp>(loc, op.getData(),
                                                            init, perm)
                               ->getResults());
    return success();
  }
};

/// The low and high padding of a constant-mode Pad with constant pads (and
/// axes), or nullopt.
std::optional<std::pair<SmallVector<int64_t>, SmallVector<int64_t>>>
padAmounts(onnx::PadOp op) {
  auto type = dyn_cast<RankedTensorType>(op.getData().getType());
  auto pads = onnx::getConstantInts(op.getPads());
  if (!type || !pads)
    return std::nullopt;
  int64_t rank = type.getRank();
  SmallVector<int64_t> axes;
  if (op.getAxes()) {
    auto given = onnx::getConstantInts(op.getAxes());
    if (!given)
      return std::nullopt;
    axes = *given;
  } else {
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  }
  if ((int64_t)pads->size() != 2 * (int64_t)axes.size())
    return std::nullopt;
  SmallVector<int64_t> low(rank, 0), high(rank, 0);
  for (auto [i, axis] : llvm::enumerate(axes)) {
    int64_t at = axis < 0 ? axis + rank : axis;
    if (at < 0 || at >= rank)
      return std::nullopt;
    low[at] = (*pads)[i];
    high[at] = (*pads)[i + axes.size()];
  }
  return std::make_pair(low, high);
}

/// Pad through index arithmetic, for modes edge, reflect and wrap and for
/// pads known only at run time: every output element reads the input
/// element its position maps to along each axis (constant mode: or the
/// pad value, outside the input). `low` holds each axis's leading padding.
Value padByIndex(OpBuilder &b, Location loc, onnx::PadOp op,
                 ArrayRef<Value> low, Value padValue) {
  Value input = op.getData();
  auto inputType = cast<RankedTensorType>(input.getType());
  auto resultType = cast<RankedTensorType>(op.getType());
  int64_t rank = resultType.getRank();
  StringRef mode = op.getMode();
  Value generic = generateTensor(
      b, loc, resultType, {},
      [&](OpBuilder &nb, Location l) -> Value {
        auto constant = [&](int64_t v) -> Value {
          return nb.create<arith::ConstantIndexOp>(l, v);
        };
        SmallVector<Value> at;
        Value inside = nb.create<arith::ConstantIntOp>(l, 1, 1);
        for (int64_t d = 0; d < rank; ++d) {
          int64_t size = inputType.getDimSize(d);
          // Signed position relative to the input's first element.
          Value i = nb.create<arith::SubIOp>(
              l, nb.create<linalg::IndexOp>(l, d), low[d]);
          Value zero = constant(0), last = constant(size - 1);
          Value index;
          if (mode == "constant") {
            inside = nb.create<arith::AndIOp>(
                l, inside,
                nb.create<arith::AndIOp>(
                    l,
                    nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, i,
                                             zero),
                    nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::sle, i,
                                             last)));
            index = i;
          } else if (mode == "edge") {
            index = nb.create<arith::MaxSIOp>(
                l, nb.create<arith::MinSIOp>(l, i, last), zero);
          } else if (mode == "reflect") {
            // Mirror about the first and last elements (pads < size).
            Value mirroredLow = nb.create<arith::SubIOp>(l, zero, i);
            Value mirroredHigh = nb.create<arith::SubIOp>(
                l, constant(2 * (size - 1)), i);
            index = nb.create<arith::SelectOp>(
                l,
                nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, i, zero),
                mirroredLow,
                nb.create<arith::SelectOp>(
                    l,
                    nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::sgt, i,
                                             last),
                    mirroredHigh, i));
          } else { // wrap
            Value extent = constant(size);
            index = nb.create<arith::RemSIOp>(
                l,
                nb.create<arith::AddIOp>(
                    l, nb.create<arith::RemSIOp>(l, i, extent), extent),
                extent);
          }
          // Run-time pads may be anything: never read outside the input.
          at.push_back(nb.create<arith::MaxSIOp>(
              l, nb.create<arith::MinSIOp>(l, index, last), zero));
        }
        Value value = nb.create<tensor::ExtractOp>(l, input, at);
        if (mode == "constant")
          value = nb.create<arith::SelectOp>(l, inside, value, padValue);
        return value;
      });
  return generic;
}

/// Each axis's leading padding as an index value: constants, or read from
/// the pads input (all axes, no axes operand).
SmallVector<Value> leadingPads(OpBuilder &b, Location loc, onnx::PadOp op) {
  int64_t rank = cast<RankedTensorType>(op.getData().getType()).getRank();
  SmallVector<Value> low;
  if (auto amounts = padAmounts(op)) {
    for (int64_t pad : amounts->first)
      low.push_back(b.create<arith::ConstantIndexOp>(loc, pad));
    return low;
  }
  for (int64_t d = 0; d < rank; ++d) {
    Value at = b.create<arith::ConstantIndexOp>(loc, d);
    Value pad = b.create<tensor::ExtractOp>(loc, op.getPads(), at);
    low.push_back(b.create<arith::IndexCastOp>(loc, b.getIndexType(), pad));
  }
  return low;
}

struct LowerPad : OpRewritePattern<onnx::PadOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::PadOp op,
                                PatternRewriter &rewriter) const override {
    if (checkDataMovementLowering(op))
      return failure();
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    Type element = resultType.getElementType();
    // The pad value: the constant_value scalar, else zero.
    Value value;
    if (Value given = op.getConstantValue())
      value = rewriter.create<tensor::ExtractOp>(loc, given, ValueRange{});
    else
      value = rewriter.create<arith::ConstantOp>(loc,
                                                 rewriter.getZeroAttr(element));
    auto amounts = padAmounts(op);
    if (op.getMode() != "constant" || !amounts) {
      rewriter.replaceOp(op, padByIndex(rewriter, loc, op,
                                        leadingPads(rewriter, loc, op), value));
      return success();
    }
    auto [low, high] = *amounts;
    rewriter.replaceOp(op, padTensor(rewriter, loc, resultType, op.getData(),
                                     low, high, value));
    return success();
  }
};

/// a + b, folded where both are constants.
OpFoldResult addIndices(OpBuilder &b, Location loc, OpFoldResult x,
                        OpFoldResult y) {
  std::optional<int64_t> cx = getConstantIntValue(x), cy = getConstantIntValue(y);
  if (cx && cy)
    return b.getIndexAttr(*cx + *cy);
  return b
      .create<arith::AddIOp>(loc, getValueOrCreateConstantIndexOp(b, loc, x),
                             getValueOrCreateConstantIndexOp(b, loc, y))
      .getResult();
}

/// Shape: the input's dimensions from start to end, as int64 (tensor.dim
/// where they are symbolic; static ones fold to constants before this).
struct LowerShape : OpRewritePattern<onnx::ShapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ShapeOp op,
                                PatternRewriter &rewriter) const override {
    if (checkDataMovementLowering(op))
      return failure();
    Location loc = op.getLoc();
    auto input = cast<RankedTensorType>(op.getData().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    auto [start, end] = onnx::shapeRange(op, input.getRank());
    SmallVector<Value> dims;
    for (int64_t d = start; d < end; ++d)
      dims.push_back(rewriter.create<arith::IndexCastOp>(
          loc, resultType.getElementType(),
          rewriter.create<tensor::DimOp>(loc, op.getData(), d)));
    rewriter.replaceOpWithNewOp<tensor::FromElementsOp>(op, resultType, dims);
    return success();
  }
};

struct LowerConcat : OpRewritePattern<onnx::ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ConcatOp op,
                                PatternRewriter &rewriter) const override {
    if (checkDataMovementLowering(op))
      return failure();
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = resultType.getRank();
    int64_t axis = op.getAxisAttr().getInt();
    if (axis < 0)
      axis += rank;
    // Symbolic sizes: the first input's, and along the axis the sum.
    ValueRange inputs = op.getInputs();
    SmallVector<SmallVector<OpFoldResult>> inputSizes;
    for (Value input : inputs)
      inputSizes.push_back(tensor::getMixedSizes(rewriter, loc, input));
    OpFoldResult length = rewriter.getIndexAttr(0);
    SmallVector<OpFoldResult> offsetsAlongAxis;
    for (ArrayRef<OpFoldResult> sizes : inputSizes) {
      offsetsAlongAxis.push_back(length);
      length = addIndices(rewriter, loc, length, sizes[axis]);
    }
    SmallVector<Value> resultSizes;
    for (int64_t d = 0; d < rank; ++d)
      if (resultType.isDynamicDim(d))
        resultSizes.push_back(getValueOrCreateConstantIndexOp(
            rewriter, loc, d == axis ? length : inputSizes[0][d]));
    Value result = rewriter.create<tensor::EmptyOp>(
        loc, resultType.getShape(), resultType.getElementType(), resultSizes);
    for (auto [input, sizes, offset] :
         llvm::zip(inputs, inputSizes, offsetsAlongAxis)) {
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
      offsets[axis] = offset;
      SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
      result = rewriter.create<tensor::InsertSliceOp>(loc, input, result,
                                                      offsets, sizes, strides);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LowerSplit : OpRewritePattern<onnx::SplitOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::SplitOp op,
                                PatternRewriter &rewriter) const override {
    if (checkDataMovementLowering(op))
      return failure();
    auto type = cast<RankedTensorType>(op.getInput().getType());
    int64_t rank = type.getRank();
    int64_t axis = (int64_t)op.getAxis();
    if (axis < 0)
      axis += rank;
    // The outputs' static types say how the axis is split.
    SmallVector<Value> results;
    int64_t offset = 0;
    for (Value output : op.getOutputs()) {
      auto outputType = cast<RankedTensorType>(output.getType());
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
      offsets[axis] = rewriter.getIndexAttr(offset);
      SmallVector<OpFoldResult> sizes, strides(rank, rewriter.getIndexAttr(1));
      for (int64_t size : outputType.getShape())
        sizes.push_back(rewriter.getIndexAttr(size));
      results.push_back(rewriter.create<tensor::ExtractSliceOp>(
          op.getLoc(), outputType, op.getInput(), offsets, sizes, strides));
      offset += outputType.getDimSize(axis);
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// Whether a Dropout only passes its input through: not training (or
/// training with ratio 0).
bool isIdentityDropout(onnx::DropoutOp op) {
  Value training = op.getTrainingMode();
  if (!training)
    return true;
  std::optional<SmallVector<int64_t>> mode = onnx::getConstantInts(training);
  if (!mode || mode->size() != 1)
    return false;
  if ((*mode)[0] == 0)
    return true;
  Value ratio = op.getRatio();
  if (!ratio)
    return false;
  auto values = onnx::getConstantElements(ratio);
  return values && values.getNumElements() == 1 &&
         (*values.value_begin<APFloat>()).isZero();
}

struct LowerDropout : OpRewritePattern<onnx::DropoutOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::DropoutOp op,
                                PatternRewriter &rewriter) const override {
    if (checkDataMovementLowering(op))
      return failure();
    SmallVector<Value> results = {op.getData()};
    if (Value mask = op.getMask()) {
      auto type = cast<RankedTensorType>(mask.getType());
      SmallVector<Value> sizes;
      for (int64_t i = 0; i < type.getRank(); ++i)
        if (type.isDynamicDim(i))
          sizes.push_back(
              rewriter.create<tensor::DimOp>(op.getLoc(), op.getData(), i));
      results.push_back(filledTensor(rewriter, op.getLoc(), type.getShape(),
                                     rewriter.getBoolAttr(true), sizes));
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

std::optional<std::string>
mlir::kiln::checkDataMovementLowering(Operation *op) {
  if (auto split = dyn_cast<onnx::SplitOp>(op)) {
    auto type = dyn_cast<RankedTensorType>(split.getInput().getType());
    if (!type || !type.hasStaticShape())
      return std::string("its input shape must be static for now");
    int64_t rank = type.getRank();
    int64_t axis = (int64_t)split.getAxis();
    if (axis < -rank || axis >= rank)
      return std::string("its axis is out of range");
    if (axis < 0)
      axis += rank;
    int64_t total = 0;
    for (Value output : split.getOutputs()) {
      auto outputType = dyn_cast<RankedTensorType>(output.getType());
      if (!outputType || !outputType.hasStaticShape())
        return std::string("the sizes of its outputs must be known");
      if (outputType.getRank() != rank ||
          outputType.getElementType() != type.getElementType())
        return std::string("its outputs do not match its input");
      for (int64_t d = 0; d < rank; ++d)
        if (d != axis && outputType.getDimSize(d) != type.getDimSize(d))
          return std::string("its outputs do not match its input");
      total += outputType.getDimSize(axis);
    }
    if (total != type.getDimSize(axis))
      return std::string("its outputs do not add up to its input");
    return std::nullopt;
  }
  if (auto dropout = dyn_cast<onnx::DropoutOp>(op)) {
    if (!isIdentityDropout(dropout))
      return std::string("training mode (random masks) is not lowered");
    if (dropout.getMask() && !isa<RankedTensorType>(dropout.getMask().getType()))
      return std::string("the rank of its mask is unknown");
    if (dropout.getData().getType() != dropout.getOutput().getType())
      return std::string("its output type differs from its input type");
    return std::nullopt;
  }
  if (auto pad = dyn_cast<onnx::PadOp>(op)) {
    StringRef mode = pad.getMode();
    if (mode != "constant" && mode != "edge" && mode != "reflect" &&
        mode != "wrap")
      return "mode '" + mode.str() + "' is not lowered";
    auto amounts = padAmounts(pad);
    auto dataType = dyn_cast<RankedTensorType>(pad.getData().getType());
    auto resultType = dyn_cast<RankedTensorType>(pad.getType());
    auto padsType = dyn_cast<RankedTensorType>(pad.getPads().getType());
    if (!amounts) {
      // Run-time pads: the result's static shape says how much.
      if (!dataType || !resultType || !dataType.hasStaticShape() ||
          !resultType.hasStaticShape() || pad.getAxes() || !padsType ||
          padsType.getRank() != 1 ||
          padsType.getDimSize(0) != 2 * dataType.getRank())
        return std::string("its pads (and axes) must be constant, or its "
                           "shapes static with pads for every axis");
      if (llvm::any_of(dataType.getShape(), [](int64_t d) { return d == 0; }))
        return std::string("its input is empty");
      return std::nullopt;
    }
    if (llvm::any_of(amounts->first, [](int64_t p) { return p < 0; }) ||
        llvm::any_of(amounts->second, [](int64_t p) { return p < 0; }))
      return std::string("negative pads (cropping) are not lowered yet");
    auto type = dyn_cast<RankedTensorType>(pad.getType());
    auto inputType = cast<RankedTensorType>(pad.getData().getType());
    if (!type)
      return std::string("the rank of its result is unknown");
    for (int64_t i = 0; i < type.getRank(); ++i) {
      int64_t in = inputType.getDimSize(i);
      int64_t padded = ShapedType::isDynamic(in)
                           ? in
                           : in + amounts->first[i] + amounts->second[i];
      if (padded != type.getDimSize(i))
        return std::string("its result type does not match the padded shape");
    }
    if (mode != "constant") {
      if (!dataType.hasStaticShape() || !type.hasStaticShape())
        return "mode '" + mode.str() + "' needs static shapes for now";
      for (int64_t i = 0; i < dataType.getRank(); ++i) {
        int64_t size = dataType.getDimSize(i);
        if (size == 0 || (mode == "reflect" &&
                          (amounts->first[i] >= size ||
                           amounts->second[i] >= size)))
          return std::string("its pads are too large for reflect mode");
      }
    }
    if (Value value = pad.getConstantValue()) {
      auto valueType = dyn_cast<RankedTensorType>(value.getType());
      if (!valueType || valueType.getRank() != 0)
        return std::string("its constant_value must be a scalar");
    }
    return std::nullopt;
  }
  if (auto shape = dyn_cast<onnx::ShapeOp>(op)) {
    auto input = dyn_cast<RankedTensorType>(shape.getData().getType());
    auto result = dyn_cast<RankedTensorType>(shape.getType());
    if (!input || !result || !result.hasStaticShape() ||
        !result.getElementType().isInteger(64))
      return std::string("the rank of its input is unknown");
    return std::nullopt;
  }
  if (!isReshapeLike(op) && !isa<onnx::TransposeOp, onnx::ConcatOp>(op))
    return std::string();
  auto resultType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!resultType)
    return std::string("the rank of its result is unknown");
  if (isa<onnx::ConcatOp>(op)) {
    // Symbolic sizes are fine; ranks must be known.
    for (Value input : op->getOperands())
      if (!isa<RankedTensorType>(input.getType()))
        return std::string("the rank of an input is unknown");
    return std::nullopt;
  }
  if (isa<onnx::TransposeOp>(op))
    return isa<RankedTensorType>(op->getOperand(0).getType())
               ? std::nullopt
               : std::optional<std::string>("the rank of its input is unknown");
  auto inputType = dyn_cast<RankedTensorType>(op->getOperand(0).getType());
  if (!resultType.hasStaticShape() || !inputType ||
      !inputType.hasStaticShape())
    return checkSymbolicReshape(op);
  if (inputType.getNumElements() != resultType.getNumElements())
    return std::string("its input and result sizes differ");
  return std::nullopt;
}

void mlir::kiln::populateDataMovementLowering(RewritePatternSet &patterns) {
  patterns.add<LowerReshapeLike>(patterns.getContext());
  patterns.add<LowerTranspose, LowerConcat, LowerPad, LowerSplit,
               LowerDropout, LowerShape>(patterns.getContext());
}
