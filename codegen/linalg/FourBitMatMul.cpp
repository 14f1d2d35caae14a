//===- FourBitMatMul.cpp - MatMul by 4-bit weights in groups --------------===//
//
// The quantization passes leave 4-bit weights as `MatMul(x,
// kiln.dequantize(q, scale, zero_point))` of constants, groups along K.
// Where no packed kernel took them (the CPU packs them first), lowering the
// dequantization on its own would write the whole FP32 matrix at every
// run; instead the two become one product that reads the nibbles
// (codegen/common/FourBitProducts.h), packed here two to a byte along K.
// W4A8's products (rows of signed bytes with a scale each, by QoQ's
// weights whose group scales are small integers) become the integer form
// of that product, then each row's sums times its scale.
//
//===----------------------------------------------------------------------===//

#include "codegen/common/FourBitProducts.h"
#include "codegen/linalg/LinalgBuilders.h"
#include "codegen/linalg/OnnxToLinalg.h"
#include "dialects/kiln/KilnOps.h"
#include "dialects/onnx/OnnxConstants.h"
#include "dialects/onnx/OnnxOps.h"
#include "passes/quant/QuantizedOperands.h"

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

/// A kiln.dequantize of 4-bit constants in groups along K of a [K, N]
/// matrix, read: the nibbles packed [N, K / 2] two to a byte, and each
/// group's zero point (unsigned; signed integers become unsigned ones with
/// zero points 8 higher, which keeps the differences).
struct FourBitWeights {
  int64_t k = 0, n = 0, group = 0;
  std::vector<char> nibbles, zeros;
  /// The unpacked integers, [K, N] (0-15).
  std::vector<char> values;
};

std::optional<FourBitWeights> fourBitWeightsOf(Value weight) {
  auto dequantize = weight.getDefiningOp<DequantizeOp>();
  if (!dequantize)
    return std::nullopt;
  auto type = cast<RankedTensorType>(dequantize.getInput().getType());
  auto scales = cast<RankedTensorType>(dequantize.getScale().getType());
  FourBitWeights result;
  result.group = dequantize.getGroupSize();
  if (type.getRank() != 2 || !type.hasStaticShape() ||
      type.getElementTypeBitWidth() != 4 || result.group < 1 ||
      dequantize.getAxis() != 0 || scales.getRank() != 2 ||
      type.getDimSize(0) % 2 != 0)
    return std::nullopt;
  result.k = type.getDimSize(0), result.n = type.getDimSize(1);
  std::optional<std::vector<char>> values =
      onnx::getConstantBytes(dequantize.getInput());
  std::optional<std::vector<char>> zeros =
      dequantize.getZeroPoint()
          ? onnx::getConstantBytes(dequantize.getZeroPoint())
          : std::vector<char>(scales.getNumElements(), 0);
  if (!values || !zeros)
    return std::nullopt;
  char bias = dequantize.isUnsignedInput() ? 0 : 8;
  result.values = std::move(*values);
  for (char &value : result.values)
    value = char((value + bias) & 15);
  result.zeros = std::move(*zeros);
  for (char &zero : result.zeros)
    zero = char((zero + bias) & 15);
  result.nibbles.assign(size_t(result.n * result.k / 2), 0);
  for (int64_t row = 0; row < result.k; ++row)
    for (int64_t column = 0; column < result.n; ++column) {
      char nibble = result.values[row * result.n + column];
      result.nibbles[column * (result.k / 2) + row / 2] |=
          char(row % 2 ? nibble << 4 : nibble);
    }
  return result;
}

/// W4A8's weights in the INT8 tensor cores' fragment order
/// (FourBitProducts.h, FourBitOrder::Fragments): the nibbles, and the
/// groups' scales and scaled zero points [K/G, N/32, 8, 4].
struct FragmentWeights {
  std::vector<char> nibbles, scales, scaledZeros;
};

