//===- Passes.td - quantization passes ---------------------*- tablegen -*-===//
//
// Target-neutral rewrites of the graph stage that trade precision for
// bytes: weights (and later activations and the KV cache) in integers,
// as `kiln.dequantize` of integer constants that the layout passes pack
// and the kernels dequantize in registers.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_QUANT_PASSES
#define KILN_PASSES_QUANT_PASSES

include "mlir/Pass/PassBase.td"

def QuantWeightsPass : Pass<"kiln-quant-weights", "func::FuncOp"> {
  let summary = "Constant weights of matrix products to 4-bit groups";
  let description = [{
    Rewrites the constant right operand W [K, N] of each f32 `onnx.MatMul`
    into `kiln.dequantize` of unsigned 4-bit integers in groups of
    `group-size` input channels per output channel, round to nearest
    (ALGORITHMS.md §2, without AWQ's search):

    ```
    scale = max((max - min) / 15, 1e-5)       (then rounded to f16)
    zero  = clamp(round(-min / scale), 0, 15)
    q     = clamp(round(w / scale) + zero, 0, 15)
    ```

    with min and max over the group's values. Scales are f16 (each q is
    computed with the rounded scale) and zero points 4-bit,
    so that a group of 64 costs 32 bytes of integers and, once packed, 4 of
    parameters.
    Products whose K the group size does not divide are an error naming
    the node (choose a divisor, or exclude the node); nodes named in
    `exclude` stay f32. With nothing to quantize the pass warns and
    leaves the function as it is.
  }];
  let options = [
    Option<"groupSize", "group-size", "int64_t", "128",
           "Input channels per group of one scale and zero point">,
    ListOption<"exclude", "exclude", "std::string",
               "ONNX node names of products to keep in f32">,
  ];
  let dependentDialects = ["::mlir::kiln::KilnDialect",
                           "::mlir::kiln::onnx::OnnxDialect"];
}

def QuantAwqPass : Pass<"kiln-quant-awq", "func::FuncOp"> {
  let summary = "AWQ: activation-aware scales and clipping of the weights "
                "about to be quantized to 4-bit groups";
  let description = [{
    For the weight products that carry `kiln.activation_stats` (from
    calibration), grouped by the input they share (q, k and v share the
    attention's normalized input; gate and up the MLP's), as AWQ does
    (ALGORITHMS.md §2):

    1. Scale search: `s = mean|x|^a` per input channel (clamped to 1e-4,
       normalized by `sqrt(max(s) min(s))`) for a in {0, 1/grid, ...,
       (grid - 1)/grid}, keeping the a whose `Q(W diag(s)) diag(s)^-1`
       gives the least squared error of the group's outputs on the
       calibration rows (a = 0 is round to nearest, so the search never
       does worse than it on those rows); with `rounding=nearest`, a gated
       MLP's gate and up projections (`silu(gate) * up` read by a down
       projection) are held to the MLP's output instead, the down
       projection in f32. The weights become `diag(s) W`
       and `1/s` folds into what produces the input: the constant scale of
       a normalization (`Mul` by a per-channel constant), or the columns of
       the weight product feeding a `Mul` (the MLP's up projection, for
       down's input) — an explicit `Mul` by `1/s` where neither is there
       (the attention output into o_proj).
    2. Clipping search (with `clip`): per output channel and group, the
       range `[-m, m]` with `m = (1 - i/20) max|w|`, i = 0..9, whose
       quantized weights give the least squared error of that channel's
       output on the rows; the weights are clamped to it for good.

    3. Rounding: with `rounding=nearest` the weights stay f32, scaled and
       clamped, and kiln-quant-weights (same group size) rounds them to
       nearest. With `rounding=gptq` the pass quantizes them itself
       (`kiln.dequantize` of 4-bit groups), once every group's scales are
       folded (down's 1/s into up's columns): GPTQ's rounding, one input
       channel at a time, each channel's rounding error spread over the
       channels not yet rounded through the inverse of the input's Gram
       matrix `X^T X` (damped by 1% of its mean diagonal), so that the
       product's output on the calibration data changes least; the Gram
       matrix is the statistics' `gram` (every calibration row) or, without
       it, that of the sampled rows, in the scaled channels. With
       `act-order` (the default) the channels go by decreasing `X^T X`
       diagonal, and every group's scale and zero point are chosen first
       from the scaled, clipped weights; without it, in channel order, each
       group's when its first channel is reached.

    The statistics are consumed: the pass removes them.
  }];
  let options = [
    Option<"groupSize", "group-size", "int64_t", "128",
           "Input channels per group of one scale and zero point">,
    Option<"grid", "grid", "int64_t", "20",
           "Exponents the scale search tries: 0, 1/grid, ..., (grid-1)/grid">,
    Option<"clip", "clip", "bool", "true",
           "Search each group's clipping range as well">,
    Option<"rounding", "rounding", "std::string", "\"nearest\"",
           "'nearest' (kiln-quant-weights rounds the scaled weights) or "
           "'gptq' (the pass rounds them, compensating each channel's "
           "error on the later ones)">,
    Option<"activationOrder", "act-order", "bool", "true",
           "With rounding=gptq: round the channels by decreasing input "
           "energy (the Gram matrix's diagonal), every group's scale and "
           "zero point chosen first; false: in channel order, each group's "
           "chosen when it is reached">,
    ListOption<"exclude", "exclude", "std::string",
               "ONNX node names of products to keep in f32">,
  ];
  let dependentDialects = ["::mlir::kiln::KilnDialect",
                           "::mlir::kiln::onnx::OnnxDialect"];
}

