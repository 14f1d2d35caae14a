//===- PropagateTransposes.cpp - kiln-layout-propagate-transposes ---------===//
//
// Channels-last convolutions are wrapped in Transposes (NCHW -> NHWC in,
// NHWC -> NCHW out). Moving each Transpose below the elementwise ops that
// follow brings the pair of two consecutive layers together, where they
// compose into the identity and vanish: the data stays channels-last.
//
//===----------------------------------------------------------------------===//

#include "passes/layout/Passes.h"
#include "dialects/onnx/OnnxTransposes.h"

#include "dialects/onnx/OnnxConstants.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_LAYOUTPROPAGATETRANSPOSESPASS
#include "passes/layout/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// `type` with its dimensions permuted back: dims[perm[i]] = type[i].
RankedTensorType unpermuted(RankedTensorType type, ArrayRef<int64_t> perm) {
  SmallVector<int64_t> shape(perm.size());
  for (auto [i, axis] : llvm::enumerate(perm))
    shape[axis] = type.getDimSize(i);
  return RankedTensorType::get(shape, type.getElementType());
}

/// T(T(x, p1), p2) -> T(x, p1[p2]); the identity permutation -> x.
struct ComposeTransposes : OpRewritePattern<onnx::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::TransposeOp op,
                                PatternRewriter &rewriter) const override {
    if (!isa<RankedTensorType>(op.getData().getType()))
      return failure();
    SmallVector<int64_t> perm = permOf(op);
    Value source = op.getData();
    if (onnx::TransposeOp inner = transposeOf(source)) {
      SmallVector<int64_t> innerPerm = permOf(inner);
      for (int64_t &axis : perm)
        axis = innerPerm[axis];
      source = inner.getData();
    }
    bool identity = llvm::all_of(llvm::enumerate(perm), [](auto pair) {
      return int64_t(pair.index()) == pair.value();
    });
    if (identity && source.getType() == op.getType()) {
      rewriter.replaceOp(op, source);
      return success();
    }
    if (source == op.getData())
      return failure();
    rewriter.replaceOpWithNewOp<onnx::TransposeOp>(
        op, op.getType(), source, rewriter.getI64ArrayAttr(perm));
    return success();
  }
};

bool isUnaryElementwise(Operation *op) {
  // Quantization per tensor: its parameters are scalars.
  if (isa<QuantizeOp, DequantizeOp>(op))
    return cast<RankedTensorType>(op->getOperand(1).getType()).getRank() == 0;
  return isa<onnx::ReluOp, onnx::SigmoidOp, onnx::TanhOp, onnx::ExpOp,
             onnx::LogOp, onnx::NegOp, onnx::AbsOp, onnx::SqrtOp, onnx::ErfOp,
             onnx::HardSigmoidOp, onnx::HardSwishOp, onnx::LeakyReluOp,
             onnx::EluOp, onnx::SeluOp, onnx::SoftplusOp, onnx::GeluOp,
             onnx::ClipOp, onnx::IdentityOp, onnx::ReciprocalOp>(op);
}

bool isBinaryElementwise(Operation *op) {
  return isa<onnx::AddOp, onnx::SubOp, onnx::MulOp, onnx::DivOp, onnx::MaxOp,
             onnx::MinOp, onnx::PowOp>(op);
}

/// A scalar-like operand (absent, or a single value) that needs no
/// transposing.
bool isScalarLike(Value value) {
  if (!value)
    return true;
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && type.hasStaticShape() && type.getNumElements() == 1 &&
         type.getRank() <= 1;
}

/// The small constant `value`, broadcast-aligned to `rank` and laid out so
/// that transposing it by `perm` gives back its original broadcast shape.
Value unpermutedConstant(PatternRewriter &rewriter, Location loc, Value value,
                         ArrayRef<int64_t> perm) {
  DenseElementsAttr elements = onnx::getConstantElements(value);
  if (!elements)
    return {};
  auto type = cast<RankedTensorType>(elements.getType());
  int64_t rank = perm.size();
  if (type.getRank() > rank)
    return {};
  SmallVector<int64_t> full(rank - type.getRank(), 1);
  llvm::append_range(full, type.getShape());
  SmallVector<int64_t> shape(rank);
  for (int64_t i = 0; i < rank; ++i)
    shape[perm[i]] = full[i];
  auto resultType = RankedTensorType::get(shape, type.getElementType());
  // result[j] = original[i] with j[perm[i]] = i-th index.
  SmallVector<Attribute> values(elements.getValues<Attribute>());
  SmallVector<Attribute> permuted(values.size());
  SmallVector<int64_t> index(rank, 0);
  for (size_t flat = 0; flat < values.size(); ++flat) {
    int64_t target = 0;
    for (int64_t j = 0; j < rank; ++j) {
      int64_t i = llvm::find(perm, j) - perm.begin();
      target = target * shape[j] + index[i];
    }
    permuted[target] = values[flat];
    for (int64_t i = rank - 1; i >= 0; --i) {
      if (++index[i] < full[i])
        break;
      index[i] = 0;
    }
  }
  return onnx::createConstant(rewriter, loc,
                              DenseElementsAttr::get(resultType, permuted));
}

