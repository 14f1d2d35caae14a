#!/usr/bin/env python3
"""W8A8 on CNNs and an encoder: Kiln's SmoothQuant packages against Kiln
FP32 and against onnxruntime's own static quantization, same run.

    w8a8_bench.py --bin BIN --models DIR --work DIR [--threads 2]
                  [--calibration 16] [--held-apart 4] [--json FILE]

For each model of the benchmark suite that W8A8 is for (ResNet-50,
MobileNetV2, the BERT-sized encoder; test/bench/make_bench_models.py
builds them, random weights), it draws calibration inputs and other,
held-apart inputs of the suite input's shape and distribution (fixed
seeds), compiles Kiln FP32 and Kiln `--quantize=w8a8` calibrated on the
calibration inputs, and onnxruntime's `quantize_static` (QDQ, signed
8-bit activations and weights per channel, the same calibration inputs),
then reports the W8A8 logits' worst cosine similarity to FP32 over the
held-apart inputs and the median times (bench_suite.py's interleaved
rounds) of all four.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from bench_suite import (ROUNDS, KilnTimer, inputs_of,  # noqa: E402
                         onnxruntime_timer)

MODELS = ["resnet50", "mobilenet_v2", "bert_encoder"]


def draw(example, count, seed):
    """`count` inputs like `example` (the suite's are standard normal)."""
    rng = np.random.default_rng(seed)
    return [{name: rng.standard_normal(value.shape).astype(value.dtype)
             for name, value in example.items()} for _ in range(count)]


def kiln_outputs(kiln, package, feeds, work):
    """The first output of `package` on `feeds`, flattened."""
    out = tempfile.mkdtemp(dir=work)
    arguments = [kiln, "run", package, "--output-dir", out]
    for name, value in feeds.items():
        path = os.path.join(out, name + ".in.npy")
        np.save(path, value)
        arguments += ["--input", f"{name}={path}"]
    subprocess.run(arguments, check=True, capture_output=True)
    outputs = sorted(f for f in os.listdir(out) if not f.endswith(".in.npy"))
    return np.load(os.path.join(out, outputs[0])).reshape(-1)


def cosine(a, b):
    a, b = a.astype(np.float64), b.astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def ort_quantized(path, calibration, out):
    """onnxruntime's quantize_static model of `path`, or None."""
    try:
        from onnxruntime.quantization import (CalibrationDataReader,
                                              QuantFormat, QuantType,
                                              quantize_static)
        from onnxruntime.quantization.shape_inference import \
            quant_pre_process
    except ImportError:
        return None

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.samples = iter(calibration)

        def get_next(self):
            return next(self.samples, None)

    prepared = out + ".pre.onnx"
    quant_pre_process(path, prepared)
    quantize_static(prepared, out, Reader(), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QInt8,
                    weight_type=QuantType.QInt8, per_channel=True)
    return out


def ort_outputs(path, feeds):
    import onnxruntime
    session = onnxruntime.InferenceSession(
        path, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)[0].reshape(-1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--models", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--calibration", type=int, default=16)
    parser.add_argument("--held-apart", type=int, default=4)
    parser.add_argument("--only", default=",".join(MODELS))
    parser.add_argument("--json")
    args = parser.parse_args()
    kiln = os.path.join(args.bin, "kiln")
    os.makedirs(args.work, exist_ok=True)
    results = {}
    print("| model | W8A8 cosine to FP32 (worst) | onnxruntime QDQ cosine | "
          "Kiln FP32 ms | Kiln W8A8 ms | onnxruntime FP32 ms | "
          "onnxruntime QDQ ms | W8A8 vs Kiln FP32 | vs onnxruntime QDQ |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.only.split(","):
        path = os.path.join(args.models, name + ".onnx")
        inputs = inputs_of(args.models, name)
        example = {key: np.load(value) for key, value in inputs.items()}
        calibration = draw(example, args.calibration, seed=1)
        held_apart = draw(example, args.held_apart, seed=2)
        samples = os.path.join(args.work, name + "-calibration")
        os.makedirs(samples, exist_ok=True)
        for i, feeds in enumerate(calibration):
            np.savez(os.path.join(samples, f"{i:03d}.npz"), **feeds)

        packages = {}
        for label, flags in (("fp32", []),
                             ("w8a8", ["--quantize=w8a8", "--calibration",
                                       samples])):
            package = os.path.join(args.work, f"{name}.{label}.kiln")
            if not os.path.exists(package):
                subprocess.run([kiln, "compile", path, "-o", package, *flags],
                               check=True)
            packages[label] = package
        qdq = os.path.join(args.work, name + ".qdq.onnx")
        if not os.path.exists(qdq):
            qdq = ort_quantized(path, calibration, qdq)

        kiln_cosine = min(
            cosine(kiln_outputs(kiln, packages["fp32"], feeds, args.work),
                   kiln_outputs(kiln, packages["w8a8"], feeds, args.work))
            for feeds in held_apart)
        ort_cosine = None
        if qdq:
            ort_cosine = min(cosine(ort_outputs(path, feeds),
                                    ort_outputs(qdq, feeds))
                             for feeds in held_apart)

        timers = {label: KilnTimer(kiln, package, inputs, args.threads, 20, 3)
                  for label, package in packages.items()}
        if qdq:
            timers["ort_fp32"] = onnxruntime_timer(path, example,
                                                   args.threads, 20, 3)
            timers["ort_qdq"] = onnxruntime_timer(qdq, example, args.threads,
                                                  20, 3)
        for _ in range(ROUNDS):
            for timer in timers.values():
                timer.round()
        ms = {label: timer.median() for label, timer in timers.items()}
        results[name] = {"cosine": kiln_cosine, "ort_cosine": ort_cosine,
                         "ms": ms}

        def cell(value, form="{:.2f}"):
            return "" if value is None else form.format(value)

        print(f"| {name} | {kiln_cosine:.4f} | {cell(ort_cosine, '{:.4f}')} "
              f"| {ms['fp32']:.2f} | {ms['w8a8']:.2f} "
              f"| {cell(ms.get('ort_fp32'))} | {cell(ms.get('ort_qdq'))} "
              f"| {ms['fp32'] / ms['w8a8']:.2f}x "
              f"| {cell(ms.get('ort_qdq') and ms['ort_qdq'] / ms['w8a8'], '{:.2f}x')} |",
              flush=True)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=1)


if __name__ == "__main__":
    main()
