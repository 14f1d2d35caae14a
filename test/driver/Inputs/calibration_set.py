#!/usr/bin/env python3
"""Writes a small model and calibration sets for calibration.test.

    calibration_set.py DIR

DIR/model.onnx: y = MatMul(x * gamma, W) with x [rows, 64] (rows
symbolic), W [64, 16]; one input channel's activations are 30 times the
others'. DIR/plain.onnx: y = Relu(x), nothing to quantize. DIR/good/: three samples (numpy.savez) of 20 rows each; and the
sets that must be refused: empty/, missing/ (no x), extra/ (x and z),
dtype/ (x in float64), compressed/ (numpy.savez_compressed). DIR/x.npy:
held-apart rows, and DIR/reference.npy the float output on them.
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(5)
out = sys.argv[1]
for sub in ("good", "empty", "missing", "extra", "dtype", "compressed"):
    os.makedirs(os.path.join(out, sub), exist_ok=True)

gamma = rng.uniform(0.5, 1.5, 64).astype(np.float32)
w = rng.standard_normal((64, 16)).astype(np.float32)
graph = helper.make_graph(
    [helper.make_node("Mul", ["x", "gamma"], ["n"], name="norm"),
     helper.make_node("MatMul", ["n", "w"], ["y"], name="proj")],
    "calibrated",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["rows", 64])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["rows", 16])],
    [numpy_helper.from_array(gamma, "gamma"), numpy_helper.from_array(w, "w")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
onnx.save(model, os.path.join(out, "model.onnx"))
plain = helper.make_graph(
    [helper.make_node("Relu", ["x"], ["y"], name="relu")], "plain",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["rows", 64])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["rows", 64])])
plain = helper.make_model(plain, opset_imports=[helper.make_opsetid("", 17)])
plain.ir_version = 8
onnx.save(plain, os.path.join(out, "plain.onnx"))


def rows(count):
    x = rng.standard_normal((count, 64)).astype(np.float32)
    x[:, 5] *= 30
    return x


for i in range(3):
    np.savez(os.path.join(out, "good", f"{i}.npz"), x=rows(20))
np.savez(os.path.join(out, "missing", "0.npz"), z=rows(4))
np.savez(os.path.join(out, "extra", "0.npz"), x=rows(4), z=rows(4))
np.savez(os.path.join(out, "dtype", "0.npz"), x=rows(4).astype(np.float64))
np.savez_compressed(os.path.join(out, "compressed", "0.npz"), x=rows(4))
held = rows(50)
np.save(os.path.join(out, "x.npy"), held)
np.save(os.path.join(out, "reference.npy"), (held * gamma) @ w)
