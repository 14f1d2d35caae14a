#!/usr/bin/env python3
"""Builds the models lit tests need that ONNX's text syntax cannot express.

    make_model.py CASE OUT.onnx

Cases: empty, random, truncated, initializer-size, external-data,
external-escape, external-symlink, external-absolute, external-short, int4-initializer,
float16-int32-data, sequence-type, negative-dimension, symbolic-image,
static-image-HxW (the symbolic-image model with a fixed height and width),
segmenter-HxW (that, with the per-pixel logits its one output).
External-data cases also write their data file next to OUT.
"""

import os
import random
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def add_model(initializer, opset=17):
    """y = x + w, with `initializer` as w (shape 2x3 float unless given)."""
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["y"], name="add")],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
        [initializer])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def weights():
    return numpy_helper.from_array(
        np.arange(6, dtype=np.float32).reshape(2, 3), "w")


def external(location, data_file=None, length=24, payload=None):
    tensor = TensorProto()
    tensor.name = "w"
    tensor.data_type = TensorProto.FLOAT
    tensor.dims.extend([2, 3])
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "8"),
                       ("length", str(length))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    if data_file:
        with open(data_file, "wb") as out:
            out.write(b"\0" * 8)
            out.write(payload if payload is not None else
                      np.arange(6, dtype=np.float32).tobytes())
    return add_model(tensor)


def image_model(height, width, pooled=True):
    """A small segmenter over a [1, 3, height, width] image (symbolic when
    they are names): strided Conv + Relu, MaxPool, a 1x1 Conv, then Resize
    back to the image's size through the exporters' Shape -> Slice ->
    Concat chain; with `pooled` a second output pools globally."""
    generator = np.random.default_rng(7)

    def tensor(name, *shape):
        return numpy_helper.from_array(
            generator.standard_normal(shape).astype(np.float32) * 0.3, name)

    def ints(name, values):
        return numpy_helper.from_array(np.array(values, np.int64), name)

    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1",
                         pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], name="conv2"),
        helper.make_node("Shape", ["c2"], ["s2"], name="shape_features"),
        helper.make_node("Slice", ["s2", "zero", "two"], ["lead"], name="lead"),
        helper.make_node("Shape", ["x"], ["sx"], name="shape_image"),
        helper.make_node("Slice", ["sx", "two", "four"], ["hw"], name="hw"),
        helper.make_node("Concat", ["lead", "hw"], ["sizes"], name="sizes",
                         axis=0),
        helper.make_node("Resize", ["c2", "", "", "sizes"], ["y"],
                         name="resize", mode="linear"),
    ]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                             [1, 4, height, width])]
    if pooled:
        nodes.append(helper.make_node("GlobalAveragePool", ["r1"], ["g"],
                                      name="gap"))
        outputs.append(helper.make_tensor_value_info("g", TensorProto.FLOAT,
                                                     [1, 8, 1, 1]))
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                       [1, 3, height, width])],
        outputs,
        [tensor("w1", 8, 3, 3, 3), tensor("b1", 8), tensor("w2", 4, 8, 1, 1),
         tensor("b2", 4), ints("zero", [0]), ints("two", [2]),
         ints("four", [4])])
    return helper.make_model(graph,
                             opset_imports=[helper.make_opsetid("", 17)])


def main():
    case, out = sys.argv[1], sys.argv[2]
    directory = os.path.dirname(os.path.abspath(out))
    data_file = os.path.join(directory, "weights.bin")
    if case == "empty":
        open(out, "wb").close()
        return
    if case == "random":
        generator = random.Random(1234)
        with open(out, "wb") as f:
            f.write(bytes(generator.randrange(256) for _ in range(4096)))
        return
    if case == "truncated":
        data = add_model(weights()).SerializeToString()
        with open(out, "wb") as f:
            f.write(data[: len(data) * 6 // 10])
        return
    if case == "initializer-size":
        tensor = weights()
        tensor.raw_data = tensor.raw_data[:8]
        model = add_model(tensor)
    elif case == "external-data":
        model = external("weights.bin", data_file)
    elif case == "external-escape":
        # The file exists, one directory above the model's.
        model = external("../" + os.path.basename(directory) + "/../weights.bin",
                         os.path.join(os.path.dirname(directory), "weights.bin"))
    elif case == "external-symlink":
        # A link inside the directory to a file outside it.
        outside = os.path.join(os.path.dirname(directory), "outside.bin")
        model = external("link.bin", outside)
        link = os.path.join(directory, "link.bin")
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(outside, link)
    elif case == "external-absolute":
        model = external(data_file)
    elif case == "external-short":
        model = external("weights.bin", data_file, payload=b"\0" * 10)
    elif case == "int4-initializer":
        tensor = TensorProto()
        tensor.name = "w"
        tensor.data_type = 22  # INT4, two values a byte, low nibble first
        tensor.dims.extend([2, 3])
        tensor.raw_data = bytes([0x21, 0xF3, 0x87])  # 1 2 3 -1 7 -8
        graph = helper.make_graph(
            [helper.make_node("Identity", ["w"], ["y"], name="id")], "g", [],
            [helper.make_tensor_value_info("y", 22, [2, 3])], [tensor])
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", 21)])
        model.ir_version = 10
    elif case == "float16-int32-data":
        tensor = TensorProto()
        tensor.name = "w"
        tensor.data_type = TensorProto.FLOAT16
        tensor.dims.extend([2])
        tensor.int32_data.extend([0x3C00, 0xC000])  # 1.0, -2.0
        graph = helper.make_graph(
            [helper.make_node("Identity", ["w"], ["y"], name="id")], "g", [],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT16, [2])],
            [tensor])
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", 17)])
    elif case == "sequence-type":
        sequence = helper.make_tensor_sequence_value_info
        graph = helper.make_graph(
            [helper.make_node("Identity", ["x"], ["y"], name="id")], "g",
            [sequence("x", TensorProto.FLOAT, [2])],
            [sequence("y", TensorProto.FLOAT, [2])])
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", 17)])
    elif case == "negative-dimension":
        # A Relu whose input and output declare [1, -4].
        graph = helper.make_graph(
            [helper.make_node("Relu", ["x"], ["y"], name="relu")], "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, -4])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, -4])])
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", 17)])
    elif case == "symbolic-image":
        model = image_model("H", "W")
    elif case.startswith("static-image-"):
        height, width = case[len("static-image-"):].split("x")
        model = image_model(int(height), int(width))
    elif case.startswith("segmenter-"):
        height, width = case[len("segmenter-"):].split("x")
        model = image_model(int(height), int(width), pooled=False)
    else:
        sys.exit(f"make_model.py: unknown case '{case}'")
    with open(out, "wb") as f:
        f.write(model.SerializeToString())


if __name__ == "__main__":
    main()
