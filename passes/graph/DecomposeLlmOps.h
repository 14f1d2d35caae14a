//===- DecomposeLlmOps.h - ONNX's LLM operators as subgraphs ----*- C++ -*-===//
//
// Opset 23's Attention, RMSNormalization and RotaryEmbedding, rewritten
// into the plain operators exporters emitted before them, so that they
// reach the same kernels (and fusions) as those subgraphs.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_GRAPH_DECOMPOSELLMOPS_H
#define KILN_PASSES_GRAPH_DECOMPOSELLMOPS_H

#include "dialects/onnx/OnnxOps.h"

#include "mlir/IR/PatternMatch.h"

#include <optional>
#include <string>

namespace mlir::kiln {

/// Why `op` cannot be decomposed (shapes the decomposition needs static,
/// attributes out of range), or nullopt when it can.
std::optional<std::string> whyNotDecomposed(onnx::AttentionOp op);
std::optional<std::string> whyNotDecomposed(onnx::RMSNormalizationOp op);
std::optional<std::string> whyNotDecomposed(onnx::RotaryEmbeddingOp op);

void populateAttentionDecomposition(RewritePatternSet &patterns);
void populateRmsNormalizationDecomposition(RewritePatternSet &patterns);
void populateRotaryEmbeddingDecomposition(RewritePatternSet &patterns);

} // namespace mlir::kiln

#endif // KILN_PASSES_GRAPH_DECOMPOSELLMOPS_H
