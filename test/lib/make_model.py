#!/usr/bin/env python3
"""Builds the models lit tests need that ONNX's text syntax cannot express.

    make_model.py CASE OUT.onnx

Cases: empty, random, truncated, initializer-size, external-data,
external-escape, external-symlink, external-absolute, external-short, int4-initializer,
float16-int32-data, sequence-type, negative-dimension.
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
    else:
        sys.exit(f"make_model.py: unknown case '{case}'")
    with open(out, "wb") as f:
        f.write(model.SerializeToString())


if __name__ == "__main__":
    main()
