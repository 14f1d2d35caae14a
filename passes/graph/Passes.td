//===- Passes.td - graph-stage passes ----------------------*- tablegen -*-===//

#ifndef KILN_PASSES_GRAPH_PASSES
#define KILN_PASSES_GRAPH_PASSES

include "mlir/Pass/PassBase.td"

def GraphInferShapesPass : Pass<"kiln-graph-infer-shapes", "func::FuncOp"> {
  let summary = "Refine onnx result types with the ONNX shape rules";
  let description = [{
    Walks the function in order and gives each onnx op's results the most
    precise type its operands allow: an unranked result becomes ranked, a
    dynamic dimension static, where the ONNX shape rule of the operator and
    its constant operands (shapes, axes, pads) determine it. Known
    dimensions are never changed. The function's result types follow what
    it returns. Together with canonicalization this makes a model with
    static inputs fully static.
  }];
  let dependentDialects = ["::mlir::kiln::onnx::OnnxDialect"];
}

def GraphDecomposeLlmOpsPass
    : Pass<"kiln-graph-decompose-llm-ops", "func::FuncOp"> {
  let summary = "Opset 23's Attention, RMSNormalization and RotaryEmbedding "
                "as the subgraphs exporters emit";
  let description = [{
    Rewrites each into plain onnx ops whose results are unranked (the shape
    inference that follows sizes them), so that they reach the kernels and
    fusions of the pattern-matched forms:
    - `Attention`: 3-D inputs split into heads, past keys and values
      concatenated in front (the present outputs), KV heads repeated for
      grouped-query heads, `MatMul(Q, Kt)` times the scale, the softcap
      (`c * tanh(x / c)`), plus the bias (the mask, booleans as 0 / -inf,
      padded to all the keys; the offset-aware causal frontier; the
      sliding window; a per-batch cache length's padding), `Softmax` (in
      `softmax_precision`), zero probabilities for rows that allow no
      key, `MatMul` with V, and `qk_matmul_output` in each of its modes.
    - `RMSNormalization`: `x * (1 / sqrt(mean(x^2) + epsilon)) * scale`
      over the axes from `axis` on, in the stash type.
    - `RotaryEmbedding`: halves or even/odd channels of the first
      `rotary_embedding_dim` rotated by the cosines and sines gathered at
      `position_ids`, the rest passed through.
    An op whose shapes the decomposition needs are not static is an error
    naming its node.
  }];
  let dependentDialects = ["::mlir::kiln::onnx::OnnxDialect"];
}

