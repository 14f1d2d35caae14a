//===- RowQuantization.cpp - activations to 8 bits per row at run time ----===//

#include "passes/quant/RowQuantization.h"
#include "passes/quant/WeightProducts.h"

#include "dialects/kiln/KilnOps.h"
#include "dialects/onnx/OnnxConstants.h"
#include "dialects/onnx/OnnxOps.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::kiln;

Value quant::quantizeRows(OpBuilder &builder, Location loc, Value input,
                          float smallestScale) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank(), k = type.getShape().back();
  SmallVector<int64_t> rowShape(type.getShape());
  rowShape.back() = 1;
  auto rowType = type.clone(rowShape);
  auto scalar = [&](float value) {
    return onnx::createConstant(
        builder, loc,
        DenseElementsAttr::get(RankedTensorType::get({}, builder.getF32Type()),
                               value));
  };
  Value magnitudes = builder.create<onnx::AbsOp>(loc, type, input);
  Value axes = onnx::createConstant(
      builder, loc,
      DenseElementsAttr::get(RankedTensorType::get({1}, builder.getI64Type()),
                             ArrayRef<int64_t>{rank - 1}));
  Value maxima =
      builder.create<onnx::ReduceMaxOp>(loc, rowType, magnitudes, axes, 1, 0);
  Value scales =
      builder.create<onnx::DivOp>(loc, rowType, maxima, scalar(127.0f));
  scales = builder.create<onnx::MaxOp>(
      loc, rowType, ValueRange{scales, scalar(smallestScale)});
  Value integers = builder.create<QuantizeOp>(
      loc, type.clone(builder.getI8Type()), input, scales, Value(),
      /*axis=*/rank - 1, /*group_size=*/k);
  return builder.create<DequantizeOp>(loc, type, integers, scales, Value(),
                                      /*axis=*/rank - 1, /*group_size=*/k);
}

void quant::fakeQuantizeRows(std::vector<float> &rows, int64_t t, int64_t k) {
  for (int64_t r = 0; r < t; ++r) {
    float *row = rows.data() + r * k;
    float largest = 0;
    for (int64_t c = 0; c < k; ++c)
      largest = std::max(largest, std::fabs(row[c]));
    float scale = std::max(largest / 127.0f, 1e-30f);
    for (int64_t c = 0; c < k; ++c)
      row[c] = std::nearbyint(row[c] / scale) * scale;
  }
}

void quant::refineRowLength(onnx::MatMulOp product) {
  Value rows = product.getA();
  auto type = dyn_cast<RankedTensorType>(rows.getType());
  auto weight = dyn_cast<RankedTensorType>(product.getB().getType());
  if (!type || type.getRank() < 1 || hasStaticRows(rows) || !weight ||
      weight.getRank() != 2 || weight.isDynamicDim(0))
    return;
  SmallVector<int64_t> shape(type.getShape());
  shape.back() = weight.getDimSize(0);
  auto refined = type.clone(shape);
  // One cast per rows: a product already refined shares its cast (or any
  // such cast before the product in its block).
  for (Operation *user : rows.getUsers())
    if (auto cast = dyn_cast<tensor::CastOp>(user))
      if (cast.getType() == refined &&
          cast->getBlock() == product->getBlock() &&
          cast->isBeforeInBlock(product)) {
        product.getAMutable().assign(cast);
        return;
      }
  OpBuilder builder(product.getContext());
  builder.setInsertionPointAfterValue(rows);
  Value cast = builder.create<tensor::CastOp>(rows.getLoc(), refined, rows);
  product.getAMutable().assign(cast);
}

void quant::refineRowLengths(Operation *function) {
  // Collected first: refining inserts casts.
  SmallVector<onnx::MatMulOp> products;
  function->walk([&](onnx::MatMulOp op) {
    if (isWeightProduct(op))
      products.push_back(op);
  });
  for (onnx::MatMulOp op : products)
    refineRowLength(op);
}

bool quant::hasStaticRows(Value input) {
  auto type = dyn_cast<RankedTensorType>(input.getType());
  return type && type.getRank() >= 1 &&
         !ShapedType::isDynamic(type.getShape().back());
}
