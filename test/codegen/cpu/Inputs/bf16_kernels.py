#!/usr/bin/env python3
"""Checks the BF16 packed contractions (`kiln compile --precision=bf16`)
against float64 on the same bf16-rounded operands.

    bf16_kernels.py KILN WORK_DIR CPU...

Builds one ONNX model of independent contractions, each reading a model
input, on shapes that are not multiples of any tile and that take every
path of the kernel: an image's three channels (padded to an even four in
memory, with the spatial padding), odd K (a zero channel), K=1, N=1,
M=1, padded, strided and dilated windows read in place, a window row run
as one channel loop (no padding), partial filter vectors, Gemm with
transB, alpha and a bias, a fused residual and activation, and a
depthwise convolution reading a bf16 input with f32 weights, and a
squeeze-and-excitation block whose hidden layer is stored as bf16 under
a mask; and shapes for AMX's tiles (at least 32 pixels): the window's
values staged in runs copied 32 at a time (whole window rows, or a tap
at a time when dilated along the row), a partial last block of 32
values, a pointwise convolution with a partial pixel tile and an odd
count of 16-filter blocks, padded, strided and dilated windows, a window
longer than one staged panel (two chunks), a long MatMul read in place,
enough filters for several chunks, a fused residual, and a symbolic
batch (and symbolic rows too few for the tiles). The reference rounds
the weights to bf16 (nearest, ties to even), and the inputs too where the
CPU's kernels take them as bf16, and computes in float64: what is left is
float32 accumulation, held to 1e-5 of each output's scale. Compiles for
each CPU (x86-64-v3 and skylake-avx512, without BF16 arithmetic: bf16
weights widened as they load, f32 inputs; znver4 or another AVX512_BF16
CPU: bf16 inputs too, vdpbf16ps; sapphirerapids: AMX tiles) and prints
the worst error.
"""

import os
import subprocess
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(__file__))
from cpu_kernels import conv2d, run_and_compare, save_model  # noqa: E402

