#!/usr/bin/env python3
"""Times the benchmark suite on Kiln, onnxruntime and OpenVINO: the same
models, inputs and thread count, in one run.

    bench_suite.py --bin build/bin --models DIR [--threads 1,2]
                   [--iterations N] [--warmup N] [--only NAME,...]
                   [--json FILE]

DIR is what make_bench_models.py wrote. Kiln's numbers come from
`kiln bench --json` on a package compiled for this CPU; onnxruntime's from
an InferenceSession (CPU execution provider, intra-op threads = N, one
inter-op thread, sequential execution); OpenVINO's from a compiled model on
"CPU" with INFERENCE_NUM_THREADS = N and the LATENCY hint, once pinned to
FP32 (INFERENCE_PRECISION_HINT=f32, the like-for-like row) and once with
its defaults (BF16 where the CPU has AVX512_BF16). Kiln runs twice too:
FP32, and `--precision=bf16`. Each is the median of warm runs: at least
the iterations asked for, and at least two seconds of them. The ratio is
Kiln's FP32 time over the faster FP32 peer (below 1: Kiln is faster);
the BF16 ratio is Kiln's BF16 time over OpenVINO's default; the last line
of each thread count is the geometric mean of the ratios. The runtimes take
turns: five rounds, each timing every runtime in turn for at least a fifth
of the two seconds, and each time is the median of its rounds' medians, so
that a burst of load on the shared machine falls on all of them alike. The BF16
accuracy column is the largest difference of Kiln's BF16 outputs from
onnxruntime's FP32 ones, relative to the largest FP32 output. A peer that
is not installed leaves its column empty.

Memory: for each model, at the largest thread count, a fresh process loads
the model, its inputs and a session and runs it three times; the table
shows how much its peak resident memory (VmHWM) grew over the same process
before (after its imports, or `kiln --version`'s peak for `kiln bench`):
the weights as the runtime holds them, the session's workspace and
buffers, inputs and outputs.
"""

import argparse
import glob
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np


def inputs_of(models, name):
    prefix = os.path.join(models, name + ".input.")
    return {path[len(prefix):-4]: path
            for path in sorted(glob.glob(prefix + "*.npy"))}


# Each measurement runs for at least this long in all (more iterations
# than asked for a fast model), in ROUNDS turns interleaved with the other
# runtimes', so that a burst of noise on the shared machine moves few of
# its runs and falls on every runtime alike.
MIN_SECONDS = 2.0
ROUNDS = 5
IDLE_SECONDS = 0.2


def enough_iterations(run_ms, iterations):
    """Iterations for one round: its share of the asked-for iterations and
    of MIN_SECONDS."""
    share = max(math.ceil(iterations / ROUNDS),
                math.ceil(MIN_SECONDS * 1000 / ROUNDS / run_ms))
    return min(1000, share)


class Timer:
    """A runtime's warm runs, timed one round at a time."""

    def __init__(self, run, iterations, warmup):
        self.run, self.iterations, self.warmup = run, iterations, warmup
        self.count = None
        self.medians = []

    def round(self):
        if self.count is None:
            for _ in range(self.warmup):
                self.run()
            start = time.perf_counter()
            self.run()
            self.count = enough_iterations(
                (time.perf_counter() - start) * 1000.0, self.iterations)
        times = []
        for _ in range(self.count):
            start = time.perf_counter()
            self.run()
            times.append((time.perf_counter() - start) * 1000.0)
        self.medians.append(statistics.median(times))

    def median(self):
        return statistics.median(self.medians) if self.medians else None


def kiln_compile(kiln, models, name, work, precision="fp32"):
    """The package and the compile time, or None and Kiln's error."""
    package = os.path.join(work, f"{name}.{precision}.kiln")
    start = time.perf_counter()
    result = subprocess.run([kiln, "compile",
                             os.path.join(models, name + ".onnx"), "-o",
                             package, "--precision=" + precision],
                            capture_output=True, text=True)
    if result.returncode != 0:
        return None, result.stderr.strip().splitlines()[0]
    return package, time.perf_counter() - start


class KilnTimer(Timer):
    """`kiln bench` for each round (it warms up every time)."""

    def __init__(self, kiln, package, inputs, threads, iterations, warmup):
        super().__init__(None, iterations, warmup)
        self.arguments = [kiln, "bench", package, "--json", "--threads",
                          str(threads)]
        for input_name, path in inputs.items():
            self.arguments += ["--input", f"{input_name}={path}"]

    def bench(self, count, warm):
        result = subprocess.run(
            self.arguments + ["--iterations", str(count), "--warmup",
                              str(warm)],
            check=True, capture_output=True, text=True)
        return json.loads(result.stdout)["median_ms"]

    def round(self):
        if self.count is None:
            self.count = enough_iterations(self.bench(3, 1), self.iterations)
        self.medians.append(self.bench(self.count, self.warmup))


