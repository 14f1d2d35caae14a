//===- DecomposeRotaryEmbedding.cpp - onnx.RotaryEmbedding as its steps ---===//
//
// RotaryEmbedding (opset 23) as the subgraph exporters emit: the first
// `rotary_embedding_dim` channels of each head split into halves (or
// even and odd channels, `interleaved`), rotated by the cosines and sines
// of each token's position, the rest passed through.
//
//===----------------------------------------------------------------------===//

#include "passes/graph/DecomposeLlmOps.h"
#include "passes/graph/OnnxSubgraph.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The head size of `op`'s input (static), or nullopt.
std::optional<int64_t> headSizeOf(onnx::RotaryEmbeddingOp op) {
  auto type = cast<RankedTensorType>(op.getX().getType());
  int64_t last = type.getShape().back();
  if (ShapedType::isDynamic(last))
    return std::nullopt;
  if (type.getRank() == 4)
    return last;
  std::optional<uint64_t> heads = op.getNumHeads();
  if (!heads || *heads == 0 || last % *heads)
    return std::nullopt;
  return last / static_cast<int64_t>(*heads);
}

/// The channels of each head that rotate: `rotary_embedding_dim`, or all.
int64_t rotatedChannels(onnx::RotaryEmbeddingOp op, int64_t headSize) {
  auto dim = static_cast<int64_t>(op.getRotaryEmbeddingDim());
  return dim ? dim : headSize;
}

struct DecomposeRotaryEmbedding : OpRewritePattern<onnx::RotaryEmbeddingOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::RotaryEmbeddingOp op,
                                PatternRewriter &rewriter) const override {
    if (whyNotDecomposed(op))
      return failure();
    auto type = cast<RankedTensorType>(op.getX().getType());
    Type element = type.getElementType();
    OnnxSubgraph g(rewriter, op.getLoc());
    int64_t head = *headSizeOf(op);
    int64_t rotated = rotatedChannels(op, head);
    int64_t half = rotated / 2;
    auto transpose = [&](Value value) {
      return g.create<onnx::TransposeOp>(
          element, value, rewriter.getI64ArrayAttr({0, 2, 1, 3}));
    };
    // [batch, sequence, heads, head size].
    Value x = type.getRank() == 4
                  ? transpose(op.getX())
                  : g.create<onnx::ReshapeOp>(
                        element, op.getX(),
                        g.ints({0, 0, static_cast<int64_t>(*op.getNumHeads()),
                                head}));
    // [batch, sequence, 1, rotated / 2].
    auto perToken = [&](Value cache) {
      if (op.getPositionIds())
        cache =
            g.create<onnx::GatherOp>(element, cache, op.getPositionIds(), 0);
      return g.create<onnx::UnsqueezeOp>(element, cache, g.ints({2}));
    };
    Value cos = perToken(op.getCosCache()), sin = perToken(op.getSinCache());
    auto channels = [&](Value value, int64_t from, int64_t to,
                        int64_t step = 1) {
      return g.create<onnx::SliceOp>(element, value, g.ints({from}),
                                     g.ints({to}), g.ints({3}), g.ints({step}));
    };
    Value first =
        op.getInterleaved() ? channels(x, 0, rotated, 2) : channels(x, 0, half);
    Value second = op.getInterleaved() ? channels(x, 1, rotated, 2)
                                       : channels(x, half, rotated);
    auto mul = [&](Value a, Value b) {
      return g.create<onnx::MulOp>(element, a, b);
    };
    Value real =
        g.create<onnx::SubOp>(element, mul(cos, first), mul(sin, second));
    Value imaginary =
        g.create<onnx::AddOp>(element, mul(sin, first), mul(cos, second));
    Value result;
    if (op.getInterleaved()) {
      // (real, imaginary) pairs back into even and odd channels.
      Value pairs = g.create<onnx::ConcatOp>(
          element,
          ValueRange{
              g.create<onnx::UnsqueezeOp>(element, real, g.ints({4})),
              g.create<onnx::UnsqueezeOp>(element, imaginary, g.ints({4}))},
          4);
      result =
          g.create<onnx::ReshapeOp>(element, pairs, g.ints({0, 0, 0, rotated}));
    } else {
      result =
          g.create<onnx::ConcatOp>(element, ValueRange{real, imaginary}, 3);
    }
    if (rotated < head)
      result = g.create<onnx::ConcatOp>(
          element, ValueRange{result, channels(x, rotated, head)}, 3);
    result =
        type.getRank() == 4
            ? transpose(result)
            : g.create<onnx::ReshapeOp>(element, result, g.ints({0, 0, -1}));
    rewriter.replaceOp(op, OnnxSubgraph::declare(result, op.getType()));
    return success();
  }
};

} // namespace

std::optional<std::string>
mlir::kiln::whyNotDecomposed(onnx::RotaryEmbeddingOp op) {
  auto type = dyn_cast<RankedTensorType>(op.getX().getType());
  if (!type || (type.getRank() != 3 && type.getRank() != 4))
    return std::string("its input must be 3-D or 4-D");
  if (type.getRank() == 3 && (!op.getNumHeads() || *op.getNumHeads() == 0))
    return std::string("a 3-D input needs num_heads");
  std::optional<int64_t> head = headSizeOf(op);
  if (!head)
    return std::string("the head size must be static (and divide the hidden "
                       "size by num_heads)");
  int64_t rotated = rotatedChannels(op, *head);
  if (rotated < 0 || rotated > *head || rotated % 2)
    return "rotary_embedding_dim " + std::to_string(rotated) +
           " must be even and at most the head size " + std::to_string(*head);
  return std::nullopt;
}

void mlir::kiln::populateRotaryEmbeddingDecomposition(
    RewritePatternSet &patterns) {
  patterns.add<DecomposeRotaryEmbedding>(patterns.getContext());
}