def to_bf16(value):
    """float32 -> the nearest bf16 (ties to even), back as float64."""
    bits = np.asarray(value, np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16 << 16
    return bits.astype(np.uint32).view(np.float32).astype(np.float64)


def build(work, pairs):
    """Writes the model and its feeds into `work` and returns the model's
    path, the feeds, the expected outputs and the special values with
    their expected round trip. `pairs`: the CPU's kernels take bf16 inputs
    too (AVX512_BF16 or AMX), so the reference rounds them; otherwise only
    the weights are bf16."""
    rng = np.random.default_rng(17)
    nodes, inits, inputs, outputs, feeds, expected = [], [], [], [], {}, {}
    as_input = to_bf16 if pairs else (lambda v: np.asarray(v, np.float64))

    def weight(name, shape, rounded=True):
        value = rng.uniform(-1, 1, shape).astype(np.float32)
        inits.append(numpy_helper.from_array(value, name))
        return to_bf16(value) if rounded else value.astype(np.float64)

    def data(name, shape, declared=None):
        value = rng.uniform(-1, 1, shape).astype(np.float32)
        feeds[name] = value
        inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT,
                                                    declared or shape))
        return as_input(value)

    def output(name, value, declared=None):
        expected[name] = value
        outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT,
                                                     declared or value.shape))

    def conv(name, x, shape, strides=(1, 1), dilations=(1, 1),
             pads=(0, 0, 0, 0)):
        w, b = weight(name + "_w", shape), weight(name + "_b", shape[:1],
                                                  rounded=False)
        nodes.append(helper.make_node(
            "Conv", [x, name + "_w", name + "_b"], [name],
            strides=list(strides), dilations=list(dilations),
            pads=[pads[0], pads[1], pads[2], pads[3]], name=name))
        return w, b

    # An image: three channels padded to four in memory with the padding.
    x = data("image", (1, 3, 17, 15))
    w, b = conv("stem", "image", (19, 3, 7, 7), strides=(2, 2),
                pads=(3, 3, 3, 3))
    output("stem", conv2d(x, w, b, [2, 2], [1, 1], [3, 3, 3, 3]))

    # Padding, stride and dilation read in place; 37 filters (partial
    # vectors); 2 * 9 * 7 pixels (partial tiles).
    x = data("map", (2, 6, 11, 9))
    w, b = conv("window", "map", (37, 6, 3, 3), strides=(1, 1),
                dilations=(2, 1), pads=(2, 1, 0, 1))
    output("window", conv2d(x, w, b, [1, 1], [2, 1], [2, 1, 0, 1]))

    # No padding: a window row's KW * C values as one loop; odd channels.
    x = data("odd", (1, 5, 8, 10))
    w, b = conv("row", "odd", (8, 5, 3, 3), strides=(1, 2))
    output("row", conv2d(x, w, b, [1, 2], [1, 1], [0, 0, 0, 0]))

    # MatMul with odd K (a zero channel) and N = 1; K = 1; M = 1.
    a = data("a", (3, 7, 9))
    m = weight("m", (9, 1))
    nodes.append(helper.make_node("MatMul", ["a", "m"], ["mm"], name="mm"))
    output("mm", a @ m)
    k1 = data("k1", (13, 1))
    m1 = weight("m1", (1, 21))
    nodes.append(helper.make_node("MatMul", ["k1", "m1"], ["mk1"], name="mk1"))
    output("mk1", k1 @ m1)
    row = data("row_vector", (1, 64))
    m2 = weight("m2", (64, 50))
    nodes.append(helper.make_node("MatMul", ["row_vector", "m2"], ["mv"],
                                  name="mv"))
    output("mv", row @ m2)

    # Gemm: transB, alpha, a bias along N, then ReLU.
    g = data("g", (29, 24))
    gw = weight("gw", (35, 24))
    gb = weight("gb", (35,), rounded=False)
    nodes += [helper.make_node("Gemm", ["g", "gw", "gb"], ["gemm"],
                               transB=1, alpha=0.5, name="gemm"),
              helper.make_node("Relu", ["gemm"], ["gemm_relu"], name="relu")]
    output("gemm_relu",
           np.maximum(0.5 * (g @ to_bf16(0.5 * gw.astype(np.float32)).T /
                             0.5) + gb, 0))

    # A residual Add fused into the contraction (the residual stays f32).
    r = data("r", (6, 16))
    rw = weight("rw", (16, 24))
    residual = rng.uniform(-1, 1, (6, 24)).astype(np.float32)
    feeds["residual"] = residual
    inputs.append(helper.make_tensor_value_info("residual", TensorProto.FLOAT,
                                                [6, 24]))
    nodes += [helper.make_node("MatMul", ["r", "rw"], ["rm"], name="rm"),
              helper.make_node("Add", ["rm", "residual"], ["res"],
                               name="res")]
    output("res", r @ rw + residual.astype(np.float64))

    # A depthwise convolution reads its input as bf16 (19 channels: a
    # partial vector; padded and strided) with f32 weights.
    x = data("dw", (1, 19, 9, 8))
    dw = weight("dw_w", (19, 1, 3, 3), rounded=False)
    db = weight("dw_b", (19,), rounded=False)
    nodes.append(helper.make_node("Conv", ["dw", "dw_w", "dw_b"], ["dwc"],
                                  group=19, pads=[1, 1, 1, 1], strides=[2, 1],
                                  name="dwc"))
    output("dwc", np.concatenate(
        [conv2d(x[:, c:c + 1], dw[c:c + 1], db[c:c + 1], [2, 1], [1, 1],
                [1, 1, 1, 1]) for c in range(19)], axis=1))

    # A squeeze-and-excitation block: global average pooling, then two
    # pointwise convolutions, the first writing its 240 channels (in
    # groups of vectors whose stores take a run-time mask) as bf16 for the
    # second.
    se = rng.uniform(-1, 1, (1, 960, 3, 3)).astype(np.float32)
    feeds["se"] = se
    inputs.append(helper.make_tensor_value_info("se", TensorProto.FLOAT,
                                                [1, 960, 3, 3]))
    nodes.append(helper.make_node("GlobalAveragePool", ["se"], ["se_pool"],
                                  name="se_pool"))
    w1, b1 = conv("se_fc1", "se_pool", (240, 960, 1, 1))
    nodes.append(helper.make_node("Relu", ["se_fc1"], ["se_relu"],
                                  name="se_relu"))
    w2, b2 = conv("se_fc2", "se_relu", (960, 240, 1, 1))
    pooled = as_input(se.astype(np.float64).mean(axis=(2, 3),
                                                 keepdims=True))
    hidden = as_input(np.maximum(conv2d(pooled, w1, b1, [1, 1], [1, 1],
                                        [0, 0, 0, 0]), 0))
    output("se_fc2", conv2d(hidden, w2, b2, [1, 1], [1, 1], [0, 0, 0, 0]))

    # AMX's tiles. Pointwise: 63 pixels (a full tile of 32 read in place
    # and a partial one staged), 40 filters (an odd third block of 16).
    x = data("amx_pointwise", (1, 64, 7, 9))
    w, b = conv("amx_pw", "amx_pointwise", (40, 64, 1, 1))
    nodes.append(helper.make_node("Relu", ["amx_pw"], ["amx_pw_relu"],
                                  name="amx_pw_relu"))
    output("amx_pw_relu",
           np.maximum(conv2d(x, w, b, [1, 1], [1, 1], [0, 0, 0, 0]), 0))
    # A padded, strided, dilated window, staged: 2 * 5 * 4 pixels.
    x = data("amx_window", (2, 32, 11, 9))
    w, b = conv("amx_win", "amx_window", (70, 32, 3, 3), strides=(2, 2),
                dilations=(1, 2), pads=(1, 1, 0, 0))
    output("amx_win", conv2d(x, w, b, [2, 2], [1, 2], [1, 1, 0, 0]))
    # 3 * 3 * 256 channels are 72 k-blocks: two panels.
    x = data("amx_long", (1, 256, 6, 6))
    w, b = conv("amx_deep", "amx_long", (33, 256, 3, 3), pads=(1, 1, 1, 1))
    output("amx_deep", conv2d(x, w, b, [1, 1], [1, 1], [1, 1, 1, 1]))
    # Dilated along the row: a run per tap of 12 channels, a window of
    # 108 values (a partial last k-block).
    x = data("amx_taps", (1, 12, 9, 11))
    w, b = conv("amx_tap", "amx_taps", (20, 12, 3, 3), dilations=(1, 2),
                pads=(1, 2, 1, 2))
    output("amx_tap", conv2d(x, w, b, [1, 1], [1, 2], [1, 2, 1, 2]))
    # A MatMul of K = 2112 (66 k-blocks) read in place, 70 rows.
    a = data("amx_rows", (70, 2112))
    m = weight("amx_m", (2112, 50))
    nodes.append(helper.make_node("MatMul", ["amx_rows", "amx_m"],
                                  ["amx_mm"], name="amx_mm"))
    output("amx_mm", a @ m)
    # 580 filters (37 blocks): chunks of pairs, the last with a single.
    a = data("amx_wide", (64, 64))
    m = weight("amx_wm", (64, 580))
    nodes.append(helper.make_node("MatMul", ["amx_wide", "amx_wm"],
                                  ["amx_wmm"], name="amx_wmm"))
    output("amx_wmm", a @ m)
    # A fused residual, and a batch the model leaves symbolic.
    r = data("amx_r", (40, 64))
    rw = weight("amx_rw", (64, 32))
    residual = rng.uniform(-1, 1, (40, 32)).astype(np.float32)
    feeds["amx_residual"] = residual
    inputs.append(helper.make_tensor_value_info(
        "amx_residual", TensorProto.FLOAT, [40, 32]))
    nodes += [helper.make_node("MatMul", ["amx_r", "amx_rw"], ["amx_rm"],
                               name="amx_rm"),
              helper.make_node("Add", ["amx_rm", "amx_residual"],
                               ["amx_res"], name="amx_res")]
    output("amx_res", r @ rw + residual.astype(np.float64))
    # Rows known at run time only: 5 of them take vdpbf16ps (or the FMAs),
    # not the tiles.
    a = data("few_rows", (5, 64), declared=["rows", 64])
    m = weight("few_m", (64, 40))
    nodes.append(helper.make_node("MatMul", ["few_rows", "few_m"],
                                  ["few_mm"], name="few_mm"))
    output("few_mm", a @ m, declared=["rows", 40])
    x = data("amx_batch", (3, 32, 5, 4), declared=["n", 32, 5, 4])
    w, b = conv("amx_sym", "amx_batch", (16, 32, 3, 3), pads=(1, 1, 1, 1))
    output("amx_sym", conv2d(x, w, b, [1, 1], [1, 1], [1, 1, 1, 1]))

    # Cast to bf16 and back: nearest, ties to even, on the values where
    # rounding is delicate (ties, the largest float, subnormals, infinities,
    # NaNs of either sign, which must stay NaN), 37 of them (loops with a
    # vector part and a remainder). Held exactly, apart from the others.
    special = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0,
                        1 + 2.0**-8, 1 + 3 * 2.0**-8, -(1 + 2.0**-8),
                        np.finfo(np.float32).max, -np.finfo(np.float32).max,
                        1e-45, -1e-45, 1.1754942e-38, 3.3895e38, 65504.0,
                        0.1, -0.3, 1.0 / 3.0], np.float32)
    special = np.concatenate(
        [special, rng.uniform(-1e3, 1e3, 37 - special.size)]).astype(
            np.float32)
    feeds["special"] = special
    inputs.append(helper.make_tensor_value_info("special", TensorProto.FLOAT,
                                                [special.size]))
    nodes += [helper.make_node("Cast", ["special"], ["special_bf16"],
                               to=TensorProto.BFLOAT16, name="to_bf16"),
              helper.make_node("Cast", ["special_bf16"], ["special_back"],
                               to=TensorProto.FLOAT, name="from_bf16")]
    outputs.append(helper.make_tensor_value_info(
        "special_back", TensorProto.FLOAT, [special.size]))
    with np.errstate(invalid="ignore", over="ignore"):
        special_expected = to_bf16(special).astype(np.float32)

    path = save_model("bf16_pairs" if pairs else "bf16_weights", nodes,
                      inputs, outputs, inits, feeds, work)
    return path, feeds, expected, special, special_expected


