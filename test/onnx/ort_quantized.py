#!/usr/bin/env python3
"""Compiles the quantized models of onnxruntime's tools and compares.

Two small random-weight models (fixed seeds) - a CNN (Conv + Relu, a
strided Conv, a residual Add, global pooling, Gemm) and an MLP block
(MatMul + bias, Relu, MatMul) - are quantized by onnxruntime's own tools in
each of the forms users bring:

  qdq           quantize_static, QDQ format, signed bytes, per-tensor weights
  qdq-channel   the same with per-channel weights
  qdq-uint8     QDQ with unsigned activations
  qoperator     quantize_static, QOperator format, Conv and MatMul only
                (QLinearConv, QLinearMatMul, QuantizeLinear and
                DequantizeLinear: the default domain's operators)
  dynamic       quantize_dynamic (DynamicQuantizeLinear, MatMulInteger,
                ConvInteger)

Each is compiled by `kiln compile` and run by `kiln run` on held-apart
inputs. The reference is ONNX's own evaluator (onnx.reference) on the same
quantized model: the operators as ONNX defines them. Kiln's integer
kernels accumulate exactly where a dequantized graph sums floats, so a
rounding tie may flip one quantized activation by one step; the tolerance
allows that and no more: max |kiln - reference| <= 2% of max |reference|,
and cosine >= 0.9999. onnxruntime's own run of the model must agree to a
cosine of 0.99: on CPUs without VNNI its u8 x s8 kernels saturate pairs
of products in 16 bits, and its output then leaves ONNX's by a few
quantization steps (printed, with each model's cosine to the FP32 model).

With --target cuda-emu the packages are CUDA packages run by the SIMT
emulator (their integer products on the INT8 tensor-core GEMMs).

  ort_quantized.py --bin BUILD/bin --work DIR [--target cpu|cuda-emu]

Exits 77 (skipped) without onnxruntime.
"""

import argparse
import logging
import os
import subprocess
import sys
import tempfile

import numpy as np

try:
    import onnx
    import onnxruntime
    from onnx import TensorProto, helper, numpy_helper
    from onnx.reference import ReferenceEvaluator
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat,
                                          QuantType, quantize_dynamic,
                                          quantize_static)
except ImportError as error:
    print(f"ort_quantized: {error}; skipping")
    sys.exit(77)

MAX_DIFF = 0.02
MIN_COSINE = 0.9999
MIN_COSINE_ORT = 0.99


def weight(rng, name, shape, scale=0.3):
    return numpy_helper.from_array(
        (rng.standard_normal(shape) * scale).astype(np.float32), name)


def cnn():
    rng = np.random.default_rng(1)
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("Add", ["r1", "r2"], ["sum"]),
        helper.make_node("Conv", ["sum", "w3", "b3"], ["c3"], strides=[2, 2],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c3"], ["r3"]),
        helper.make_node("GlobalAveragePool", ["r3"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"]),
        helper.make_node("Gemm", ["flat", "w4", "b4"], ["y"], transB=1),
    ]
    initializers = [
        weight(rng, "w1", [16, 3, 3, 3]), weight(rng, "b1", [16], 0.1),
        weight(rng, "w2", [16, 16, 3, 3], 0.1), weight(rng, "b2", [16], 0.1),
        weight(rng, "w3", [32, 16, 3, 3], 0.1), weight(rng, "b3", [32], 0.1),
        weight(rng, "w4", [10, 32]), weight(rng, "b4", [10], 0.1),
    ]
    graph = helper.make_graph(
        nodes, "cnn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
        initializers)
    return graph


def mlp():
    rng = np.random.default_rng(2)
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["m1"]),
        helper.make_node("Add", ["m1", "b1"], ["a1"]),
        helper.make_node("Relu", ["a1"], ["r1"]),
        helper.make_node("MatMul", ["r1", "w2"], ["m2"]),
        helper.make_node("Add", ["m2", "b2"], ["y"]),
    ]
    initializers = [
        weight(rng, "w1", [64, 128], 0.15), weight(rng, "b1", [128], 0.1),
        weight(rng, "w2", [128, 32], 0.1), weight(rng, "b2", [32], 0.1),
    ]
    graph = helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 24, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 24, 32])],
        initializers)
    return graph


def save(graph, path):
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", 21)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def draw(shape, count, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(np.float32)
            for _ in range(count)]


class Reader(CalibrationDataReader):
    def __init__(self, inputs):
        self.inputs = iter(inputs)

    def get_next(self):
        x = next(self.inputs, None)
        return None if x is None else {"x": x}


