#!/usr/bin/env python3
"""Writes a small model with correlated inputs for weight-rounding.test.

    gptq_set.py DIR

DIR/model.onnx: y = MatMul(x * gamma, W) with x [rows, 64] (rows
symbolic), W [64, 32]. Its inputs are correlated, as a layer's are: each
row mixes 6 shared factors, plus a little noise of its own. DIR/calib/:
four samples (numpy.savez) of 64 rows; DIR/x.npy: 256 held-apart rows,
and DIR/reference.npy the float output on them.
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(11)
out = sys.argv[1]
os.makedirs(os.path.join(out, "calib"), exist_ok=True)
gamma = rng.uniform(0.5, 1.5, 64).astype(np.float32)
w = rng.standard_normal((64, 32)).astype(np.float32)
mixing = rng.standard_normal((6, 64)).astype(np.float32)
graph = helper.make_graph(
    [helper.make_node("Mul", ["x", "gamma"], ["n"], name="norm"),
     helper.make_node("MatMul", ["n", "w"], ["y"], name="proj")],
    "correlated",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["rows", 64])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["rows", 32])],
    [numpy_helper.from_array(gamma, "gamma"), numpy_helper.from_array(w, "w")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
onnx.save(model, os.path.join(out, "model.onnx"))


def rows(count):
    factors = rng.standard_normal((count, 6)).astype(np.float32)
    noise = 0.2 * rng.standard_normal((count, 64)).astype(np.float32)
    return factors @ mixing + noise


for i in range(4):
    np.savez(os.path.join(out, "calib", f"{i}.npz"), x=rows(64))
held = rows(256)
np.save(os.path.join(out, "x.npy"), held)
np.save(os.path.join(out, "reference.npy"), (held * gamma) @ w)
