//===- RotateKeys.cpp - kiln-quant-rotate-keys ----------------------------===//
//
// A 4-bit key cache quantizes each token's keys of a head with one range,
// which a few large channels (RoPE's slow pairs) stretch. Multiplying keys
// and queries, after RoPE, by one orthogonal matrix R leaves every score
// unchanged, (q R) . (k R) = q . k, and a normalized Hadamard matrix
// spreads each key's energy evenly over its channels, so that the range
// shrinks toward the norm's share. (QuaRot's rotation of the cache; QoQ's
// SmoothAttention instead scales channels, which suits outlier channels.)
//
//===----------------------------------------------------------------------===//

#include "passes/quant/KeyCaches.h"
#include "passes/quant/Passes.h"

#include "dialects/onnx/OnnxConstants.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/bit.h"

#include <cmath>

namespace mlir::kiln {
#define GEN_PASS_DEF_QUANTROTATEKEYSPASS
#include "passes/quant/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The normalized Sylvester Hadamard matrix of order `size` (a power of
/// two): entry (i, j) is (-1)^popcount(i & j) / sqrt(size).
std::vector<float> hadamard(int64_t size) {
  std::vector<float> matrix(size * size);
  float entry = float(1.0 / std::sqrt(double(size)));
  for (int64_t i = 0; i < size; ++i)
    for (int64_t j = 0; j < size; ++j)
      matrix[i * size + j] =
          llvm::popcount(uint64_t(i & j)) % 2 ? -entry : entry;
  return matrix;
}

/// `value` [..., D] times `rotation` [D, D].
Value rotated(OpBuilder &builder, Location loc, Value value, Value rotation) {
  return builder.create<onnx::MatMulOp>(loc, value.getType(), value, rotation);
}

struct QuantRotateKeysPass
    : kiln::impl::QuantRotateKeysPassBase<QuantRotateKeysPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp function = getOperation();
    int rotatedCaches = 0;
    llvm::DenseMap<int64_t, Value> rotations;
    for (quant::KeyCache cache : quant::findKeyCaches(function)) {
      auto [keys, writer] = quant::keysBeforeEncoding(cache);
      Value queries = cache.scores.getA();
      auto keyType = dyn_cast<RankedTensorType>(keys.getType());
      auto queryType = dyn_cast<RankedTensorType>(queries.getType());
      if (!keyType || !queryType || !keyType.getElementType().isF32() ||
          !queryType.getElementType().isF32() || keyType.getRank() < 2)
        continue;
      int64_t headDim = keyType.getShape().back();
      if (ShapedType::isDynamic(headDim) ||
          !llvm::has_single_bit(uint64_t(headDim)) ||
          queryType.getShape().back() != headDim)
        continue;
      // Keys cut to the cache's room (a slice of whole rows) are rotated
      // before the cut, where they are contiguous.
      auto slice = keys.getDefiningOp<tensor::ExtractSliceOp>();
      if (slice && slice.getSourceType().getShape().back() == headDim) {
        writer = slice;
        keys = slice.getSource();
      }
      // One matrix per head size, first in the function: every layer's
      // products follow it.
      OpBuilder builder = OpBuilder::atBlockBegin(&function.front());
      Location loc = cache.scores.getLoc();
      Value &rotation = rotations[headDim];
      if (!rotation)
        rotation = onnx::createFloatConstant(
            builder, loc,
            RankedTensorType::get({headDim, headDim}, builder.getF32Type()),
            hadamard(headDim), "key_rotation");
      builder.setInsertionPoint(cache.scores);
      cache.scores.getAMutable().assign(
          rotated(builder, loc, queries, rotation));
      // The keys are rotated as soon as they are computed, for the write;
      // the cache then holds them rotated for every later step.
      builder.setInsertionPointAfterValue(keys);
      Value rotatedKeys = rotated(builder, keys.getLoc(), keys, rotation);
      quant::replaceWrittenKeys(cache, writer, rotatedKeys);
      ++rotatedCaches;
    }
    if (rotatedCaches == 0 && warn)
      function.emitWarning(
          "no keys to rotate: no session key cache of f32 keys with a "
          "power-of-two head size is written from a key projection and read "
          "by a product with a query projection");
  }
};

} // namespace
