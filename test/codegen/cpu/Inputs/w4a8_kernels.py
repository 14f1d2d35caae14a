#!/usr/bin/env python3
"""Checks W4A8's integer packed contractions (`kiln compile --quantize=w4a8`)
against float64 products of the same integers.

    w4a8_kernels.py KILN WORK_DIR CPU...

Builds one ONNX model of independent MatMuls by constant weights, on
shapes that take every path of the kernel: filters that leave a partial
pair of vectors (N = 17, 200), a tile of four vectors (N = 64), one row
(M = 1, decode), rows that leave a partial tile (M = 7, 3 x 101), groups
of 32 over K = 96 and K = 32 (one group), a bias and activation after,
and a product excluded by name (kept f32). With round to nearest the
reference quantizes exactly as the passes do: each weight to integers
within [-119, 119] per output channel (max|w| / 119), then groups of 32
of those to 4 bits with an integer scale and zero point; each row of the
input to signed bytes with the scale max|x| / 127 (x / scale rounded half
to even, in f32). The integer sums are exact, so what is left is the f32
scaling, held to 1e-5 of each output's scale. The rows' largest
magnitudes, which give the rows' scales, are checked alone too (rows of
37: whole vectors and a tail). Compiles for each CPU
(x86-64-v3: 8-lane AVX2, pair sums by vpmaddubsw; skylake-avx512: 16
lanes) and prints the worst error.
"""

import os
import re
import subprocess
import sys

import numpy as np
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.dirname(__file__))
from cpu_kernels import KernelModel, run_and_compare  # noqa: E402

rng = np.random.default_rng(41)
F32 = np.float32
GROUP = 32


def quantize_weight(w):
    """(8-bit integers (q - z) * s2 as float64, channel scales) of w [K, N]
    by QoQ's progressive quantization, round to nearest."""
    k, n = w.shape
    s1 = (np.abs(w).max(axis=0) / F32(119)).astype(F32)
    w8 = np.clip(np.rint(w / s1), -119, 119)
    groups = w8.reshape(k // GROUP, GROUP, n)
    low, high = groups.min(axis=1), groups.max(axis=1)
    s2 = np.maximum(1, np.rint((high - low) / 15))
    zero = np.clip(np.rint(-low / s2), 0, 15)
    q = np.clip(np.rint(groups / s2[:, None]) + zero[:, None], 0, 15)
    integers = ((q - zero[:, None]) * s2[:, None]).reshape(k, n)
    assert np.abs(integers).max() <= 128
    return integers, s1


def quantize_rows(x):
    """(integers as float64, f32 scale per row) of x [..., K]."""
    scale = np.maximum(np.abs(x).max(axis=-1, keepdims=True) / F32(127),
                       F32(1e-30)).astype(F32)
    q = np.clip(np.rint(x / scale), -128, 127)
    return q.astype(np.float64), scale


def main():
    kiln, work, cpus = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(work, exist_ok=True)
    model = KernelModel(rng)

    def matmul(name, x_name, x, k, n, quantized=True):
        w = model.weight(name + "_w", (k, n))
        model.nodes.append(helper.make_node("MatMul", [x_name, name + "_w"],
                                            [name], name=name))
        if not quantized:
            return x.astype(np.float64) @ w.astype(np.float64)
        xq, sx = quantize_rows(x)
        wq, sw = quantize_weight(w)
        # The integer sums times each row's scale, then each column's (f32
        # products, as the package computes them).
        sums = (xq @ wq).astype(F32)
        return ((sums * sx).astype(F32) * sw).astype(np.float64)

    x = model.data("x", (7, 96))
    model.output("partial_pair", matmul("partial_pair", "x", x, 96, 17))
    model.output("wide", matmul("wide", "x", x, 96, 200))
    model.output("four_vectors", matmul("four_vectors", "x", x, 96, 64))
    model.output("kept", matmul("kept", "x", x, 96, 40, quantized=False))
    row = model.data("row", (1, 32))
    model.output("one_row", matmul("one_row", "row", row, 32, 50))
    batch = model.data("batch", (3, 101, 64))
    y = matmul("batched", "batch", batch, 64, 48)
    bias = rng.uniform(-1, 1, 48).astype(F32)
    model.inits.append(numpy_helper.from_array(bias, "bias"))
    model.nodes += [helper.make_node("Add", ["batched", "bias"], ["biased"],
                                     name="bias_add"),
                    helper.make_node("Relu", ["biased"], ["relu"],
                                     name="relu")]
    model.output("relu", np.maximum(y + bias, 0))
    # The rows' largest magnitudes alone (kiln.row_abs_max, which the
    # products' scales use too), over rows of 37: whole vectors and a tail.
    odd = model.data("odd", (5, 37))
    model.nodes += [helper.make_node("Abs", ["odd"], ["magnitudes"],
                                     name="abs"),
                    helper.make_node("ReduceMax", ["magnitudes"], ["largest"],
                                     name="largest", axes=[-1], keepdims=1)]
    model.output("largest", np.abs(odd).max(axis=-1, keepdims=True).astype(
        np.float64))

    path = model.save("w4a8", work)
    worst = 0.0
    for cpu in cpus:
        package = os.path.join(work, cpu + ".kiln")
        subprocess.run([kiln, "compile", path, "--cpu=" + cpu,
                        "--quantize=w4a8", "--quantize-method=rtn",
                        f"--group-size={GROUP}",
                        "--quantize-exclude=kept", "-o", package], check=True)
        graph = subprocess.run(
            [kiln, "compile", path, "--cpu=" + cpu, "--quantize=w4a8",
             "--quantize-method=rtn", f"--group-size={GROUP}",
             "--quantize-exclude=kept", "--emit=graph", "--elide-weights"],
            check=True, capture_output=True, text=True).stdout
        # Five products on 4-bit filters in integers (i32 group scales),
        # and the four inputs' largest magnitudes, one kernel each.
        integer = len(re.findall(r"xi8> scales tensor<\S*xi32>", graph))
        assert integer == 5, f"{integer} integer products of 5 on {cpu}"
        largest = graph.count("kiln.row_abs_max")
        assert largest == 4, f"{largest} kiln.row_abs_max of 4 on {cpu}"
        worst = max(worst, run_and_compare(kiln, package, work, cpu,
                                           model.feeds, model.expected))
    print(f"W4A8 kernels match on {', '.join(cpus)}: worst relative error "
          f"{worst:.2e}")


if __name__ == "__main__":
    main()
