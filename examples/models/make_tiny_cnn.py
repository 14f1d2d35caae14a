#!/usr/bin/env python3
"""Writes tiny_cnn.onnx, the example `scripts/quickstart` compiles.

A small image classifier as exporters write it: Conv, BatchNormalization,
Relu, MaxPool, then a flatten spelled as Shape -> Gather -> Concat ->
Reshape, a Gemm and a Softmax. Weights come from a fixed seed.

    python3 examples/models/make_tiny_cnn.py
"""

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    rng = np.random.default_rng(0)

    def weight(name, *shape):
        return numpy_helper.from_array(
            rng.standard_normal(shape).astype(np.float32) * 0.1, name)

    initializers = [
        weight("conv.weight", 8, 3, 3, 3),
        weight("conv.bias", 8),
        numpy_helper.from_array(np.ones(8, np.float32), "bn.scale"),
        numpy_helper.from_array(np.zeros(8, np.float32), "bn.bias"),
        numpy_helper.from_array(np.zeros(8, np.float32), "bn.mean"),
        numpy_helper.from_array(np.ones(8, np.float32), "bn.var"),
        weight("fc.weight", 10, 8 * 4 * 4),
        weight("fc.bias", 10),
        numpy_helper.from_array(np.array([0], np.int64), "zero"),
        numpy_helper.from_array(np.array([-1], np.int64), "minus_one"),
    ]
    nodes = [
        helper.make_node("Conv", ["image", "conv.weight", "conv.bias"],
                         ["conv"], name="conv", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization",
                         ["conv", "bn.scale", "bn.bias", "bn.mean", "bn.var"],
                         ["bn"], name="bn"),
        helper.make_node("Relu", ["bn"], ["relu"], name="relu"),
        helper.make_node("MaxPool", ["relu"], ["pool"], name="pool",
                         kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Shape", ["pool"], ["pool_shape"], name="shape"),
        helper.make_node("Gather", ["pool_shape", "zero"], ["batch"],
                         name="batch", axis=0),
        helper.make_node("Concat", ["batch", "minus_one"], ["flat_shape"],
                         name="flat_shape", axis=0),
        helper.make_node("Reshape", ["pool", "flat_shape"], ["flat"],
                         name="flatten"),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"],
                         name="fc", transB=1),
        helper.make_node("Softmax", ["logits"], ["probabilities"],
                         name="softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes, "tiny_cnn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT,
                                       [1, 3, 8, 8])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT,
                                       [1, 10])],
        initializers)
    model = helper.make_model(
        graph, producer_name="kiln-examples",
        opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    here = os.path.dirname(os.path.abspath(__file__))
    onnx.save(model, os.path.join(here, "tiny_cnn.onnx"))
    # A sample input for `kiln run` (scripts/quickstart): a smooth gradient
    # image, reproducible without a random generator.
    ramp = np.linspace(-1.0, 1.0, 3 * 8 * 8, dtype=np.float32)
    np.save(os.path.join(here, "tiny_cnn.image.npy"), ramp.reshape(1, 3, 8, 8))


if __name__ == "__main__":
    main()
