#!/usr/bin/env python3
"""Writes a model whose sequences open with an outlier row, and its
calibration set, for quantize-w8a8-first-rows.test.

    first_rows_set.py DIR

DIR/model.onnx: y = MatMul(x * gamma, W) with x [batch, sequence, 64]
(both symbolic), W [64, 16]. In every sequence the first row's channel 3
is 400 times the others' (as a decoder's first token, the attention
sink, is in some of its products' inputs). DIR/good/: four samples
(numpy.savez) of one sequence of 24 rows; DIR/x.npy: two held-apart
sequences, and DIR/reference.npy the float output on them.
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(7)
out = sys.argv[1]
os.makedirs(os.path.join(out, "good"), exist_ok=True)

gamma = rng.uniform(0.5, 1.5, 64).astype(np.float32)
w = rng.standard_normal((64, 16)).astype(np.float32)
graph = helper.make_graph(
    [helper.make_node("Mul", ["x", "gamma"], ["n"], name="norm"),
     helper.make_node("MatMul", ["n", "w"], ["y"], name="proj")],
    "first_rows",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                   ["batch", "sequence", 64])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                   ["batch", "sequence", 16])],
    [numpy_helper.from_array(gamma, "gamma"), numpy_helper.from_array(w, "w")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
onnx.save(model, os.path.join(out, "model.onnx"))


def sequences(count, length):
    x = rng.standard_normal((count, length, 64)).astype(np.float32)
    x[:, 0, 3] *= 400
    return x


for i in range(4):
    np.savez(os.path.join(out, "good", f"{i}.npz"), x=sequences(1, 24))
held = sequences(2, 24)
np.save(os.path.join(out, "x.npy"), held)
np.save(os.path.join(out, "reference.npy"), (held * gamma) @ w)
