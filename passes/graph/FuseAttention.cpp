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

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_GRAPHFUSEATTENTIONPASS
#include "passes/graph/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// A ranked f32 tensor type of rank 2 or more (its extents may be
/// symbolic; the caller checks which may), or null.
RankedTensorType matrixType(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || !type.getElementType().isF32() || type.getRank() < 2)
    return {};
  return type;
}

/// Whether two extents may be equal: the same, or one symbolic (which, as
/// everywhere in Kiln, is taken not to broadcast).
bool agree(int64_t a, int64_t b) {
  return a == b || ShapedType::isDynamic(a) || ShapedType::isDynamic(b);
}

bool agree(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  return a.size() == b.size() && llvm::all_of(llvm::zip(a, b), [](auto pair) {
           return agree(std::get<0>(pair), std::get<1>(pair));
         });
}

/// The one value of a scalar constant, if `value` is one.
std::optional<float> scalarOf(Value value) {
  std::optional<std::vector<float>> values = onnx::getConstantFloats(value);
  if (!values || values->size() != 1)
    return std::nullopt;
  return values->front();
}

/// The heads H of a Reshape to [0, H, -1, 0] of a 4-D tensor: how
/// kiln-graph-grouped-query-heads regroups [B, Hq, S, X] as [B, Hkv, g*S,
/// X] and back.
std::optional<int64_t> regroupedHeads(onnx::ReshapeOp reshape) {
  std::optional<SmallVector<int64_t>> shape =
      onnx::getConstantInts(reshape.getShape());
  auto type = dyn_cast<RankedTensorType>(reshape.getData().getType());
  if (!shape || shape->size() != 4 || (*shape)[0] != 0 || (*shape)[2] != -1 ||
      (*shape)[3] != 0 || (*shape)[1] < 1 || reshape.getAllowzero() || !type ||
      type.getRank() != 4)
    return std::nullopt;
  return (*shape)[1];
}

