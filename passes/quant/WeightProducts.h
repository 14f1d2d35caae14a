//===- WeightProducts.h - the products quantization works on ---*- C++ -*-===//
//
// What the quantization passes and the calibration that feeds them agree
// on: which matrix products have a weight to quantize, and their names.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_QUANT_WEIGHTPRODUCTS_H
#define KILN_PASSES_QUANT_WEIGHTPRODUCTS_H

#include "dialects/onnx/OnnxOps.h"

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

/// The ONNX node name of `op`, or "".
inline StringRef nodeName(Operation *op) {
  if (auto name = dyn_cast<NameLoc>(op->getLoc()))
    return name.getName().strref();
  return "";
}

} // namespace mlir::kiln::quant

#endif // KILN_PASSES_QUANT_WEIGHTPRODUCTS_H
