//===- GroupedQueryHeads.cpp - kiln-graph-grouped-query-heads -------------===//
//
// Grouped-query attention as exported: each of the Hkv key and value heads
// is repeated for its g = Hq / Hkv query heads (Hugging Face's repeat_kv,
// Unsqueeze -> Expand -> Reshape, or a Gather of heads [0, 0, 1, 1, ...]),
// so that the products see Hq heads. That copies the cache g times, twice
// per layer, on every decode step. The same products read each KV head
// once when the g query heads that share it are taken as more rows of one
// product: A [B, Hq, S, X] viewed as [B, Hkv, g * S, X], the product with
// the unrepeated head, and the result viewed back as [B, Hq, S, Y].
//
//===----------------------------------------------------------------------===//

#include "passes/graph/OnnxSubgraph.h"
#include "passes/graph/Passes.h"

#include "dialects/onnx/OnnxTransposes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_GRAPHGROUPEDQUERYHEADSPASS
#include "passes/graph/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The heads of a 4-D [B, H, T, D] tensor, if static.
std::optional<int64_t> headsOf(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || type.getRank() != 4 || type.isDynamicDim(1))
    return std::nullopt;
  return type.getDimSize(1);
}

/// The unrepeated [B, Hkv, T, D] tensor whose heads `value` repeats, each
/// g times in a row, or null.
Value unrepeatedHeads(Value value) {
  std::optional<int64_t> heads = headsOf(value);
  if (!heads)
    return {};
  // Gather(X, [0, .., 0, 1, .., 1, ...], axis = 1).
  if (auto gather = value.getDefiningOp<onnx::GatherOp>()) {
    std::optional<int64_t> kvHeads = headsOf(gather.getData());
    std::optional<SmallVector<int64_t>> indices =
        onnx::getConstantInts(gather.getIndices());
    if (gather.getAxis() != 1 || !kvHeads || !indices ||
        (int64_t)indices->size() != *heads || *heads % *kvHeads)
      return {};
    int64_t group = *heads / *kvHeads;
    for (auto [h, index] : llvm::enumerate(*indices))
      if (index != (int64_t)h / group)
        return {};
    return gather.getData();
  }
  // Reshape(Expand(Unsqueeze(X, [2]), ...), [B, Hq, T, D]).
  auto reshape = value.getDefiningOp<onnx::ReshapeOp>();
  if (!reshape)
    return {};
  auto expand = reshape.getData().getDefiningOp<onnx::ExpandOp>();
  if (!expand)
    return {};
  auto unsqueeze = expand.getInput().getDefiningOp<onnx::UnsqueezeOp>();
  if (!unsqueeze)
    return {};
  std::optional<SmallVector<int64_t>> axes =
      onnx::getConstantInts(unsqueeze.getAxes());
  std::optional<int64_t> kvHeads = headsOf(unsqueeze.getData());
  auto valueType = cast<RankedTensorType>(value.getType());
  auto kvType = dyn_cast<RankedTensorType>(unsqueeze.getData().getType());
  if (!axes || *axes != SmallVector<int64_t>{2} || !kvHeads ||
      *heads % *kvHeads || valueType.getDimSize(3) != kvType.getDimSize(3))
    return {};
  return unsqueeze.getData();
}

struct ShareKvHeads : OpRewritePattern<onnx::MatMulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::MatMulOp op,
                                PatternRewriter &rewriter) const override {
    // Q . Transpose(repeat(K)) or P . repeat(V).
    Value rhs = op.getB();
    onnx::TransposeOp transpose = transposeOf(rhs);
    if (transpose && permOf(transpose) == SmallVector<int64_t>{0, 1, 3, 2})
      rhs = transpose.getData();
    else
      transpose = {};
    Value kv = unrepeatedHeads(rhs);
    std::optional<int64_t> heads = headsOf(op.getA());
    if (!kv || !heads || headsOf(rhs) != heads || !headsOf(op.getY()))
      return failure();
    auto element = cast<ShapedType>(op.getY().getType()).getElementType();
    OnnxSubgraph g(rewriter, op.getLoc());
    int64_t kvHeads = *headsOf(kv);
    Value rows = g.create<onnx::ReshapeOp>(element, op.getA(),
                                           g.ints({0, kvHeads, -1, 0}));
    Value other = transpose
                      ? g.create<onnx::TransposeOp>(
                            element, kv, rewriter.getI64ArrayAttr({0, 1, 3, 2}))
                      : kv;
    Value product = g.create<onnx::MatMulOp>(element, rows, other);
    Value result =
        g.create<onnx::ReshapeOp>(element, product, g.ints({0, *heads, -1, 0}));
    rewriter.replaceOp(op, OnnxSubgraph::declare(result, op.getType()));
    return success();
  }
};

struct GraphGroupedQueryHeadsPass
    : kiln::impl::GraphGroupedQueryHeadsPassBase<GraphGroupedQueryHeadsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ShareKvHeads>(&getContext());
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
