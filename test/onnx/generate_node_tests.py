#!/usr/bin/env python3
"""Writes the ONNX backend node tests of the installed `onnx` package.

The wheels on the package index carry the node test *cases* (Python) but not
their data; this writes them in the layout of libonnx-testdata:
OUT/node/<test>/model.onnx and test_data_set_N/{input,output}_K.pb.

    python3 -m venv build/onnx-venv && build/onnx-venv/bin/pip install onnx
    build/onnx-venv/bin/python test/onnx/generate_node_tests.py build/onnx-node-tests
"""

import os
import sys

import onnx
from onnx import numpy_helper
from onnx.backend.test.case import node


def save_value(value, info, path):
    if info.type.HasField("sequence_type"):
        proto = numpy_helper.from_list(value, info.name)
    elif info.type.HasField("optional_type"):
        proto = numpy_helper.from_optional(value, info.name)
    elif isinstance(value, onnx.TensorProto):
        proto = value
    else:
        proto = numpy_helper.from_array(value, info.name)
    with open(path, "wb") as out:
        out.write(proto.SerializeToString())


def main():
    root = os.path.join(sys.argv[1], "node")
    cases = node.collect_testcases()
    written = 0
    for case in cases:
        directory = os.path.join(root, case.name)
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "model.onnx"), "wb") as out:
            out.write(case.model.SerializeToString())
        for index, (inputs, outputs) in enumerate(case.data_sets or []):
            data = os.path.join(directory, f"test_data_set_{index}")
            os.makedirs(data, exist_ok=True)
            try:
                for k, value in enumerate(inputs):
                    save_value(value, case.model.graph.input[k],
                               os.path.join(data, f"input_{k}.pb"))
                for k, value in enumerate(outputs):
                    save_value(value, case.model.graph.output[k],
                               os.path.join(data, f"output_{k}.pb"))
            except Exception as error:  # Some data kinds have no .pb form.
                print(f"{case.name}: data set {index} skipped: {error}",
                      file=sys.stderr)
        written += 1
    print(f"{written} node tests from onnx {onnx.__version__} in {root}")


if __name__ == "__main__":
    main()
