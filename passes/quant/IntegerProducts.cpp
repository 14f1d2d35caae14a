//===- IntegerProducts.cpp - kiln-quant-integer-products ------------------===//
//
// Quantized products (SmoothQuant's, or onnxruntime's QDQ pairs) as integer
// products of their bytes, for targets whose integer kernels read plain
// layouts: the CUDA target's INT8 tensor-core GEMMs. The CPU packs these
// products instead (kiln-layout-pack-contractions).
//
//===----------------------------------------------------------------------===//

#include "passes/quant/Passes.h"
#include "passes/quant/QuantizedOperands.h"
#include "passes/quant/WeightProducts.h"

#include "dialects/onnx/OnnxConstants.h"
#include "dialects/onnx/OnnxDataTypes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_QUANTINTEGERPRODUCTSPASS
#include "passes/quant/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::quant;

namespace {

/// The bytes the integer product reads for `activation`: its own when they
/// are signed, else the same values as signed bytes (zero point less 128).
Value activationBytes(PatternRewriter &rewriter, Location loc,
                      const QuantizedActivation &activation) {
  QuantizeOp quantize = activation.quantize;
  Value bytes = quantize;
  if (cast<RankedTensorType>(bytes.getType())
          .getElementType()
          .isSignlessInteger(8))
    return bytes;
  return signedBytesOf(rewriter, loc, activation, quantize.getInput());
}

/// An f32 constant of `values` shaped `shape`.
Value vectorConstant(PatternRewriter &rewriter, Location loc,
                     ArrayRef<int64_t> shape, ArrayRef<float> values,
                     StringRef name) {
  return onnx::createFloatConstant(
      rewriter, loc, RankedTensorType::get(shape, rewriter.getF32Type()),
      values, name);
}

/// `acc` (s32) in f32, times `scales` (broadcast as shaped).
Value scaled(PatternRewriter &rewriter, Location loc, Value acc,
             Value scales) {
  Value sums = onnx::createCast(rewriter, loc, acc, rewriter.getF32Type());
  return rewriter.create<onnx::MulOp>(loc, sums.getType(), sums, scales);
}

/// `zeroPoint` times the sum of each filter's integers, as s32 bytes.
std::vector<char> filterCompensation(const Int8Weight &weight,
                                     RankedTensorType filterType,
                                     int64_t zeroPoint) {
  int64_t filters = filterType.getDimSize(0);
  int64_t perFilter = filterType.getNumElements() / filters;
  std::vector<char> bytes(filters * 4);
  for (int64_t f = 0; f < filters; ++f) {
    int32_t sum = 0;
    for (int64_t i = 0; i < perFilter; ++i)
      sum += int8_t(weight.values[f * perFilter + i]);
    int32_t term = int32_t(zeroPoint) * sum;
    memcpy(&bytes[f * 4], &term, 4);
  }
  return bytes;
}

/// The image `bytes` [N, C, spatial...] padded as a Conv's `pads` say
/// (begins, then ends; none when null) with `value`.
Value paddedWith(PatternRewriter &rewriter, Location loc, Value bytes,
                 ArrayAttr pads, int64_t value) {
  auto type = cast<RankedTensorType>(bytes.getType());
  int64_t spatial = type.getRank() - 2;
  SmallVector<int64_t> amounts = onnx::intsOr(pads, 2 * spatial, 0);
  if (llvm::all_of(amounts, [](int64_t amount) { return amount == 0; }))
    return bytes;
  SmallVector<int64_t> all(2 * type.getRank(), 0), shape(type.getShape());
  for (int64_t i = 0; i < spatial; ++i) {
    all[2 + i] = amounts[i];
    all[type.getRank() + 2 + i] = amounts[spatial + i];
    if (!type.isDynamicDim(2 + i))
      shape[2 + i] += amounts[i] + amounts[spatial + i];
  }
  Value padsValue = onnx::createConstant(
      rewriter, loc,
      DenseElementsAttr::get(
          RankedTensorType::get({int64_t(all.size())}, rewriter.getI64Type()),
          ArrayRef<int64_t>(all)));
  Value fill = signedByteConstant(rewriter, loc, value);
  return rewriter.create<onnx::PadOp>(loc, type.clone(shape), bytes, padsValue,
                                      fill, Value(), "constant");
}

/// What the constants a product gains are named after: its ONNX node.
std::string constantNamePrefix(Operation *op) {
  StringRef name = nodeName(op);
  return name.empty() ? "product" : name.str();
}

struct IntegerMatMul : OpRewritePattern<onnx::MatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::MatMulOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<QuantizedActivation> activation =
        quantizedActivationOf(op.getA());
    std::optional<Int8Weight> weight = int8WeightOf(op.getB(), /*axis=*/1);
    auto aType = cast<RankedTensorType>(op.getA().getType());
    auto bType = cast<RankedTensorType>(op.getB().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    if (!activation || !weight || aType.getRank() < 2 ||
        bType.getRank() != 2 || !resultType.getElementType().isF32())
      return failure();
    int64_t k = bType.getDimSize(0), n = bType.getDimSize(1);
    Location loc = op.getLoc();
    Value bytes = activationBytes(rewriter, loc, *activation);
    Value weightBytes = op.getB().getDefiningOp<DequantizeOp>().getInput();
    Value acc = rewriter.create<onnx::MatMulIntegerOp>(
        loc, resultType.clone(rewriter.getI32Type()), bytes, weightBytes,
        Value(), Value());
    std::string name = constantNamePrefix(op);
    if (activation->zeroPoint != 0) {
      // sum_k (x_k - z) q_kn = sum_k x_k q_kn - z sum_k q_kn.
      std::vector<char> compensation(n * 4);
      for (int64_t column = 0; column < n; ++column) {
        int32_t sum = 0;
        for (int64_t row = 0; row < k; ++row)
          sum += int8_t(weight->values[row * n + column]);
        int32_t term = int32_t(activation->zeroPoint) * sum;
        memcpy(&compensation[column * 4], &term, 4);
      }
      Value offsets = onnx::createRawConstant(
          rewriter, loc, RankedTensorType::get({n}, rewriter.getI32Type()),
          compensation, name + "_compensation");
      acc = rewriter.create<onnx::SubOp>(loc, acc.getType(), acc, offsets);
    }
    std::vector<float> multipliers(weight->scales);
    for (float &multiplier : multipliers)
      multiplier *= activation->scale;
    Value product =
        scaled(rewriter, loc, acc,
               vectorConstant(rewriter, loc, {n}, multipliers,
                              name + "_multipliers"));
    if (activation->rowScales)
      product = rewriter.create<onnx::MulOp>(loc, product.getType(), product,
                                             activation->rowScales);
    rewriter.replaceOp(op, product);
    return success();
  }
};

