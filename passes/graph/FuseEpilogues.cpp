//===- FuseEpilogues.cpp - kiln-graph-fuse-epilogues ----------------------===//
//
// What follows a contraction costs a pass over memory as a separate op;
// in the epilogue it is a few instructions on values still in registers.
//
//===----------------------------------------------------------------------===//

#include "passes/graph/Passes.h"

#include "dialects/onnx/OnnxConstants.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>
#include <limits>

namespace mlir::kiln {
#define GEN_PASS_DEF_GRAPHFUSEEPILOGUESPASS
#include "passes/graph/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// A kernel with an epilogue (kiln.packed_conv2d, kiln.depthwise_conv2d)
/// reached from a consumer's operand, possibly through reshapes that keep
/// the filters innermost. Both ops name their epilogue attributes alike and
/// end their operands with the bias and the init.
struct Producer {
  Operation *conv;
  SmallVector<Operation *> reshapes; // from the conv towards the consumer
};

OpOperand &biasOperand(Operation *conv) {
  return conv->getOpOperand(conv->getNumOperands() - 2);
}
OpOperand &initOperand(Operation *conv) {
  return conv->getOpOperand(conv->getNumOperands() - 1);
}

/// The producer of `value`; `value` itself may have other users, provided
/// they are all in `alsoUsedBy` (the rest of a matched pattern); whatever
/// lies between it and the kernel must feed only the next step.
std::optional<Producer> producerOf(Value value,
                                   ArrayRef<Operation *> alsoUsedBy = {}) {
  if (!value.hasOneUse() &&
      llvm::any_of(value.getUsers(), [&](Operation *user) {
        return !llvm::is_contained(alsoUsedBy, user);
      }))
    return std::nullopt;
  Producer producer;
  while (Operation *op = value.getDefiningOp()) {
    if (isa<PackedConv2DOp, DepthwiseConv2DOp>(op)) {
      producer.conv = op;
      std::reverse(producer.reshapes.begin(), producer.reshapes.end());
      return producer;
    }
    if (!isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(op))
      return std::nullopt;
    auto from = cast<RankedTensorType>(op->getOperand(0).getType());
    auto to = cast<RankedTensorType>(op->getResult(0).getType());
    if (from.getShape().back() != to.getShape().back())
      return std::nullopt;
    producer.reshapes.push_back(op);
    value = op->getOperand(0);
    if (!value.hasOneUse())
      return std::nullopt;
  }
  return std::nullopt;
}

/// Replaces `consumer` by a copy of the producer's conv with `change`
/// applied, followed by the producer's reshapes (of the element type the
/// changed conv writes).
void replaceWithFused(PatternRewriter &rewriter, Operation *consumer,
                      const Producer &producer,
                      function_ref<void(Operation *)> change,
                      ArrayRef<Operation *> alsoErase = {}) {
  rewriter.setInsertionPoint(consumer);
  Operation *fused = rewriter.clone(*producer.conv);
  // Profiles and diagnostics name both nodes.
  fused->setLoc(rewriter.getFusedLoc({producer.conv->getLoc(), consumer->getLoc()}));
  change(fused);
  Value result = fused->getResult(0);
  for (Operation *reshape : producer.reshapes) {
    Operation *copy = rewriter.clone(*reshape);
    copy->setOperand(0, result);
    auto type = cast<RankedTensorType>(copy->getResult(0).getType());
    copy->getResult(0).setType(
        type.clone(getElementTypeOrSelf(result.getType())));
    result = copy->getResult(0);
  }
  rewriter.replaceOp(consumer, result);
  // The rest of the matched pattern, users before what they use.
  for (Operation *op : alsoErase)
    rewriter.eraseOp(op);
  for (Operation *reshape : llvm::reverse(producer.reshapes))
    rewriter.eraseOp(reshape);
  rewriter.eraseOp(producer.conv);
}

bool hasNoActivation(Operation *conv) {
  return conv->getAttrOfType<ActivationAttr>("activation").getValue() ==
         Activation::None;
}

void setActivation(Operation *conv, Activation activation) {
  conv->setAttr("activation",
                ActivationAttr::get(conv->getContext(), activation));
}

struct FuseActivation : RewritePattern {
  FuseActivation(MLIRContext *context)
      : RewritePattern(MatchAnyOpTypeTag(), 1, context) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isa<onnx::ReluOp, onnx::ClipOp, onnx::HardSwishOp, onnx::SigmoidOp,
             onnx::GeluOp>(op))
      return failure();
    if (auto gelu = dyn_cast<onnx::GeluOp>(op))
      if (gelu.getApproximate() != "none")
        return failure();
    std::optional<Producer> producer = producerOf(op->getOperand(0));
    if (!producer || !hasNoActivation(producer->conv))
      return failure();
    float low = -std::numeric_limits<float>::infinity();
    float high = std::numeric_limits<float>::infinity();
    if (auto clip = dyn_cast<onnx::ClipOp>(op)) {
      for (auto [bound, value] :
           {std::pair{&low, clip.getMin()}, std::pair{&high, clip.getMax()}}) {
        if (!value)
          continue;
        auto values = onnx::getConstantFloats(value);
        if (!values || values->size() != 1)
          return failure();
        *bound = values->front();
      }
      if (!(low <= high))
        return failure();
    }
    replaceWithFused(rewriter, op, *producer, [&](Operation *conv) {
      if (isa<onnx::ReluOp>(op)) {
        setActivation(conv, Activation::Relu);
      } else if (isa<onnx::SigmoidOp>(op)) {
        setActivation(conv, Activation::Sigmoid);
      } else if (isa<onnx::GeluOp>(op)) {
        setActivation(conv, Activation::Gelu);
      } else if (isa<onnx::HardSwishOp>(op)) {
        setActivation(conv, Activation::HardSwish);
      } else {
        setActivation(conv, Activation::Clip);
        conv->setAttr("clip_min", rewriter.getF32FloatAttr(low));
        conv->setAttr("clip_max", rewriter.getF32FloatAttr(high));
      }
    });
    return success();
  }
};

