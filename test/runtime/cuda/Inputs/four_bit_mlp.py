#!/usr/bin/env python3
"""Writes two MLPs for the 4-bit weight products, and their inputs.

    four_bit_mlp.py DIR

DIR/static.onnx: x [2, 37, 240] -> MatMul [240, 72] -> Relu -> MatMul
[72, 40] = y [2, 37, 40]: M = 74, N and K not multiples of the GEMM's
tiles. DIR/dynamic.onnx: the same products on x [1, s, 240] (rows known
only at run time: a warp per output). DIR/fragments.onnx: x [2, 37, 256]
-> MatMul [256, 96] -> Relu -> MatMul [96, 64]: N and K multiples of 32
(W4A8's weights then take the tensor cores' fragment order), 96 not of
the GEMM's 64. DIR/static.npy, DIR/dynamic.npy, DIR/fragments.npy:
inputs (5 rows for the dynamic model).
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(29)
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
up = (rng.standard_normal((240, 72)) * 0.1).astype(np.float32)
down = (rng.standard_normal((72, 40)) * 0.1).astype(np.float32)

for name, shape, rows in [("static", [2, 37, 240], (2, 37)),
                          ("dynamic", [1, "s", 240], (1, 5))]:
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "up"], ["h"], name="up"),
         helper.make_node("Relu", ["h"], ["r"], name="relu"),
         helper.make_node("MatMul", ["r", "down"], ["y"], name="down")],
        name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(up, "up"),
         numpy_helper.from_array(down, "down")])
    onnx.save(helper.make_model(graph,
                                opset_imports=[helper.make_opsetid("", 17)]),
              os.path.join(out, name + ".onnx"))
    np.save(os.path.join(out, name + ".npy"),
            rng.standard_normal(rows + (240,)).astype(np.float32))

wide_up = (rng.standard_normal((256, 96)) * 0.1).astype(np.float32)
wide_down = (rng.standard_normal((96, 64)) * 0.1).astype(np.float32)
graph = helper.make_graph(
    [helper.make_node("MatMul", ["x", "up"], ["h"], name="up"),
     helper.make_node("Relu", ["h"], ["r"], name="relu"),
     helper.make_node("MatMul", ["r", "down"], ["y"], name="down")],
    "fragments",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 37, 256])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    [numpy_helper.from_array(wide_up, "up"),
     numpy_helper.from_array(wide_down, "down")])
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
          os.path.join(out, "fragments.onnx"))
np.save(os.path.join(out, "fragments.npy"),
        rng.standard_normal((2, 37, 256)).astype(np.float32))
