//===- KilnOps.td - Kiln's ops -----------------------------*- tablegen -*-===//

#ifndef KILN_KILN_OPS
#define KILN_KILN_OPS

include "dialects/kiln/KilnBase.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class Kiln_Op<string mnemonic, list<Trait> traits = []>
    : Op<Kiln_Dialect, mnemonic, traits>;

def Kiln_PackedConv2DOp : Kiln_Op<"packed_conv2d", [
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "2-D convolution on channels-last data with a packed filter";
  let description = [{
    The dense contraction of the CPU pipeline: convolutions, and matrix
    products as 1x1 convolutions over [1, 1, M, K].

    ```
    result[n, y, x, f] = act(bias[f] + (accumulate ? init[n, y, x, f] : 0)
        + sum over i, j, c of padded[n, y * sy + i * dy, x * sx + j * dx, c]
                              * filter[f / F0, i, j, c, f % F0])
    ```

    `padded` is the NHWC `input` with `pads` (top, left, bottom, right;
    none when empty) zeros around it; `filter` is packed tile-major,
    [ceil(F / F0), KH, KW, C, F0], so that the F0 filters of a tile are
    contiguous for every (i, j, c) — one vector load each in the
    microkernel. Filters past F are zero. `bias` has ceil(F / F0) * F0
    elements. With `accumulate`, `init` is a residual added before the
    activation (and may share the result's buffer).

    With bf16 `input` and `filter` (`bias` and `init` stay f32, and so does
    the accumulation), the filter pairs adjacent channels,
    [ceil(F / F0), KH, KW, C / 2, F0, 2], the layout of the dot products
    of BF16 pairs that x86's `vdpbf16ps` computes; C is even. A bf16
    `filter` with an f32 `input` keeps the f32 layout, [ceil(F / F0), KH,
    KW, C, F0]: the kernel widens each filter vector as it loads it (for
    CPUs without BF16 arithmetic, where the weights' bytes halve and the
    products stay f32).

    With `filter_scales`, the filter is unsigned 4-bit, quantized in groups
    of `group_size` input channels (a pointwise convolution: KH = KW = 1):
    an i8 filter [ceil(F / F0), 1, 1, C, F0 / 2] holds two filters per byte
    — in each run of `lanes` bytes (`lanes` = F0 / vectors, with an even
    number of vectors), byte i's low nibble is filter i of one vector and
    its high nibble filter i of the next — and the f16 `filter_scales`
    [ceil(F / F0), C / group_size, 2, F0] hold each group's scale and zero
    point, so that `filter = (q - zero) * scale`, computed in registers as
    one multiply-add `q * scale + (-scale * zero)`. The input is f32.

    With an i8 `input` (signed integers, quantized activations), the
    filter is signed 8-bit, four adjacent channels innermost,
    [ceil(F / F0), KH, KW, C / 4, F0, 4] (C a multiple of 4), the layout of
    x86's `vpdpbusd` dot products of byte quads; the sums are exact in i32.
    The f32 `filter_scales` [ceil(F / F0), 2, F0] hold per filter a scale
    (the weight's times the input's) and a compensation: the kernel adds
    128 to each input byte (the instruction takes unsigned bytes), so that
    `result = (sum - compensation) * scale + bias`, with compensation
    `128 * sum of the filter's weights`, computed when the filter is packed.
    Padding is the integer zero. With `narrow_filter` every filter value
    is within [-64, 64], so that the sum of two products of an input byte
    (plus 128) and a filter value fits 16 bits: CPUs without VNNI then
    take `vpmaddubsw`, whose 16-bit sums would saturate otherwise.

    With an i8 `input` and a `group_size` (W4A8), the filter is 4-bit in
    groups of `group_size` input channels (a multiple of 4; pointwise),
    `filter = (q - zero) * scale` with integer scales, so that every value
    is an integer: the channel quads of the 8-bit layout with two filters
    a byte, [ceil(F / F0), 1, 1, C / 4, F0 / 2, 4] — in each run of
    `lanes` quads (4 * `lanes` bytes), byte j of quad i holds channel j of
    filter i of one vector in its low nibble and of the next vector in its
    high one. The i32 `filter_scales` [ceil(F / F0), C / group_size, 3, F0]
    hold per group and filter the scale, the zero point in each of the
    word's four bytes, and `-128 * sum (q - zero)` over the group, where
    the group's sum starts (so that the 128 added to each input byte
    cancels): `result = sum over groups of scale * sum (q - zero) * input
    + bias`, exact in i32 before the conversion to f32.
  }];
  let arguments = (ins
    AnyShaped:$input,
    AnyShaped:$filter,
    Optional<AnyShaped>:$filter_scales,
    AnyShaped:$bias,
    AnyShaped:$init,
    DenseI64ArrayAttr:$strides,
    DenseI64ArrayAttr:$dilations,
    DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$pads,
    Kiln_ActivationAttr:$activation,
    DefaultValuedAttr<F32Attr, "0.0f">:$clip_min,
    DefaultValuedAttr<F32Attr, "0.0f">:$clip_max,
    UnitAttr:$accumulate,
    DefaultValuedAttr<I64Attr, "0">:$group_size,
    UnitAttr:$narrow_filter);
  let results = (outs Variadic<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    $input `,` $filter (`scales` $filter_scales^)? `,` $bias `into` $init
    attr-dict `:` type($input) `,` type($filter) (`scales`
    type($filter_scales)^)? `,` type($bias) `into` type($init)
    (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
    /// Top, left, bottom and right padding (zeros when `pads` is empty).
    SmallVector<int64_t> getPadding() {
      return getPads().empty() ? SmallVector<int64_t>(4, 0)
                               : SmallVector<int64_t>(getPads());
    }
    /// F0: how many filters a packed tile holds.
    int64_t getFilterTile() {
      int64_t stored =
          ::llvm::cast<ShapedType>(getFilter().getType()).getDimSize(4);
      return isInt4() || isInt8Int4() ? 2 * stored : stored;
    }
    /// Whether an 8-bit integer input meets a 4-bit filter in groups with
    /// integer scales (W4A8).
    bool isInt8Int4() { return isInt8() && int64_t(getGroupSize()) > 0; }
    /// Whether the filter is 4-bit, two filters per byte, with group
    /// scales and zero points.
    bool isInt4() { return getFilterScales() && !isInt8(); }
    /// Whether input and filter are 8-bit integers (channel quads in the
    /// filter).
    bool isInt8() {
      return ::llvm::cast<ShapedType>(getInput().getType())
          .getElementType().isInteger(8);
    }
    /// Whether input and filter are bf16 (channel pairs in the filter).
    bool isBf16() {
      return ::llvm::cast<ShapedType>(getInput().getType())
                 .getElementType().isBF16() &&
             ::llvm::cast<ShapedType>(getFilter().getType())
                 .getElementType().isBF16();
    }
    /// Whether a bf16 filter, in the f32 layout, meets an f32 input.
    bool isBf16Filter() {
      return ::llvm::cast<ShapedType>(getInput().getType())
                 .getElementType().isF32() &&
             ::llvm::cast<ShapedType>(getFilter().getType())
                 .getElementType().isBF16();
    }
  }];
}

