#!/usr/bin/env python3
"""Times the real-architecture models on Kiln and, where installed,
onnxruntime, with the same inputs and thread count in the same run.

    bench_models.py --bin build/bin --models DIR [--threads N]
                    [--iterations N] [--warmup N]

Kiln's numbers come from `kiln bench --json`; onnxruntime's from an
InferenceSession (CPU execution provider, intra-op threads = N, one
inter-op thread). Both report the median of warm runs. Prints a table
with the ratio Kiln / onnxruntime (below 1: Kiln is faster).
"""

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np


def kiln_median(kiln, models, name, work, threads, iterations, warmup):
    package = os.path.join(work, name + ".kiln")
    subprocess.run([kiln, "compile", os.path.join(models, name + ".onnx"),
                    "-o", package], check=True, capture_output=True)
    arguments = [kiln, "bench", package, "--json", "--threads", str(threads),
                 "--iterations", str(iterations), "--warmup", str(warmup)]
    prefix = os.path.join(models, name + ".input.")
    for path in sorted(glob.glob(prefix + "*.npy")):
        arguments += ["--input", f"{path[len(prefix):-4]}={path}"]
    result = subprocess.run(arguments, check=True, capture_output=True,
                            text=True)
    return json.loads(result.stdout)["median_ms"]


def onnxruntime_median(models, name, threads, iterations, warmup):
    try:
        import onnxruntime
    except ImportError:
        return None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    session = onnxruntime.InferenceSession(
        os.path.join(models, name + ".onnx"), options,
        providers=["CPUExecutionProvider"])
    prefix = os.path.join(models, name + ".input.")
    feeds = {path[len(prefix):-4]: np.load(path)
             for path in glob.glob(prefix + "*.npy")}
    for _ in range(warmup):
        session.run(None, feeds)
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--models", required=True)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    kiln = os.path.join(args.bin, "kiln")
    names = sorted(os.path.basename(p)[:-5]
                   for p in glob.glob(os.path.join(args.models, "*.onnx")))
    print(f"threads: {args.threads}, median of {args.iterations} warm runs "
          f"after {args.warmup}")
    print(f"{'model':<14} {'kiln ms':>10} {'onnxruntime ms':>15} "
          f"{'kiln/ort':>9}")
    with tempfile.TemporaryDirectory(prefix="kiln-bench-") as work:
        for name in names:
            ours = kiln_median(kiln, args.models, name, work, args.threads,
                               args.iterations, args.warmup)
            theirs = onnxruntime_median(args.models, name, args.threads,
                                        args.iterations, args.warmup)
            ratio = f"{ours / theirs:9.2f}" if theirs else f"{'-':>9}"
            theirs_text = f"{theirs:15.3f}" if theirs else f"{'(absent)':>15}"
            print(f"{name:<14} {ours:10.3f} {theirs_text} {ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
