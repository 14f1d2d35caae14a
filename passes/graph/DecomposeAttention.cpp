//===- DecomposeAttention.cpp - onnx.Attention as its steps ---------------===//
//
// Attention (opsets 23 to 25) as the subgraph exporters emit:
// MatMul(Q, Kt) -> scale -> softcap -> + bias -> Softmax -> MatMul(., V),
// with the past keys and values concatenated in front of the new ones
// (the present outputs), the KV heads repeated for grouped-query heads
// ([h0, h0, h1, h1, ...]) and the bias the sum of the attention mask
// (booleans as 0 / -inf, padded to the total length), the offset-aware
// causal frontier, the sliding window and the padding of a per-batch
// cache length. A query row whose bias is -inf everywhere (no key
// allowed) gets zero probabilities, not the NaN a softmax of -inf gives.
// Float16 and bfloat16 attention computes in float32 and rounds once at
// the end (the caches stay in their type).
//
//===----------------------------------------------------------------------===//

#include "passes/graph/DecomposeLlmOps.h"
#include "passes/graph/OnnxSubgraph.h"

#include "mlir/IR/PatternMatch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// What the decomposition needs to know statically.
struct AttentionShapes {
  bool threeD = false;
  int64_t queryHeads = 0, kvHeads = 0, headSize = 0;
  int64_t queryLength = 0, pastLength = 0, totalLength = 0;
};

/// The sliding window's (left, right) sizes; -1 is unbounded.
std::pair<int64_t, int64_t> windowOf(onnx::AttentionOp op) {
  return {static_cast<int64_t>(op.getLeftWindowSize()),
          static_cast<int64_t>(op.getRightWindowSize())};
}

std::optional<std::string> shapesOf(onnx::AttentionOp op,
                                    AttentionShapes &shapes) {
  auto q = dyn_cast<RankedTensorType>(op.getQ().getType());
  auto k = dyn_cast<RankedTensorType>(op.getK().getType());
  auto v = dyn_cast<RankedTensorType>(op.getV().getType());
  if (!q || !k || !v || q.getRank() != k.getRank() ||
      q.getRank() != v.getRank() || (q.getRank() != 3 && q.getRank() != 4))
    return std::string("Q, K and V must all be 3-D or all 4-D");
  shapes.threeD = q.getRank() == 3;
  auto known = [](ArrayRef<int64_t> dims) {
    return llvm::none_of(dims, ShapedType::isDynamic);
  };
  if (shapes.threeD) {
    if (!op.getQNumHeads() || !op.getKvNumHeads() || *op.getQNumHeads() == 0 ||
        *op.getKvNumHeads() == 0)
      return std::string("3-D inputs need q_num_heads and kv_num_heads");
    shapes.queryHeads = static_cast<int64_t>(*op.getQNumHeads());
    shapes.kvHeads = static_cast<int64_t>(*op.getKvNumHeads());
    if (!known({q.getDimSize(1), q.getDimSize(2), k.getDimSize(1)}))
      return std::string("the sequence lengths and hidden sizes must be "
                         "static");
    if (q.getDimSize(2) % shapes.queryHeads)
      return std::string("q_num_heads does not divide Q's hidden size");
    shapes.headSize = q.getDimSize(2) / shapes.queryHeads;
    shapes.queryLength = q.getDimSize(1);
    shapes.totalLength = k.getDimSize(1);
  } else {
    if (!known({q.getDimSize(1), q.getDimSize(2), q.getDimSize(3),
                k.getDimSize(1), k.getDimSize(2)}))
      return std::string("the head counts, sequence lengths and head size "
                         "must be static");
    shapes.queryHeads = q.getDimSize(1);
    shapes.kvHeads = k.getDimSize(1);
    shapes.headSize = q.getDimSize(3);
    shapes.queryLength = q.getDimSize(2);
    shapes.totalLength = k.getDimSize(2);
  }
  if (shapes.kvHeads == 0 || shapes.queryHeads % shapes.kvHeads)
    return "the KV heads (" + std::to_string(shapes.kvHeads) +
           ") must divide the query heads (" +
           std::to_string(shapes.queryHeads) + ")";
  if (!op.getPastKey() != !op.getPastValue())
    return std::string("past_key and past_value come together");
  if (op.getPastKey()) {
    auto past = dyn_cast<RankedTensorType>(op.getPastKey().getType());
    if (!past || past.getRank() != 4 ||
        ShapedType::isDynamic(past.getDimSize(2)))
      return std::string("past_key must be 4-D with a static length");
    shapes.pastLength = past.getDimSize(2);
    shapes.totalLength += shapes.pastLength;
    if (op.getNonpadKvSeqlen())
      return std::string("nonpad_kv_seqlen cannot come with a past cache");
  }
  if (Value mask = op.getAttnMask()) {
    auto type = dyn_cast<RankedTensorType>(mask.getType());
    if (!type || type.getRank() == 0 || !type.hasStaticShape())
      return std::string("attn_mask must have a static shape");
    Type element = type.getElementType();
    if (!element.isInteger(1) && !isa<FloatType>(element))
      return std::string("attn_mask must be bool or float");
    if (type.getShape().back() > shapes.totalLength)
      return "attn_mask covers " + std::to_string(type.getShape().back()) +
             " keys, more than the " + std::to_string(shapes.totalLength) +
             " there are";
  }
  auto [left, right] = windowOf(op);
  if (left < -1 || right < -1)
    return std::string("window sizes must be -1 or more");
  int64_t mode = static_cast<int64_t>(op.getQkMatmulOutputMode());
  if (mode < 0 || mode > 3)
    return "qk_matmul_output_mode " + std::to_string(mode) + " is not 0 to 3";
  if (std::optional<uint64_t> precision = op.getSoftmaxPrecision()) {
    if (!OnnxSubgraph::floatTypeOf(op.getContext(), *precision))
      return "softmax_precision " + std::to_string(*precision) +
             " is not a float type";
  }
  return std::nullopt;
}

