//===- AttentionScores.h - products that make queries and keys --*- C++ -*-===//

#ifndef KILN_PASSES_QUANT_ATTENTIONSCORES_H
#define KILN_PASSES_QUANT_ATTENTIONSCORES_H

#include "dialects/onnx/OnnxOps.h"

namespace mlir::kiln::quant {

/// Whether `product` (a weight product) computes queries or keys: its
/// result reaches, through anything but another weight product, a MatMul
/// of two computed operands whose result a Softmax normalizes (Q K^T).
/// Values reach the MatMul after the Softmax instead, and an output
/// projection's result reaches attention only through the next layer's
/// weight products.
bool feedsAttentionScores(onnx::MatMulOp product);

} // namespace mlir::kiln::quant

#endif // KILN_PASSES_QUANT_ATTENTIONSCORES_H
