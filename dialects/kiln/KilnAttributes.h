//===- KilnAttributes.h - the discardable attributes Kiln owns -*- C++ -*-===//
//
// The code generators mark the model function with what the package and
// the runtime agree on; the kiln dialect verifies each where it appears
// (KilnAttributes.cpp), so a mistyped or misplaced mark is an error, not a
// string nobody reads:
//
//   kiln.weights, kiln.workspace   unit, on a func.func argument of type
//                                  memref<?xi8>: the weights section and the
//                                  session's workspace; kiln.weights on the
//                                  module is the section's layout (each
//                                  constant's `offset` and `value`)
//   kiln.workspace_bytes           i64 >= 0, on the module: the workspace's
//                                  size (the memory plan)
//   kiln.dynamic_buffers           i64 >= 0, on the module: buffers left to
//                                  allocate at run time
//   kiln.kernels                   on the module: one dictionary per kernel,
//                                  its `name` (string) and `flops` (i64 >= 0)
//   kiln.threaded                  unit, on an scf.parallel: worth the
//                                  session's threads
//   kiln.kv_cache                  on the model function, when the session
//                                  owns the key/value cache: its `capacity`
//                                  and `page` (tokens, i64 > 0, the page
//                                  dividing the capacity) and the names of
//                                  the dimensions the session binds:
//                                  `past_dim`, `total_dim`, `batch_dim`
//   kiln.kv_cache_length           unit, on the function argument of type
//                                  tensor<i64> or memref<i64> holding the
//                                  tokens cached before the run
//   kiln.kv_cache_state            on a function argument [1, heads,
//                                  capacity, head_dim]: one cache, with the
//                                  names of the `past` input and `present`
//                                  output it replaces; with `page_bounds`
//                                  (i64 tokens a page), Quest's bounds of
//                                  that key cache instead, [1, heads,
//                                  2 x pages, head_dim]: each page's
//                                  channel-wise minimum and maximum
//   kiln.activation_stats          on a matrix product (onnx.MatMul), from
//                                  calibration: per input channel of its
//                                  left operand (K, its last extent, which
//                                  may be symbolic), the
//                                  `abs_max`, `abs_mean` and optionally
//                                  the signed `mean` and, for rows of a
//                                  sequence, `abs_max_after_first` (over
//                                  the rows after each sequence's first)
//                                  (f32 [K]), `samples` of its rows (f32
//                                  [T, K]) and the Gram matrix `gram`
//                                  (f32 [K, K]): what the quantization
//                                  passes search with
//   kiln.quantized_weights         on the model function, from the
//                                  quantization passes: one dictionary per
//                                  weight they quantized, {node (its
//                                  product's ONNX node), float_bytes,
//                                  bytes}, for the package's manifest
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_KILNATTRIBUTES_H
#define KILN_DIALECTS_KILN_KILNATTRIBUTES_H

#include "llvm/ADT/StringRef.h"

namespace mlir::kiln {

inline constexpr llvm::StringLiteral kWeightsAttrName = "kiln.weights";
inline constexpr llvm::StringLiteral kWorkspaceAttrName = "kiln.workspace";
inline constexpr llvm::StringLiteral kWorkspaceBytesAttrName =
    "kiln.workspace_bytes";
inline constexpr llvm::StringLiteral kDynamicBuffersAttrName =
    "kiln.dynamic_buffers";
inline constexpr llvm::StringLiteral kKernelsAttrName = "kiln.kernels";
inline constexpr llvm::StringLiteral kThreadedAttrName = "kiln.threaded";
inline constexpr llvm::StringLiteral kKvCacheAttrName = "kiln.kv_cache";
inline constexpr llvm::StringLiteral kKvCacheLengthAttrName =
    "kiln.kv_cache_length";
inline constexpr llvm::StringLiteral kKvCacheStateAttrName =
    "kiln.kv_cache_state";
inline constexpr llvm::StringLiteral kActivationStatsAttrName =
    "kiln.activation_stats";
inline constexpr llvm::StringLiteral kQuantizedWeightsAttrName =
    "kiln.quantized_weights";

} // namespace mlir::kiln

#endif // KILN_DIALECTS_KILN_KILNATTRIBUTES_H