def QuantSmoothQuantPass : Pass<"kiln-quant-smoothquant", "func::FuncOp"> {
  let summary = "SmoothQuant W8A8: smoothed 8-bit weights and 8-bit "
                "activations scaled per tensor";
  let description = [{
    For the weight products that carry `kiln.activation_stats` (from
    calibration), grouped by the input they share, as SmoothQuant does
    (ALGORITHMS.md §1):

    1. Smoothing (with `smooth`): per input channel j,
       `s_j = max|X_j|^alpha / max|W_j|^(1 - alpha)` (clamped to 1e-5; 1
       where either maximum is zero), with max|X_j| the calibration's
       absolute maximum and max|W_j| the largest magnitude of row j over
       the group's weights. The weights' rows are multiplied by s, and the
       input divided by it: in the normalization before (its scale, and
       its shift), in the columns of the weight product feeding a `Mul`,
       or by an explicit `Mul`. With a positive `grid`, each group's alpha
       is searched instead: of 0, 1/grid, ..., 1 and no smoothing, the one
       whose quantized products (steps 2 and 3) give the least squared
       error of the group's outputs on the calibration rows.
    2. Weights to signed 8 bits per output channel, symmetric:
       `scale_n = max_k |W_kn| / 127`, `q = round(W / scale_n)` (with
       `narrow-weights`, 63 instead of 127: for CPUs without VNNI, whose
       vpmaddubsw sums two products in 16 bits, as onnxruntime's
       reduce_range does).
    3. The input to signed 8 bits with one static scale,
       `max_j (max|X_j| / s_j) / 127`: `kiln.quantize` then
       `kiln.dequantize`, once per shared input. Where the statistics
       hold `abs_max_after_first` (the maxima over the rows after each
       sequence's first) and every row's maxima exceed them 1.05 times or
       more (a decoder's attention sink), max|X_j| in steps 1 and 3 is
       that, and each row's scale is the larger of the static one and its
       own `max|x_row| / 127`, computed at run time: a row beyond the
       range is not clipped.

    Convolutions (`onnx.Conv` of a constant filter, ungrouped) with
    statistics take steps 2 and 3, unsmoothed: scales per filter, one per
    input image. Without `smooth` this is round to nearest, the baseline.
    The statistics are consumed: the pass removes them. Products without
    statistics stay f32; with none to quantize the pass warns.
  }];
  let options = [
    Option<"alpha", "alpha", "double", "0.5",
           "Migration strength: how much of the activations' range moves "
           "into the weights (0 to 1)">,
    Option<"grid", "grid", "int64_t", "0",
           "With a positive grid, search each group's alpha among 0, "
           "1/grid, ..., 1 (and no smoothing) instead of taking `alpha`">,
    Option<"narrowWeights", "narrow-weights", "bool", "false",
           "Weights in [-63, 63] (7 bits) instead of [-127, 127]: what "
           "CPUs without VNNI multiply exactly with vpmaddubsw">,
    Option<"dynamic", "dynamic", "bool", "false",
           "Matrix products' activations with one scale per row, computed "
           "at run time (convolutions keep their static scale)">,
    Option<"smooth", "smooth", "bool", "true",
           "Smooth before quantizing (false: round to nearest alone)">,
    ListOption<"exclude", "exclude", "std::string",
               "ONNX node names of products to keep in f32">,
  ];
  let dependentDialects = ["::mlir::kiln::KilnDialect",
                           "::mlir::kiln::onnx::OnnxDialect",
                           "::mlir::tensor::TensorDialect"];
}

def QuantQoqPass : Pass<"kiln-quant-qoq", "func::FuncOp"> {
  let summary = "QoQ W4A8: progressive 4-bit weights and 8-bit activations "
                "scaled per row";
  let description = [{
    Every weight product whose rows have a static K (ALGORITHMS.md §3):

    1. With `search`, on the calibration statistics the products carry,
       every group of products sharing an input scaled per input channel
       as kiln-quant-awq's search chooses, `s = mean|X|^a` (normalized,
       a in {0, 1/grid, ...}), but with steps 2 and 3 (round to nearest)
       in its loss: the weight's rows times s and the input divided by s
       (in the normalization or producing product before, or an explicit
       `Mul`). Without `scale-search`, QServe's fixed recipe instead: the
       gated MLP's down projection (its input a `Mul` of two computed
       tensors) alone smoothed, `s_j = max|X_j|^alpha / max|W_j|^(1 -
       alpha)` (clamped to 1e-5), into the up projection's columns.
    2. Progressive group quantization of the weight [K, N]: level 1 per
       output channel, `s1 = max|W| / 119`, `W8 = round(W / s1)` within
       the protective range [-119, 119]; with `search`, each group's
       clipping range on W8 searched as AWQ's (the candidate that gives the
       least squared output error on the calibration rows); level 2 per
       group of `group-size` input channels,
       `s2 = max(1, round((max - min) / 15))`,
       `z = clamp(round(-min / s2), 0, 15)`,
       `q = clamp(round(W8 / s2) + z, 0, 15)`, so that `(q - z) s2` is an
       8-bit integer exactly. With `search` and `rounding=gptq`, level 2
       is GPTQ's rounding of W8 instead (as kiln-quant-awq's, through the
       input's Gram matrix, smoothed alike): every group's s2 and z first,
       then the channels by decreasing diagonal, each channel's error
       compensated on those still to come, and a group's q kept between
       the levels of its own W8 extremes (the protective range's
       guarantee covers those; a moved value could otherwise reach a level
       beyond, e.g. (15 - 7) 16 = 128).
    3. The input to signed 8 bits with one scale per row at run time
       (`kiln.quantize` in groups of the whole row), once per shared
       input.

    The product becomes `MatMul(rows, kiln.dequantize(q, s2, z))`, the
    8-bit integers W8' as its weight, followed by a `Mul` of each output
    channel by s1. Without `search` this is round to nearest, the
    baseline. A group size that does not divide a product's K is an error
    naming the node; with nothing to quantize the pass warns.
  }];
  let options = [
    Option<"groupSize", "group-size", "int64_t", "128",
           "Input channels per group of level 2">,
    Option<"search", "search", "bool", "true",
           "QoQ's activation-aware steps (smoothing, clipping) on the "
           "calibration statistics (false: round to nearest)">,
    Option<"scaleSearch", "scale-search", "bool", "true",
           "With search: AWQ's scale search for every product's input, "
           "the progressive weights and 8-bit rows in its loss (false: "
           "the down projection's smoothing alone, with alpha)">,
    Option<"grid", "grid", "int64_t", "20",
           "Exponents the scale search tries: 0, 1/grid, ..., "
           "(grid-1)/grid">,
    Option<"alpha", "alpha", "double", "0.3",
           "Migration strength of the down projection's smoothing (without "
           "scale-search)">,
    Option<"rounding", "rounding", "std::string", "\"nearest\"",
           "Level 2 with search: 'nearest' or 'gptq' (each channel's "
           "rounding error compensated on the later ones)">,
    ListOption<"exclude", "exclude", "std::string",
               "ONNX node names of products to keep in f32">,
  ];
  let dependentDialects = ["::mlir::kiln::KilnDialect",
                           "::mlir::kiln::onnx::OnnxDialect",
                           "::mlir::tensor::TensorDialect"];
}