def GraphGroupedQueryHeadsPass
    : Pass<"kiln-graph-grouped-query-heads", "func::FuncOp"> {
  let summary = "Grouped-query attention's products read each KV head once";
  let description = [{
    A `MatMul` of A [B, Hq, S, X] with KV heads repeated for their query
    heads (Unsqueeze(K, 2) -> Expand -> Reshape to Hq heads, as Hugging
    Face's repeat_kv exports it, or a Gather of heads [0, .., 0, 1, ..]),
    possibly behind a Transpose of the last two axes (Q . Kt), becomes
    `Reshape(MatMul(Reshape(A, [0, Hkv, -1, 0]), K or Kt), [0, Hq, -1, 0])`:
    the g query heads sharing a KV head are more rows of one product, and
    the repeated copy of the cache is never made.
  }];
  let dependentDialects = ["::mlir::kiln::onnx::OnnxDialect"];
}

def GraphSessionKvCachePass
    : Pass<"kiln-graph-session-kv-cache", "func::FuncOp"> {
  let summary = "The past/present key-value cache becomes the session's, appended in place";
  let description = [{
    Each output `present = Concat(past, new, axis=2)` of a 4-D past input
    [batch, heads, past, head_dim] (batch 1 or symbolic, heads and head_dim
    static) becomes a cache the session owns: a function argument
    [1, heads, capacity, head_dim] (`kiln.kv_cache_state`, capacity the
    maximum context rounded up to whole pages) into which the new rows are
    written at the cache's length, an i64 argument
    (`kiln.kv_cache_length`); the Concat's users read the filled prefix in
    place, the past input's other users (its Shape) the prefix before the
    run. The past inputs and present outputs leave the signature; the
    function's `kiln.kv_cache` tells the session the capacity, the page
    size and the dimensions it binds (the past length, the batch as 1) or
    checks (the present outputs' sequence dimension, which an input such
    as the attention mask must carry: cached plus new tokens).

    With `element-type=bf16`, an f32 cache is held in bf16: the new rows
    are rounded as they are written (an `onnx.Cast`) and the views widen
    them back (a Cast to f32, which kiln-graph-fuse-attention folds into
    the kernel's loads), halving the bytes a decode step reads. With
    `element-type=kv4` (QoQ's KV4), each token's row of each head is held
    as 4-bit integers with an f16 scale and zero point (`kiln.pack_kv4`,
    D/2 + 4 bytes instead of 4 D: an i8 [1, heads, capacity, D/2 + 4]
    state), packed as it is written and unpacked (`kiln.unpack_kv4`) for
    the views; an f32 cache of an even head size only.
  }];
  let options = [
    Option<"capacity", "max-context", "int64_t", "4096",
           "Tokens the cache holds (rounded up to whole pages)">,
    Option<"page", "page", "int64_t", "16", "Tokens per page">,
    Option<"elementType", "element-type", "std::string", "\"f32\"",
           "The element type an f32 cache is held in: f32, bf16 or kv4 "
           "(4-bit rows with a scale and zero point each)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::kiln::KilnDialect",
                           "::mlir::tensor::TensorDialect"];
}

def GraphQuantizeLinearPass
    : Pass<"kiln-graph-quantize-linear", "func::FuncOp"> {
  let summary = "ONNX's QuantizeLinear and DequantizeLinear as "
                "kiln.quantize and kiln.dequantize";
  let description = [{
    The quantized graphs of onnxruntime's tools (QDQ: a `DequantizeLinear`
    of constant integer weights, `QuantizeLinear` then `DequantizeLinear`
    around activations) then read as the quantization passes' own: the
    layout passes turn them into integer contractions, and everything else
    lowers through the generic forms of the kiln ops. An op whose
    parameters are per tensor (scalar scale), per axis (1-D, along `axis`,
    negative counting from the end) or blocked (`block_size` dividing the
    extent along `axis`), whose integers have 2 to 16 bits (32 for
    `DequantizeLinear`) and whose floats are f32, f16 or bf16 is rewritten;
    others (8-bit floats, ragged blocks) stay as they are. A
    `DequantizeLinear` of 32-bit constants (a quantized bias) becomes the
    f32 constant it computes.
  }];
  let dependentDialects = ["::mlir::kiln::KilnDialect"];
}

def GraphFoldBatchNormPass : Pass<"kiln-graph-fold-batch-norm", "func::FuncOp"> {
  let summary = "Fold inference BatchNormalization into the preceding Conv";
  let description = [{
    `BatchNormalization(Conv(x, W, B))` with constant statistics, scale and
    shift, a constant filter and bias, and a Conv used only there, becomes
    one Conv with `W' = W * s` and `B' = (B - mean) * s + shift` per output
    channel, where `s = scale / sqrt(var + epsilon)`. The arithmetic runs
    in double precision before rounding to float.
  }];
  let dependentDialects = ["::mlir::kiln::onnx::OnnxDialect"];
}

def GraphMergeSiblingProductsPass
    : Pass<"kiln-graph-merge-sibling-products", "func::FuncOp"> {
  let summary = "Products of one input that only split into heads become "
                "one product";
  let description = [{
    `MatMul`s of the same input (rank 2 or more) by constant f32 weights
    `[K, N_i]`, each either used only by `Reshape`s or used only by an
    `Add` of a constant bias `[N_i]` that is used only by `Reshape`s (a
    decoder's query, key and value projections, as exporters write them
    when the model keeps three Linear layers), become one `MatMul` by the
    weights side by side `[K, sum N_i]`, an `Add` of the biases side by
    side (zeros for a product without one) when any has one, and a
    `Slice` of each one's columns that its `Reshape`s read. One kernel
    reads the input once and streams all the weights, where three small
    products would each pay for a kernel's start and end: at a decode
    step, matrix-vector products whose time is their weights' bytes.
    Products followed by anything else (an activation or a gate, which
    the contraction's epilogue takes) are left alone.
  }];
  let dependentDialects = ["::mlir::kiln::onnx::OnnxDialect"];
}

def GraphFuseEpiloguesPass : Pass<"kiln-graph-fuse-epilogues", "func::FuncOp"> {
  let summary = "Fuse bias, activation and residual into kiln.packed_conv2d";
  let description = [{
    Folds what follows a packed contraction into its epilogue, when the
    contraction has no other use: an `Add` of a constant along the filters
    into its bias; `Relu`, `Clip` with constant bounds (ReLU6) and
    `HardSwish` into its activation; an `Add` of another tensor of the
    result's type into its init, as a residual (`accumulate`). Reshapes
    that keep the filters the innermost dimension (a matrix product's
    [M, N] view) are looked through. The activation applies last, so
    nothing is fused after it.
  }];
  let dependentDialects = ["::mlir::kiln::KilnDialect",
                           "::mlir::kiln::onnx::OnnxDialect",
                           "::mlir::tensor::TensorDialect"];
}

def GraphFuseAttentionPass
    : Pass<"kiln-graph-fuse-attention", "func::FuncOp"> {
  let summary = "The exporters' attention subgraph as kiln.attention";
  let description = [{
    `MatMul(Softmax(scale(MatMul(Q, Kt))), V)`, with the scale a `Div` or
    `Mul` by a scalar constant (or absent) and the Softmax over the last
    axis, each intermediate used once, in float32 with static shapes, the
    same leading (batch, head) dimensions on all three operands and a head
    size D that is a multiple of 4, becomes one `kiln.attention` on the
    operands with their leading dimensions collapsed into one: Q [G, S, D],
    Kt [G, D, T] (the exporters transpose K), V [G, T, D]. When Kt is a
    Transpose of the last two axes of K (a KV cache's rows, as GPT-2's
    exporter leaves them), the kernel takes K [G, T, D] itself
    (`key_rows`) and the Transpose is left without a use.
  }];
  let dependentDialects = ["::mlir::kiln::KilnDialect",
                           "::mlir::kiln::onnx::OnnxDialect",
                           "::mlir::tensor::TensorDialect"];
}

def GraphRowKernelsPass : Pass<"kiln-graph-row-kernels", "func::FuncOp"> {
  let summary = "LayerNormalization and Softmax over the last axis as Kiln kernels";
  let description = [{
    `LayerNormalization` over the last axis only (without its optional Mean
    and InvStdDev outputs) becomes `kiln.layer_norm` (an absent bias is
    zeros; float32, static shapes), and `Softmax` over the last axis
    `kiln.softmax` (float32, static or symbolic sizes): kernels that read
    each row from cache instead of the separate reduction and elementwise
    loops of the generic lowering.
  }];
  let dependentDialects = ["::mlir::kiln::KilnDialect",
                           "::mlir::kiln::onnx::OnnxDialect",
                           "::mlir::tensor::TensorDialect"];
}

def GraphLinearResizePass : Pass<"kiln-graph-linear-resize", "func::FuncOp"> {
  let summary = "Bilinear Resize as kiln.resize_linear with compile-time tables";
  let description = [{
    A float32 `Resize` in `linear` mode that resizes only the last two
    dimensions of static 4-D data, with constant scales or sizes and the
    half_pixel, pytorch_half_pixel, align_corners or asymmetric coordinate
    transformation, becomes `kiln.resize_linear`: the two source rows and
    columns of every output row and column, and their weights, are computed
    here (in double precision, clamped to the input as ONNX's reference
    does) and stored as tables, so the kernel only gathers and blends.
    Over a symbolic height or width (sizes from a run-time input, or
    constant scales) the same tables are computed at run time by two small
    linalg.generic ops over the output's rows and columns.
  }];
  let dependentDialects = ["::mlir::kiln::KilnDialect",
                           "::mlir::kiln::onnx::OnnxDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif // KILN_PASSES_GRAPH_PASSES