def takes_pairs(kiln, path, cpu):
    """Whether `cpu`'s packed contractions read bf16 inputs (channel pairs
    in the filter) rather than bf16 weights alone."""
    graph = subprocess.run(
        [kiln, "compile", path, "--cpu=" + cpu, "--precision=bf16",
         "--emit=graph", "--elide-weights"], check=True, capture_output=True,
        text=True).stdout
    return "x2xbf16>" in graph


def main():
    kiln, work, cpus = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(work, exist_ok=True)
    models = {pairs: build(work, pairs) for pairs in (False, True)}

    worst = 0.0
    for cpu in cpus:
        pairs = takes_pairs(kiln, models[True][0], cpu)
        path, feeds, expected, special, special_expected = models[pairs]
        package = os.path.join(work, cpu + ".kiln")
        subprocess.run([kiln, "compile", path, "--cpu=" + cpu,
                        "--precision=bf16", "-o", package], check=True)
        worst = max(worst, run_and_compare(kiln, package, work, cpu, feeds,
                                           expected))
        back = np.load(os.path.join(work, cpu, "special_back.npy"))
        nan = np.isnan(special)
        assert np.array_equal(np.isnan(back), nan), \
            f"{cpu}: NaNs after the round trip at {np.isnan(back)}"
        assert np.array_equal(back[~nan], special_expected[~nan]), \
            f"{cpu}: bf16 rounding: {back[~nan]} != {special_expected[~nan]}"
        print(f"{cpu}: {'bf16 inputs and weights' if pairs else 'bf16 weights'}")
    print(f"BF16 kernels match on {', '.join(cpus)}: "
          f"worst relative error {worst:.2e}")


if __name__ == "__main__":
    main()
