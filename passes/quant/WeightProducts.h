//===- WeightProducts.h - the products quantization works on ---*- C++ -*-===//
//
// What the quantization passes and the calibration that feeds them agree
// on: which matrix products have a weight to quantize, and their names.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_QUANT_WEIGHTPRODUCTS_H
#define KILN_PASSES_QUANT_WEIGHTPRODUCTS_H

#include "dialects/kiln/KilnAttributes.h"
#include "dialects/onnx/OnnxOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include <vector>

namespace mlir::kiln::quant {

/// Whether `op` multiplies f32 rows (at least 2-D; their length, which
/// MatMul requires to be K, may be symbolic) by a constant f32 weight
/// [K, N].
inline bool isWeightProduct(onnx::MatMulOp op) {
  auto a = dyn_cast<RankedTensorType>(op.getA().getType());
  auto b = dyn_cast<RankedTensorType>(op.getB().getType());
  return a && b && a.getElementType().isF32() && a.getRank() >= 2 &&
         b.getElementType().isF32() && b.getRank() == 2 && b.hasStaticShape() &&
         op.getB().getDefiningOp<onnx::ConstantOp>();
}

/// Whether `op` is a 2-D convolution of an f32 NCHW image (its channels
/// static) by a constant f32 filter, ungrouped.
inline bool isWeightConv(onnx::ConvOp op) {
  auto x = dyn_cast<RankedTensorType>(op.getX().getType());
  auto w = dyn_cast<RankedTensorType>(op.getW().getType());
  return x && w && x.getElementType().isF32() && x.getRank() == 4 &&
         !x.isDynamicDim(1) && w.getElementType().isF32() &&
         w.hasStaticShape() && w.getRank() == 4 && op.getGroup() == 1 &&
         op.getW().getDefiningOp<onnx::ConstantOp>();
}

/// Whether calibration and the 8-bit passes take `op`: a weight product
/// or a weight convolution.
inline bool isQuantizable(Operation *op) {
  if (auto product = dyn_cast<onnx::MatMulOp>(op))
    return isWeightProduct(product);
  if (auto conv = dyn_cast<onnx::ConvOp>(op))
    return isWeightConv(conv);
  return false;
}

/// The activation operand of a quantizable op: A, or the image X.
inline Value activationOf(Operation *op) { return op->getOperand(0); }

/// The input channels of a quantizable op's weight: K of a [K, N] weight,
/// C of an [F, C, KH, KW] filter.
inline int64_t inputChannelsOf(Operation *op) {
  auto weight = cast<RankedTensorType>(op->getOperand(1).getType());
  return weight.getDimSize(isa<onnx::ConvOp>(op) ? 1 : 0);
}

/// The f32 elements of a statistics entry (a DenseElementsAttr).
inline std::vector<float> floatsOf(Attribute attr) {
  auto values = cast<DenseElementsAttr>(attr).getValues<float>();
  return std::vector<float>(values.begin(), values.end());
}

/// Sets the 1-D f32 statistic `name` of `op`'s calibration statistics to
/// `values`, keeping the others.
inline void setStatistic(Operation *op, StringRef name,
                         ArrayRef<float> values) {
  MLIRContext *context = op->getContext();
  NamedAttrList fields(
      op->getAttrOfType<DictionaryAttr>(kActivationStatsAttrName));
  fields.set(name, DenseElementsAttr::get(
                       RankedTensorType::get({int64_t(values.size())},
                                             Float32Type::get(context)),
                       values));
  op->setAttr(kActivationStatsAttrName, fields.getDictionary(context));
}

/// The ONNX node name of `op`, or "".
inline StringRef nodeName(Operation *op) {
  if (auto name = dyn_cast<NameLoc>(op->getLoc()))
    return name.getName().strref();
  return "";
}

/// Notes on the function around `product` that its weight of `floatBytes`
/// (f32) is now `bytes` (the integers, scales and zero points written):
/// kiln.quantized_weights, which the package's manifest keeps.
inline void recordQuantizedWeight(Operation *product, int64_t floatBytes,
                                  int64_t bytes) {
  auto function = product->getParentOfType<func::FuncOp>();
  if (!function)
    return;
  Builder b(product->getContext());
  SmallVector<Attribute> weights;
  if (auto known =
          function->getAttrOfType<ArrayAttr>(kQuantizedWeightsAttrName))
    weights.assign(known.begin(), known.end());
  weights.push_back(b.getDictionaryAttr(
      {b.getNamedAttr("node", b.getStringAttr(nodeName(product))),
       b.getNamedAttr("float_bytes", b.getI64IntegerAttr(floatBytes)),
       b.getNamedAttr("bytes", b.getI64IntegerAttr(bytes))}));
  function->setAttr(kQuantizedWeightsAttrName, b.getArrayAttr(weights));
}

} // namespace mlir::kiln::quant

#endif // KILN_PASSES_QUANT_WEIGHTPRODUCTS_H