class AttentionDecomposition {
public:
  AttentionDecomposition(onnx::AttentionOp op, const AttentionShapes &shapes,
                         OnnxSubgraph &g)
      : op(op), shapes(shapes), g(g),
        element(cast<ShapedType>(op.getQ().getType()).getElementType()),
        work(element.isF16() || element.isBF16() ? g.b.getF32Type() : element),
        i64(g.b.getI64Type()), i1(g.b.getI1Type()) {}

  void rewrite(PatternRewriter &rewriter);

private:
  /// A 3-D input [B, S, heads * d] as [B, heads, S, d].
  Value asHeads(Value value, int64_t heads) {
    if (!shapes.threeD)
      return value;
    return transposeHeads(
        g.create<onnx::ReshapeOp>(element, value, g.ints({0, 0, heads, -1})));
  }
  Value transposeHeads(Value value) {
    return g.create<onnx::TransposeOp>(getElementTypeOrSelf(value.getType()),
                                       value,
                                       g.b.getI64ArrayAttr({0, 2, 1, 3}));
  }
  /// Each KV head repeated for its group of query heads.
  Value repeatHeads(Value value) {
    int64_t group = shapes.queryHeads / shapes.kvHeads;
    if (group == 1)
      return value;
    SmallVector<int64_t> heads;
    for (int64_t h = 0; h < shapes.queryHeads; ++h)
      heads.push_back(h / group);
    return g.create<onnx::GatherOp>(work, value, g.ints(heads), 1);
  }
  /// 0 where `allowed`, -inf elsewhere.
  Value biasOf(Value allowed) {
    return g.create<onnx::WhereOp>(work, allowed, zero, negativeInfinity);
  }
  Value add(Value sum, Value term) {
    return sum ? g.create<onnx::AddOp>(work, sum, term) : term;
  }
  /// The attention mask as an additive bias over all the keys.
  Value maskBias();
  Value bias();

  onnx::AttentionOp op;
  const AttentionShapes &shapes;
  OnnxSubgraph &g;
  /// The inputs' element type, and the one the attention computes in.
  Type element, work;
  Type i64, i1;
  Value zero, negativeInfinity;
};