def kiln_error(kiln, package, inputs, path, feeds, work):
    """Kiln's largest output difference from onnxruntime's FP32 outputs,
    relative to the largest of them; None without onnxruntime."""
    try:
        import onnxruntime
    except ImportError:
        return None
    session = onnxruntime.InferenceSession(
        path, providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    out = tempfile.mkdtemp(dir=work)
    arguments = [kiln, "run", package, "--output-dir", out]
    for input_name, input_path in inputs.items():
        arguments += ["--input", f"{input_name}={input_path}"]
    subprocess.run(arguments, check=True, capture_output=True)
    worst = 0.0
    for name, reference in zip(names, session.run(None, feeds)):
        result = np.load(os.path.join(out, name + ".npy"))
        scale = max(float(np.abs(reference).max()), 1e-30)
        worst = max(worst, float(np.abs(result - reference).max()) / scale)
    return worst


def onnxruntime_timer(path, feeds, threads, iterations, warmup):
    try:
        import onnxruntime
    except ImportError:
        return None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    session = onnxruntime.InferenceSession(
        path, options, providers=["CPUExecutionProvider"])
    return Timer(lambda: session.run(None, feeds), iterations, warmup)


def openvino_timer(path, feeds, threads, iterations, warmup, precision):
    try:
        import openvino
    except ImportError:
        return None
    config = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
    if precision:
        config["INFERENCE_PRECISION_HINT"] = precision
    compiled = openvino.Core().compile_model(path, "CPU", config)
    request = compiled.create_infer_request()
    return Timer(lambda: request.infer(feeds), iterations, warmup)


# A child process's peak resident memory growth, in MB: Python peers print
# it; for Kiln, `kiln bench`'s peak less `kiln --version`'s.
PEER_MEMORY = r'''
import sys, numpy as np
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024.0
runtime, path, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
if runtime == "onnxruntime":
    import onnxruntime
else:
    import openvino
base = status("VmRSS")
feeds = {a.split("=", 1)[0]: np.load(a.split("=", 1)[1]) for a in sys.argv[4:]}
if runtime == "onnxruntime":
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(path, options,
                                           providers=["CPUExecutionProvider"])
    run = lambda: session.run(None, feeds)
else:
    compiled = openvino.Core().compile_model(
        path, "CPU", {"INFERENCE_NUM_THREADS": threads,
                      "PERFORMANCE_HINT": "LATENCY",
                      "INFERENCE_PRECISION_HINT": "f32"})
    request = compiled.create_infer_request()
    run = lambda: request.infer(feeds)
for _ in range(3):
    run()
print(status("VmHWM") - base)
'''


def peer_memory_mb(runtime, path, inputs, threads):
    arguments = [sys.executable, "-c", PEER_MEMORY, runtime, path,
                 str(threads)]
    arguments += [f"{name}={file}" for name, file in inputs.items()]
    result = subprocess.run(arguments, capture_output=True, text=True)
    if result.returncode != 0:
        return None
    return float(result.stdout.strip().splitlines()[-1])


# A child's peak starts at its parent's resident size (fork copies it), and
# this process holds the peers' libraries: a small process starts the
# child and reports its peak.
PEAK_OF_CHILD = r'''
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(usage.ru_maxrss if status == 0 else -1)
'''


def peak_rss_mb(arguments):
    result = subprocess.run([sys.executable, "-c", PEAK_OF_CHILD, *arguments],
                            capture_output=True, text=True)
    peak = int(result.stdout.strip() or -1)
    return peak / 1024.0 if peak >= 0 else None


def kiln_memory_mb(kiln, package, inputs, threads):
    arguments = [kiln, "bench", package, "--threads", str(threads),
                 "--iterations", "3", "--warmup", "0"]
    for input_name, path in inputs.items():
        arguments += ["--input", f"{input_name}={path}"]
    peak = peak_rss_mb(arguments)
    base = peak_rss_mb([kiln, "--version"])
    return peak - base if peak is not None and base is not None else None


def cell(value, width, digits=2):
    return f"{value:{width}.{digits}f}" if value is not None else f"{'-':>{width}}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--models", required=True)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--only", default="")
    parser.add_argument("--json")
    args = parser.parse_args()
    kiln = os.path.join(args.bin, "kiln")
    threads = [int(t) for t in args.threads.split(",")]
    chosen = set(filter(None, args.only.split(",")))
    names = [os.path.basename(p)[:-5]
             for p in sorted(glob.glob(os.path.join(args.models, "*.onnx")))]
    names = [n for n in names if not chosen or n in chosen]

    rows = []
    with tempfile.TemporaryDirectory(prefix="kiln-bench-") as work:
        for name in names:
            path = os.path.join(args.models, name + ".onnx")
            inputs = inputs_of(args.models, name)
            feeds = {k: np.load(v) for k, v in inputs.items()}
            package, compiled = kiln_compile(kiln, args.models, name, work)
            if not package:
                print(f"bench: {name}: {compiled}", file=sys.stderr)
            bf16_package, bf16_compiled = kiln_compile(
                kiln, args.models, name, work, "bf16")
            if not bf16_package:
                print(f"bench: {name} (bf16): {bf16_compiled}",
                      file=sys.stderr)
            bf16_error = kiln_error(kiln, bf16_package, inputs, path, feeds,
                                    work) if bf16_package else None
            memory_threads = max(threads)
            memory = {
                "kiln_memory_mb": kiln_memory_mb(kiln, package, inputs,
                                                 memory_threads)
                if package else None,
                "onnxruntime_memory_mb": peer_memory_mb(
                    "onnxruntime", path, inputs, memory_threads),
                "openvino_memory_mb": peer_memory_mb(
                    "openvino", path, inputs, memory_threads)}
            for count in threads:
                row = {"model": name, "threads": count,
                       "kiln_compile_s": round(compiled, 2) if package else None,
                       "kiln_error": None if package else compiled}
                timers = {
                    "kiln_ms": KilnTimer(kiln, package, inputs, count,
                                         args.iterations, args.warmup)
                    if package else None,
                    "kiln_bf16_ms": KilnTimer(kiln, bf16_package, inputs,
                                              count, args.iterations,
                                              args.warmup)
                    if bf16_package else None,
                    "onnxruntime_ms": onnxruntime_timer(
                        path, feeds, count, args.iterations, args.warmup),
                    "openvino_f32_ms": openvino_timer(
                        path, feeds, count, args.iterations, args.warmup,
                        "f32"),
                    "openvino_default_ms": openvino_timer(
                        path, feeds, count, args.iterations, args.warmup,
                        None)}
                for _ in range(ROUNDS):
                    for timer in timers.values():
                        if timer:
                            # The peers' thread pools spin for a while after
                            # a run: let them park before the next runtime's
                            # turn, which would otherwise share the cores.
                            time.sleep(IDLE_SECONDS)
                            timer.round()
                for key, timer in timers.items():
                    row[key] = timer.median() if timer else None
                row["kiln_bf16_error"] = bf16_error
                row.update(memory)
                peers = [row[k] for k in ("onnxruntime_ms", "openvino_f32_ms")
                         if row[k] is not None]
                row["ratio_to_best_fp32"] = (
                    row["kiln_ms"] / min(peers)
                    if peers and row["kiln_ms"] else None)
                row["bf16_ratio_to_openvino"] = (
                    row["kiln_bf16_ms"] / row["openvino_default_ms"]
                    if row["kiln_bf16_ms"] and row["openvino_default_ms"]
                    else None)
                rows.append(row)
                print(f"bench: {name} at {count} threads: "
                      f"{json.dumps(row)}", file=sys.stderr, flush=True)

    def geometric_mean(values):
        values = [v for v in values if v]
        if not values:
            return None
        return math.exp(sum(math.log(v) for v in values) / len(values))

    for count in threads:
        print(f"\n{count} thread(s), median of {ROUNDS} interleaved rounds' "
              f"medians (at least {args.iterations} warm runs in all); ratio = Kiln / best of (onnxruntime, "
              f"OpenVINO f32); bf16 ratio = Kiln bf16 / OpenVINO default")
        print(f"{'model':<16} {'kiln ms':>9} {'ort ms':>9} {'ov f32 ms':>10} "
              f"{'ratio':>7} {'kiln bf16':>10} {'ov default':>11} "
              f"{'bf16 ratio':>11} {'bf16 error':>11}")
        chosen_rows = [r for r in rows if r["threads"] == count]
        for row in chosen_rows:
            error = row["kiln_bf16_error"]
            print(f"{row['model']:<16} {cell(row['kiln_ms'], 9)} "
                  f"{cell(row['onnxruntime_ms'], 9)} "
                  f"{cell(row['openvino_f32_ms'], 10)} "
                  f"{cell(row['ratio_to_best_fp32'], 7)} "
                  f"{cell(row['kiln_bf16_ms'], 10)} "
                  f"{cell(row['openvino_default_ms'], 11)} "
                  f"{cell(row['bf16_ratio_to_openvino'], 11)} "
                  f"{'-' if error is None else f'{error:.1e}':>11}")
        fp32 = geometric_mean(r["ratio_to_best_fp32"] for r in chosen_rows)
        bf16 = geometric_mean(r["bf16_ratio_to_openvino"] for r in chosen_rows)
        print(f"{'geometric mean':<16} {'':>9} {'':>9} {'':>10} "
              f"{cell(fp32, 7)} {'':>10} {'':>11} {cell(bf16, 11)}")
    print(f"\npeak memory growth of a process that loads and runs the model "
          f"({max(threads)} threads), MB")
    print(f"{'model':<16} {'kiln':>8} {'ort':>8} {'ov f32':>8} {'ratio':>7}")
    for row in rows:
        if row["threads"] != max(threads):
            continue
        peers = [row[k] for k in ("onnxruntime_memory_mb",
                                  "openvino_memory_mb") if row[k]]
        ratio = (row["kiln_memory_mb"] / min(peers)
                 if peers and row["kiln_memory_mb"] else None)
        print(f"{row['model']:<16} {cell(row['kiln_memory_mb'], 8, 0)} "
              f"{cell(row['onnxruntime_memory_mb'], 8, 0)} "
              f"{cell(row['openvino_memory_mb'], 8, 0)} {cell(ratio, 7)}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(rows, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
