//===- InputScaling.cpp - per-channel scales moved across a product -------===//

#include "passes/quant/InputScaling.h"
#include "passes/quant/WeightProducts.h"

#include "dialects/onnx/OnnxConstants.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::kiln;

std::vector<float> quant::weightOf(onnx::MatMulOp op) {
  return *onnx::getConstantFloats(op.getB());
}

Value quant::floatConstant(OpBuilder &builder, Location loc,
                           RankedTensorType type, ArrayRef<float> values,
                           StringRef name) {
  if (type.getNumElements() > 64)
    return onnx::createFloatConstant(builder, loc, type, values, name);
  return onnx::createConstant(builder, loc,
                              DenseElementsAttr::get(type, values));
}

void quant::setWeight(onnx::MatMulOp op, ArrayRef<float> values,
                      StringRef suffix) {
  OpBuilder builder(op);
  auto type = cast<RankedTensorType>(op.getB().getType());
  op.getBMutable().assign(floatConstant(builder, op.getB().getLoc(), type,
                                        values, (nodeName(op) + suffix).str()));
}

namespace {

/// Whether `value` is a constant along the last of `channels` channels
/// only (a normalization's scale or shift).
bool isPerChannelConstant(Value value, int64_t channels) {
  auto type = cast<RankedTensorType>(value.getType());
  return type.hasStaticShape() && type.getNumElements() == channels &&
         type.getRank() >= 1 && type.getShape().back() == channels &&
         value.getDefiningOp<onnx::ConstantOp>();
}

/// `operand`'s constant divided by `scales`, channel by channel.
bool divideConstant(OpOperand &operand, ArrayRef<float> scales,
                    StringRef name) {
  std::optional<std::vector<float>> values =
      onnx::getConstantFloats(operand.get());
  if (!values)
    return false;
  for (size_t c = 0; c < values->size(); ++c)
    (*values)[c] /= scales[c];
  OpBuilder builder(operand.getOwner());
  operand.set(quant::floatConstant(
      builder, operand.getOwner()->getLoc(),
      cast<RankedTensorType>(operand.get().getType()), *values, name));
  return true;
}

/// The operand of `mul` that is a per-channel constant, or null.
OpOperand *perChannelOperand(onnx::MulOp mul, int64_t channels) {
  for (OpOperand &operand : mul->getOpOperands())
    if (isPerChannelConstant(operand.get(), channels))
      return &operand;
  return nullptr;
}

/// Divides by `scales` in the producer of `input`, if it can absorb it.
bool absorbInProducer(Value input, ArrayRef<float> scales, StringRef name) {
  int64_t k = int64_t(scales.size());
  Operation *producer = input.getDefiningOp();
  if (!producer)
    return false;
  // A LayerNormalization's scale and bias.
  if (auto norm = dyn_cast<onnx::LayerNormalizationOp>(producer)) {
    if (!isPerChannelConstant(norm.getScale(), k) ||
        (norm.getB() && !isPerChannelConstant(norm.getB(), k)))
      return false;
    divideConstant(norm.getScaleMutable(), scales, name);
    if (norm.getB())
      divideConstant(norm.getBMutable()[0], scales, name);
    return true;
  }
  // A decomposed normalization's shift: Add(Mul(x, gamma), beta).
  if (auto add = dyn_cast<onnx::AddOp>(producer)) {
    for (OpOperand &shift : add->getOpOperands()) {
      Value other = add->getOperand(1 - shift.getOperandNumber());
      auto mul = other.getDefiningOp<onnx::MulOp>();
      if (!isPerChannelConstant(shift.get(), k) || !mul || !other.hasOneUse())
        continue;
      OpOperand *scale = perChannelOperand(mul, k);
      if (!scale)
        continue;
      divideConstant(*scale, scales, name);
      divideConstant(shift, scales, name);
      return true;
    }
    return false;
  }
  auto mul = dyn_cast<onnx::MulOp>(producer);
  if (!mul)
    return false;
  // A normalization's scale.
  if (OpOperand *scale = perChannelOperand(mul, k))
    return divideConstant(*scale, scales, name);
  // A product of a weight product's output: its columns.
  for (OpOperand &operand : mul->getOpOperands()) {
    auto product = operand.get().getDefiningOp<onnx::MatMulOp>();
    if (product && quant::isWeightProduct(product) &&
        operand.get().hasOneUse() &&
        cast<RankedTensorType>(product.getB().getType()).getDimSize(1) == k &&
        cast<RankedTensorType>(operand.get().getType()) ==
            cast<RankedTensorType>(mul.getType())) {
      std::vector<float> weight = quant::weightOf(product);
      int64_t rows = int64_t(weight.size()) / k;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < k; ++c)
          weight[r * k + c] /= scales[c];
      quant::setWeight(product, weight, "_scaled");
      return true;
    }
  }
  return false;
}

} // namespace

std::vector<float> quant::rowMaxima(ArrayRef<std::vector<float>> weights,
                                    int64_t k) {
  std::vector<float> weightMax(k, 0.0f);
  for (const std::vector<float> &weight : weights) {
    int64_t n = int64_t(weight.size()) / k;
    for (int64_t c = 0; c < k; ++c)
      for (int64_t j = 0; j < n; ++j)
        weightMax[c] = std::max(weightMax[c], std::fabs(weight[c * n + j]));
  }
  return weightMax;
}

std::vector<float> quant::smoothingScales(ArrayRef<float> absMax,
                                          ArrayRef<float> weightMax,
                                          double alpha) {
  int64_t k = int64_t(absMax.size());
  std::vector<float> scales(k, 1.0f);
  for (int64_t c = 0; c < k; ++c)
    if (absMax[c] > 0 && weightMax[c] > 0)
      scales[c] = std::max(float(std::pow(double(absMax[c]), alpha) /
                                 std::pow(double(weightMax[c]), 1.0 - alpha)),
                           1e-5f);
  return scales;
}

void quant::divideInput(Value input, ArrayRef<onnx::MatMulOp> products,
                        ArrayRef<float> scales, StringRef name) {
  bool onlyProducts = llvm::all_of(input.getUsers(), [&](Operation *user) {
    return llvm::is_contained(products, user);
  });
  if (onlyProducts && absorbInProducer(input, scales, name))
    return;
  // Nothing absorbs it: the input times 1/s, once for the products.
  int64_t k = int64_t(scales.size());
  onnx::MatMulOp first = products.front();
  OpBuilder builder(first);
  std::vector<float> inverse(k);
  for (int64_t c = 0; c < k; ++c)
    inverse[c] = 1.0f / scales[c];
  Location loc = first.getLoc();
  Value factor = floatConstant(builder, loc,
                               RankedTensorType::get({k}, builder.getF32Type()),
                               inverse, (name + "_input_scale").str());
  Value scaled =
      builder.create<onnx::MulOp>(loc, input.getType(), input, factor);
  for (onnx::MatMulOp op : products)
    op.getAMutable().assign(scaled);
}

void quant::scaleWeightRows(std::vector<float> &weight,
                            ArrayRef<float> scales) {
  int64_t k = int64_t(scales.size()), n = int64_t(weight.size()) / k;
  for (int64_t c = 0; c < k; ++c)
    for (int64_t j = 0; j < n; ++j)
      weight[c * n + j] *= scales[c];
}

void quant::divideRowChannels(std::vector<float> &rows,
                              ArrayRef<float> scales) {
  int64_t k = int64_t(scales.size()), t = int64_t(rows.size()) / k;
  for (int64_t r = 0; r < t; ++r)
    for (int64_t c = 0; c < k; ++c)
      rows[r * k + c] /= scales[c];
}
