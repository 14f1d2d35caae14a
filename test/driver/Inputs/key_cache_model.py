#!/usr/bin/env python3
"""Writes a one-head attention's scores over a key cache, and its inputs.

    key_cache_model.py DIR

DIR/keys.onnx: x [batch, seq, 16] -> query and key projections (q_proj,
k_proj; one key channel twelve times the others) -> one head -> the key
cache (present_key = Concat(past_key, keys)) -> scores = q K^T.
DIR/x.npy (24 tokens) and DIR/mask.npy (the attention mask) feed a
prefill. DIR/x_offset.npy is such a prefill whose rows share an offset
(so do the keys, as a decoder's do), and DIR/calibration holds four
samples of the same kind (.npz files of every input, the past empty).
DIR/turned_keys.onnx is the same with the keys multiplied by an input
`turn` [batch, 1, seq, 16] before the cache (as RoPE's cos multiplies
them), and DIR/calibration_turned its samples, whose turn is +1 and -1
at alternate positions: the keys the cache receives then average about
zero, whatever the projection's mean.
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(5)
D = 16
wq = rng.standard_normal((D, D)).astype(np.float32) * 0.3
wk = rng.standard_normal((D, D)).astype(np.float32) * 0.3
wk[:, 3] *= 12.0  # one key channel far larger than the rest
nodes = [
    helper.make_node("MatMul", ["x", "wq"], ["q"], name="q_proj"),
    helper.make_node("MatMul", ["x", "wk"], ["k"], name="k_proj"),
    helper.make_node("Reshape", ["q", "heads"], ["qh"], name="q_heads"),
    helper.make_node("Reshape", ["k", "heads"], ["kh"], name="k_heads"),
    helper.make_node("Concat", ["past_key", "kh"], ["present_key"], axis=2, name="cache"),
    helper.make_node("Transpose", ["present_key"], ["kt"], perm=[0, 1, 3, 2], name="kt"),
    helper.make_node("MatMul", ["qh", "kt"], ["scores"], name="scores"),
]
graph = helper.make_graph(nodes, "keys",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", D]),
     helper.make_tensor_value_info("past_key", TensorProto.FLOAT, ["batch", 1, "past", D]),
     helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "total"])],
    [helper.make_tensor_value_info("present_key", TensorProto.FLOAT, ["batch", 1, "total", D]),
     helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", 1, "seq", "total"])],
    [numpy_helper.from_array(wq, "wq"), numpy_helper.from_array(wk, "wk"),
     numpy_helper.from_array(np.array([1, 1, -1, D], np.int64), "heads")])
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), os.path.join(out, "keys.onnx"))
np.save(os.path.join(out, "x.npy"), rng.standard_normal((1, 24, D)).astype(np.float32))
np.save(os.path.join(out, "mask.npy"), np.ones((1, 24), np.int64))

offset = rng.standard_normal(D).astype(np.float32) * 2.0
np.save(os.path.join(out, "x_offset.npy"),
        rng.standard_normal((1, 24, D)).astype(np.float32) + offset)
os.makedirs(os.path.join(out, "calibration"), exist_ok=True)
for i in range(4):
    np.savez(os.path.join(out, "calibration", f"sample{i}.npz"),
             x=rng.standard_normal((1, 24, D)).astype(np.float32) + offset,
             past_key=np.zeros((1, 1, 0, D), np.float32),
             attention_mask=np.ones((1, 24), np.int64))

# The keys turned by a per-position factor before the cache.
turned = [n for n in nodes if n.name != "cache"] + [
    helper.make_node("Mul", ["kh", "turn"], ["kturned"], name="turn_keys"),
    helper.make_node("Concat", ["past_key", "kturned"], ["present_key"], axis=2, name="cache"),
]
graph = helper.make_graph(turned, "turned_keys",
    list(graph.input) + [helper.make_tensor_value_info("turn", TensorProto.FLOAT, ["batch", 1, "seq", D])],
    list(graph.output), list(graph.initializer))
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), os.path.join(out, "turned_keys.onnx"))
signs = np.where(np.arange(24) % 2 == 0, 1.0, -1.0).astype(np.float32)
turn = np.broadcast_to(signs[None, None, :, None], (1, 1, 24, D)).copy()
os.makedirs(os.path.join(out, "calibration_turned"), exist_ok=True)
for i in range(4):
    np.savez(os.path.join(out, "calibration_turned", f"sample{i}.npz"),
             x=rng.standard_normal((1, 24, D)).astype(np.float32) + offset,
             past_key=np.zeros((1, 1, 0, D), np.float32),
             attention_mask=np.ones((1, 24), np.int64), turn=turn)