def QuantSmoothAttentionPass
    : Pass<"kiln-quant-smooth-attention", "func::FuncOp"> {
  let summary = "QoQ's SmoothAttention: key outlier channels moved into the "
                "queries before a 4-bit key cache";
  let description = [{
    For each session key cache (a `kiln.kv_cache_state` argument, after
    kiln-graph-session-kv-cache) written from a key projection (a weight
    product, through head reshapes, transposes and RoPE) that carries
    calibration statistics, and read by one product whose left operand
    comes from a query projection (ALGORITHMS.md §3, step 2):

    `lambda_i = max|K_i|^alpha` per key channel i of each head, with
    `max|K_i|` the largest norm of the RoPE pair (i, i + D/2) over the
    calibration rows (the projection of the rows its input carries), a
    bound on both channels after rotation at any position, so that the
    pair shares lambda and RoPE commutes with the scaling (RoPE in halves,
    as Hugging Face's Llama exports it). The key projection's columns
    (head-major, `h * D + i`) are divided by lambda, the query
    projection's multiplied by the lambda of their key head (query head h
    reads key head `h / (Hq / Hkv)`). Scores are unchanged; the keys the
    cache holds lose their outlier channels. The statistics stay for the
    quantization that follows. With nothing to smooth the pass warns.
  }];
  let options = [
    Option<"alpha", "alpha", "double", "0.5",
           "Migration strength: lambda = max|K|^alpha">,
  ];
  let dependentDialects = ["::mlir::kiln::onnx::OnnxDialect",
                           "::mlir::tensor::TensorDialect"];
}