/// `value` as [G, rows, columns]: its leading dimensions collapsed (or a
/// unit one added).
Value asHeads(PatternRewriter &rewriter, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  int64_t rank = type.getRank();
  ArrayRef<int64_t> shape = type.getShape();
  if (rank == 2)
    return rewriter.create<tensor::ExpandShapeOp>(
        loc,
        RankedTensorType::get({1, shape[0], shape[1]}, type.getElementType()),
        value, ArrayRef<ReassociationIndices>{{0, 1}, {2}});
  if (rank == 3)
    return value;
  ReassociationIndices leading;
  for (int64_t i = 0; i < rank - 2; ++i)
    leading.push_back(i);
  return rewriter.create<tensor::CollapseShapeOp>(
      loc, value,
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

/// The bf16 tensor that an onnx.Cast to f32 widens into `value` (a cache
/// held in bf16), or, where `rows` may be 4-bit, the rows that
/// kiln.unpack_kv4 dequantizes into it (QoQ's KV4 cache), which the kernel
/// reads directly; else `value`.
Value narrowSourceOf(Value value, bool rows) {
  Value unpacked = value;
  if (auto cast = unpacked.getDefiningOp<tensor::CastOp>())
    unpacked = cast.getSource();
  if (auto unpack = unpacked.getDefiningOp<UnpackKv4Op>(); unpack && rows)
    return unpack.getInput();
  auto cast = value.getDefiningOp<onnx::CastOp>();
  if (!cast || !getElementTypeOrSelf(cast.getInput().getType()).isBF16() ||
      !getElementTypeOrSelf(value.getType()).isF32())
    return value;
  return cast.getInput();
}

/// What leads to the softmax: the product Q . Kt, scaled, the heads of a
/// grouped product regrouped.
struct ScoreChain {
  onnx::MatMulOp product;
  float scale = 1.0f;
  /// The query heads Hq a grouped product's scores are regrouped into, or
  /// 0.
  int64_t queryHeads = 0;
};

/// The chain that computes `scores`, each step used once, or nothing.
std::optional<ScoreChain> scoreChainOf(Value scores) {
  ScoreChain chain;
  if (Operation *scaling = scores.getDefiningOp();
      scaling && isa<onnx::DivOp, onnx::MulOp>(scaling)) {
    std::optional<float> by = scalarOf(scaling->getOperand(1));
    if (!by || *by == 0.0f || !scores.hasOneUse())
      return std::nullopt;
    chain.scale = isa<onnx::DivOp>(scaling) ? 1.0f / *by : *by;
    scores = scaling->getOperand(0);
  }
  if (auto regroup = scores.getDefiningOp<onnx::ReshapeOp>()) {
    std::optional<int64_t> heads = regroupedHeads(regroup);
    if (!heads || !scores.hasOneUse())
      return std::nullopt;
    chain.queryHeads = *heads;
    scores = regroup.getData();
  }
  chain.product = scores.getDefiningOp<onnx::MatMulOp>();
  if (!chain.product || !scores.hasOneUse())
    return std::nullopt;
  return chain;
}

/// Whether the additive `mask` of scores [lead..., S, T] can be read as
/// the kernel's [M, Sm, T]: T columns (no broadcast over the keys), S rows
/// or one, and leading dimensions that are those of the scores up to some
/// axis and 1 after it (so that consecutive heads share a mask), not
/// reaching past `sharedLeading` of them.
bool isKernelMask(Value mask, ArrayRef<int64_t> scores, int64_t sharedLeading) {
  auto type = dyn_cast<RankedTensorType>(mask.getType());
  auto rank = static_cast<int64_t>(scores.size());
  if (!type || !type.getElementType().isF32() || type.getRank() > rank ||
      type.getRank() < 1)
    return false;
  // The mask's shape aligned on the scores' trailing dimensions.
  SmallVector<int64_t> shape(rank - type.getRank(), 1);
  llvm::append_range(shape, type.getShape());
  if (!agree(shape[rank - 1], scores[rank - 1]) ||
      (shape[rank - 1] == 1 && scores[rank - 1] != 1))
    return false;
  if (shape[rank - 2] != 1 && !agree(shape[rank - 2], scores[rank - 2]))
    return false;
  int64_t shared = 0;
  while (shared < rank - 2 && shape[shared] != 1)
    ++shared;
  for (int64_t i = 0; i < rank - 2; ++i)
    if (i < shared ? !agree(shape[i], scores[i]) : shape[i] != 1)
      return false;
  return shared <= sharedLeading;
}

/// `mask` as [M, Sm, T].
Value asMaskHeads(PatternRewriter &rewriter, Location loc, Value mask) {
  auto type = cast<RankedTensorType>(mask.getType());
  if (type.getRank() >= 2)
    return asHeads(rewriter, loc, mask);
  return rewriter.create<tensor::ExpandShapeOp>(
      loc,
      RankedTensorType::get({1, 1, type.getDimSize(0)}, rewriter.getF32Type()),
      mask, ArrayRef<ReassociationIndices>{{0, 1, 2}});
}

struct FuseAttention : OpRewritePattern<onnx::MatMulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::MatMulOp op,
                                PatternRewriter &rewriter) const override {
    // MatMul(Softmax(scale(MatMul(Q, Kt)) + mask), V), each step used
    // once; with grouped query heads, the scores regrouped to the query
    // heads for the softmax and back for the product with V.
    Value probabilities = op.getA();
    int64_t groupedHeads = 0;
    if (auto regroup = probabilities.getDefiningOp<onnx::ReshapeOp>()) {
      std::optional<int64_t> heads = regroupedHeads(regroup);
      if (!heads || !probabilities.hasOneUse())
        return failure();
      groupedHeads = *heads;
      probabilities = regroup.getData();
    }
    auto softmax = probabilities.getDefiningOp<onnx::SoftmaxOp>();
    if (!softmax || !softmax->hasOneUse())
      return failure();
    Value scores = softmax.getInput();
    Value mask;
    std::optional<ScoreChain> chain = scoreChainOf(scores);
    if (auto add = scores.getDefiningOp<onnx::AddOp>();
        !chain && add && scores.hasOneUse()) {
      for (auto [scaled, added] : {std::pair(add.getA(), add.getB()),
                                   std::pair(add.getB(), add.getA())}) {
        if ((chain = scoreChainOf(scaled))) {
          mask = added;
          break;
        }
      }
    }
    if (!chain || (chain->queryHeads != 0) != (groupedHeads != 0))
      return failure();
    onnx::MatMulOp product = chain->product;
    Value query = product.getA(), keys = product.getB(), values = op.getB();
    Value keyRows = keyRowsOf(keys);
    RankedTensorType q = matrixType(query), k = matrixType(keys),
                     v = matrixType(values), out = matrixType(op.getY()),
                     s = matrixType(softmax.getInput());
    if (!q || !k || !v || !out || !s)
      return failure();
    int64_t rank = q.getRank();
    auto axis = static_cast<int64_t>(softmax.getAxis());
    if (k.getRank() != rank || v.getRank() != rank || out.getRank() != rank ||
        s.getRank() != rank || (axis != -1 && axis != rank - 1))
      return failure();
    ArrayRef<int64_t> qs = q.getShape(), ks = k.getShape(), vs = v.getShape();
    // No broadcasting between the heads; a static D, a multiple of 4 (the
    // kernel's narrowest vectors).
    if (!agree(qs.drop_back(2), ks.drop_back(2)) ||
        !agree(qs.drop_back(2), vs.drop_back(2)) || !agree(out.getShape(), qs))
      return failure();
    int64_t d = qs[rank - 1];
    if (ShapedType::isDynamic(d) || d % 4 || ks[rank - 2] != d ||
        vs[rank - 1] != d || !agree(vs[rank - 2], ks[rank - 1]))
      return failure();
    // Keys T symbolic need rows (the kernel loads transposed keys as
    // vectors along T only when T is known).
    if (!keyRows && ShapedType::isDynamic(ks[rank - 1]))
      return failure();
    // Grouped heads: [B, Hkv, g*S, D] regrouped as [B, Hq, S, ...], the
    // query heads a multiple of the key/value heads; the mask shared by
    // the heads of a batch at most.
    if (groupedHeads &&
        (rank != 4 || qs[1] != groupedHeads || ShapedType::isDynamic(qs[1]) ||
         chain->queryHeads % groupedHeads))
      return failure();
    if (mask &&
        !isKernelMask(mask, s.getShape(), groupedHeads ? rank - 3 : rank - 2))
      return failure();

    SmallVector<Location> locations = {product.getLoc(), softmax.getLoc(),
                                       op.getLoc()};
    if (mask)
      locations.push_back(scores.getLoc());
    Location loc = rewriter.getFusedLoc(locations);
    Value q3 = asHeads(rewriter, loc, query);
    Value k3 = asHeads(rewriter, loc,
                       narrowSourceOf(keyRows ? keyRows : keys, bool(keyRows)));
    Value v3 = asHeads(rewriter, loc, narrowSourceOf(values, /*rows=*/true));
    Value mask3 = mask ? asMaskHeads(rewriter, loc, mask) : Value();
    Value init = rewriter.create<tensor::EmptyOp>(
        loc, tensor::getMixedSizes(rewriter, loc, q3), rewriter.getF32Type());
    Value result =
        rewriter
            .create<AttentionOp>(loc, TypeRange{init.getType()}, q3, k3, v3,
                                 /*past_keys=*/Value(),
                                 /*past_values=*/Value(), mask3,
                                 /*pages=*/Value(), init,
                                 rewriter.getF32FloatAttr(chain->scale),
                                 keyRows ? rewriter.getUnitAttr() : UnitAttr(),
                                 /*page_size=*/IntegerAttr())
            .getResult()[0];
    if (rank == 3) {
      rewriter.replaceOp(op, result);
      return success();
    }
    if (rank == 2) {
      rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(
          op, out, result, ArrayRef<ReassociationIndices>{{0, 1}, {2}});
      return success();
    }
    // The result has the query's extents, which may be better known than
    // the product's (a regrouping Reshape whose rows shape inference left
    // symbolic), or less: expanded to what both know, then cast.
    ReassociationIndices leading;
    for (int64_t i = 0; i < rank - 2; ++i)
      leading.push_back(i);
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, query);
    SmallVector<int64_t> shape(qs);
    for (int64_t i = 0; i < rank; ++i)
      if (!out.isDynamicDim(i)) {
        shape[i] = out.getDimSize(i);
        sizes[i] = rewriter.getIndexAttr(shape[i]);
      }
    auto expandedType = RankedTensorType::get(shape, rewriter.getF32Type());
    Value expanded = rewriter.create<tensor::ExpandShapeOp>(
        loc, expandedType, result,
        ArrayRef<ReassociationIndices>{leading, {rank - 2}, {rank - 1}}, sizes);
    if (expandedType == out)
      rewriter.replaceOp(op, expanded);
    else
      rewriter.replaceOpWithNewOp<tensor::CastOp>(op, out, expanded);
    return success();
  }
};

struct GraphFuseAttentionPass
    : kiln::impl::GraphFuseAttentionPassBase<GraphFuseAttentionPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseAttention>(&getContext());
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
