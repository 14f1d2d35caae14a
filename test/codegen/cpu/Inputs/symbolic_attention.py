#!/usr/bin/env python3
"""Checks the fused attention kernel over sizes known only at run time
against float64.

    symbolic_attention.py KILN WORK_DIR [--bf16-kv | --past] CPU...

Builds decoders' attention as exporters write it, with a symbolic batch,
query rows and keys: grouped-query heads (each key/value head repeated for
its query heads by a Gather), the keys transposed from a cache's rows,
Q . K^T / sqrt(D), an additive mask [B, 1, S, T] (0 or float32's lowest,
as Hugging Face's causal and padding masks are), Softmax, . V. Compiles
it for each CPU and requires one fused kernel with the mask; then runs it
at sizes that leave partial tiles, partial key blocks and a single key,
with few rows and many keys (the keys split into chunks, then combined),
with a batch of two whose second sequence is left-padded (a padded query
row masks every key: the kernel averages them, as the softmax of equal
scores does), and holds every output to 1e-5 of the reference, relative
to its scale. Prints the worst error.

With --bf16-kv the keys and values are bf16 inputs widened by a Cast (a
cache held in bf16): the kernel must read them as bf16, and the reference
takes the same bf16 values.

With --past (alone or with --bf16-kv) the keys and values are a plain
decoder graph's: a past [B, H, P, D] concatenated with the new rows into
present outputs, which the attention reads. The kernel must take the
past and the new rows where they are (`past` operands), at pasts that
end inside a block of keys, and both the attention and the presents
must match.
"""

import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(5)
LOWEST = np.finfo(np.float32).min


def make_model(path, query_heads, kv_heads, depth, bf16_kv, past):
    group = query_heads // kv_heads
    heads = numpy_helper.from_array(
        np.repeat(np.arange(kv_heads), group).astype(np.int64), "heads")
    root = numpy_helper.from_array(np.array(np.sqrt(depth), np.float32),
                                   "root")
    nodes = []
    kv_type = TensorProto.BFLOAT16 if bf16_kv else TensorProto.FLOAT
    kf, vf = "k", "v"
    if past:
        nodes += [helper.make_node("Concat", ["past_" + x, x],
                                   ["present_" + x], axis=2)
                  for x in ("k", "v")]
        kf, vf = "present_k", "present_v"
    if bf16_kv:
        nodes += [helper.make_node("Cast", [x], [x + "f"], to=TensorProto.FLOAT)
                  for x in (kf, vf)]
        kf, vf = kf + "f", vf + "f"
    nodes += [
        helper.make_node("Gather", [kf, "heads"], ["kr"], axis=1),
        helper.make_node("Gather", [vf, "heads"], ["vr"], axis=1),
        helper.make_node("Transpose", ["kr"], ["kt"], perm=[0, 1, 3, 2]),
        helper.make_node("MatMul", ["q", "kt"], ["s"], name="scores"),
        helper.make_node("Div", ["s", "root"], ["d"], name="scale"),
        helper.make_node("Add", ["d", "mask"], ["a"], name="mask"),
        helper.make_node("Softmax", ["a"], ["p"], axis=-1, name="softmax"),
        helper.make_node("MatMul", ["p", "vr"], ["y"], name="context"),
    ]
    f = TensorProto.FLOAT
    inputs = [
        helper.make_tensor_value_info("q", f, ["B", query_heads, "S", depth]),
        helper.make_tensor_value_info("k", kv_type, ["B", kv_heads, "T", depth]),
        helper.make_tensor_value_info("v", kv_type, ["B", kv_heads, "T", depth]),
        helper.make_tensor_value_info("mask", f, ["B", 1, "S", "T"]),
    ]
    outputs = [helper.make_tensor_value_info(
        "y", f, ["B", query_heads, "S", depth])]
    if past:
        inputs[1:3] = [helper.make_tensor_value_info(
            x, kv_type, ["B", kv_heads, "S", depth]) for x in ("k", "v")]
        inputs += [helper.make_tensor_value_info(
            "past_" + x, kv_type, ["B", kv_heads, "P", depth])
            for x in ("k", "v")]
        outputs += [helper.make_tensor_value_info(
            "present_" + x, kv_type, ["B", kv_heads, "T", depth])
            for x in ("k", "v")]
    graph = helper.make_graph(nodes, "attention", inputs, outputs,
                              [heads, root])
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def round_to_bf16(x):
    """float32 values rounded to the nearest bf16 (ties to even)."""
    bits = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16 << 16
    return bits.astype(np.uint32).view(np.float32)


def reference(q, k, v, mask, group):
    k = np.repeat(k, group, axis=1).astype(np.float64)
    v = np.repeat(v, group, axis=1).astype(np.float64)
    s = np.einsum("bhsd,bhtd->bhst", q.astype(np.float64), k)
    s = s / np.sqrt(q.shape[-1]) + mask
    p = np.exp(s - s.max(-1, keepdims=True))
    return np.einsum("bhst,bhtd->bhsd", p / p.sum(-1, keepdims=True), v)


