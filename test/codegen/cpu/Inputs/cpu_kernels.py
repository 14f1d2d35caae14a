#!/usr/bin/env python3
"""Checks the CPU kernels (packed contractions, depthwise convolutions,
layer normalization, softmax) against float64.

    cpu_kernels.py KILN WORK_DIR CPU...

Builds one ONNX model with constant weights whose contractions all become
kiln.packed_conv2d, on shapes that are not multiples of any tile: pixel
counts that leave partial tiles, filters that leave partial vectors, K=1,
N=1, M=1, strides, dilations, asymmetric padding, and the fused epilogues
(bias, BatchNormalization folded, ReLU, Clip, HardSwish, Sigmoid, SiLU,
GELU, a residual), and
depthwise convolutions with channels that leave a partial vector and
rows that leave a partial block, padded, strided and dilated, and layer
normalization and softmax over rows that leave partial vectors,
bilinear Resize from tables (half_pixel, align_corners), and channels-last
max pooling (padded, strided, ceil_mode, dilated), and the fused
attention (partial query tiles and key blocks) on transposed keys and on
key rows.
Compiles it for each CPU (e.g. x86-64-v3 for AVX2 and skylake-avx512 for
AVX-512), runs it, and requires every output within 1e-5 of the
reference, relative to the output's scale. Prints the worst error.
"""

import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(11)


def conv2d(x, w, b, strides, dilations, pads):
    """NCHW convolution in float64; pads = [top, left, bottom, right]."""
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (x.shape[2] - (kh - 1) * dilations[0] - 1) // strides[0] + 1
    ow = (x.shape[3] - (kw - 1) * dilations[1] - 1) // strides[1] + 1
    out = np.zeros((n, f, oh, ow))
    for i in range(kh):
        for j in range(kw):
            y0, x0 = i * dilations[0], j * dilations[1]
            patch = x[:, :, y0:y0 + strides[0] * (oh - 1) + 1:strides[0],
                      x0:x0 + strides[1] * (ow - 1) + 1:strides[1]]
            out += np.einsum("nchw,fc->nfhw", patch, w[:, :, i, j])
    return out + b.reshape(1, f, 1, 1)