def quantized_forms(path, shape, work):
    """(form, path) of every quantized model of `path`."""
    forms = []
    calibration = draw(shape, 8, seed=10)
    for form, options in [
            ("qdq", dict(quant_format=QuantFormat.QDQ)),
            ("qdq-channel", dict(quant_format=QuantFormat.QDQ,
                                 per_channel=True)),
            ("qdq-uint8", dict(quant_format=QuantFormat.QDQ,
                               activation_type=QuantType.QUInt8)),
            # Only the operators of the default domain (onnxruntime's
            # QLinearAdd, QLinearGlobalAveragePool are com.microsoft's).
            ("qoperator", dict(quant_format=QuantFormat.QOperator,
                               activation_type=QuantType.QUInt8,
                               op_types_to_quantize=["Conv", "MatMul"]))]:
        out = os.path.join(work, f"{form}.onnx")
        quantize_static(path, out, Reader(calibration), **options)
        forms.append((form, out))
    out = os.path.join(work, "dynamic.onnx")
    quantize_dynamic(path, out)
    forms.append(("dynamic", out))
    return forms


def ort_run(path, x):
    session = onnxruntime.InferenceSession(
        path, providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def kiln_run(kiln, package, x, work, device):
    out = tempfile.mkdtemp(dir=work)
    np.save(os.path.join(out, "x.npy"), x)
    subprocess.run([kiln, "run", package, f"--device={device}", "--input",
                    f"x={os.path.join(out, 'x.npy')}", "--output-dir", out],
                   check=True, capture_output=True, text=True)
    return np.load(os.path.join(out, "y.npy"))


def cosine(a, b):
    a = a.reshape(-1).astype(np.float64)
    b = b.reshape(-1).astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--target", choices=["cpu", "cuda-emu"],
                        default="cpu")
    args = parser.parse_args()
    target = (["--target=cuda", "--cuda-arch=none"]
              if args.target == "cuda-emu" else [])
    # The tools' advice to pre-process the (already simple) models.
    logging.getLogger().setLevel(logging.ERROR)
    kiln = os.path.join(args.bin, "kiln")
    os.makedirs(args.work, exist_ok=True)
    failures = 0
    print(f"{'model':18} {'ops':40} {'max diff':>9} {'cos ref':>9} "
          f"{'cos ort':>9} {'cos fp32':>9}")
    for name, graph, shape in [("cnn", cnn(), [1, 3, 32, 32]),
                               ("mlp", mlp(), [1, 24, 64])]:
        work = os.path.join(args.work, name)
        os.makedirs(work, exist_ok=True)
        fp32 = os.path.join(work, "fp32.onnx")
        save(graph, fp32)
        for form, path in quantized_forms(fp32, shape, work):
            ops = sorted({node.op_type for node in onnx.load(path).graph.node
                          if node.op_type not in ("Relu", "Flatten", "Add",
                                                  "GlobalAveragePool")})
            package = path.replace(".onnx", ".kiln")
            compiled = subprocess.run([kiln, "compile", path, "-o", package]
                                      + target,
                                      capture_output=True, text=True)
            if compiled.returncode != 0:
                print(f"{name + '/' + form:18} FAILED to compile: "
                      f"{compiled.stderr.strip()}")
                failures += 1
                continue
            worst_diff, worst_cos, cos_ort, cos_fp32 = 0.0, 1.0, 1.0, 1.0
            reference = ReferenceEvaluator(path)
            for x in draw(shape, 4, seed=20):
                ours = kiln_run(kiln, package, x, work, args.target)
                ref = reference.run(None, {"x": x})[0]
                worst_diff = max(worst_diff, float(
                    np.abs(ours - ref).max() / np.abs(ref).max()))
                worst_cos = min(worst_cos, cosine(ours, ref))
                cos_ort = min(cos_ort, cosine(ours, ort_run(path, x)))
                cos_fp32 = min(cos_fp32, cosine(ours, ort_run(fp32, x)))
            ok = (worst_diff <= MAX_DIFF and worst_cos >= MIN_COSINE and
                  cos_ort >= MIN_COSINE_ORT)
            failures += not ok
            print(f"{name + '/' + form:18} {','.join(ops):40} "
                  f"{worst_diff:9.4f} {worst_cos:9.6f} {cos_ort:9.6f} "
                  f"{cos_fp32:9.6f}{'' if ok else '  FAILED'}")
    print(f"ort_quantized: {'FAILED' if failures else 'passed'} "
          f"({failures} failures)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