def causal_mask(batch, rows, keys, padding):
    """[B, 1, S, T]: the S new rows follow keys - rows cached ones; the
    second sequence's first `padding` keys are padding."""
    mask = np.zeros((batch, 1, rows, keys), np.float32)
    for s in range(rows):
        mask[:, :, s, keys - rows + s + 1:] = LOWEST
    if batch > 1:
        mask[1, :, :, :padding] = LOWEST
        # A padded query row: every key masked.
        mask[1, :, 0, :] = LOWEST
    return mask


def main():
    kiln, work, cpus = sys.argv[1], sys.argv[2], sys.argv[3:]
    bf16_kv = "--bf16-kv" in cpus
    past = "--past" in cpus
    cpus = [cpu for cpu in cpus if cpu not in ("--bf16-kv", "--past")]
    os.makedirs(work, exist_ok=True)
    worst = 0.0
    # (query heads, key/value heads, D): AVX-512's 16 lanes, and 8 lanes.
    for query_heads, kv_heads, depth in ((9, 3, 64), (4, 2, 40), (4, 4, 64)):
        name = f"gqa{query_heads}x{kv_heads}d{depth}"
        path = os.path.join(work, name + ".onnx")
        make_model(path, query_heads, kv_heads, depth, bf16_kv, past)
        for cpu in cpus:
            package = os.path.join(work, f"{name}-{cpu}.kiln")
            subprocess.run([kiln, "compile", path, "--cpu=" + cpu, "-o",
                            package], check=True)
            graph = subprocess.run(
                [kiln, "compile", path, "--cpu=" + cpu, "--emit=graph"],
                check=True, capture_output=True, text=True).stdout
            assert graph.count("kiln.attention") == 1 and " mask " in graph, \
                f"{cpu}: the masked attention was not fused"
            assert not bf16_kv or "x64xbf16>, tensor" in graph or \
                "x40xbf16>, tensor" in graph, \
                f"{cpu}: the attention does not read the bf16 keys"
            assert not past or " past " in graph, \
                f"{cpu}: the attention reads the presents, not the past"
            for step, (batch, rows, keys) in enumerate(
                    ((1, 1, 150), (1, 13, 7), (2, 5, 64), (1, 3, 3),
                     (2, 17, 211), (1, 1, 1500), (2, 1, 1030),
                     (1, 2, 2100), (1, 5, 1100))):
                q = rng.uniform(-1, 1, (batch, query_heads, rows, depth))
                k = rng.uniform(-1, 1, (batch, kv_heads, keys, depth))
                v = rng.uniform(-1, 1, (batch, kv_heads, keys, depth))
                if bf16_kv:
                    k, v = round_to_bf16(k), round_to_bf16(v)
                feeds = {"q": q.astype(np.float32), "k": k.astype(np.float32),
                         "v": v.astype(np.float32),
                         "mask": causal_mask(batch, rows, keys, 2)}
                if past:
                    if keys < rows:
                        continue  # more new rows than keys: no past
                    for x in ("k", "v"):
                        feeds["past_" + x] = feeds[x][:, :, :keys - rows]
                        feeds[x] = feeds[x][:, :, keys - rows:]
                arguments = [kiln, "run", package, "--threads", "2",
                             "--output-dir", os.path.join(work, "out")]
                for feed, value in feeds.items():
                    file = os.path.join(work, feed + ".npy")
                    np.save(file, value)
                    arguments += ["--input", f"{feed}={file}"]
                subprocess.run(arguments, check=True)
                result = np.load(os.path.join(work, "out", "y.npy"))
                if past:
                    for x in ("k", "v"):
                        present = np.load(os.path.join(work, "out",
                                                       f"present_{x}.npy"))
                        whole = np.concatenate(
                            [feeds["past_" + x], feeds[x]], axis=2)
                        assert np.array_equal(present, whole), \
                            f"{cpu} {name} T={keys}: present_{x} differs"
                        feeds[x] = whole
                expected = reference(feeds["q"], feeds["k"], feeds["v"],
                                     feeds["mask"].astype(np.float64),
                                     query_heads // kv_heads)
                assert result.shape == expected.shape, (cpu, result.shape)
                error = (np.abs(result - expected).max() /
                         np.abs(expected).max())
                assert error <= 1e-5, \
                    f"{cpu} {name} B={batch} S={rows} T={keys}: off by " \
                    f"{error:.3g}"
                worst = max(worst, error)
    kind = "".join([" (bf16 keys and values)" if bf16_kv else "",
                    " (past and new keys)" if past else ""])
    print(f"symbolic attention{kind} "
          f"matches on {', '.join(cpus)}: "
          f"worst relative error {worst:.2e}")


if __name__ == "__main__":
    main()