def Kiln_DepthwiseConv2DOp : Kiln_Op<"depthwise_conv2d", [
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "Depthwise 2-D convolution on channels-last data";
  let description = [{
    One filter per channel, vectorized across the channels:

    ```
    result[n, y, x, c] = act(bias[c] + sum over i, j of
        padded[n, y * sy + i * dy, x * sx + j * dx, c] * filter[i, j, c])
    ```

    `padded` is the NHWC `input` with `pads` (top, left, bottom, right;
    none when empty) zeros around it; `filter` is [KH, KW, C], channels
    innermost, so that each tap is one vector load per group of channels.
  }];
  let arguments = (ins
    AnyShaped:$input,
    AnyShaped:$filter,
    AnyShaped:$bias,
    AnyShaped:$init,
    DenseI64ArrayAttr:$strides,
    DenseI64ArrayAttr:$dilations,
    DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$pads,
    Kiln_ActivationAttr:$activation,
    DefaultValuedAttr<F32Attr, "0.0f">:$clip_min,
    DefaultValuedAttr<F32Attr, "0.0f">:$clip_max);
  let results = (outs Variadic<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    $input `,` $filter `,` $bias `into` $init attr-dict `:`
    type($input) `,` type($filter) `,` type($bias) `into` type($init)
    (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
    /// Top, left, bottom and right padding (zeros when `pads` is empty).
    SmallVector<int64_t> getPadding() {
      return getPads().empty() ? SmallVector<int64_t>(4, 0)
                               : SmallVector<int64_t>(getPads());
    }
  }];
}

def Kiln_MaxPool2DOp : Kiln_Op<"max_pool2d", [
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "2-D max pooling on channels-last data";
  let description = [{
    ```
    result[n, y, x, c] = max over i < KH, j < KW of
        padded[n, y * sy + i * dy, x * sx + j * dx, c]
    ```

    `padded` is the NHWC `input` with `pads` (top, left, bottom, right;
    none when empty) of negative infinity around it; `kernel` is
    [KH, KW]. The kernel vectorizes across the channels, as the depthwise
    convolution's does.
  }];
  let arguments = (ins
    AnyShaped:$input,
    AnyShaped:$init,
    DenseI64ArrayAttr:$kernel,
    DenseI64ArrayAttr:$strides,
    DenseI64ArrayAttr:$dilations,
    DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$pads);
  let results = (outs Variadic<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    $input `into` $init attr-dict `:` type($input) `into` type($init)
    (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
    /// Top, left, bottom and right padding (zeros when `pads` is empty).
    SmallVector<int64_t> getPadding() {
      return getPads().empty() ? SmallVector<int64_t>(4, 0)
                               : SmallVector<int64_t>(getPads());
    }
  }];
}