struct IntegerConv : OpRewritePattern<onnx::ConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ConvOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<QuantizedActivation> activation =
        quantizedActivationOf(op.getX());
    std::optional<Int8Weight> weight = int8WeightOf(op.getW(), /*axis=*/0);
    auto resultType = cast<RankedTensorType>(op.getY().getType());
    if (!activation || activation->rowScales || !weight ||
        !resultType.getElementType().isF32())
      return failure();
    std::optional<std::vector<float>> bias;
    if (op.getB() && !(bias = onnx::getConstantFloats(op.getB())))
      return failure();
    int64_t filters = cast<RankedTensorType>(op.getW().getType()).getDimSize(0);
    Location loc = op.getLoc();
    Value bytes = activationBytes(rewriter, loc, *activation);
    auto filterType = cast<RankedTensorType>(op.getW().getType());
    Value filter = op.getW().getDefiningOp<DequantizeOp>().getInput();
    ArrayAttr pads = op.getPadsAttr();
    Value zeroPoint;
    std::vector<char> compensation;
    if (activation->zeroPoint != 0) {
      bool explicitPads =
          op.getAutoPad() == "NOTSET" || op.getAutoPad() == "VALID";
      if (explicitPads) {
        // The input padded with its zero point, which then stands for 0
        // everywhere the filter reads: sum (x - z) w = sum x w - z sum w
        // with the filter's whole sum, and the product reads plain bytes.
        bytes = paddedWith(rewriter, loc, bytes, pads, activation->zeroPoint);
        pads = nullptr;
        compensation = filterCompensation(*weight, filterType,
                                          activation->zeroPoint);
      } else {
        // Padding placed at run time reads the zero point as the
        // convolution's own (its operands are then widened to s32).
        zeroPoint = signedByteConstant(rewriter, loc, activation->zeroPoint);
      }
    }
    Value acc = rewriter.create<onnx::ConvIntegerOp>(
        loc, resultType.clone(rewriter.getI32Type()), bytes, filter, zeroPoint,
        Value(), op.getAutoPadAttr(), op.getDilationsAttr(), op.getGroupAttr(),
        op.getKernelShapeAttr(), pads, op.getStridesAttr());
    // Per output channel, broadcast over the spatial dimensions.
    SmallVector<int64_t> channelShape(resultType.getRank() - 1, 1);
    channelShape[0] = filters;
    std::string name = constantNamePrefix(op);
    if (!compensation.empty())
      acc = rewriter.create<onnx::SubOp>(
          loc, acc.getType(), acc,
          onnx::createRawConstant(
              rewriter, loc,
              RankedTensorType::get(channelShape, rewriter.getI32Type()),
              compensation, name + "_compensation"));
    std::vector<float> multipliers(weight->scales);
    for (float &multiplier : multipliers)
      multiplier *= activation->scale;
    Value result = scaled(
        rewriter, loc, acc,
        vectorConstant(rewriter, loc, channelShape, multipliers,
                       name + "_multipliers"));
    if (bias)
      result = rewriter.create<onnx::AddOp>(
          loc, result.getType(), result,
          vectorConstant(rewriter, loc, channelShape, *bias, name + "_bias"));
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct QuantIntegerProductsPass
    : kiln::impl::QuantIntegerProductsPassBase<QuantIntegerProductsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<IntegerMatMul, IntegerConv>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
