#!/usr/bin/env python3
"""Checks the 8-bit integer contractions (`kiln compile --quantize=w8a8`)
against float64 products of the same integers.

    int8_kernels.py KILN WORK_DIR CPU:LEVELS...

Builds one ONNX model of MatMuls and Convs by constant weights, on shapes
that take every path of the kernel: filters that leave a partial vector
(N = 17, 200, F = 9, 20, 24), a tile of four vectors (N = 64), one row
(M = 1, decode), rows and pixels that leave a partial tile, an image's
three channels (padded to a quad, and its border in memory), a strided
convolution with asymmetric padding (read from integer zeros), a
dilated one, a pointwise one, a bias and ReLU fused into the epilogue,
and a product excluded by name (kept f32). It calibrates on its own
inputs (one .npz sample) with round to nearest, so that the reference
quantizes exactly as the passes do: each input to signed bytes with one
scale max|x| / 127 (x / scale rounded half to even, in f32), each
weight per output channel with max|w| / 127; the integer sums are exact,
so what is left is the f32 scaling, held to 1e-5 of each output's scale.
Compiles for each CPU given with the weights' levels given
(--weight-levels: 127, or 63 for the 7-bit weights that CPUs without VNNI
multiply with vpmaddubsw; x86-64-v3:127 takes the exact widening fallback,
icelake-server:127 vpdpbusd) and prints the worst error.
"""

import os
import subprocess
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(__file__))
from cpu_kernels import conv2d, run_and_compare, save_model  # noqa: E402

rng = np.random.default_rng(31)
F32 = np.float32


def quantize_input(x):
    """(integers, scale) of x as the static per-tensor quantization."""
    scale = F32(np.abs(x).max()) / F32(127)
    q = np.clip(np.rint(x.astype(F32) / scale), -128, 127)
    return q.astype(np.float64), scale


def quantize_weight(w, axis, levels):
    """(integers, scales) of w with one symmetric scale per index along
    `axis`, integers in [-levels, levels]."""
    others = tuple(d for d in range(w.ndim) if d != axis)
    top = np.abs(w).max(axis=others, keepdims=True).astype(F32)
    scale = np.where(top > 0, top / F32(levels), F32(1)).astype(F32)
    q = np.clip(np.rint(w / scale), -levels, levels)
    return q.astype(np.float64), scale.reshape(-1)


def main():
    kiln, work, targets = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(work, exist_ok=True)
    worst = 0.0
    for target in targets:
        cpu, levels = target.split(":")
        worst = max(worst, check(kiln, os.path.join(work, target.replace(
            ":", "-")), cpu, int(levels)))
    print(f"8-bit kernels match on {', '.join(targets)}: worst relative "
          f"error {worst:.2e}")


def check(kiln, work, cpu, levels):
    """Builds, compiles and runs the model for `cpu` with weights of
    `levels`; returns the worst relative error."""
    os.makedirs(work, exist_ok=True)
    nodes, inits, inputs, outputs, feeds, expected = [], [], [], [], {}, {}

    def data(name, shape):
        value = rng.uniform(-1, 1, shape).astype(F32)
        feeds[name] = value
        inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT,
                                                    shape))
        return value

    def output(name, value):
        expected[name] = value
        outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT,
                                                     value.shape))

    def matmul(name, x_name, x, k, n, quantized=True):
        w = rng.standard_normal((k, n)).astype(F32)
        inits.append(numpy_helper.from_array(w, name + "_w"))
        nodes.append(helper.make_node("MatMul", [x_name, name + "_w"], [name],
                                      name=name))
        if not quantized:
            return x.astype(np.float64) @ w.astype(np.float64)
        xq, sx = quantize_input(x)
        wq, sw = quantize_weight(w, axis=1, levels=levels)
        return (xq @ wq) * (sw * sx).astype(F32).astype(np.float64)

    def conv(name, x_name, x, filters, kernel, strides=(1, 1),
             dilations=(1, 1), pads=(0, 0, 0, 0), relu=False):
        nonlocal inits
        c = x.shape[1]
        w = rng.standard_normal((filters, c) + kernel).astype(F32)
        b = rng.uniform(-1, 1, filters).astype(F32)
        inits += [numpy_helper.from_array(w, name + "_w"),
                  numpy_helper.from_array(b, name + "_b")]
        onnx_pads = [pads[0], pads[1], pads[2], pads[3]]
        nodes.append(helper.make_node(
            "Conv", [x_name, name + "_w", name + "_b"],
            [name + "_conv" if relu else name], name=name,
            strides=list(strides), dilations=list(dilations),
            pads=onnx_pads))
        xq, sx = quantize_input(x)
        wq, sw = quantize_weight(w, axis=0, levels=levels)
        y = conv2d(xq, wq, np.zeros(filters), strides, dilations, pads)
        scale = (sw * sx).astype(F32).astype(np.float64)
        y = y * scale.reshape(1, -1, 1, 1) + b.astype(np.float64).reshape(
            1, -1, 1, 1)
        if relu:
            nodes.append(helper.make_node("Relu", [name + "_conv"], [name],
                                          name=name + "_relu"))
            y = np.maximum(y, 0)
        output(name, y)

    x = data("x", (7, 96))
    output("partial_vector", matmul("partial_vector", "x", x, 96, 17))
    output("wide", matmul("wide", "x", x, 96, 200))
    output("four_vectors", matmul("four_vectors", "x", x, 96, 64))
    output("kept", matmul("kept", "x", x, 96, 40, quantized=False))
    row = data("row", (1, 32))
    output("one_row", matmul("one_row", "row", row, 32, 50))
    batch = data("batch", (3, 101, 64))
    y = matmul("batched", "batch", batch, 64, 48)
    bias = rng.uniform(-1, 1, 48).astype(F32)
    inits.append(numpy_helper.from_array(bias, "bias"))
    nodes += [helper.make_node("Add", ["batched", "bias"], ["biased"],
                               name="bias_add"),
              helper.make_node("Relu", ["biased"], ["relu"], name="relu")]
    output("relu", np.maximum(y + bias, 0))

    image = data("image", (1, 3, 13, 11))
    conv("image_conv", "image", image, 20, (3, 3), pads=(1, 1, 1, 1),
         relu=True)
    features = data("features", (2, 16, 9, 10))
    conv("strided", "features", features, 24, (3, 3), strides=(2, 2),
         pads=(1, 0, 2, 1))
    conv("dilated", "features", features, 9, (3, 3), dilations=(2, 2))
    conv("pointwise", "features", features, 40, (1, 1), relu=True)

    path = save_model("int8", nodes, inputs, outputs, inits, feeds, work)
    calibration = os.path.join(work, "calibration")
    os.makedirs(calibration, exist_ok=True)
    np.savez(os.path.join(calibration, "sample.npz"), **feeds)
    package = os.path.join(work, cpu + ".kiln")
    subprocess.run([kiln, "compile", path, "--cpu=" + cpu, "--quantize=w8a8",
                    "--quantize-method=rtn", f"--weight-levels={levels}",
                    "--calibration", calibration, "--quantize-exclude=kept",
                    "-o", package], check=True)
    return run_and_compare(kiln, package, work, cpu, feeds, expected)


if __name__ == "__main__":
    main()
