//===- FuseAttention.cpp - kiln-graph-fuse-attention ----------------------===//
//
// The exporters' attention, MatMul(Q, Kᵀ) -> scale -> Softmax -> MatMul(·,
// V), writes and reads the S x T score matrix three times over; as one
// kiln.attention it never exists.
//
//===----------------------------------------------------------------------===//

#include "passes/graph/Passes.h"

#include "dialects/kiln/KilnOps.h"
#include "dialects/onnx/OnnxConstants.h"
#include "dialects/onnx/OnnxTransposes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_GRAPHFUSEATTENTIONPASS
#include "passes/graph/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// A static f32 tensor type of rank 2 or more, or null.
RankedTensorType matrixType(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || !type.hasStaticShape() || !type.getElementType().isF32() ||
      type.getRank() < 2)
    return {};
  return type;
}

/// The one value of a scalar constant, if `value` is one.
std::optional<float> scalarOf(Value value) {
  std::optional<std::vector<float>> values = onnx::getConstantFloats(value);
  if (!values || values->size() != 1)
    return std::nullopt;
  return values->front();
}

/// `value` as [G, rows, columns]: its leading dimensions collapsed (or a
/// unit one added).
Value asHeads(PatternRewriter &rewriter, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  int64_t rank = type.getRank();
  ArrayRef<int64_t> shape = type.getShape();
  int64_t heads = type.getNumElements() / (shape[rank - 2] * shape[rank - 1]);
  auto headsType = RankedTensorType::get(
      {heads, shape[rank - 2], shape[rank - 1]}, type.getElementType());
  if (rank == 2)
    return rewriter.create<tensor::ExpandShapeOp>(
        loc, headsType, value, ArrayRef<ReassociationIndices>{{0, 1}, {2}});
  if (rank == 3)
    return value;
  ReassociationIndices leading;
  for (int64_t i = 0; i < rank - 2; ++i)
    leading.push_back(i);
  return rewriter.create<tensor::CollapseShapeOp>(
      loc, headsType, value,
      ArrayRef<ReassociationIndices>{leading, {rank - 2}, {rank - 1}});
}

/// The rows [..., T, D] of transposed keys [..., D, T] when a Transpose
/// that swaps the last two axes made them (a KV cache holds keys as rows):
/// the kernel reads those instead, and the transpose need not exist.
Value keyRowsOf(Value transposedKeys) {
  onnx::TransposeOp transpose = transposeOf(transposedKeys);
  if (!transpose)
    return {};
  SmallVector<int64_t> perm = permOf(transpose);
  auto rank = static_cast<int64_t>(perm.size());
  SmallVector<int64_t> swapLastTwo = llvm::to_vector(llvm::seq<int64_t>(rank));
  std::swap(swapLastTwo[rank - 2], swapLastTwo[rank - 1]);
  if (perm != swapLastTwo || !matrixType(transpose.getData()))
    return {};
  return transpose.getData();
}

struct FuseAttention : OpRewritePattern<onnx::MatMulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::MatMulOp op,
                                PatternRewriter &rewriter) const override {
    // MatMul(Softmax(scale(MatMul(Q, Kt))), V), each step used once.
    auto softmax = op.getA().getDefiningOp<onnx::SoftmaxOp>();
    if (!softmax || !softmax->hasOneUse())
      return failure();
    Value scores = softmax.getInput();
    float scale = 1.0f;
    if (Operation *scaling = scores.getDefiningOp();
        scaling && isa<onnx::DivOp, onnx::MulOp>(scaling)) {
      std::optional<float> by = scalarOf(scaling->getOperand(1));
      if (!by || *by == 0.0f || !scores.hasOneUse())
        return failure();
      scale = isa<onnx::DivOp>(scaling) ? 1.0f / *by : *by;
      scores = scaling->getOperand(0);
    }
    auto product = scores.getDefiningOp<onnx::MatMulOp>();
    if (!product || !scores.hasOneUse())
      return failure();
    Value query = product.getA(), keys = product.getB(), values = op.getB();
    RankedTensorType q = matrixType(query), k = matrixType(keys),
                     v = matrixType(values), out = matrixType(op.getY());
    if (!q || !k || !v || !out)
      return failure();
    int64_t rank = q.getRank();
    auto axis = static_cast<int64_t>(softmax.getAxis());
    if (k.getRank() != rank || v.getRank() != rank || out != q ||
        (axis != -1 && axis != rank - 1))
      return failure();
    ArrayRef<int64_t> qs = q.getShape(), ks = k.getShape(), vs = v.getShape();
    // No broadcasting between the heads; D a multiple of 4 (the kernel's
    // narrowest vectors).
    if (qs.drop_back(2) != ks.drop_back(2) || qs.drop_back(2) != vs.drop_back(2))
      return failure();
    int64_t d = qs[rank - 1];
    if (ks[rank - 2] != d || vs[rank - 1] != d || vs[rank - 2] != ks[rank - 1] ||
        d % 4)
      return failure();

    Location loc = rewriter.getFusedLoc({product.getLoc(), softmax.getLoc(),
                                         op.getLoc()});
    Value q3 = asHeads(rewriter, loc, query);
    Value keyRows = keyRowsOf(keys);
    Value k3 = asHeads(rewriter, loc, keyRows ? keyRows : keys);
    Value v3 = asHeads(rewriter, loc, values);
    Value init = rewriter.create<tensor::EmptyOp>(
        loc, cast<RankedTensorType>(q3.getType()).getShape(),
        rewriter.getF32Type());
    Value result = rewriter
                       .create<AttentionOp>(loc, TypeRange{init.getType()}, q3,
                                            k3, v3, init,
                                            rewriter.getF32FloatAttr(scale),
                                            keyRows ? rewriter.getUnitAttr()
                                                    : UnitAttr())
                       .getResult()[0];
    if (rank == 3) {
      rewriter.replaceOp(op, result);
      return success();
    }
    SmallVector<ReassociationIndices> groups;
    if (rank == 2) {
      groups = {{0, 1}, {2}};
    } else {
      ReassociationIndices leading;
      for (int64_t i = 0; i < rank - 2; ++i)
        leading.push_back(i);
      groups = {leading, {rank - 2}, {rank - 1}};
    }
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(op, out, result,
                                                       groups);
    return success();
  }
};

struct GraphFuseAttentionPass
    : kiln::impl::GraphFuseAttentionPassBase<GraphFuseAttentionPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseAttention>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