FragmentWeights fragmentOrder(const FourBitWeights &weights,
                              ArrayRef<char> scales,
                              ArrayRef<char> scaledZeros) {
  int64_t n = weights.n, k = weights.k;
  FragmentWeights result;
  result.nibbles.assign(size_t(n * k / 2), 0);
  for (int64_t row = 0; row < k; ++row)
    for (int64_t column = 0; column < n; ++column) {
      int64_t tile = column / 32 * (k / 32) + row / 32;
      int64_t r = column % 8, a = column % 16 / 8, high = column % 32 / 16;
      int64_t c = row % 16 / 4, h = row % 32 / 16, e = row % 4;
      int64_t byte = tile * 512 + (4 * r + c) * 16 + 8 * h + 4 * a + e;
      char nibble = weights.values[row * n + column];
      result.nibbles[byte] |= char(high ? nibble << 4 : nibble);
    }
  result.scales.resize(scales.size());
  result.scaledZeros.resize(scaledZeros.size());
  for (size_t i = 0; i < scales.size(); ++i) {
    int64_t group = int64_t(i) / n, column = int64_t(i) % n;
    size_t to =
        size_t(group * n + column / 32 * 32 + column % 8 * 4 + column % 32 / 8);
    result.scales[to] = scales[i];
    result.scaledZeros[to] = scaledZeros[i];
  }
  return result;
}

/// `rows` with its last size K, cast to it if it is known only at run time
/// (after a symbolic reshape).
Value withChannels(PatternRewriter &rewriter, Location loc, Value rows,
                   int64_t k) {
  auto type = cast<RankedTensorType>(rows.getType());
  if (!type.isDynamicDim(type.getRank() - 1))
    return rows;
  SmallVector<int64_t> shape(type.getShape());
  shape.back() = k;
  return rewriter.create<tensor::CastOp>(
      loc, RankedTensorType::get(shape, type.getElementType()), rows);
}

/// The sizes of `resultType` (`rows`' shape with N for K) known only at
/// run time, read from `rows`.
SmallVector<Value> dynamicResultSizes(PatternRewriter &rewriter, Location loc,
                                      Value rows, RankedTensorType resultType) {
  SmallVector<Value> sizes;
  for (int64_t d = 0; d + 1 < resultType.getRank(); ++d)
    if (resultType.isDynamicDim(d))
      sizes.push_back(rewriter.create<tensor::DimOp>(loc, rows, d));
  return sizes;
}

/// Zeros of `rows`' shape with N for K, in `element`.
Value zeroSums(PatternRewriter &rewriter, Location loc, Value rows,
               RankedTensorType resultType, Type element) {
  return filledTensor(rewriter, loc, resultType.getShape(),
                      cast<TypedAttr>(rewriter.getZeroAttr(element)),
                      dynamicResultSizes(rewriter, loc, rows, resultType));
}

struct LowerFourBitMatMul : OpRewritePattern<onnx::MatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::MatMulOp op,
                                PatternRewriter &rewriter) const override {
    auto activations = cast<RankedTensorType>(op.getA().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    if (!activations.getElementType().isF32() ||
        !resultType.getElementType().isF32() || activations.getRank() < 1)
      return failure();
    std::optional<FourBitWeights> weights = fourBitWeightsOf(op.getB());
    if (!weights)
      return failure();
    auto dequantize = op.getB().getDefiningOp<DequantizeOp>();
    auto scales = cast<RankedTensorType>(dequantize.getScale().getType());
    Location loc = op.getLoc();
    Value rows = withChannels(rewriter, loc, op.getA(), weights->k);
    rewriter.replaceOp(
        op, buildFourBitProduct(rewriter, loc, rows,
                                byteConstant(rewriter, loc,
                                             {weights->n, weights->k / 2},
                                             weights->nibbles, "nibbles"),
                                dequantize.getScale(),
                                byteConstant(rewriter, loc, scales.getShape(),
                                             weights->zeros, "zero_points"),
                                weights->group,
                                zeroSums(rewriter, loc, op.getA(), resultType,
                                         rewriter.getF32Type())));
    return success();
  }
};