/// Add(conv, constant along the filters) -> the conv with a new bias;
/// Add(conv, tensor of the same type) -> the conv accumulating into it.
struct FuseAdd : OpRewritePattern<onnx::AddOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::AddOp op,
                                PatternRewriter &rewriter) const override {
    for (int side = 0; side < 2; ++side) {
      Value mine = op->getOperand(side), other = op->getOperand(1 - side);
      std::optional<Producer> producer = producerOf(mine);
      if (!producer || !hasNoActivation(producer->conv) ||
          mine.getType() != op.getType())
        continue;
      if (succeeded(fuseBias(rewriter, op, *producer, other)))
        return success();
      auto packed = dyn_cast<PackedConv2DOp>(producer->conv);
      if (packed && producer->reshapes.empty() &&
          other.getType() == op.getType() && !packed.getAccumulate()) {
        replaceWithFused(rewriter, op, *producer, [&](Operation *conv) {
          auto fused = cast<PackedConv2DOp>(conv);
          fused.getInitMutable().assign(other);
          fused.setAccumulate(true);
        });
        return success();
      }
    }
    return failure();
  }

  LogicalResult fuseBias(PatternRewriter &rewriter, onnx::AddOp op,
                         const Producer &producer, Value other) const {
    Operation *conv = producer.conv;
    Value oldBias = biasOperand(conv).get();
    auto type = dyn_cast<RankedTensorType>(other.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    if (!type || !type.hasStaticShape() ||
        type.getRank() > resultType.getRank())
      return failure();
    // Only the innermost (filter) dimension may be more than one.
    for (int64_t i = 0; i + 1 < type.getRank(); ++i)
      if (type.getDimSize(i) != 1)
        return failure();
    int64_t filters = resultType.getShape().back();
    int64_t count = type.getRank() ? type.getShape().back() : 1;
    if (count != 1 && count != filters)
      return failure();
    std::optional<std::vector<float>> values = onnx::getConstantFloats(other);
    std::optional<std::vector<float>> bias =
        onnx::getConstantFloats(oldBias);
    if (!values || !bias)
      return failure();
    for (int64_t f = 0; f < filters; ++f)
      (*bias)[f] += (*values)[count == 1 ? 0 : f];
    rewriter.setInsertionPoint(conv);
    Value newBias = onnx::createFloatConstant(
        rewriter, conv->getLoc(), cast<RankedTensorType>(oldBias.getType()),
        *bias, "fused_bias");
    replaceWithFused(rewriter, op, producer, [&](Operation *fused) {
      biasOperand(fused).set(newBias);
    });
    return success();
  }
};

