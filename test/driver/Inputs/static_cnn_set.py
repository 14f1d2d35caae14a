#!/usr/bin/env python3
"""Writes a small CNN of static shapes and its calibration set.

    static_cnn_set.py DIR

DIR/cnn.onnx: x [2, 8, 20, 20] -> Conv 3x3 (32 filters, bias) -> Relu ->
Conv 3x3 stride 2 (24 filters, bias) -> Relu -> channels last, rows of 24
-> MatMul [24, 40] -> Relu -> MatMul [40, 16] = y [200, 16]; every
contraction large enough for the GEMM kernels. DIR/calibration/: four
samples (numpy.savez); DIR/x.npy: a held-apart input.
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(17)
out = sys.argv[1]
os.makedirs(os.path.join(out, "calibration"), exist_ok=True)


def init(name, shape, scale):
    return numpy_helper.from_array(
        (rng.standard_normal(shape) * scale).astype(np.float32), name)


graph = helper.make_graph(
    [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1],
                      name="conv1"),
     helper.make_node("Relu", ["c1"], ["r1"]),
     helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1],
                      strides=[2, 2], name="conv2"),
     helper.make_node("Relu", ["c2"], ["r2"]),
     helper.make_node("Transpose", ["r2"], ["t"], perm=[0, 2, 3, 1]),
     helper.make_node("Reshape", ["t", "rows"], ["h"]),
     helper.make_node("MatMul", ["h", "w3"], ["m3"], name="fc1"),
     helper.make_node("Relu", ["m3"], ["r3"]),
     helper.make_node("MatMul", ["r3", "w4"], ["y"], name="fc2")],
    "static_cnn",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8, 20, 20])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [200, 16])],
    [init("w1", (32, 8, 3, 3), 0.2), init("b1", (32,), 0.1),
     init("w2", (24, 32, 3, 3), 0.1), init("b2", (24,), 0.1),
     numpy_helper.from_array(np.array([200, 24], np.int64), "rows"),
     init("w3", (24, 40), 0.3), init("w4", (40, 16), 0.3)])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
onnx.save(model, os.path.join(out, "cnn.onnx"))


def image():
    return rng.standard_normal((2, 8, 20, 20)).astype(np.float32)


for i in range(4):
    np.savez(os.path.join(out, "calibration", f"{i}.npz"), x=image())
np.save(os.path.join(out, "x.npy"), image())