/// W4A8: rows quantized to signed bytes with one scale each, by 4-bit
/// weights whose group scales are small integers with `(q - z) * s` a
/// signed byte (QoQ's progressive quantization), as the integer product
/// of the bytes (FourBitProducts.h's integer form), then each row's sums
/// times its scale.
struct LowerFourBitIntegerMatMul : OpRewritePattern<onnx::MatMulOp> {
  LowerFourBitIntegerMatMul(MLIRContext *context)
      : OpRewritePattern(context, /*benefit=*/2) {}
  LogicalResult matchAndRewrite(onnx::MatMulOp op,
                                PatternRewriter &rewriter) const override {
    auto rowsDequantized = op.getA().getDefiningOp<DequantizeOp>();
    auto resultType = cast<RankedTensorType>(op.getType());
    if (!rowsDequantized || !resultType.getElementType().isF32() ||
        rowsDequantized.getZeroPoint())
      return failure();
    Value bytes = rowsDequantized.getInput();
    auto bytesType = cast<RankedTensorType>(bytes.getType());
    auto rowScales =
        cast<RankedTensorType>(rowsDequantized.getScale().getType());
    int64_t rank = bytesType.getRank();
    if (!bytesType.getElementType().isSignlessInteger(8) || rank < 2 ||
        !rowScales.getElementType().isF32() || rowScales.getRank() != rank ||
        rowScales.getShape().back() != 1 ||
        rowsDequantized.getAxis() != rank - 1)
      return failure();
    std::optional<FourBitWeights> weights = fourBitWeightsOf(op.getB());
    if (!weights || rowsDequantized.getGroupSize() != weights->k)
      return failure();
    auto dequantize = op.getB().getDefiningOp<DequantizeOp>();
    std::optional<std::vector<char>> scales =
        quant::integerGroupScalesOf(dequantize.getScale(), weights->values,
                                    weights->zeros, weights->n, weights->group);
    if (!scales)
      return failure();
    // Each group's zero point times its scale, what the kernels subtract
    // after multiplying.
    std::vector<char> scaledZeros(scales->size());
    for (size_t i = 0; i < scales->size(); ++i)
      scaledZeros[i] = char(weights->zeros[i] * (*scales)[i]);

    Location loc = op.getLoc();
    auto scaleType = cast<RankedTensorType>(dequantize.getScale().getType());
    auto sumsType =
        RankedTensorType::get(resultType.getShape(), rewriter.getI32Type());
    Value rows = withChannels(rewriter, loc, bytes, weights->k);
    Value zeros =
        zeroSums(rewriter, loc, bytes, sumsType, rewriter.getI32Type());
    int64_t n = weights->n, k = weights->k, group = weights->group;
    Value sums;
    if (n % 32 == 0 && k % 32 == 0 && group % 32 == 0) {
      // Whole 32 x 32 tiles, one group each: the fragments' order, which
      // the INT8 tensor cores read straight into registers.
      FragmentWeights fragments = fragmentOrder(*weights, *scales, scaledZeros);
      SmallVector<int64_t> groupShape = {k / group, n / 32, 8, 4};
      sums = buildFourBitIntegerProduct(
          rewriter, loc, rows,
          byteConstant(rewriter, loc, {n / 32, k / 32, 8, 4, 2, 2, 4},
                       fragments.nibbles, "nibble_fragments"),
          byteConstant(rewriter, loc, groupShape, fragments.scales,
                       "group_scales"),
          byteConstant(rewriter, loc, groupShape, fragments.scaledZeros,
                       "scaled_zero_points"),
          group, zeros, FourBitOrder::Fragments);
    } else {
      sums = buildFourBitIntegerProduct(
          rewriter, loc, rows,
          byteConstant(rewriter, loc, {n, k / 2}, weights->nibbles, "nibbles"),
          byteConstant(rewriter, loc, scaleType.getShape(), *scales,
                       "group_scales"),
          byteConstant(rewriter, loc, scaleType.getShape(), scaledZeros,
                       "scaled_zero_points"),
          group, zeros);
    }
    // Each row's sums times its scale, into a tensor the op only writes.
    MLIRContext *context = rewriter.getContext();
    AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
    AffineMap rowScale =
        broadcastMap(rowScales.getShape(), resultType.getShape(), context);
    Value init = rewriter.create<tensor::EmptyOp>(
        loc, resultType.getShape(), resultType.getElementType(),
        dynamicResultSizes(rewriter, loc, bytes, resultType));
    rewriter.replaceOp(
        op,
        rewriter
            .create<linalg::GenericOp>(
                loc, resultType, ValueRange{sums, rowsDequantized.getScale()},
                init, ArrayRef<AffineMap>{identity, rowScale, identity},
                SmallVector<utils::IteratorType>(rank,
                                                 utils::IteratorType::parallel),
                [](OpBuilder &b, Location at, ValueRange args) {
                  Value sum =
                      b.create<arith::SIToFPOp>(at, b.getF32Type(), args[0]);
                  b.create<linalg::YieldOp>(
                      at,
                      ValueRange{b.create<arith::MulFOp>(at, sum, args[1])});
                })
            .getResult(0));
    return success();
  }
};

} // namespace

void mlir::kiln::populateFourBitMatMulLowering(RewritePatternSet &patterns) {
  patterns.add<LowerFourBitMatMul, LowerFourBitIntegerMatMul>(
      patterns.getContext());
}
