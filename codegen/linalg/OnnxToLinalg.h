//===- OnnxToLinalg.h - the onnx lowering patterns, by op family -*- C++ -*-===//
//
// Each op family lives in its own file and offers two things: whether an op
// of the family can be lowered (and if not, why, for the user), and the
// patterns that lower it.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_LINALG_ONNXTOLINALG_H
#define KILN_CODEGEN_LINALG_ONNXTOLINALG_H

#include "mlir/IR/PatternMatch.h"

#include <optional>
#include <string>

namespace mlir::kiln {

// Each check*Lowering answers for one family: nullopt when the op can be
// lowered, the reason when it cannot, and "" when the op is not the
// family's.

/// The elementwise operators.
std::optional<std::string> checkElementwiseLowering(Operation *op);
void populateElementwiseLowering(RewritePatternSet &patterns);

/// MatMul (numpy semantics) and Gemm.
std::optional<std::string> checkMatMulLowering(Operation *op);
void populateMatMulLowering(RewritePatternSet &patterns);

/// MatMul by 4-bit constant weights in groups along K (a kiln.dequantize
/// of constants): one product that reads the nibbles. Applied before the
/// others, which would lower the dequantization on its own.
void populateFourBitMatMulLowering(RewritePatternSet &patterns);

/// Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat, Pad, Shape.
std::optional<std::string> checkDataMovementLowering(Operation *op);
void populateDataMovementLowering(RewritePatternSet &patterns);
/// Reshape, Flatten, Squeeze and Unsqueeze whose shapes are symbolic
/// (SymbolicReshapes.cpp): whether, and how.
std::optional<std::string> checkSymbolicReshape(Operation *op);
Value lowerSymbolicReshape(OpBuilder &b, Operation *op);

/// Softmax and LogSoftmax.
std::optional<std::string> checkSoftmaxLowering(Operation *op);
void populateSoftmaxLowering(RewritePatternSet &patterns);

/// Conv, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool.
std::optional<std::string> checkWindowLowering(Operation *op);
void populateWindowLowering(RewritePatternSet &patterns);

/// Reduce* with constant axes, BatchNormalization (inference),
/// LayerNormalization.
std::optional<std::string> checkReductionLowering(Operation *op);
void populateReductionLowering(RewritePatternSet &patterns);

/// Gather, GatherElements, GatherND, Trilu and Slice.
std::optional<std::string> checkIndexingLowering(Operation *op);
void populateIndexingLowering(RewritePatternSet &patterns);

/// ArgMax, ArgMin and Hardmax.
std::optional<std::string> checkArgReductionLowering(Operation *op);
void populateArgReductionLowering(RewritePatternSet &patterns);

/// ConstantOfShape, Range, EyeLike and OneHot.
std::optional<std::string> checkGeneratorLowering(Operation *op);
void populateGeneratorLowering(RewritePatternSet &patterns);

/// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss.
std::optional<std::string> checkLossLowering(Operation *op);
void populateLossLowering(RewritePatternSet &patterns);

/// Resize (nearest, linear, cubic) with constant scales or sizes.
std::optional<std::string> checkResizeLowering(Operation *op);
void populateResizeLowering(RewritePatternSet &patterns);

/// CumSum, DepthToSpace and SpaceToDepth.
std::optional<std::string> checkRearrangeLowering(Operation *op);
void populateRearrangeLowering(RewritePatternSet &patterns);

/// ConvTranspose.
std::optional<std::string> checkConvTransposeLowering(Operation *op);
void populateConvTransposeLowering(RewritePatternSet &patterns);

/// Expand and Tile.
std::optional<std::string> checkReplicateLowering(Operation *op);
void populateReplicateLowering(RewritePatternSet &patterns);

/// InstanceNormalization and LRN.
std::optional<std::string> checkNormalizationLowering(Operation *op);
void populateNormalizationLowering(RewritePatternSet &patterns);

/// ScatterElements and ScatterND.
std::optional<std::string> checkScatterLowering(Operation *op);
void populateScatterLowering(RewritePatternSet &patterns);

/// TopK with a constant K.
std::optional<std::string> checkTopKLowering(Operation *op);
void populateTopKLowering(RewritePatternSet &patterns);

/// kiln.quantize and kiln.dequantize (integers of 8 to 32 bits, narrower
/// constants), ONNX's DynamicQuantizeLinear, and the reasons ONNX's
/// QuantizeLinear and DequantizeLinear that were not made kiln ops stay.
std::optional<std::string> checkQuantizationLowering(Operation *op);
void populateQuantizationLowering(RewritePatternSet &patterns);

/// kiln.pack_kv4 and kiln.unpack_kv4 (the 4-bit KV cache's rows).
std::optional<std::string> checkKv4CacheLowering(Operation *op);
void populateKv4CacheLowering(RewritePatternSet &patterns);

/// MatMulInteger, ConvInteger, QLinearMatMul and QLinearConv.
std::optional<std::string> checkIntegerContractionLowering(Operation *op);
void populateIntegerContractionLowering(RewritePatternSet &patterns);

/// The body of a contraction: yields args[2] + args[0] * args[1], on
/// floats, or on integers with narrower operands sign-extended first.
void multiplyAccumulate(OpBuilder &b, Location loc, ValueRange args);

/// The numpy matrix product of `lhs` and `rhs` into `resultType` (batch
/// dimensions broadcast, 1-D operands as vectors): of one element type,
/// or signed integer operands narrower than the result's integers.
Value matMulContraction(OpBuilder &b, Location loc, Value lhs, Value rhs,
                        RankedTensorType resultType);

/// The convolution `op` (Conv, ConvInteger, QLinearConv: its attributes
/// and groups) of `x` [N, C, spatial...] with `w` [F, C/groups, k...],
/// starting from `bias` [F] (or zero), into `resultType`: of one element
/// type, float or integer, or signed integer `x` and `w` narrower than the
/// result's integers. The padding reads `padding` (a scalar of x's type),
/// or zero.
Value convolve(OpBuilder &b, Operation *op, Value x, Value w, Value bias,
               RankedTensorType resultType, Value padding = {});

/// The scalar `value` (f32 or f64, already divided by its scale) quantized to
/// `integer`'s range: rounded half to even, plus `zeroPoint` (signless, of
/// `integer`'s width; none is zero), saturated; the result is signless.
Value quantizeScalar(OpBuilder &b, Location loc, Value value, Value zeroPoint,
                     IntegerType integer);

/// onnx.Constant to arith.constant.
void populateConstantLowering(RewritePatternSet &patterns);

} // namespace mlir::kiln

#endif // KILN_CODEGEN_LINALG_ONNXTOLINALG_H
