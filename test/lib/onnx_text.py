#!/usr/bin/env python3
"""Writes the ONNX model written in ONNX's text syntax inside a lit test.

    onnx_text.py TEST_FILE OUT.onnx

Lines starting with '#' (RUN and CHECK lines) are dropped; the rest must be
one model in the syntax of onnx.parser. Initializers may be given in the
text; the model is written without running the ONNX checker, so tests can
describe models that are wrong on purpose.
"""

import sys

import onnx
from onnx import parser


def main():
    source, output = sys.argv[1], sys.argv[2]
    with open(source) as test:
        text = "".join(line for line in test
                       if not line.lstrip().startswith("#"))
    model = parser.parse_model(text)
    onnx.save(model, output)


if __name__ == "__main__":
    main()
