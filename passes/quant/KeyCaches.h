//===- KeyCaches.h - session key caches and their projections ---*- C++ -*-===//
//
// What the attention passes on a 4-bit key cache start from: each session
// cache (after kiln-graph-session-kv-cache) that holds keys, the product
// that projects them, the scores' product that reads them, and the query
// projection behind its other operand.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_QUANT_KEYCACHES_H
#define KILN_PASSES_QUANT_KEYCACHES_H

#include "dialects/onnx/OnnxOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::kiln::quant {

/// A session cache of keys: `state` is written with rows projected by
/// `keyProjection` (through head reshapes, transposes and RoPE) and read by
/// one product, `scores`, whose left operand (the queries) comes from
/// `queryProjection`.
struct KeyCache {
  BlockArgument state;
  onnx::MatMulOp keyProjection, queryProjection, scores;
  /// The rows written into the state (its tensor.insert_slice's source).
  Value writtenRows;
};

/// The keys `cache` is written with, before the cache's own encoding
/// (kiln.pack_kv4, or a cast), and that encoding's op (null when the keys
/// are written as they are).
std::pair<Value, Operation *> keysBeforeEncoding(const KeyCache &cache);

/// Makes `cache` written with `keys` (of the same type) instead: as
/// `encoder`'s first operand, or, without one, as its state's write.
void replaceWrittenKeys(const KeyCache &cache, Operation *encoder, Value keys);

/// The one weight product whose output reaches `value` through ops that
/// move, rotate or cast it without mixing in another weight (head
/// reshapes and transposes, RoPE, casts, a cache's views); null if none or
/// several do.
onnx::MatMulOp projectionBehind(Value value);

/// The key caches among `function`'s session caches (a values cache's
/// reader takes the softmax's probabilities, which lead to no projection).
SmallVector<KeyCache> findKeyCaches(func::FuncOp function);

} // namespace mlir::kiln::quant

#endif // KILN_PASSES_QUANT_KEYCACHES_H