/// Cast(conv) to bf16 -> the conv writing bf16: the next contraction's
/// input rounded in this one's epilogue rather than by a pass over memory.
/// A conv accumulating into a residual keeps its f32 result.
struct FuseBf16Cast : OpRewritePattern<onnx::CastOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::CastOp op,
                                PatternRewriter &rewriter) const override {
    Type bf16 = rewriter.getBF16Type();
    if (getElementTypeOrSelf(op.getType()) != bf16)
      return failure();
    std::optional<Producer> producer = producerOf(op.getInput());
    if (!producer)
      return failure();
    auto packed = dyn_cast<PackedConv2DOp>(producer->conv);
    auto initType =
        cast<RankedTensorType>(initOperand(producer->conv).get().getType());
    if ((packed && packed.getAccumulate()) || !initType.getElementType().isF32())
      return failure();
    replaceWithFused(rewriter, op, *producer, [&](Operation *conv) {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPoint(conv);
      // Symbolic extents: the f32 destination's.
      Value f32Init = initOperand(conv).get();
      SmallVector<Value> sizes;
      for (int64_t d = 0; d < initType.getRank(); ++d)
        if (initType.isDynamicDim(d))
          sizes.push_back(
              rewriter.create<tensor::DimOp>(conv->getLoc(), f32Init, d));
      Value init = rewriter.create<tensor::EmptyOp>(
          conv->getLoc(), initType.getShape(), bf16, sizes);
      initOperand(conv).set(init);
      conv->getResult(0).setType(initType.clone(bf16));
    });
    return success();
  }
};

/// Whether `value` is a constant of one element close to `expected`.
bool isScalar(Value value, float expected) {
  std::optional<std::vector<float>> values = onnx::getConstantFloats(value);
  return values && values->size() == 1 &&
         std::abs(values->front() - expected) <= 1e-4f * std::abs(expected);
}

/// The operand of a commutative binary op that is not `other`, or null.
Value otherOperand(Operation *op, Value other) {
  if (op->getOperand(0) == other)
    return op->getOperand(1);
  if (op->getOperand(1) == other)
    return op->getOperand(0);
  return {};
}

/// The single user of `value` if it is an OpTy, else null.
template <typename OpTy>
OpTy onlyUser(Value value) {
  if (!value.hasOneUse())
    return {};
  return dyn_cast<OpTy>(*value.getUsers().begin());
}

/// SiLU as exporters write it: Mul(x, Sigmoid(x)).
struct FuseSilu : OpRewritePattern<onnx::MulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::MulOp op,
                                PatternRewriter &rewriter) const override {
    for (int side = 0; side < 2; ++side) {
      Value x = op->getOperand(side);
      auto sigmoid = op->getOperand(1 - side).getDefiningOp<onnx::SigmoidOp>();
      if (!sigmoid || sigmoid.getX() != x || !sigmoid->hasOneUse() ||
          x.getType() != op.getType())
        continue;
      std::optional<Producer> producer = producerOf(x, {sigmoid, op});
      if (!producer || !hasNoActivation(producer->conv))
        continue;
      replaceWithFused(
          rewriter, op, *producer,
          [](Operation *conv) { setActivation(conv, Activation::Silu); },
          {sigmoid});
      return success();
    }
    return failure();
  }
};

/// GELU as PyTorch exports it: x * 0.5 * (1 + erf(x / sqrt(2))), as
/// Mul(Mul(x, Add(Erf(Div(x, 1.4142)), 1)), 0.5), in either operand order
/// (or with Mul(x, 0.7071) for the Div).
struct FuseErfGelu : OpRewritePattern<onnx::ErfOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::ErfOp erf,
                                PatternRewriter &rewriter) const override {
    Operation *scale = erf.getInput().getDefiningOp();
    if (!scale || !scale->hasOneUse() || scale->getNumOperands() != 2)
      return failure();
    Value x = scale->getOperand(0);
    bool isDiv = isa<onnx::DivOp>(scale) && isScalar(scale->getOperand(1),
                                                      float(M_SQRT2));
    bool isMul = isa<onnx::MulOp>(scale) && isScalar(scale->getOperand(1),
                                                      float(M_SQRT1_2));
    if (!isDiv && !isMul)
      return failure();
    auto add = onlyUser<onnx::AddOp>(erf.getOutput());
    if (!add || !isScalar(otherOperand(add, erf.getOutput()), 1.0f))
      return failure();
    auto times = onlyUser<onnx::MulOp>(add.getC());
    if (!times || otherOperand(times, add.getC()) != x)
      return failure();
    auto half = onlyUser<onnx::MulOp>(times.getC());
    if (!half || !isScalar(otherOperand(half, times.getC()), 0.5f) ||
        half.getType() != x.getType())
      return failure();
    std::optional<Producer> producer = producerOf(x, {scale, times});
    if (!producer || !hasNoActivation(producer->conv))
      return failure();
    replaceWithFused(
        rewriter, half, *producer,
        [](Operation *conv) { setActivation(conv, Activation::Gelu); },
        {times, add, erf, scale});
    return success();
  }
};

struct GraphFuseEpiloguesPass
    : kiln::impl::GraphFuseEpiloguesPassBase<GraphFuseEpiloguesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseActivation, FuseAdd, FuseSilu, FuseErfGelu, FuseBf16Cast>(
        &getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
