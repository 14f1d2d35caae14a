//===- FourBitMatMul.cpp - MatMul by 4-bit weights in groups --------------===//
//
// The quantization passes leave 4-bit weights as `MatMul(x,
// kiln.dequantize(q, scale, zero_point))` of constants, groups along K.
// Where no packed kernel took them (the CPU packs them first), lowering the
// dequantization on its own would write the whole FP32 matrix at every
// run; instead the two become one product that reads the nibbles
// (codegen/common/FourBitProducts.h), packed here two to a byte along K.
//
//===----------------------------------------------------------------------===//

#include "codegen/common/FourBitProducts.h"
#include "codegen/linalg/LinalgBuilders.h"
#include "codegen/linalg/OnnxToLinalg.h"
#include "dialects/kiln/KilnOps.h"
#include "dialects/onnx/OnnxConstants.h"
#include "dialects/onnx/OnnxOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// An i8 constant of `shape` holding `bytes`.
Value byteConstant(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                   const std::vector<char> &bytes, StringRef name) {
  auto type = RankedTensorType::get(shape, b.getI8Type());
  return b.create<arith::ConstantOp>(
      loc, DenseResourceElementsAttr::get(
               type, name,
               HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, 64)));
}

struct LowerFourBitMatMul : OpRewritePattern<onnx::MatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::MatMulOp op,
                                PatternRewriter &rewriter) const override {
    auto dequantize = op.getB().getDefiningOp<DequantizeOp>();
    auto activations = cast<RankedTensorType>(op.getA().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    if (!dequantize || !activations.getElementType().isF32() ||
        !resultType.getElementType().isF32())
      return failure();
    auto weights = cast<RankedTensorType>(dequantize.getInput().getType());
    auto scales = cast<RankedTensorType>(dequantize.getScale().getType());
    int64_t group = dequantize.getGroupSize();
    if (weights.getRank() != 2 || !weights.hasStaticShape() ||
        weights.getElementTypeBitWidth() != 4 || group < 1 ||
        dequantize.getAxis() != 0 || scales.getRank() != 2 ||
        activations.getRank() < 1)
      return failure();
    int64_t k = weights.getDimSize(0), n = weights.getDimSize(1);
    if (k % 2 != 0)
      return failure();
    std::optional<std::vector<char>> values =
        onnx::getConstantBytes(dequantize.getInput());
    std::optional<std::vector<char>> zeros =
        dequantize.getZeroPoint()
            ? onnx::getConstantBytes(dequantize.getZeroPoint())
            : std::vector<char>(scales.getNumElements(), 0);
    if (!values || !zeros)
      return failure();
    // Signed integers become unsigned ones with zero points 8 higher: the
    // differences stay.
    char bias = dequantize.isUnsignedInput() ? 0 : 8;
    std::vector<char> nibbles(size_t(n * k / 2));
    for (int64_t row = 0; row < k; ++row)
      for (int64_t column = 0; column < n; ++column) {
        char nibble = char(((*values)[row * n + column] + bias) & 15);
        nibbles[column * (k / 2) + row / 2] |=
            char(row % 2 ? nibble << 4 : nibble);
      }
    for (char &zero : *zeros)
      zero = char((zero + bias) & 15);

    Location loc = op.getLoc();
    // K is the weights': rows whose last size is known only at run time
    // (after a symbolic reshape) are cast to it.
    Value rows = op.getA();
    if (activations.isDynamicDim(activations.getRank() - 1)) {
      SmallVector<int64_t> shape(activations.getShape());
      shape.back() = k;
      rows = rewriter.create<tensor::CastOp>(
          loc, RankedTensorType::get(shape, activations.getElementType()),
          rows);
    }
    SmallVector<Value> sizes;
    for (int64_t d = 0; d + 1 < resultType.getRank(); ++d)
      if (resultType.isDynamicDim(d))
        sizes.push_back(rewriter.create<tensor::DimOp>(loc, op.getA(), d));
    Value init = filledTensor(rewriter, loc, resultType.getShape(),
                              rewriter.getF32FloatAttr(0.0f), sizes);
    rewriter.replaceOp(
        op, buildFourBitProduct(
                rewriter, loc, rows,
                byteConstant(rewriter, loc, {n, k / 2}, nibbles, "nibbles"),
                dequantize.getScale(),
                byteConstant(rewriter, loc, scales.getShape(), *zeros,
                             "zero_points"),
                group, init));
    return success();
  }
};

} // namespace

void mlir::kiln::populateFourBitMatMulLowering(RewritePatternSet &patterns) {
  patterns.add<LowerFourBitMatMul>(patterns.getContext());
}