/// op(T(x, p), ...) -> T(op(x, ...), p) for elementwise ops.
struct SinkThroughElementwise : RewritePattern {
  SinkThroughElementwise(MLIRContext *context)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, context) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    bool unary = isUnaryElementwise(op);
    if ((!unary && !isBinaryElementwise(op)) || op->getNumResults() != 1)
      return failure();
    // Symbolic dimensions move with the permutation like static ones.
    auto resultType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!resultType)
      return failure();
    // The first operand that is a Transpose of the result's rank leads;
    // every other operand must follow it. Transposes of the same
    // permutation may differ in shape (one broadcasts): broadcasting
    // commutes with the permutation.
    int64_t rank = resultType.getRank();
    auto sameRankTranspose = [&](Value operand) -> onnx::TransposeOp {
      onnx::TransposeOp t = transposeOf(operand);
      if (!t || cast<RankedTensorType>(t.getType()).getRank() != rank)
        return {};
      return t;
    };
    onnx::TransposeOp lead;
    for (Value operand : op->getOperands())
      if ((lead = sameRankTranspose(operand)))
        break;
    if (!lead)
      return failure();
    SmallVector<int64_t> perm = permOf(lead);
    ArrayRef<int64_t> permRef(perm);
    SmallVector<Value> operands;
    for (Value operand : op->getOperands()) {
      onnx::TransposeOp t = sameRankTranspose(operand);
      if (t && permOf(t) == perm) {
        operands.push_back(t.getData());
      } else if (isScalarLike(operand)) {
        operands.push_back(operand);
      } else if (!unary && onnx::getConstantElements(operand)) {
        Value constant =
            unpermutedConstant(rewriter, op->getLoc(), operand, perm);
        if (!constant)
          return failure();
        operands.push_back(constant);
      } else if (!unary &&
                 permRef == ArrayRef<int64_t>(kToChannelsFirst) &&
                 operand.getType() == resultType) {
        // A channels-first tensor meets a channels-last one (a residual
        // from before the first convolution): it goes channels-last, so
        // that the op stays with the convolution. Only this direction, so
        // that the rewrite cannot undo itself.
        operands.push_back(
            createTranspose(rewriter, op->getLoc(), operand, kToChannelsLast));
      } else {
        return failure();
      }
    }
    Operation *moved = rewriter.clone(*op);
    moved->setOperands(operands);
    moved->getResult(0).setType(unpermuted(resultType, perm));
    rewriter.replaceOp(op, createTranspose(rewriter, op->getLoc(),
                                           moved->getResult(0), perm));
    return success();
  }
};

/// GlobalAveragePool(T(x, NHWC -> NCHW)) -> T(ReduceMean(x, [1, 2])).
struct SinkThroughGlobalAveragePool
    : OpRewritePattern<onnx::GlobalAveragePoolOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::GlobalAveragePoolOp op,
                                PatternRewriter &rewriter) const override {
    onnx::TransposeOp t = transposeOf(op.getX());
    auto resultType = dyn_cast<RankedTensorType>(op.getY().getType());
    if (!t || permOf(t) != SmallVector<int64_t>{0, 3, 1, 2} || !resultType)
      return failure();
    Location loc = op.getLoc();
    auto axesType = RankedTensorType::get({2}, rewriter.getI64Type());
    Value axes = onnx::createConstant(
        rewriter, loc,
        DenseElementsAttr::get(axesType, ArrayRef<int64_t>{1, 2}));
    SmallVector<int64_t> perm = {0, 3, 1, 2};
    Value mean = rewriter.create<onnx::ReduceMeanOp>(
        loc, unpermuted(resultType, perm), t.getData(), axes,
        /*keepdims=*/1, /*noop_with_empty_axes=*/0);
    rewriter.replaceOp(op, createTranspose(rewriter, loc, mean, perm));
    return success();
  }
};

struct LayoutPropagateTransposesPass
    : kiln::impl::LayoutPropagateTransposesPassBase<
          LayoutPropagateTransposesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ComposeTransposes, SinkThroughElementwise,
                 SinkThroughGlobalAveragePool>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