Value AttentionDecomposition::maskBias() {
  Value mask = op.getAttnMask();
  if (!mask)
    return {};
  auto type = cast<RankedTensorType>(mask.getType());
  Type maskElement = type.getElementType();
  bool boolean = maskElement.isInteger(1);
  int64_t covered = type.getShape().back();
  if (covered < shapes.totalLength) {
    // Keys past the mask are not attended.
    SmallVector<int64_t> padShape(type.getShape());
    padShape.back() = shapes.totalLength - covered;
    Value pad = boolean ? g.splatBool(false, padShape)
                        : g.splat(maskElement, -INFINITY, padShape);
    mask = g.create<onnx::ConcatOp>(maskElement, ValueRange{mask, pad},
                                    type.getRank() - 1);
  }
  return boolean ? biasOf(mask) : g.castTo(mask, work);
}

Value AttentionDecomposition::bias() {
  Value sum = maskBias();
  bool causal = op.getIsCausal() != 0;
  auto [left, right] = windowOf(op);
  bool window = left >= 0 || right >= 0;
  Value validLengths = op.getNonpadKvSeqlen();
  if (!causal && !window && !validLengths)
    return sum;

  // Query i sits at position i + offset among the keys: the past length,
  // or, with a per-batch cache length, that length minus the queries.
  int64_t queries = shapes.queryLength, keys = shapes.totalLength;
  SmallVector<int64_t> queryPositions, keyPositions;
  bool perBatch = validLengths && !op.getPastKey();
  for (int64_t i = 0; i < queries; ++i)
    queryPositions.push_back(i + (perBatch ? -queries : shapes.pastLength));
  for (int64_t j = 0; j < keys; ++j)
    keyPositions.push_back(j);
  Value queryPosition = g.ints({queries, 1}, queryPositions);
  Value keyPosition = g.ints({1, keys}, keyPositions);
  if (perBatch)
    queryPosition = g.create<onnx::AddOp>(
        i64, queryPosition,
        g.create<onnx::ReshapeOp>(i64, validLengths, g.ints({-1, 1, 1})));
  // [queries, keys], or [batch, 1, queries, keys] per batch.
  auto frontierBias = [&](Value allowed) {
    Value bias = biasOf(allowed);
    return perBatch ? g.create<onnx::UnsqueezeOp>(work, bias, g.ints({1}))
                    : bias;
  };
  if (causal)
    sum = add(sum, frontierBias(g.create<onnx::LessOrEqualOp>(i1, keyPosition,
                                                              queryPosition)));
  if (window) {
    // Key j is within the window of the query at p if
    // p - left <= j <= p + right.
    Value distance = g.create<onnx::SubOp>(i64, queryPosition, keyPosition);
    Value allowed;
    if (left >= 0)
      allowed = g.create<onnx::LessOrEqualOp>(i1, distance, g.ints({}, {left}));
    if (right >= 0) {
      Value within = g.create<onnx::LessOrEqualOp>(
          i1, g.create<onnx::NegOp>(i64, distance), g.ints({}, {right}));
      allowed = allowed ? g.create<onnx::AndOp>(i1, allowed, within) : within;
    }
    sum = add(sum, frontierBias(allowed));
  }
  if (validLengths) {
    // Keys past each batch's valid length are padding.
    Value valid = g.create<onnx::LessOp>(
        i1, keyPosition,
        g.create<onnx::ReshapeOp>(i64, validLengths, g.ints({-1, 1})));
    sum = add(sum, g.create<onnx::ReshapeOp>(work, biasOf(valid),
                                             g.ints({-1, 1, 1, keys})));
  }
  return sum;
}

