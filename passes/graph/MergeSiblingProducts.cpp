//===- MergeSiblingProducts.cpp - kiln-graph-merge-sibling-products -------===//
//
// A decoder exported with separate query, key and value projections reads
// its normalized input three times, in three matrix products whose
// results are reshaped into heads. Side by side, the weights make one
// product (and the biases one Add, which the contraction's epilogue takes
// later), whose columns a Slice per projection hands to its Reshapes. A
// decode step's products are matrix-vector products that stream their
// weights; one kernel over all of them streams without the two extra
// starts and ends (SmolLM2's key and value projections, 442 KB each, read
// at 21 GB/s where its larger products reach 27).
//
//===----------------------------------------------------------------------===//

#include "passes/graph/Passes.h"

#include "passes/graph/OnnxSubgraph.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_GRAPHMERGESIBLINGPRODUCTSPASS
#include "passes/graph/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// A product that may join its siblings: `[K, N]` constant weights and,
/// when an Add of a constant bias follows it, that Add. (The constants are
/// read only for products that do merge.)
struct Sibling {
  onnx::MatMulOp product;
  int64_t k, n;
  onnx::AddOp biasAdd = {};
  Value bias = {};
  /// The value the Slice of its columns replaces.
  Value result() { return biasAdd ? biasAdd.getResult() : product.getResult(); }
};

bool usedOnlyByReshapes(Value value) {
  return !value.use_empty() &&
         llvm::all_of(value.getUsers(),
                      [](Operation *user) { return isa<onnx::ReshapeOp>(user); });
}

/// Whether `value` is an f32 onnx.Constant of `shape`.
bool isF32Constant(Value value, ArrayRef<int64_t> shape) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && type.getShape() == shape && type.getElementType().isF32() &&
         value.getDefiningOp<onnx::ConstantOp>();
}

std::optional<Sibling> siblingOf(onnx::MatMulOp product) {
  auto input = dyn_cast<RankedTensorType>(product.getA().getType());
  auto weights = dyn_cast<RankedTensorType>(product.getB().getType());
  auto resultType = dyn_cast<RankedTensorType>(product.getResult().getType());
  if (!input || input.getRank() < 2 || !resultType ||
      resultType.getRank() != input.getRank() || !weights ||
      weights.getRank() != 2 || !weights.hasStaticShape() ||
      !isF32Constant(product.getB(), weights.getShape()))
    return std::nullopt;
  Sibling sibling{product, weights.getDimSize(0), weights.getDimSize(1)};
  Value result = product.getResult();
  if (usedOnlyByReshapes(result))
    return sibling;
  if (!result.hasOneUse())
    return std::nullopt;
  auto add = dyn_cast<onnx::AddOp>(*result.getUsers().begin());
  if (!add || add.getResult().getType() != result.getType() ||
      !usedOnlyByReshapes(add.getResult()))
    return std::nullopt;
  Value bias = add.getA() == result ? add.getB() : add.getA();
  if (!isF32Constant(bias, {sibling.n}))
    return std::nullopt;
  sibling.biasAdd = add;
  sibling.bias = bias;
  return sibling;
}

/// `type` with its last dimension `columns`.
RankedTensorType withColumns(RankedTensorType type, int64_t columns) {
  SmallVector<int64_t> shape(type.getShape());
  shape.back() = columns;
  return RankedTensorType::get(shape, type.getElementType());
}

/// Replaces `siblings` (of one input, in block order, two or more) by one
/// product and a Slice each.
void merge(MutableArrayRef<Sibling> siblings) {
  Sibling &first = siblings.front();
  int64_t k = first.k, total = 0;
  bool anyBias = false;
  for (Sibling &sibling : siblings) {
    total += sibling.n;
    anyBias |= static_cast<bool>(sibling.bias);
  }
  std::vector<float> weights(k * total), bias(total, 0.0f);
  int64_t column = 0;
  for (Sibling &sibling : siblings) {
    std::vector<float> own = *onnx::getConstantFloats(sibling.product.getB());
    for (int64_t row = 0; row < k; ++row)
      std::copy_n(own.begin() + row * sibling.n, sibling.n,
                  weights.begin() + row * total + column);
    if (sibling.bias)
      llvm::copy(*onnx::getConstantFloats(sibling.bias), bias.begin() + column);
    column += sibling.n;
  }

  OpBuilder b(first.product);
  Location loc = first.product.getLoc();
  OnnxSubgraph g(b, loc);
  auto resultType = cast<RankedTensorType>(first.product.getResult().getType());
  auto mergedType = withColumns(resultType, total);
  Value mergedWeights = onnx::createFloatConstant(
      b, loc, RankedTensorType::get({k, total}, b.getF32Type()), weights,
      "merged_products");
  Value merged = b.create<onnx::MatMulOp>(loc, mergedType,
                                          first.product.getA(), mergedWeights);
  if (anyBias) {
    Value biases = onnx::createFloatConstant(
        b, loc, RankedTensorType::get({total}, b.getF32Type()), bias,
        "merged_biases");
    merged = b.create<onnx::AddOp>(loc, mergedType, merged, biases);
  }
  Value axes = g.ints({resultType.getRank() - 1}), steps = g.ints({1});
  SmallVector<Value> slices;
  column = 0;
  for (Sibling &sibling : siblings) {
    slices.push_back(b.create<onnx::SliceOp>(
        sibling.product.getLoc(), sibling.result().getType(), merged,
        g.ints({column}), g.ints({column + sibling.n}), axes, steps));
    column += sibling.n;
  }
  // Then the products go (the first one marks where all this was built).
  for (auto [sibling, slice] : llvm::zip(siblings, slices)) {
    sibling.result().replaceAllUsesWith(slice);
    if (sibling.biasAdd)
      sibling.biasAdd.erase();
    sibling.product.erase();
  }
}

struct GraphMergeSiblingProductsPass
    : kiln::impl::GraphMergeSiblingProductsPassBase<
          GraphMergeSiblingProductsPass> {
  void runOnOperation() override {
    // Siblings by input and block, in block order.
    llvm::MapVector<std::pair<Value, Block *>, SmallVector<Sibling>> groups;
    getOperation().walk([&](onnx::MatMulOp product) {
      if (std::optional<Sibling> sibling = siblingOf(product))
        groups[{product.getA(), product->getBlock()}].push_back(
            std::move(*sibling));
    });
    for (auto &[key, siblings] : groups)
      if (siblings.size() >= 2)
        merge(siblings);
  }
};

} // namespace