def QuantCenterKeysPass : Pass<"kiln-quant-center-keys", "func::FuncOp"> {
  let summary = "Each head's mean key subtracted before a 4-bit key cache";
  let description = [{
    For each session key cache (as kiln-quant-smooth-attention finds them)
    of f32 keys `[..., heads, tokens, D]` whose key projection carries
    calibration statistics with the signed `mean` of its input: the keys
    written (before the cache's kiln.pack_kv4 or cast) become `keys - c`,
    an `onnx.Sub` of a constant `[..., heads, 1, D]`, with `c` the mean
    input times the projection's weight (head-major columns `h * D + i`):
    each head's mean key over the calibration rows, before RoPE. Every
    score of a query moves by the same `q . c`, which the softmax cancels,
    so the attention is unchanged while the 4-bit cache's per-token range
    loses the keys' common offset. The statistics stay for the
    quantization that follows. With nothing to center the pass warns
    (unless `warn=false`).
  }];
  let options = [
    Option<"warn", "warn", "bool", "true",
           "Warn when there is no key cache to center">,
  ];
  let dependentDialects = ["::mlir::kiln::onnx::OnnxDialect"];
}

def QuantRotateKeysPass : Pass<"kiln-quant-rotate-keys", "func::FuncOp"> {
  let summary = "Keys and queries rotated by a Hadamard matrix before a "
                "4-bit key cache";
  let description = [{
    For each session key cache (as kiln-quant-smooth-attention finds them:
    written from a key projection, read by one product whose left operand
    comes from a query projection) of f32 keys whose head size D is a power
    of two: the keys written (before the cache's kiln.pack_kv4 or cast) and
    the scores' queries are each multiplied by the normalized Hadamard
    matrix H [D, D] (`H[i][j] = (-1)^popcount(i & j) / sqrt(D)`, orthogonal
    and symmetric), an `onnx.MatMul` by a constant. Scores are unchanged,
    `(q H) (k H)^T = q k^T`; each key's energy spreads over its channels,
    so the 4-bit cache's per-token range shrinks. With nothing to rotate
    the pass warns (unless `warn=false`).
  }];
  let options = [
    Option<"warn", "warn", "bool", "true",
           "Warn when there is no key cache to rotate">,
  ];
  let dependentDialects = ["::mlir::kiln::onnx::OnnxDialect",
                           "::mlir::tensor::TensorDialect"];
}

def QuantIntegerProductsPass
    : Pass<"kiln-quant-integer-products", "func::FuncOp"> {
  let summary = "Quantized products as integer products with a float "
                "epilogue, for targets without packed integer kernels";
  let description = [{
    A MatMul whose input is an 8-bit activation quantized and dequantized
    again (one scale s and zero point z, or one scale per row at run time)
    and whose weight [K, N] is `kiln.dequantize` of signed bytes with a
    scale per column w_n (or one), and a Conv of such an input by such a
    filter with a scale per output channel, become the integer product of
    the bytes (`onnx.MatMulInteger`, `onnx.ConvInteger`: s32 sums) and an
    epilogue in f32: `(acc - z * sum_k q_kn) * s * w_n` (unsigned inputs
    as signed bytes, z less 128; the row scales multiplied after), the
    Conv's bias added. The weights stay bytes in the package. A Conv whose
    input has a zero point takes it as ConvInteger's (padding reads it).
  }];
  let dependentDialects = ["::mlir::kiln::KilnDialect",
                           "::mlir::kiln::onnx::OnnxDialect"];
}

#endif // KILN_PASSES_QUANT_PASSES