void AttentionDecomposition::rewrite(PatternRewriter &rewriter) {
  zero = g.splat(work, 0.0);
  negativeInfinity = g.splat(work, -INFINITY);
  Value query = g.castTo(asHeads(op.getQ(), shapes.queryHeads), work);
  Value keys = asHeads(op.getK(), shapes.kvHeads);
  Value values = asHeads(op.getV(), shapes.kvHeads);
  if (op.getPastKey()) {
    keys =
        g.create<onnx::ConcatOp>(element, ValueRange{op.getPastKey(), keys}, 2);
    values = g.create<onnx::ConcatOp>(element,
                                      ValueRange{op.getPastValue(), values}, 2);
  }

  Value scores = g.create<onnx::MatMulOp>(
      work, query,
      g.create<onnx::TransposeOp>(work, repeatHeads(g.castTo(keys, work)),
                                  g.b.getI64ArrayAttr({0, 1, 3, 2})));
  double scale = op.getScale() ? op.getScale()->convertToDouble()
                               : 1.0 / std::sqrt(double(shapes.headSize));
  scores = g.create<onnx::MulOp>(work, scores, g.splat(work, scale));
  if (float cap = op.getSoftcap().convertToFloat(); cap > 0) {
    Value c = g.splat(work, cap);
    scores = g.create<onnx::MulOp>(
        work,
        g.create<onnx::TanhOp>(work, g.create<onnx::DivOp>(work, scores, c)),
        c);
  }
  Value capped = scores;
  Value bias = this->bias();
  if (bias)
    scores = g.create<onnx::AddOp>(work, scores, bias);
  Value withBias = scores;

  Type softmaxType = work;
  if (std::optional<uint64_t> precision = op.getSoftmaxPrecision();
      precision && work == element)
    softmaxType = g.floatTypeOf(*precision);
  Value probabilities =
      g.create<onnx::SoftmaxOp>(softmaxType, g.castTo(scores, softmaxType), -1);
  if (bias) {
    // Rows that allow no key: zero probabilities.
    Value rowMaximum =
        g.create<onnx::ReduceMaxOp>(work, bias, g.ints({-1}), 1, 0);
    Value noKey = g.create<onnx::EqualOp>(i1, rowMaximum, negativeInfinity);
    probabilities = g.create<onnx::WhereOp>(
        softmaxType, noKey, g.splat(softmaxType, 0.0), probabilities);
  }
  probabilities = g.castTo(probabilities, work);

  Value y = g.create<onnx::MatMulOp>(work, probabilities,
                                     repeatHeads(g.castTo(values, work)));
  if (shapes.threeD)
    y = g.create<onnx::ReshapeOp>(work, transposeHeads(y), g.ints({0, 0, -1}));
  y = g.castTo(y, element);

  SmallVector<Value> replacements = {
      OnnxSubgraph::declare(y, op.getY().getType())};
  if (Value present = op.getPresentKey())
    replacements.push_back(OnnxSubgraph::declare(keys, present.getType()));
  if (Value present = op.getPresentValue())
    replacements.push_back(OnnxSubgraph::declare(values, present.getType()));
  if (Value qk = op.getQkMatmulOutput()) {
    // The reference's modes: 0 and 1 after the softcap (none: the raw
    // product), 2 with the bias, 3 the probabilities.
    Value chosen = std::array<Value, 4>{
        capped, capped, withBias, probabilities}[op.getQkMatmulOutputMode()];
    replacements.push_back(
        OnnxSubgraph::declare(g.castTo(chosen, element), qk.getType()));
  }
  rewriter.replaceOp(op, replacements);
}

struct DecomposeAttention : OpRewritePattern<onnx::AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::AttentionOp op,
                                PatternRewriter &rewriter) const override {
    AttentionShapes shapes;
    if (shapesOf(op, shapes))
      return failure();
    OnnxSubgraph g(rewriter, op.getLoc());
    AttentionDecomposition(op, shapes, g).rewrite(rewriter);
    return success();
  }
};

} // namespace

std::optional<std::string> mlir::kiln::whyNotDecomposed(onnx::AttentionOp op) {
  AttentionShapes shapes;
  return shapesOf(op, shapes);
}

void mlir::kiln::populateAttentionDecomposition(RewritePatternSet &patterns) {
  patterns.add<DecomposeAttention>(patterns.getContext());
}
