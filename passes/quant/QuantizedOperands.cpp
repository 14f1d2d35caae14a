//===- QuantizedOperands.cpp - quantized operands of contractions --------===//

#include "passes/quant/QuantizedOperands.h"

#include "dialects/onnx/OnnxConstants.h"

#include <cmath>

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::quant;

bool mlir::kiln::quant::isAbsentOrZeros(Value value) {
  if (!value)
    return true;
  std::optional<std::vector<char>> bytes = onnx::getConstantBytes(value);
  return bytes && llvm::all_of(*bytes, [](char byte) { return byte == 0; });
}

std::optional<int64_t> mlir::kiln::quant::scalarIntOf(Value value) {
  if (!value)
    return 0;
  std::optional<SmallVector<int64_t>> values = onnx::getConstantInts(value);
  if (cast<RankedTensorType>(value.getType()).getRank() != 0 || !values)
    return std::nullopt;
  return values->front();
}

std::optional<float> mlir::kiln::quant::scalarOf(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  std::optional<std::vector<float>> values = onnx::getConstantFloats(value);
  if (type.getRank() != 0 || !values)
    return std::nullopt;
  return values->front();
}

namespace {

/// `kiln.dequantize(kiln.quantize(x, s), s)` in signed bytes with one
/// scale per row of x [..., K] (groups of K along the last axis), no zero
/// points: the per-token activations of SmoothQuant's dynamic form.
std::optional<quant::QuantizedActivation>
rowQuantizedActivationOf(DequantizeOp dequantize, QuantizeOp quantize) {
  auto type = cast<RankedTensorType>(quantize.getInput().getType());
  int64_t last = type.getRank() - 1;
  if (quantize.getScale() != dequantize.getScale() || quantize.getZeroPoint() ||
      dequantize.getZeroPoint() ||
      !cast<RankedTensorType>(quantize.getType())
           .getElementType()
           .isSignlessInteger(8) ||
      quantize.getAxis() != last || dequantize.getAxis() != last ||
      quantize.getGroupSize() != type.getDimSize(last) ||
      dequantize.getGroupSize() != type.getDimSize(last))
    return std::nullopt;
  return quant::QuantizedActivation{quantize, 1.0f, 0, quantize.getScale()};
}

} // namespace

std::optional<QuantizedActivation> mlir::kiln::quant::quantizedActivationOf(Value value) {
  auto dequantize = value.getDefiningOp<DequantizeOp>();
  if (!dequantize)
    return std::nullopt;
  auto quantize = dequantize.getInput().getDefiningOp<QuantizeOp>();
  if (!quantize)
    return std::nullopt;
  if (quantize.getGroupSize() > 0)
    return rowQuantizedActivationOf(dequantize, quantize);
  Type bytes = cast<RankedTensorType>(quantize.getType()).getElementType();
  bool isUnsigned = bytes.isUnsignedInteger(8);
  if (!isUnsigned && !bytes.isSignlessInteger(8))
    return std::nullopt;
  std::optional<int64_t> zero = scalarIntOf(quantize.getZeroPoint());
  std::optional<int64_t> zeroAgain = scalarIntOf(dequantize.getZeroPoint());
  std::optional<float> scale = scalarOf(quantize.getScale());
  std::optional<float> again = scalarOf(dequantize.getScale());
  if (!zero || !zeroAgain || *zero != *zeroAgain || !scale || !again ||
      *scale != *again || !(*scale > 0))
    return std::nullopt;
  return QuantizedActivation{quantize, *scale,
                             isUnsigned ? *zero - 128 : *zero};
}

Value mlir::kiln::quant::signedByteConstant(OpBuilder &builder, Location loc,
                                            int64_t value) {
  return onnx::createConstant(
      builder, loc,
      DenseElementsAttr::get(RankedTensorType::get({}, builder.getI8Type()),
                             APInt(8, uint64_t(value), /*isSigned=*/true)));
}

Value mlir::kiln::quant::signedBytesOf(PatternRewriter &rewriter, Location loc,
                    const QuantizedActivation &activation, Value input) {
  auto type = cast<RankedTensorType>(input.getType());
  Value zeroPoint;
  if (activation.zeroPoint != 0)
    zeroPoint = signedByteConstant(rewriter, loc, activation.zeroPoint);
  return rewriter.create<QuantizeOp>(
      loc, type.clone(rewriter.getI8Type()), input,
      QuantizeOp(activation.quantize).getScale(), zeroPoint, /*axis=*/0,
      /*group_size=*/0);
}


std::optional<Int8Weight> mlir::kiln::quant::int8WeightOf(Value value, int64_t axis) {
  auto dequantize = value.getDefiningOp<DequantizeOp>();
  if (!dequantize || dequantize.getGroupSize() != 0 ||
      !isAbsentOrZeros(dequantize.getZeroPoint()))
    return std::nullopt;
  auto type = cast<RankedTensorType>(dequantize.getInput().getType());
  auto scaleType = cast<RankedTensorType>(dequantize.getScale().getType());
  if (!type.getElementType().isSignlessInteger(8) || !type.hasStaticShape() ||
      scaleType.getRank() > 1 ||
      (scaleType.getRank() == 1 && dequantize.getAxis() != axis))
    return std::nullopt;
  std::optional<std::vector<char>> values =
      onnx::getConstantBytes(dequantize.getInput());
  std::optional<std::vector<float>> scales =
      onnx::getConstantFloats(dequantize.getScale());
  if (!values || !scales)
    return std::nullopt;
  if (scaleType.getRank() == 0)
    scales->assign(type.getDimSize(axis), scales->front());
  return Int8Weight{std::move(*values), std::move(*scales)};
}

std::optional<std::vector<char>>
mlir::kiln::quant::integerGroupScalesOf(Value scale, ArrayRef<char> values,
                                        ArrayRef<char> zeros, int64_t n,
                                        int64_t groupSize) {
  auto type = cast<RankedTensorType>(scale.getType());
  DenseElementsAttr elements =
      onnx::getConstantElements(scale, type.getNumElements());
  if (!elements || !isa<FloatType>(type.getElementType()))
    return std::nullopt;
  std::vector<char> scales;
  for (const APFloat &value : elements.getValues<APFloat>()) {
    double scaleValue = value.convertToDouble();
    if (scaleValue != std::floor(scaleValue) || scaleValue < 1 ||
        scaleValue > 16)
      return std::nullopt;
    scales.push_back(char(scaleValue));
  }
  if (elements.isSplat())
    scales.resize(size_t(type.getNumElements()), scales.front());
  if (scales.size() != zeros.size() || values.size() % n)
    return std::nullopt;
  for (size_t i = 0; i < values.size(); ++i) {
    size_t group = (i / n / groupSize) * n + i % n;
    int weight = (values[i] - zeros[group]) * scales[group];
    if (weight < -128 || weight > 127)
      return std::nullopt;
  }
  return scales;
}