def save_model(name, nodes, inputs, outputs, inits, feeds, work):
    """Writes the model (opset 17) and its feeds into `work`; returns the
    model's path."""
    graph = helper.make_graph(nodes, name, inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = os.path.join(work, name + ".onnx")
    onnx.save(model, path)
    for feed, value in feeds.items():
        np.save(os.path.join(work, feed + ".npy"), value)
    return path


class KernelModel:
    """A model being built of independent products: its nodes, weights,
    inputs and outputs, the inputs' values (`feeds`) and the outputs'
    references (`expected`)."""

    def __init__(self, rng):
        self.rng = rng
        self.nodes, self.inits, self.inputs, self.outputs = [], [], [], []
        self.feeds, self.expected = {}, {}

    def data(self, name, shape):
        """A new input of uniform values in [-1, 1), returned (f32)."""
        value = self.rng.uniform(-1, 1, shape).astype(np.float32)
        self.feeds[name] = value
        self.inputs.append(helper.make_tensor_value_info(
            name, TensorProto.FLOAT, shape))
        return value

    def output(self, name, value):
        """Declares output `name` with its reference `value`."""
        self.expected[name] = value
        self.outputs.append(helper.make_tensor_value_info(
            name, TensorProto.FLOAT, value.shape))

    def weight(self, name, shape):
        """A new standard-normal weight, returned (f32)."""
        value = self.rng.standard_normal(shape).astype(np.float32)
        self.inits.append(numpy_helper.from_array(value, name))
        return value

    def save(self, name, work):
        return save_model(name, self.nodes, self.inputs, self.outputs,
                          self.inits, self.feeds, work)


def run_and_compare(kiln, package, work, cpu, feeds, expected):
    """Runs `package` on the saved feeds and holds every output to 1e-5 of
    its reference's scale; returns the worst relative error."""
    out = os.path.join(work, cpu)
    arguments = [kiln, "run", package, "--threads", "2", "--output-dir", out]
    for name in feeds:
        arguments += ["--input", f"{name}={os.path.join(work, name)}.npy"]
    subprocess.run(arguments, check=True)
    worst = 0.0
    for name, reference in expected.items():
        result = np.load(os.path.join(out, name + ".npy"))
        assert result.shape == reference.shape, (cpu, name, result.shape)
        error = np.abs(result - reference).max() / np.abs(reference).max()
        worst = max(worst, error)
        assert error <= 1e-5, f"{cpu}: {name} is off by {error:.3g}"
    return worst


def main():
    kiln, work, cpus = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(work, exist_ok=True)
    nodes, inits, inputs, outputs, feeds, expected = [], [], [], [], {}, {}

    def weight(name, shape):
        value = rng.uniform(-1, 1, shape).astype(np.float32)
        inits.append(numpy_helper.from_array(value, name))
        return value.astype(np.float64)

    def data(name, shape):
        value = rng.uniform(-1, 1, shape).astype(np.float32)
        feeds[name] = value
        inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT,
                                                    shape))
        return value.astype(np.float64)

    def output(name, value):
        expected[name] = value
        outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT,
                                                     value.shape))

    # 1. 3x3, padding 1: 2 * 11 * 13 = 286 pixels, 5 filters.
    x = data("x", (2, 3, 11, 13))
    w, b = weight("w1", (5, 3, 3, 3)), weight("b1", (5,))
    nodes.append(helper.make_node("Conv", ["x", "w1", "b1"], ["c1"],
                                  pads=[1, 1, 1, 1], name="conv1"))
    output("c1", conv2d(x, w, b, [1, 1], [1, 1], [1, 1, 1, 1]))

    # 2. One input channel (K=1) and one filter (N=1), strided, dilated,
    # asymmetric padding, no bias.
    u = data("u", (1, 1, 9, 10))
    w = weight("w2", (1, 1, 2, 3))
    nodes.append(helper.make_node("Conv", ["u", "w2"], ["c2"], strides=[2, 1],
                                  dilations=[2, 2], pads=[0, 2, 1, 1],
                                  name="conv2"))
    output("c2", conv2d(u, w, np.zeros(1), [2, 1], [2, 2], [0, 2, 1, 1]))

    # 3. 37 filters (partial vectors), 5x3 kernel, then BatchNormalization,
    # a residual Add (a 1x1 conv of the same input) and ReLU6.
    v = data("v", (1, 6, 12, 7))
    w3, b3 = weight("w3", (37, 6, 5, 3)), weight("b3", (37,))
    scale, shift = weight("scale", (37,)), weight("shift", (37,))
    mean = weight("mean", (37,))
    var = np.abs(weight("var", (37,)))
    inits[-1] = numpy_helper.from_array(var.astype(np.float32), "var")
    w4, b4 = weight("w4", (37, 6, 1, 1)), weight("b4", (37,))
    low, high = helper.make_tensor("low", TensorProto.FLOAT, [], [0.0]), \
        helper.make_tensor("high", TensorProto.FLOAT, [], [6.0])
    inits += [low, high]
    nodes += [
        helper.make_node("Conv", ["v", "w3", "b3"], ["c3"], pads=[2, 1, 2, 1],
                         name="conv3"),
        helper.make_node("BatchNormalization",
                         ["c3", "scale", "shift", "mean", "var"], ["n3"],
                         epsilon=1e-3, name="bn3"),
        helper.make_node("Conv", ["v", "w4", "b4"], ["c4"], name="conv4"),
        helper.make_node("Add", ["n3", "c4"], ["s3"], name="add3"),
        helper.make_node("Clip", ["s3", "low", "high"], ["r3"], name="clip3"),
    ]
    c3 = conv2d(v, w3, b3, [1, 1], [1, 1], [2, 1, 2, 1])
    n3 = ((c3 - mean.reshape(1, -1, 1, 1)) /
          np.sqrt(var.reshape(1, -1, 1, 1) + 1e-3) * scale.reshape(1, -1, 1, 1)
          + shift.reshape(1, -1, 1, 1))
    c4 = conv2d(v, w4, b4, [1, 1], [1, 1], [0, 0, 0, 0])
    output("r3", np.clip(n3 + c4, 0.0, 6.0))

    # 4. MatMul with K=1, with N=1 and M=1, batched [2, 5, 33] x [33, 100]
    # plus a bias and HardSwish.
    p = data("p", (3, 7, 1))
    q = data("q", (1, 50))
    r = data("r", (2, 5, 33))
    m1, m2 = weight("m1", (1, 19)), weight("m2", (50, 1))
    m3, bias3 = weight("m3", (33, 100)), weight("bias3", (100,))
    nodes += [
        helper.make_node("MatMul", ["p", "m1"], ["k1"], name="matmul_k1"),
        helper.make_node("MatMul", ["q", "m2"], ["n1"], name="matmul_n1"),
        helper.make_node("MatMul", ["r", "m3"], ["t3"], name="matmul3"),
        helper.make_node("Add", ["t3", "bias3"], ["a3"], name="bias3_add"),
        helper.make_node("HardSwish", ["a3"], ["h3"], name="hardswish3"),
    ]
    output("k1", p @ m1)
    output("n1", q @ m2)
    a3 = r @ m3 + bias3
    output("h3", a3 * np.clip(a3 + 3, 0, 6) / 6)

    # 5. Gemm with transposed B, alpha and beta, 17 x 23 by 23 x 29.
    g = data("g", (17, 23))
    gw, gc = weight("gw", (29, 23)), weight("gc", (29,))
    nodes.append(helper.make_node("Gemm", ["g", "gw", "gc"], ["gy"], transB=1,
                                  alpha=0.5, beta=2.0, name="gemm"))
    output("gy", 0.5 * g @ gw.T + 2.0 * gc)

    # 5b. Few pixel tiles on large filter panels, each full tile
    # prefetching a share of the next panel: a 3x3 on a 7 x 7 map with
    # padding (160 channels, 100 filters: partial vectors, 49 pixels: a
    # partial tile), its residual Add and ReLU; a strided 3x3 without
    # padding; a pointwise 1x1 of 1,100 channels on two images; a batched
    # MatMul of 600 channels.
    bx = data("bx", (1, 160, 7, 7))
    bw1, bb1 = weight("bw1", (100, 160, 3, 3)), weight("bb1", (100,))
    bres = data("bres", (1, 100, 7, 7))
    bw2 = weight("bw2", (40, 160, 3, 3))
    by = data("by", (2, 1100, 5, 5))
    bw3, bb3 = weight("bw3", (70, 1100, 1, 1)), weight("bb3", (70,))
    bm = data("bm", (2, 37, 600))
    bmw = weight("bmw", (600, 150))
    nodes += [
        helper.make_node("Conv", ["bx", "bw1", "bb1"], ["bc1"],
                         pads=[1, 1, 1, 1], name="prefetch_conv1"),
        helper.make_node("Add", ["bc1", "bres"], ["bs1"], name="prefetch_add"),
        helper.make_node("Relu", ["bs1"], ["br1"], name="prefetch_relu"),
        helper.make_node("Conv", ["bx", "bw2"], ["bc2"], strides=[2, 2],
                         name="prefetch_conv2"),
        helper.make_node("Conv", ["by", "bw3", "bb3"], ["bc3"],
                         name="prefetch_pointwise"),
        helper.make_node("MatMul", ["bm", "bmw"], ["bmm"],
                         name="prefetch_matmul"),
    ]
    output("br1", np.maximum(
        conv2d(bx, bw1, bb1, [1, 1], [1, 1], [1, 1, 1, 1]) + bres, 0))
    output("bc2", conv2d(bx, bw2, np.zeros(40), [2, 2], [1, 1], [0, 0, 0, 0]))
    output("bc3", conv2d(by, bw3, bb3, [1, 1], [1, 1], [0, 0, 0, 0]))
    output("bmm", bm @ bmw)

    # 6. Depthwise: 20 channels (a partial vector), 3x3 with padding 1 on
    # 13 x 11 (a partial block of pixels) then ReLU6; 5x5, stride 2,
    # asymmetric padding; dilation 2 without padding.
    d = data("d", (1, 20, 13, 11))
    wd1, bd1 = weight("wd1", (20, 1, 3, 3)), weight("bd1", (20,))
    wd2 = weight("wd2", (20, 1, 5, 5))
    wd3 = weight("wd3", (20, 1, 3, 3))
    six = helper.make_tensor("six", TensorProto.FLOAT, [], [6.0])
    zero = helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0])
    inits += [six, zero]
    nodes += [
        helper.make_node("Conv", ["d", "wd1", "bd1"], ["dc1"], group=20,
                         pads=[1, 1, 1, 1], name="depthwise1"),
        helper.make_node("Clip", ["dc1", "zero", "six"], ["dr1"],
                         name="relu6_1"),
        helper.make_node("Conv", ["d", "wd2"], ["dc2"], group=20,
                         strides=[2, 2], pads=[2, 1, 1, 2], name="depthwise2"),
        helper.make_node("Conv", ["d", "wd3"], ["dc3"], group=20,
                         dilations=[2, 2], name="depthwise3"),
    ]
    def depthwise(x, w, b, strides, dilations, pads):
        return np.concatenate([
            conv2d(x[:, c:c + 1], w[c:c + 1], b[c:c + 1], strides, dilations,
                   pads) for c in range(x.shape[1])], axis=1)
    output("dr1", np.clip(depthwise(d, wd1, bd1, [1, 1], [1, 1], [1, 1, 1, 1]),
                          0, 6))
    output("dc2", depthwise(d, wd2, np.zeros(20), [2, 2], [1, 1], [2, 1, 1, 2]))
    output("dc3", depthwise(d, wd3, np.zeros(20), [1, 1], [2, 2], [0, 0, 0, 0]))

    # 6b. Large inputs, which take the pixel tiles in blocks that every
    # filter tile passes over: a 1x1 convolution of 96 channels to 100
    # filters over 64 x 67 pixels (a partial last block and tile), and a
    # padded 3x3 one of 32 to 72 over 60 x 70; depthwise convolutions
    # whose window rows take several channel blocks (100 channels: a
    # masked vector in the last block), 5x5 padded over 9 x 200, and 3x3,
    # stride 2, dilation 2.
    lg = data("lg", (1, 96, 64, 67))
    wg, bg = weight("wlg", (100, 96, 1, 1)), weight("blg", (100,))
    lh = data("lh", (1, 32, 60, 70))
    wh = weight("wlh", (72, 32, 3, 3))
    le = data("le", (1, 100, 9, 200))
    we1, be1 = weight("wl1", (100, 1, 5, 5)), weight("bl1", (100,))
    we2 = weight("wl2", (100, 1, 3, 3))
    nodes += [
        helper.make_node("Conv", ["lg", "wlg", "blg"], ["lgc"], name="blocked1"),
        helper.make_node("Conv", ["lh", "wlh"], ["lhc"], pads=[1, 1, 1, 1],
                         name="blocked2"),
        helper.make_node("Conv", ["le", "wl1", "bl1"], ["lec1"], group=100,
                         pads=[2, 2, 2, 2], name="depthwise_blocks1"),
        helper.make_node("Conv", ["le", "wl2"], ["lec2"], group=100,
                         strides=[2, 2], dilations=[2, 2], pads=[1, 2, 2, 1],
                         name="depthwise_blocks2"),
    ]
    output("lgc", conv2d(lg, wg, bg, [1, 1], [1, 1], [0, 0, 0, 0]))
    output("lhc", conv2d(lh, wh, np.zeros(72), [1, 1], [1, 1], [1, 1, 1, 1]))
    output("lec1", depthwise(le, we1, be1, [1, 1], [1, 1], [2, 2, 2, 2]))
    output("lec2", depthwise(le, we2, np.zeros(100), [2, 2], [2, 2],
                            [1, 2, 2, 1]))

    # 7. The transcendental epilogues: SiLU (Mul(x, Sigmoid(x))) after a
    # convolution, Sigmoid after another, PyTorch's erf GELU after a matrix
    # product with a bias.
    e = data("e", (1, 5, 6, 7))
    we1, we2 = weight("we1", (21, 5, 3, 3)), weight("we2", (3, 5, 1, 1))
    ge, gb = weight("ge", (5, 40)), weight("gb", (40,))
    t = data("t", (4, 5))
    for name, value in [("sqrt2", 1.4142135), ("one", 1.0), ("half", 0.5)]:
        inits.append(helper.make_tensor(name, TensorProto.FLOAT, [], [value]))
    nodes += [
        helper.make_node("Conv", ["e", "we1"], ["ec1"], pads=[1, 1, 1, 1],
                         name="silu_conv"),
        helper.make_node("Sigmoid", ["ec1"], ["es1"], name="silu_sigmoid"),
        helper.make_node("Mul", ["ec1", "es1"], ["silu"], name="silu_mul"),
        helper.make_node("Conv", ["e", "we2"], ["ec2"], name="gate_conv"),
        helper.make_node("Sigmoid", ["ec2"], ["gate"], name="gate_sigmoid"),
        helper.make_node("MatMul", ["t", "ge"], ["tm"], name="gelu_matmul"),
        helper.make_node("Add", ["tm", "gb"], ["ta"], name="gelu_bias"),
        helper.make_node("Div", ["ta", "sqrt2"], ["td"], name="gelu_div"),
        helper.make_node("Erf", ["td"], ["te"], name="gelu_erf"),
        helper.make_node("Add", ["te", "one"], ["tp"], name="gelu_add"),
        helper.make_node("Mul", ["ta", "tp"], ["tq"], name="gelu_mul"),
        helper.make_node("Mul", ["tq", "half"], ["gelu"], name="gelu_half"),
    ]
    sigmoid = lambda v: 1 / (1 + np.exp(-v))
    ec1 = conv2d(e, we1, np.zeros(21), [1, 1], [1, 1], [1, 1, 1, 1])
    output("silu", ec1 * sigmoid(ec1))
    output("gate", sigmoid(conv2d(e, we2, np.zeros(3), [1, 1], [1, 1],
                                  [0, 0, 0, 0])))
    from math import erf
    ta = t @ ge + gb
    output("gelu", ta * 0.5 * (1 + np.vectorize(erf)(ta / np.sqrt(2))))

    # 8. Row kernels: layer normalization over rows of 37, softmax over rows
    # of 21 and of 130.
    ln = data("ln", (5, 37))
    lns, lnb = weight("lns", (37,)), weight("lnb", (37,))
    sm1, sm2 = data("sm1", (3, 4, 21)), data("sm2", (2, 130))
    nodes += [
        helper.make_node("LayerNormalization", ["ln", "lns", "lnb"], ["lny"],
                         epsilon=1e-3, name="layer_norm"),
        helper.make_node("Softmax", ["sm1"], ["smy1"], name="softmax1"),
        helper.make_node("Softmax", ["sm2"], ["smy2"], name="softmax2"),
    ]
    mean = ln.mean(-1, keepdims=True)
    var = ((ln - mean) ** 2).mean(-1, keepdims=True)
    output("lny", (ln - mean) / np.sqrt(var + 1e-3) * lns + lnb)
    def softmax(v):
        z = np.exp(v - v.max(-1, keepdims=True))
        return z / z.sum(-1, keepdims=True)
    output("smy1", softmax(sm1))
    output("smy2", softmax(sm2 * 20))
    feeds["sm2"] = (sm2 * 20).astype(np.float32)

    # 9. Bilinear Resize from compile-time tables: 5x7 to 11x16 with
    # half_pixel (scales), 5x7 to 9x3 with align_corners (sizes).
    rz = data("rz", (1, 2, 5, 7))
    inits.append(numpy_helper.from_array(
        np.array([1, 1, 11 / 5, 16 / 7], np.float32), "rz_scales"))
    inits.append(numpy_helper.from_array(np.array([1, 2, 9, 3], np.int64),
                                         "rz_sizes"))
    nodes += [
        helper.make_node("Resize", ["rz", "", "rz_scales"], ["rzh"],
                         mode="linear", name="resize_half_pixel"),
        helper.make_node("Resize", ["rz", "", "", "rz_sizes"], ["rza"],
                         mode="linear",
                         coordinate_transformation_mode="align_corners",
                         name="resize_align_corners"),
    ]
    def resize(v, out_h, out_w, scales, mode):
        h, w = v.shape[2:]
        def axis(length, out_length, scale):
            x = np.arange(out_length, dtype=np.float64)
            if mode == "align_corners":
                c = x * (length - 1) / (scale * length - 1)
            else:
                c = (x + 0.5) / scale - 0.5
            base = np.floor(c)
            return (np.clip(base, 0, length - 1).astype(int),
                    np.clip(base + 1, 0, length - 1).astype(int), c - base)
        y0, y1, wy = axis(h, out_h, scales[0])
        x0, x1, wx = axis(w, out_w, scales[1])
        top = v[:, :, y0][:, :, :, x0] * (1 - wx) + v[:, :, y0][:, :, :, x1] * wx
        bottom = (v[:, :, y1][:, :, :, x0] * (1 - wx) +
                  v[:, :, y1][:, :, :, x1] * wx)
        return top * (1 - wy)[:, None] + bottom * wy[:, None]
    output("rzh", resize(rz, 11, 16, [np.float32(11 / 5), np.float32(16 / 7)],
                         "half_pixel"))
    output("rza", resize(rz, 9, 3, [9 / 5, 3 / 7], "align_corners"))

    # 10. Max pooling on channels-last data: 19 channels (a partial
    # vector), ResNet's 3x3 stride 2 padded window, ceil_mode on an odd
    # size, and a dilated window.
    mp = data("mp", (2, 19, 9, 11))
    def max_pool(x, kernel, strides, pads, dilations=(1, 1), ceil=False):
        n, c, h, w = x.shape
        out = []
        for axis, size in enumerate((h, w)):
            span = (kernel[axis] - 1) * dilations[axis] + 1
            room = size + pads[axis] + pads[axis + 2] - span
            count = (-(-room // strides[axis]) if ceil
                     else room // strides[axis]) + 1
            out.append(count)
        x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2] + strides[0]),
                       (pads[1], pads[3] + strides[1])),
                   constant_values=-np.inf)
        result = np.full((n, c, out[0], out[1]), -np.inf)
        for i in range(kernel[0]):
            for j in range(kernel[1]):
                y0, x0 = i * dilations[0], j * dilations[1]
                result = np.maximum(result, x[:, :, y0:y0 + strides[0] *
                                              (out[0] - 1) + 1:strides[0],
                                              x0:x0 + strides[1] *
                                              (out[1] - 1) + 1:strides[1]])
        return result
    nodes += [
        helper.make_node("MaxPool", ["mp"], ["mp1"], kernel_shape=[3, 3],
                         strides=[2, 2], pads=[1, 1, 1, 1], name="pool1"),
        helper.make_node("MaxPool", ["mp"], ["mp2"], kernel_shape=[2, 2],
                         strides=[2, 2], ceil_mode=1, name="pool2"),
        helper.make_node("MaxPool", ["mp"], ["mp3"], kernel_shape=[2, 3],
                         dilations=[2, 1], pads=[0, 1, 1, 0], name="pool3"),
    ]
    output("mp1", max_pool(mp, [3, 3], [2, 2], [1, 1, 1, 1]))
    output("mp2", max_pool(mp, [2, 2], [2, 2], [0, 0, 0, 0], ceil=True))
    output("mp3", max_pool(mp, [2, 3], [1, 1], [0, 1, 1, 0], (2, 1)))

    # 11. Fused attention: 2 x 3 heads, 13 query rows (a partial tile),
    # 150 keys (full blocks and a partial one), D = 40 (8-lane vectors on
    # both ISAs), the exporters' Q . K^T / sqrt(D) -> Softmax -> . V; and
    # one head with D = 64, 7 keys (a block shorter than one vector).
    # 12. The same with keys as a KV cache holds them, [..., T, D], and
    # the exporter's Transpose of the last two axes (the kernel reads the
    # rows): a decode step's single query row over 150 and 513 keys, and 13
    # rows (tiles of several rows) over 7 keys, D = 40 and 64.
    def attention(q, k, v, scale):
        s = np.einsum("...sd,...td->...st", q, k) * scale
        p = np.exp(s - s.max(-1, keepdims=True))
        return np.einsum("...st,...td->...sd", p / p.sum(-1, keepdims=True), v)
    for name, (heads, rows, keys, depth), key_rows in (
            ("at", ((2, 3), 13, 150, 40), False),
            ("au", ((1,), 5, 7, 64), False),
            ("ar", ((2, 3), 1, 150, 40), True),
            ("as", ((1,), 13, 7, 64), True),
            ("aq", ((3,), 1, 513, 64), True)):
        q = data(name + "q", heads + (rows, depth))
        k = data(name + "k", heads + ((keys, depth) if key_rows
                                      else (depth, keys)))
        v = data(name + "v", heads + (keys, depth))
        root = helper.make_tensor(name + "root", TensorProto.FLOAT, [],
                                  [float(np.sqrt(depth))])
        inits.append(root)
        keys_input = name + "k"
        if key_rows:
            rank = len(heads) + 2
            nodes.append(helper.make_node(
                "Transpose", [name + "k"], [name + "kt"],
                perm=list(range(rank - 2)) + [rank - 1, rank - 2],
                name=name + "_kt"))
            keys_input = name + "kt"
        nodes += [
            helper.make_node("MatMul", [name + "q", keys_input],
                             [name + "s"], name=name + "_qk"),
            helper.make_node("Div", [name + "s", name + "root"],
                             [name + "d"], name=name + "_scale"),
            helper.make_node("Softmax", [name + "d"], [name + "p"], axis=-1,
                             name=name + "_softmax"),
            helper.make_node("MatMul", [name + "p", name + "v"], [name],
                             name=name + "_pv"),
        ]
        output(name, attention(q, k if key_rows else np.swapaxes(k, -1, -2),
                               v, 1 / np.float32(np.sqrt(depth))))

    path = save_model("packed", nodes, inputs, outputs, inits, feeds, work)

    worst = 0.0
    for cpu in cpus:
        package = os.path.join(work, cpu + ".kiln")
        subprocess.run([kiln, "compile", path, "--cpu=" + cpu, "-o", package],
                       check=True)
        graph_text = subprocess.run(
            [kiln, "compile", path, "--cpu=" + cpu, "--emit=graph",
             "--elide-weights"], check=True, capture_output=True,
            text=True).stdout
        # Every contraction is packed: no onnx.Conv/MatMul/Gemm is left.
        for op in ("onnx.Conv", "onnx.MatMul", "onnx.Gemm",
                   "onnx.BatchNormalization", "onnx.Relu", "onnx.Clip",
                   "onnx.HardSwish", "onnx.Sigmoid", "onnx.Erf",
                   "onnx.LayerNormalization", "onnx.Softmax", "onnx.Resize",
                   "onnx.MaxPool"):
            assert op not in graph_text, f"{cpu}: {op} was not packed/fused"
        assert graph_text.count("kiln.attention") == 5, \
            f"{cpu}: the attention was not fused"
        assert graph_text.count("key_rows") == 3, \
            f"{cpu}: the attention does not read the key rows"
        assert "perm = [0, 1, 3, 2]" not in graph_text and \
            "perm = [0, 2, 1]" not in graph_text, \
            f"{cpu}: the keys' Transpose is still there"
        worst = max(worst, run_and_compare(kiln, package, work, cpu, feeds,
                                           expected))
    print(f"CPU kernels match on {', '.join(cpus)}: "
          f"worst relative error {worst:.2e}")


if __name__ == "__main__":
    main()
