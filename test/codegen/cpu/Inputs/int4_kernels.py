#!/usr/bin/env python3
"""Checks the 4-bit packed contractions (`kiln compile --quantize=w4a16`)
against float64 products with the dequantized weights.

    int4_kernels.py KILN WORK_DIR CPU...

Builds one ONNX model of independent MatMuls by constant weights, on
shapes that take every path of the kernel: filters that leave a partial
pair of vectors (N = 17, 200), a tile of four vectors (N = 64), one row
(M = 1, decode), rows that leave a partial tile (M = 7), rows enough
for the filter to be dequantized once into an f32 buffer (3 x 101, and
40 rows known at run time only, beside 5 that read the 4 bits), groups
of 32 over K = 96 and K = 32 (one group), a bias and activation fused
into the epilogue, and a product excluded by name (kept f32). The
reference quantizes each weight as the pass specifies (round to nearest
even, f16 scales, 4-bit zero points, groups of 32 input channels per
output channel) and computes in float64 with the dequantized weights, so
what is left is float32 accumulation, held to 1e-5 of each output's
scale. Each weight's dequantized values are also checked against the
float ones: |w - w'| <= scale / 2 wherever round(w / scale) + zero
falls inside the 16 levels, and <= scale where it is clipped. Compiles for each CPU (x86-64-v3: 8-lane AVX2; skylake-avx512:
16 lanes) and prints the worst error.
"""

import os
import subprocess
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(__file__))
from cpu_kernels import run_and_compare, save_model  # noqa: E402

rng = np.random.default_rng(23)
GROUP = 32


def quantize(w):
    """(dequantized weight, scales) of w [K, N] as kiln-quant-weights
    quantizes it."""
    k, n = w.shape
    groups = w.reshape(k // GROUP, GROUP, n)
    low, high = groups.min(axis=1), groups.max(axis=1)
    scale = np.maximum((high - low) / 15, np.float32(1e-5)).astype(
        np.float16).astype(np.float32)
    zero = np.clip(np.rint(-low / scale), 0, 15)
    unclipped = np.rint(groups / scale[:, None]) + zero[:, None]
    q = np.clip(unclipped, 0, 15)
    dequantized = (q - zero[:, None]) * scale[:, None]
    # Round to nearest: within half a step of the weight where the rounded
    # zero point leaves it inside the 16 levels, within a step at the ends.
    error = np.abs(dequantized - groups) / scale[:, None]
    inside = (unclipped >= 0) & (unclipped <= 15)
    assert (error[inside] <= 0.5 + 1e-6).all(), \
        f"a weight is off by {error[inside].max()} steps"
    assert (error <= 1 + 1e-6).all(), f"a weight is off by {error.max()} steps"
    return dequantized.reshape(k, n).astype(np.float64), scale


def main():
    kiln, work, cpus = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(work, exist_ok=True)
    nodes, inits, inputs, outputs, feeds, expected = [], [], [], [], {}, {}

    def data(name, shape, declared=None):
        value = rng.uniform(-1, 1, shape).astype(np.float32)
        feeds[name] = value
        inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT,
                                                    declared or shape))
        return value.astype(np.float64)

    def output(name, value, declared=None):
        expected[name] = value
        outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT,
                                                     declared or value.shape))

    def matmul(name, x_name, x, k, n, quantized=True):
        w = rng.standard_normal((k, n)).astype(np.float32)
        inits.append(numpy_helper.from_array(w, name + "_w"))
        nodes.append(helper.make_node("MatMul", [x_name, name + "_w"], [name],
                                      name=name))
        used = quantize(w)[0] if quantized else w.astype(np.float64)
        return x @ used

    x = data("x", (7, 96))
    output("partial_pair", matmul("partial_pair", "x", x, 96, 17))
    output("wide", matmul("wide", "x", x, 96, 200))
    output("four_vectors", matmul("four_vectors", "x", x, 96, 64))
    output("kept", matmul("kept", "x", x, 96, 40, quantized=False))
    row = data("row", (1, 32))
    output("one_row", matmul("one_row", "row", row, 32, 50))
    batch = data("batch", (3, 101, 64))
    y = matmul("batched", "batch", batch, 64, 48)
    bias = rng.uniform(-1, 1, 48).astype(np.float32)
    inits.append(numpy_helper.from_array(bias, "bias"))
    nodes += [helper.make_node("Add", ["batched", "bias"], ["biased"],
                               name="bias_add"),
              helper.make_node("Relu", ["biased"], ["relu"], name="relu")]
    output("relu", np.maximum(y + bias, 0))
    # Rows known at run time only: many (dequantized once), few (4 bits).
    many = data("many", (40, 64), declared=("M", 64))
    output("many_rows", matmul("many_rows", "many", many, 64, 48),
           declared=("M", 48))
    few = data("few", (5, 64), declared=("F", 64))
    output("few_rows", matmul("few_rows", "few", few, 64, 48),
           declared=("F", 48))

    path = save_model("int4", nodes, inputs, outputs, inits, feeds, work)
    worst = 0.0
    for cpu in cpus:
        package = os.path.join(work, cpu + ".kiln")
        subprocess.run([kiln, "compile", path, "--cpu=" + cpu,
                        "--quantize=w4a16", "--quantize-method=rtn",
                        f"--group-size={GROUP}",
                        "--quantize-exclude=kept", "-o", package], check=True)
        worst = max(worst, run_and_compare(kiln, package, work, cpu, feeds,
                                           expected))
    print(f"4-bit kernels match on {', '.join(cpus)}: worst relative error "
          f"{worst:.2e}")


if __name__ == "__main__":
    main()