def Kiln_AttentionOp : Kiln_Op<"attention", [
    DestinationStyleOpInterface, AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "Fused scaled dot-product attention";
  let description = [{
    For each of G independent heads:

    ```
    result[g] = softmax(scale * query[g] . keys[g] + mask[g']) . values[g]
    ```

    with `query` [G, S, D], `keys` transposed [G, D, T] (contiguous over
    the keys, as the exporters' `Transpose` of K leaves them) or, with
    `key_rows`, one row per key [G, T, D] (as a KV cache holds them, so
    that the transpose need not be materialized), `values` [G, T, D] and
    the softmax over the T keys of each query row. The optional additive
    `mask` [M, Sm, T] is shared by consecutive heads and rows: head g reads
    mask[g / (G / M)] and its row s reads that mask's row s mod Sm — so
    that one causal or padding mask serves every head of a batch, and the
    g query heads that share a key/value head, stacked as g x S rows of
    one head, each read the mask's S rows. G, S and T may be symbolic
    (read from the buffers at run time); D is static.

    The kernel takes a tile of query rows at a time through blocks of keys
    with an online softmax (running maximum and sum, the output rescaled
    as they change), so the S x T score matrix never exists. Keys and
    values may be views with strides (a slice of a preallocated cache),
    and f32, bf16 (a cache held in bf16, widened as it is loaded), or rows
    of 4-bit values as `kiln.pack_kv4` writes them (i8 [G, T, D / 2 + 4]:
    QoQ's KV4 cache, keys as rows, dequantized as they are loaded).

    With a `pages` table [G, K] (i32, as `kiln.select_pages` writes it) and
    `page_size`, the keys (as rows) are pages of `page_size` positions, and
    head g attends only to the keys of the K pages its row lists, in that
    order: Quest's sparse decode attention, which reads K pages of the
    cache instead of all of it. Every listed page but the last is full;
    the last holds the keys from its start to T. A table whose first entry
    is negative means every key (a prefill, or a context within the
    budget): then the result is exactly the dense attention's.

    With `past_keys` and `past_values` (rows [G, T0, D], of the element
    types of `keys` and `values`, f32 or bf16; keys as rows, no pages),
    the keys and values are those T0 positions followed by the T1 of
    `keys` and `values`: the op attends to T = T0 + T1 keys as if the two
    were concatenated (the mask's columns count all T). A decoder's plain
    graph concatenates its past cache and the new keys into its `present`
    output; attending to the two where they are saves reading that copy
    back from memory.
  }];
  let arguments = (ins
    AnyShaped:$query,
    AnyShaped:$keys,
    AnyShaped:$values,
    Optional<AnyShaped>:$past_keys,
    Optional<AnyShaped>:$past_values,
    Optional<AnyShaped>:$mask,
    Optional<AnyShaped>:$pages,
    AnyShaped:$init,
    F32Attr:$scale,
    UnitAttr:$key_rows,
    OptionalAttr<I64Attr>:$page_size);
  let results = (outs Variadic<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    $query `,` $keys `,` $values (`past` $past_keys^ `,` $past_values)?
    (`mask` $mask^)? (`pages` $pages^)? `into` $init attr-dict `:`
    type($query) `,` type($keys) `,` type($values)
    (`past` type($past_keys)^ `,` type($past_values))?
    (`mask` type($mask)^)? (`pages` type($pages)^)? `into` type($init)
    (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
    /// The dimension of `keys` that counts the key positions T.
    unsigned getKeyPositionsDim() { return getKeyRows() ? 1 : 2; }
    /// The dimension of `keys` that is the head size D.
    unsigned getKeyDepthDim() { return getKeyRows() ? 2 : 1; }
    /// The keys' element type (i8 for 4-bit rows).
    Type getKeysType() {
      return cast<ShapedType>(getKeys().getType()).getElementType();
    }
    /// Whether keys and values are f32 (not a bf16 or 4-bit cache).
    bool hasF32KeysAndValues() {
      return getKeysType().isF32() &&
             cast<ShapedType>(getValues().getType()).getElementType().isF32();
    }
    /// Whether the keys and values begin with `past_keys` and
    /// `past_values`.
    bool hasPast() { return static_cast<bool>(getPastKeys()); }
    /// The head size D (static).
    int64_t getDepth() {
      return cast<ShapedType>(getQuery().getType()).getDimSize(2);
    }
  }];
}

def Kiln_LayerNormOp : Kiln_Op<"layer_norm", [
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "Layer normalization over the innermost dimension";
  let description = [{
    `result[..., i] = (input[..., i] - mean) / sqrt(var + epsilon)
    * scale[i] + bias[i]`, with the mean and the (biased) variance of each
    row of the innermost dimension. Rows are independent, so the kernel
    gives them to the threads and reads each row from cache.
  }];
  let arguments = (ins
    AnyShaped:$input,
    AnyShaped:$scale,
    AnyShaped:$bias,
    AnyShaped:$init,
    F32Attr:$epsilon);
  let results = (outs Variadic<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    $input `,` $scale `,` $bias `into` $init attr-dict `:`
    type($input) `,` type($scale) `,` type($bias) `into` type($init)
    (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
  }];
}

def Kiln_SoftmaxOp : Kiln_Op<"softmax", [
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "Softmax over the innermost dimension";
  let description = [{
    `result[..., i] = exp(input[..., i] - m) / sum over j of
    exp(input[..., j] - m)`, with m the row's maximum.
  }];
  let arguments = (ins AnyShaped:$input, AnyShaped:$init);
  let results = (outs Variadic<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    $input `into` $init attr-dict `:` type($input) `into` type($init)
    (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
  }];
}

def Kiln_RowAbsMaxOp : Kiln_Op<"row_abs_max", [
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "The largest magnitude of each row of the innermost dimension";
  let description = [{
    `result[..., 0] = max over i of |input[..., i]|` (NaN if the row holds
    one): what quantizing each row (token) to 8 bits at run time divides
    by 127. `init` has the input's shape with 1 for the innermost size.
  }];
  let arguments = (ins AnyShaped:$input, AnyShaped:$init);
  let results = (outs Variadic<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    $input `into` $init attr-dict `:` type($input) `into` type($init)
    (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
  }];
}

def Kiln_ResizeLinearOp : Kiln_Op<"resize_linear", [
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "Bilinear resize of the last two dimensions, from tables";
  let description = [{
    ```
    result[n, c, y, x] = (1 - wy) * ((1 - wx) * input[n, c, y0, x0]
                                     + wx * input[n, c, y0, x1])
                       + wy * ((1 - wx) * input[n, c, y1, x0]
                               + wx * input[n, c, y1, x1])
    ```

    with `y0, y1 = rows[2 y], rows[2 y + 1]`, `wy = row_weights[y]`, and
    likewise for x from `columns` and `column_weights`. The tables hold the
    source positions and weights of every output row and column, computed
    at compile time from the Resize's coordinate transformation, so the
    kernel does no coordinate arithmetic.
  }];
  let arguments = (ins
    AnyShaped:$input,
    AnyShaped:$rows,
    AnyShaped:$row_weights,
    AnyShaped:$columns,
    AnyShaped:$column_weights,
    AnyShaped:$init);
  let results = (outs Variadic<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    $input `,` $rows `,` $row_weights `,` $columns `,` $column_weights
    `into` $init attr-dict `:` type($input) `,` type($rows) `,`
    type($row_weights) `,` type($columns) `,` type($column_weights) `into`
    type($init) (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
  }];
}

def Kiln_Bf16DotOp : Kiln_Op<"bf16_dot", [Pure,
    AllTypesMatch<["accumulator", "result"]>,
    AllTypesMatch<["lhs", "rhs"]>]> {
  let summary = "Dot products of bf16 pairs into f32 lanes (vdpbf16ps)";
  let description = [{
    `result[i] = accumulator[i] + lhs[2i] * rhs[2i] + lhs[2i+1] * rhs[2i+1]`,
    the products exact and the sums in f32: x86's `vdpbf16ps`
    (AVX512_BF16), on 4, 8 or 16 lanes. The microkernels emit it on
    vectors; kiln-cpu-lower-bf16-dot turns it into the LLVM intrinsic once
    the loops are gone (a pure op keeps the loop lowerings free to move
    it).
  }];
  let arguments = (ins VectorOfRankAndType<[1], [F32]>:$accumulator,
                       VectorOfRankAndType<[1], [BF16]>:$lhs,
                       VectorOfRankAndType<[1], [BF16]>:$rhs);
  let results = (outs VectorOfRankAndType<[1], [F32]>:$result);
  let assemblyFormat = [{
    $accumulator `,` $lhs `,` $rhs attr-dict `:` type($lhs) `into`
    type($result)
  }];
  let hasVerifier = 1;
}

def Kiln_Int8DotOp : Kiln_Op<"int8_dot", [Pure,
    AllTypesMatch<["accumulator", "result"]>,
    AllTypesMatch<["lhs", "rhs"]>]> {
  let summary = "Dot products of byte quads into i32 lanes (vpdpbusd)";
  let description = [{
    `result[i] = accumulator[i] + sum over j < 4 of
    zext(lhs[4i+j]) * sext(rhs[4i+j])`: unsigned bytes times signed bytes,
    summed in i32 (wrapping) — x86's `vpdpbusd` (AVX512_VNNI, AVX-VNNI) on
    4, 8 or 16 lanes. kiln-cpu-lower-int8-dot turns it into the LLVM
    intrinsic once the loops are gone, or, on CPUs without VNNI, into
    `vpmaddubsw` and `vpmaddwd` when `narrow_rhs` promises every rhs byte
    within [-64, 64] (so that the pairs' 16-bit sums cannot saturate), and
    into widening multiplies and adds otherwise.
  }];
  let arguments = (ins VectorOfRankAndType<[1], [I32]>:$accumulator,
                       VectorOfRankAndType<[1], [I8]>:$lhs,
                       VectorOfRankAndType<[1], [I8]>:$rhs,
                       UnitAttr:$narrow_rhs);
  let results = (outs VectorOfRankAndType<[1], [I32]>:$result);
  let assemblyFormat = [{
    $accumulator `,` $lhs `,` $rhs attr-dict `:` type($lhs) `into`
    type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// AMX tiles
//
// The ops of x86's Advanced Matrix Extensions on tiles named by number,
// as the hardware names them: eight tile registers of (here always) 16
// rows of 64 bytes. The microkernels emit them inside their loops;
// kiln-cpu-lower-amx turns each into its LLVM intrinsic. The tiles are
// state the ops share (the AmxTiles resource), so that nothing reorders,
// merges or drops them.
//===----------------------------------------------------------------------===//

def Kiln_AmxTiles : Resource<"::mlir::kiln::AmxTilesResource">;

class Kiln_AmxOp<string mnemonic, list<Trait> traits = []>
    : Kiln_Op<mnemonic, !listconcat(traits, [
        MemoryEffects<[MemRead<Kiln_AmxTiles>, MemWrite<Kiln_AmxTiles>]>])>;

def Kiln_AmxConfigureOp : Kiln_AmxOp<"amx_configure"> {
  let summary = "Configures the eight AMX tiles as 16 rows of 64 bytes";
  let description = [{
    `ldtilecfg` of palette 1 with every tile 16 rows of 64 bytes: the
    shape every other amx op assumes. A kernel configures the tiles on the
    thread it runs on before it uses them.
  }];
  let assemblyFormat = "attr-dict";
}

def Kiln_AmxReleaseOp : Kiln_AmxOp<"amx_release"> {
  let summary = "Releases the AMX tiles (tilerelease)";
  let description = [{
    Returns the tiles to their initial state, so that the thread's saved
    state shrinks again once a kernel is done with them.
  }];
  let assemblyFormat = "attr-dict";
}

def Kiln_AmxZeroOp : Kiln_AmxOp<"amx_zero"> {
  let summary = "Zeroes an AMX tile (tilezero)";
  let arguments = (ins ConfinedAttr<I64Attr, [IntNonNegative]>:$tile);
  let assemblyFormat = "$tile attr-dict";
  let hasVerifier = 1;
}

def Kiln_AmxLoadOp : Kiln_AmxOp<"amx_load"> {
  let summary = "Loads an AMX tile from memory (tileloadd)";
  let description = [{
    Tile `tile`'s 16 rows of 64 bytes from the 1-D `buffer`: row r from
    element `offset + r * stride` (both in elements of the buffer).
  }];
  let arguments = (ins ConfinedAttr<I64Attr, [IntNonNegative]>:$tile,
                       Arg<MemRefRankOf<[BF16, F32, I8, I32], [1]>, "",
                           [MemRead]>:$buffer,
                       Index:$offset, Index:$stride);
  let assemblyFormat = [{
    $tile `,` $buffer `[` $offset `]` `,` $stride attr-dict `:`
    type($buffer)
  }];
  let hasVerifier = 1;
}

def Kiln_AmxStoreOp : Kiln_AmxOp<"amx_store"> {
  let summary = "Stores an AMX tile to memory (tilestored)";
  let description = [{
    Tile `tile`'s 16 rows of 64 bytes into the 1-D `buffer`: row r at
    element `offset + r * stride`.
  }];
  let arguments = (ins ConfinedAttr<I64Attr, [IntNonNegative]>:$tile,
                       Arg<MemRefRankOf<[BF16, F32, I8, I32], [1]>, "",
                           [MemWrite]>:$buffer,
                       Index:$offset, Index:$stride);
  let assemblyFormat = [{
    $tile `,` $buffer `[` $offset `]` `,` $stride attr-dict `:`
    type($buffer)
  }];
  let hasVerifier = 1;
}

def Kiln_AmxDotOp : Kiln_AmxOp<"amx_dot"> {
  let summary = "Tile dot products into an f32 or i32 tile (tdpbf16ps, "
                "tdpbusd)";
  let description = [{
    `acc[m][n] += sum over k of lhs[m][k] * rhs[k / 2][n][k % 2]` with
    `bf16` (tdpbf16ps: lhs 16 rows of 32 bf16, rhs 16 rows of 16 bf16
    pairs, acc 16 rows of 16 f32), or with bytes (`u8s8`, tdpbusd: lhs
    unsigned, rhs signed, 16 rows of 16 quads, acc 16 rows of 16 i32, the
    sum over quads). The three tiles differ.
  }];
  let arguments = (ins ConfinedAttr<I64Attr, [IntNonNegative]>:$accumulator,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$lhs,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$rhs,
                       UnitAttr:$u8s8);
  let assemblyFormat = "$accumulator `,` $lhs `,` $rhs attr-dict";
  let hasVerifier = 1;
}

def Kiln_QuantizeOp : Kiln_Op<"quantize", [Pure]> {
  let summary = "Floats to integers with scales and zero points";
  let description = [{
    `result[i] = saturate(round(input[i] / scale[g(i)]) + zero_point[g(i)])`,
    rounding half to even and saturating to the result's range, as ONNX's
    `QuantizeLinear`; g(i) picks the parameters per tensor, per axis or in
    groups exactly as `kiln.dequantize` does. `input` and `scale` are f32,
    f16 or bf16 (computed in f32), the result integers of 2, 4, 8 or 16
    bits (signless and `si` signed, or `ui` unsigned) of the input's shape,
    the zero point (zeros when absent) of the result's element type.
    ONNX's `QuantizeLinear` becomes this op.

    SmoothQuant's activations are `kiln.quantize` then `kiln.dequantize`
    with one scale (per tensor, from calibration): in f32 that is the
    rounding the integer kernels will do, and the layout passes turn the
    pair and the quantized weight behind it into an integer contraction.
  }];
  let arguments = (ins
    AnyRankedTensor:$input,
    AnyRankedTensor:$scale,
    Optional<AnyRankedTensor>:$zero_point,
    DefaultValuedAttr<I64Attr, "0">:$axis,
    DefaultValuedAttr<I64Attr, "0">:$group_size);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `scale` $scale (`zero_point` $zero_point^)? attr-dict `:`
    type($input) `,` type($scale) (`,` type($zero_point)^)? `->`
    type($result)
  }];
  let hasVerifier = 1;
}

def Kiln_DequantizeOp : Kiln_Op<"dequantize", [Pure]> {
  let summary = "Integers to floats with scales and zero points";
  let description = [{
    `result[i] = (input[i] - zero_point[g(i)]) * scale[g(i)]`, where
    g(i) picks the quantization parameters of element i:

    - per tensor: `scale` is 0-D;
    - per axis: `scale` is 1-D, one value per index along `axis`;
    - in groups: with a positive `group_size`, `scale` has the input's rank
      and its extent along `axis` is the input's divided by `group_size`;
      element i takes the group `i[axis] / group_size` at its other indices
      (ONNX's blocked quantization, and the form of AWQ's and QoQ's 4-bit
      weights: groups of input channels per output channel).

    `input` holds integers of 2, 4, 8, 16 or 32 bits, unsigned (`ui4`,
    `ui8`, ...) or signed (`si4`, `i8`: signless integers are signed, as
    ONNX's); the zero point (zeros when absent) has the input's element
    type and the scale's shape; `scale` is f32, f16 or bf16, and so is the
    result (computed in f32). The quantization passes write weights in
    this form, and so do the onnx graphs of onnxruntime's quantization tools
    (`DequantizeLinear` of a constant): the layout passes then pack the
    integers, and the kernels dequantize in registers. 4-bit constants take
    a byte per element until they are packed.
  }];
  let arguments = (ins
    AnyRankedTensor:$input,
    AnyRankedTensor:$scale,
    Optional<AnyRankedTensor>:$zero_point,
    DefaultValuedAttr<I64Attr, "0">:$axis,
    DefaultValuedAttr<I64Attr, "0">:$group_size);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `scale` $scale (`zero_point` $zero_point^)? attr-dict `:`
    type($input) `,` type($scale) (`,` type($zero_point)^)? `->`
    type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Whether the integers are unsigned (otherwise signed).
    bool isUnsignedInput() {
      return ::llvm::cast<ShapedType>(getInput().getType())
          .getElementType().isUnsignedInteger();
    }
  }];
}

def Kiln_PackKv4Op : Kiln_Op<"pack_kv4", [Pure]> {
  let summary = "Rows of keys or values to 4 bits, with a scale and a zero "
                "point each";
  let description = [{
    QoQ's 4-bit KV cache (ALGORITHMS.md §3, step 7): each row of D values
    (one token of one head) becomes D/2 bytes of unsigned 4-bit integers
    (element 2i in the low nibble of byte i, element 2i + 1 in the high
    one) followed by its scale and zero point as f16 (little-endian):

    ```
    s = (max - min) / 15            (1 for a constant row)
    z = -min / s                    (not rounded)
    q = clamp(round(x / s + z), 0, 15)
    ```

    with s and z rounded to f16 before q is computed, so that
    `kiln.unpack_kv4`'s `(q - z) s` is within s/2 of each value. The input
    is f32 [..., D] with D static and even, the result i8 [..., D/2 + 4]:
    a row is D/2 + 4 bytes instead of 4 D.
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Kiln_UnpackKv4Op : Kiln_Op<"unpack_kv4", [Pure]> {
  let summary = "Rows packed by kiln.pack_kv4 back to f32";
  let description = [{
    `result[..., j] = (q_j - z) s`, q_j the nibble of element j and s, z
    the row's f16 scale and zero point (see `kiln.pack_kv4`). The input is
    i8 [..., D/2 + 4], the result f32 [..., D].
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}


//===----------------------------------------------------------------------===//
// Quest: query-aware selection of the KV cache's pages
//===----------------------------------------------------------------------===//

def Kiln_PageBoundsOp : Kiln_Op<"page_bounds", [
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "Per page of a key cache, the channel-wise minimum and "
                "maximum of its keys";
  let description = [{
    `keys` [G, C, W] holds G heads' key rows (f32, bf16, or 4-bit rows as
    `kiln.pack_kv4` writes them, W = D / 2 + 4); `init` [G, 2 N, D] f32
    or bf16 holds, for each page p of `page_size` rows, the channel-wise
    minimum (row 2p) and maximum (row 2p + 1) of its keys. In bf16 (half
    the bytes for `kiln.page_scores` to read) the minimum is rounded down
    and the maximum up, so that they still bound every key. The op brings
    up to date the pages that rows [`from`, `to`) fall in, from the keys of each
    such page's rows below `to`; the other pages keep their bounds. So a
    run that appends rows to the cache touches only their pages, and the
    bounds never depend on keys truncated away (a page is recomputed
    whole once rows are written into it again).
  }];
  let arguments = (ins
    AnyShaped:$keys,
    Index:$from,
    Index:$to,
    AnyShaped:$init,
    I64Attr:$page_size);
  let results = (outs Variadic<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    $keys `rows` $from `to` $to `into` $init attr-dict `:` type($keys)
    `into` type($init) (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
    /// The pages rows [from, to) fall in, as index values built at `b`:
    /// the first, and how many.
    std::pair<Value, Value> buildTouchedPages(OpBuilder &b);
    /// The rows page `page` is recomputed from, [begin, end): its rows
    /// below `to`.
    std::pair<Value, Value> buildRowsOf(OpBuilder &b, Value page);
    /// `bound` (f32, or a vector of them), a minimum or a maximum, as the
    /// bounds' element type holds it: rounded outward.
    Value buildStored(OpBuilder &b, Value bound, bool isMaximum);
  }];
}

def Kiln_PageScoresOp : Kiln_Op<"page_scores", [
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "Quest's upper bound of each page's attention scores";
  let description = [{
    For each head g and page p < `count`, with `bounds` [G, 2 N, D] as
    `kiln.page_bounds` writes them (m = row 2p, M = row 2p + 1):

    ```
    result[g, p] = sum over rows r of sum over i of
                   max(query[g, r, i] * M[i], query[g, r, i] * m[i])
    ```

    whose row r's term is at least `query[g, r] . k` for every key k of
    the page, so that the sum bounds the rows' summed scores of any key.
    `query` [G, R, D] stacks the rows of the query heads that share
    key/value head g (grouped-query attention), so they choose one set of
    pages by the sum of their bounds (which measured better on passkey
    retrieval than the largest: a page that several heads want ranks above
    one a single head wants a little more). `init` is [G, N]; its entries
    from `count` on are left as they are.
  }];
  let arguments = (ins
    AnyShaped:$query,
    AnyShaped:$bounds,
    Index:$count,
    AnyShaped:$init);
  let results = (outs Variadic<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    $query `,` $bounds `pages` $count `into` $init attr-dict `:`
    type($query) `,` type($bounds) `into` type($init) (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
  }];
}

def Kiln_SelectPagesOp : Kiln_Op<"select_pages", [
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "The pages a decode step attends to: the best-scoring ones "
                "and the current one";
  let description = [{
    With `candidates` >= K, `init` [G, K] (i32) gets, for each head g, the
    K - 1 pages of [0, `candidates`) with the highest `scores` [G, N]
    (ties to the lower page), in increasing order, then `candidates` itself
    (the current page, always kept). With `keep_first`, page 0 (where
    decoders keep their attention sink) is always among the K - 1. With
    fewer candidates the context fits the budget: each row's first entry
    is -1, which `kiln.attention` reads as every key.
  }];
  let arguments = (ins
    AnyShaped:$scores,
    Index:$candidates,
    AnyShaped:$init,
    UnitAttr:$keep_first);
  let results = (outs Variadic<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    $scores `candidates` $candidates `into` $init attr-dict `:`
    type($scores) `into` type($init) (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
  }];
}

//===----------------------------------------------------------------------===//
// SparseRefine: the uncertain pixels' tiles re-run at full resolution
//===----------------------------------------------------------------------===//

def Kiln_EntropyCutOp : Kiln_Op<"entropy_cut", [
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "The entropy above which a fraction of the pixels lies";
  let description = [{
    `init` [1] (f32) gets the k-th largest value of `entropy` (any shape,
    f32, no negative entries), k = ceil(`fraction` x its size): so that
    the pixels whose entropy is at least the cut are the k most uncertain
    (and any tied with the k-th). With k = 0 the cut is +infinity.
  }];
  let arguments = (ins
    AnyShaped:$entropy,
    AnyShaped:$init,
    F64Attr:$fraction);
  let results = (outs Variadic<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    $entropy `into` $init attr-dict `:` type($entropy) `into` type($init)
    (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
  }];
}

def Kiln_RefineTilesOp : Kiln_Op<"refine_tiles", [
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "The tiles that hold a pixel to refine, as a table";
  let description = [{
    `mask` [1, 1, h, w] (i1) marks the pixels to refine; the image is cut
    into tiles of `tile` = [th, tw] of its pixels, T = ceil(h / th) x
    ceil(w / tw) of them in row-major order (the last row and column may
    be partial). The tiles to refine are those holding a marked pixel or,
    with a positive `max_tiles`, at most that many of them: those with the
    most marked pixels (ties to the lower tile). `init` [1 + 2 T] (i32)
    gets the table the windows are gathered and merged by: entry 0 their
    count n, entries 1 .. n their numbers in increasing order (the
    windows' order; the entries after them -1), and entry 1 + T + t the
    window of tile t, or -1.
  }];
  let arguments = (ins
    AnyShaped:$mask,
    AnyShaped:$init,
    DenseI64ArrayAttr:$tile,
    DefaultValuedAttr<I64Attr, "0">:$max_tiles);
  let results = (outs Variadic<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    $mask `into` $init attr-dict `:` type($mask) `into` type($init)
    (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
  }];
}

def Kiln_GatherWindowsOp : Kiln_Op<"gather_windows", [
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "The full-resolution windows of the tiles to refine";
  let description = [{
    `image` [1, C, H, W] is cut into tiles of `tile` = [TH, TW] pixels as
    `kiln.refine_tiles` cut its mask (the mask's tiles scaled to the
    image); `table` is that op's. Window i of `init` [n, C, TH + 2 hy,
    TW + 2 hx] (`halo` = [hy, hx]) gets the pixels around the i-th listed
    tile: from row ty TH - hy, column tx TW - hx, each moved inside the
    image where it would cross its edge (so that a model sees the image's
    own border there, with its padding, rather than a cut).
  }];
  let arguments = (ins
    AnyShaped:$image,
    AnyShaped:$table,
    AnyShaped:$init,
    DenseI64ArrayAttr:$tile,
    DenseI64ArrayAttr:$halo);
  let results = (outs Variadic<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    $image `,` $table `into` $init attr-dict `:` type($image) `,`
    type($table) `into` type($init) (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
  }];
}

def Kiln_MergeRefinedOp : Kiln_Op<"merge_refined", [
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "Low-resolution logits upsampled, refined ones where the "
                "mask asks";
  let description = [{
    `init` [1, C, H, W] gets, at each pixel, the logits `refined` [n, C,
    TH + 2 hy, TW + 2 hx] computed over its tile's window (as
    `kiln.gather_windows` gathered it with the same `tile` and `halo`)
    where the `mask` [1, 1, h, w] marks its low-resolution pixel, and
    elsewhere those of `low` [1, C, h, w] at that pixel (nearest
    upsampling; H and W are whole multiples of h and w). `table` is
    `kiln.refine_tiles`'s.
  }];
  let arguments = (ins
    AnyShaped:$low,
    AnyShaped:$mask,
    AnyShaped:$refined,
    AnyShaped:$table,
    AnyShaped:$init,
    DenseI64ArrayAttr:$tile,
    DenseI64ArrayAttr:$halo);
  let results = (outs Variadic<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    $low `,` $mask `,` $refined `,` $table `into` $init attr-dict `:`
    type($low) `,` type($mask) `,` type($refined) `,` type($table) `into`
    type($init) (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
  }];
}

//===----------------------------------------------------------------------===//
// Sparse convolution: a network run on a set of pixels, the sites
//===----------------------------------------------------------------------===//

// A kernel of the sparse convolutions: destination-passing style, the
// result `init`'s buffer.
class Kiln_SiteOp<string mnemonic> : Kiln_Op<mnemonic, [
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let results = (outs Variadic<AnyRankedTensor>:$result);
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
  }];
}

def Kiln_ListSitesOp : Kiln_SiteOp<"list_sites"> {
  let summary = "The full-resolution pixels of a low-resolution mask, as "
                "a site table";
  let description = [{
    The sites of a grid of H x W pixels are listed in a table [1 + N]
    (i32): entry 0 their count n, entries 1 .. n their pixels y W + x.
    Here the grid is the `mask`'s [1, 1, h, w] (i1) scaled by `scale` =
    [sy, sx], and the sites are the pixels of its marked pixels, in
    row-major order; `init` has room for every pixel, N = h sy w sx.
  }];
  let arguments = (ins
    AnyShaped:$mask,
    AnyShaped:$init,
    DenseI64ArrayAttr:$scale);
  let assemblyFormat = [{
    $mask `into` $init attr-dict `:` type($mask) `into` type($init)
    (`->` type($result)^)?
  }];
}

def Kiln_CoarseSitesOp : Kiln_SiteOp<"coarse_sites"> {
  let summary = "The sites a strided sparse convolution computes";
  let description = [{
    `fine` is a site table (`kiln.list_sites`) of the grid `grid` = [H, W];
    `init` [1 + ceil(H / sy) ceil(W / sx)] gets the table of the distinct
    sites (y / sy, x / sx) of the coarser grid (`stride` = [sy, sx]), in
    row-major order (as `kiln.list_sites` lists them).
  }];
  let arguments = (ins
    AnyShaped:$fine,
    AnyShaped:$init,
    DenseI64ArrayAttr:$grid,
    DenseI64ArrayAttr:$stride);
  let assemblyFormat = [{
    $fine `into` $init attr-dict `:` type($fine) `into` type($init)
    (`->` type($result)^)?
  }];
}

def Kiln_KernelMapOp : Kiln_SiteOp<"kernel_map"> {
  let summary = "Which input site each output site reads at each kernel "
                "offset";
  let description = [{
    `input` and `output` are site tables of the grids `input_grid` and
    `output_grid`. Row o of `init` [n_out, KH KW] (i32) gets, for each
    kernel offset (i, j) (column i KW + j), the input site at the pixel
    the convolution reads there for output pixel (y, x) — (y sy - py + i,
    x sx - px + j) with `stride` [sy, sx] and `padding` [py, px], or with
    `transposed` the (Y, X) with Y sy - py + i = y and X sx - px + j = x
    — or -1 where that pixel is no site (outside the grid or not listed):
    the zeros of a dense convolution over an input that is zero but at
    its sites. The input's sites are found through a hash of their
    pixels.
  }];
  let arguments = (ins
    AnyShaped:$input,
    AnyShaped:$output,
    AnyShaped:$init,
    DenseI64ArrayAttr:$input_grid,
    DenseI64ArrayAttr:$output_grid,
    DenseI64ArrayAttr:$kernel,
    DenseI64ArrayAttr:$stride,
    DenseI64ArrayAttr:$padding,
    UnitAttr:$transposed);
  let assemblyFormat = [{
    $input `,` $output `into` $init attr-dict `:` type($input) `,`
    type($output) `into` type($init) (`->` type($result)^)?
  }];
}

def Kiln_GatherSitesOp : Kiln_SiteOp<"gather_sites"> {
  let summary = "An image's values at the sites, a row per site";
  let description = [{
    Row i of `init` [n, C] gets the C values of `image` [1, C, H, W] at
    site i of `sites` (a table of the grid [H sy, W sx], `scale` = [sy,
    sx]): the pixel (y / sy, x / sx) for site (y, x), so that a
    low-resolution image is read upsampled (nearest).
  }];
  let arguments = (ins
    AnyShaped:$image,
    AnyShaped:$sites,
    AnyShaped:$init,
    DenseI64ArrayAttr:$scale);
  let assemblyFormat = [{
    $image `,` $sites `into` $init attr-dict `:` type($image) `,`
    type($sites) `into` type($init) (`->` type($result)^)?
  }];
}

def Kiln_ScatterSitesOp : Kiln_SiteOp<"scatter_sites"> {
  let summary = "Rows written back into an image at their sites";
  let description = [{
    `init` [1, C, H, W] gets row i of `rows` [n, C] at site i of `sites`
    (a table of the grid [H, W]); its other pixels keep their values.
  }];
  let arguments = (ins
    AnyShaped:$rows,
    AnyShaped:$sites,
    AnyShaped:$init);
  let assemblyFormat = [{
    $rows `,` $sites `into` $init attr-dict `:` type($rows) `,`
    type($sites) `into` type($init) (`->` type($result)^)?
  }];
}

def Kiln_SparseIm2ColOp : Kiln_SiteOp<"sparse_im2col"> {
  let summary = "The input rows each output site's kernel reads, side by "
                "side";
  let description = [{
    The gather before a sparse convolution's GEMM: row o of `init` [n_out,
    K C] gets, in column block k, row `map`[o, k] of `features` [n_in, C],
    or zeros where the map has -1. The GEMM by the filter as [K C, F]
    then gives the convolution's output rows.
  }];
  let arguments = (ins
    AnyShaped:$features,
    AnyShaped:$map,
    AnyShaped:$init);
  let assemblyFormat = [{
    $features `,` $map `into` $init attr-dict `:` type($features) `,`
    type($map) `into` type($init) (`->` type($result)^)?
  }];
}

def Kiln_SparseCol2ImOp : Kiln_SiteOp<"sparse_col2im"> {
  let summary = "The sum of the products each output site's kernel takes";
  let description = [{
    The scatter-add after a GEMM of the input rows by the filter as [C, K
    F], in gather form: row o of `init` [n_out, F] gets the sum over the
    offsets k of column block k of row `map`[o, k] of `products` [n_in,
    K F] (nothing where the map has -1). This is how a transposed
    convolution, whose every input site feeds several output sites,
    multiplies each input row once.
  }];
  let arguments = (ins
    AnyShaped:$products,
    AnyShaped:$map,
    AnyShaped:$init);
  let assemblyFormat = [{
    $products `,` $map `into` $init attr-dict `:` type($products) `,`
    type($map) `into` type($init) (`->` type($result)^)?
  }];
}

#endif // KILN_KILN_OPS
