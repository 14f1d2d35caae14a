#!/usr/bin/env python3
"""The LLM benchmark: a decoder from a GGUF file (SmolLM2-135M-Instruct by
default) on Kiln (FP32, BF16 and W4A16 -- 4-bit weights in groups of 64,
round to nearest -- with the session cache; and FP32 on the plain graph,
past and present caches as inputs and outputs, as `kiln run` and the C
API's users without a session run it), onnxruntime (FP32, the
same ONNX file, past and present caches as inputs and outputs) and
llama.cpp (llama-cpp-python, the original GGUF), at 1 and 2 threads:
prefill of a 512-token prompt in tokens/s, and decode in ms per token
after a prompt of 128, 1,024 and 4,096 tokens (per token: the median of
the steps, or for `kiln generate` their mean; with --rounds N, each
engine's median over N rounds in which the engines take turns).
Also the bandwidth a Kiln decode step achieves: the bytes of weights and
cache it reads per token over its time, against the machine's streaming
read (test/bench/read_bandwidth.c).

    llm_bench.py --bin BUILD/bin --gguf MODEL.gguf --work DIR
                 [--threads 1,2] [--contexts 128,1024,4096] [--prefill 512]
                 [--steps 16] [--rounds 1] [--json FILE]

The prompt is the GPL-3 text's tokens, repeated where it is too short.
Packages and the ONNX export are kept in --work between runs. Runs on the
machine as it is: the numbers are medians, and each row's engines run one
after the other in the same process tree. Memory-bound decode steps move
with what else the machine does (and with how much of the weights its L3
keeps), so ratios such as BF16's over FP32's are steadier with a few
rounds: each round measures every engine once, in turn, and the speed
of each Kiln engine over Kiln FP32's is the median of the rounds' ratios.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
GPL3 = "/usr/share/common-licenses/GPL-3"
LLM_PYTHON = os.path.join(ROOT, "build", "llm-venv", "bin", "python")


def prompt_tokens(kiln, gguf, count):
    out = subprocess.run([kiln, "tokenize", gguf, "--text", GPL3],
                         check=True, capture_output=True, text=True).stdout
    tokens = [int(t) for t in out.split()]
    while len(tokens) < count:
        tokens += tokens
    return tokens[:count]


def prepare(args, capacity):
    """The ONNX export and the Kiln packages, made once in --work."""
    os.makedirs(args.work, exist_ok=True)
    onnx_path = os.path.join(args.work, "model.onnx")
    if not os.path.exists(onnx_path):
        subprocess.run([LLM_PYTHON, os.path.join(ROOT, "tools", "llm",
                                                 "export_onnx.py"),
                        args.gguf, "-o", onnx_path], check=True)
    packages = {}
    # Decode speed does not depend on how the 4-bit weights were chosen:
    # round to nearest needs no calibration.
    options = {"fp32": ["--precision=fp32"], "bf16": ["--precision=bf16"],
               "w4a16": ["--quantize=w4a16", "--quantize-method=rtn",
                         "--group-size=64"]}
    for precision, flags in options.items():
        path = os.path.join(args.work, f"session-{precision}-{capacity}.kiln")
        if not os.path.exists(path):
            subprocess.run([os.path.join(args.bin, "kiln"), "compile",
                            onnx_path, "--kv-cache=session",
                            f"--max-context={capacity}", *flags, "-o", path],
                           check=True)
        packages[precision] = path
    plain = os.path.join(args.work, "plain-fp32.kiln")
    if not os.path.exists(plain):
        subprocess.run([os.path.join(args.bin, "kiln"), "compile", onnx_path,
                        "-o", plain], check=True)
    return onnx_path, packages, plain


STATS = re.compile(r"prefill (\d+) tokens in ([\d.]+) ms .*decode (\d+) "
                   r"tokens in ([\d.]+) ms")


def kiln_run(kiln, package, tokens, steps, threads):
    """(prefill ms, decode ms per token) of `kiln generate`."""
    result = subprocess.run(
        [kiln, "generate", package, "--prompt-ids", ",".join(map(str, tokens)),
         "--max-tokens", str(steps + 1), "--ignore-eos", "--ids",
         f"--threads={threads}"], check=True, capture_output=True, text=True)
    match = STATS.search(result.stderr)
    return float(match.group(2)), float(match.group(4)) / int(match.group(3))


class KilnPlainDecoder:
    """The plain graph through `kiln bench`: a run of `tokens` new tokens
    after a past of `past` tokens, the median of `steps` runs. Its inputs
    are random (token ids, positions and mask zero), which changes nothing
    of a run's time."""

    def __init__(self, kiln, package, threads):
        self.kiln, self.package, self.threads = kiln, package, threads

    def run_ms(self, tokens, past, runs, warmup=1):
        dims = {"batch_size": 1, "sequence_length": tokens,
                "past_sequence_length": past,
                "total_sequence_length": past + tokens}
        out = subprocess.run(
            [self.kiln, "bench", self.package, "--json",
             f"--threads={self.threads}", f"--iterations={runs}",
             f"--warmup={warmup}", *[f"--dim={k}={v}" for k, v in dims.items()]],
            check=True, capture_output=True, text=True).stdout
        return json.loads(out)["median_ms"]

    def measure(self, tokens, steps):
        # One cold prefill, as `kiln generate` times it, then the steps.
        return (self.run_ms(len(tokens), 0, 1, warmup=0),
                self.run_ms(1, len(tokens), steps))


class OnnxRuntimeDecoder:
    """The plain graph on onnxruntime: every step takes the past caches and
    returns the present ones."""

    def __init__(self, path, threads):
        import onnxruntime
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            path, options, providers=["CPUExecutionProvider"])
        self.pasts = [i for i in self.session.get_inputs()
                      if i.name.startswith("past_key_values.")]

    def run(self, tokens, past):
        cached = past[0].shape[2] if past else 0
        feeds = {"input_ids": np.array([tokens], np.int64),
                 "attention_mask": np.ones((1, cached + len(tokens)), np.int64),
                 "position_ids": np.arange(cached, cached + len(tokens),
                                           dtype=np.int64)[None]}
        if not past:
            past = [np.zeros((1, i.shape[1], 0, i.shape[3]), np.float32)
                    for i in self.pasts]
        feeds.update({i.name: p for i, p in zip(self.pasts, past)})
        outputs = self.session.run(None, feeds)
        return outputs[0], outputs[1:]

    def measure(self, tokens, steps):
        start = time.perf_counter()
        logits, past = self.run(tokens, None)
        prefill = (time.perf_counter() - start) * 1e3
        times, token = [], int(logits[0, -1].argmax())
        for _ in range(steps):
            start = time.perf_counter()
            logits, past = self.run([token], past)
            times.append((time.perf_counter() - start) * 1e3)
            token = int(logits[0, -1].argmax())
        return prefill, statistics.median(times)


class LlamaCppDecoder:
    def __init__(self, gguf, threads, capacity):
        from llama_cpp import Llama
        self.llm = Llama(model_path=gguf, n_ctx=capacity, n_threads=threads,
                         n_threads_batch=threads, n_batch=512, verbose=False)

    def measure(self, tokens, steps):
        self.llm.reset()
        start = time.perf_counter()
        self.llm.eval(tokens)
        prefill = (time.perf_counter() - start) * 1e3
        # The tokens fed do not change a step's time: the prompt's first
        # ones, rather than logits llama-cpp-python keeps only per batch.
        times = []
        for token in tokens[:steps]:
            start = time.perf_counter()
            self.llm.eval([token])
            times.append((time.perf_counter() - start) * 1e3)
        return prefill, statistics.median(times)


def in_child(name, compute):
    """compute()'s result for engine `name`, computed in a forked process
    so that a peer's native crash (llama.cpp's AMX backend segfaults on
    some Sapphire Rapids machines) costs its row, not the table: None,
    reported, when the process fails or the engine is not installed."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            payload = json.dumps({"row": compute()})
        except ImportError:
            payload = json.dumps({"error": "not installed"})
        except Exception as error:  # noqa: BLE001 - reported by the parent
            payload = json.dumps({"error": repr(error)})
        with os.fdopen(write, "w") as out:
            out.write(payload)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as data:
        payload = data.read()
    _, status = os.waitpid(pid, 0)
    result = json.loads(payload) if payload else {
        "error": f"crashed (signal {os.WTERMSIG(status)})"
        if os.WIFSIGNALED(status) else f"exit {os.WEXITSTATUS(status)}"}
    if "error" in result:
        print(f"llm_bench: {name}: {result['error']}; no row",
              file=sys.stderr)
        return None
    return result["row"]


def streaming_bandwidth(work):
    """GB/s of one and two threads reading memory."""
    binary = os.path.join(work, "read_bandwidth")
    # Built each time (a second), so that it is the source as it is now.
    subprocess.run(["cc", "-O3", "-march=native", "-fopenmp",
                    os.path.join(ROOT, "test", "bench", "read_bandwidth.c"),
                    "-o", binary], check=True)
    out = subprocess.run([binary], check=True, capture_output=True,
                         text=True).stdout
    return {int(m.group(1)): float(m.group(2))
            for m in re.finditer(r"(\d) threads?: ([\d.]+) GB/s", out)}


def package_facts(kiln, package):
    facts = json.loads(subprocess.run([kiln, "inspect", package, "--json"],
                                      check=True, capture_output=True,
                                      text=True).stdout)
    cache = facts["kv_cache"]
    per_token = sum(4 * c["shape"][1] * c["shape"][3]
                    for c in cache["caches"])
    return facts["memory_plan"]["weights_bytes"], per_token


def median_rows(rounds):
    """One row per engine of the rounds' rows (lists of rows, one per
    engine that ran): each number the median of that engine's rounds."""
    by_engine = {}
    for rows_now in rounds:
        for row in rows_now:
            by_engine.setdefault(row["engine"], []).append(row)
    merged = []
    for engine_rows in by_engine.values():
        row = dict(engine_rows[0])
        for key, value in row.items():
            if isinstance(value, float):
                row[key] = statistics.median(r[key] for r in engine_rows)
        row["rounds"] = len(engine_rows)
        merged.append(row)
    return merged


def speedups(rounds, contexts, base="kiln-fp32"):
    """Per Kiln engine and context, its decode speed over `base`'s: the
    median over the rounds of each round's ratio (both measured minutes
    apart at most)."""
    ratios = {}
    for rows_now in rounds:
        by_engine = {row["engine"]: row for row in rows_now}
        if base not in by_engine:
            continue
        for name, row in by_engine.items():
            if name == base or not name.startswith("kiln"):
                continue
            for context in contexts:
                key = f"decode_ms_{context}"
                ratios.setdefault(name, {}).setdefault(context, []).append(
                    by_engine[base][key] / row[key])
    return {name: {c: statistics.median(r) for c, r in per.items()}
            for name, per in ratios.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--gguf", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--contexts", default="128,1024,4096")
    parser.add_argument("--prefill", type=int, default=512)
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure every engine this many times, in "
                             "turns, and report each number's median")
    parser.add_argument("--engines",
                        default="kiln-fp32,kiln-bf16,kiln-w4a16,"
                                "kiln-fp32-plain,onnxruntime,llama.cpp")
    parser.add_argument("--json")
    args = parser.parse_args()
    kiln = os.path.join(args.bin, "kiln")
    threads = [int(t) for t in args.threads.split(",")]
    contexts = [int(c) for c in args.contexts.split(",")]
    capacity = (max(contexts + [args.prefill]) + args.steps + 16 + 15) // 16 * 16
    onnx_path, packages, plain = prepare(args, capacity)
    tokens = prompt_tokens(kiln, args.gguf, max(contexts + [args.prefill]))
    bandwidth = streaming_bandwidth(args.work)
    facts = {p: package_facts(kiln, path) for p, path in packages.items()}

    rows, speedup_lines = [], []
    for count in threads:
        engines = {f"kiln-{p}": (lambda t, s, path=path:
                                 kiln_run(kiln, path, t, s, count))
                   for p, path in packages.items()}
        engines["kiln-fp32-plain"] = KilnPlainDecoder(kiln, plain,
                                                      count).measure
        wanted = args.engines.split(",")
        try:
            if "onnxruntime" in wanted:
                engines["onnxruntime"] = OnnxRuntimeDecoder(onnx_path,
                                                            count).measure
        except ImportError:
            print("llm_bench: no onnxruntime; skipping it", file=sys.stderr)

        def measured(name, measure):
            prefill_ms, _ = measure(tokens[:args.prefill], 1)
            row = {"engine": name, "threads": count,
                   "prefill_tokens_per_s": args.prefill / prefill_ms * 1e3}
            for context in contexts:
                _, step_ms = measure(tokens[:context], args.steps)
                row[f"decode_ms_{context}"] = step_ms
                if name.startswith("kiln"):
                    # The plain graph also copies its past into the present
                    # outputs, which is not counted as reading.
                    weights, per_token = facts[name.split("-")[1]]
                    read = weights + per_token * (context + args.steps // 2)
                    row[f"bandwidth_gbs_{context}"] = read / step_ms / 1e6
            return row

        rounds = []
        for _ in range(max(args.rounds, 1)):
            rows_now = [measured(name, measure)
                        for name, measure in engines.items() if name in wanted]
            if "llama.cpp" in wanted:
                row = in_child("llama.cpp", lambda: measured(
                    "llama.cpp",
                    LlamaCppDecoder(args.gguf, count, capacity).measure))
                if row is not None:
                    rows_now.append(row)
            for row in rows_now:
                print(json.dumps(row), file=sys.stderr)
            rounds.append(rows_now)
        rows.extend(median_rows(rounds))
        for name, per in speedups(rounds, contexts).items():
            speedup_lines.append(
                f"{name} decode over kiln-fp32's, {count} thread"
                f"{'s' if count > 1 else ''}: " + ", ".join(
                    f"{ratio:.2f}x @{c}" for c, ratio in per.items()))

    header = ("| engine | threads | prefill tok/s | " +
              " | ".join(f"decode ms @{c}" for c in contexts) +
              " | Kiln GB/s @" + "/".join(map(str, contexts)) + " |")
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for row in rows:
        gbs = "/".join(f"{row[f'bandwidth_gbs_{c}']:.1f}" for c in contexts) \
            if f"bandwidth_gbs_{contexts[0]}" in row else ""
        print(f"| {row['engine']} | {row['threads']} | "
              f"{row['prefill_tokens_per_s']:.0f} | " +
              " | ".join(f"{row[f'decode_ms_{c}']:.1f}" for c in contexts) +
              f" | {gbs} |")
    for line in speedup_lines:
        print(line)
    print("streaming read: " + ", ".join(
        f"{t} thread{'s' if t > 1 else ''} {g:.1f} GB/s"
        for t, g in sorted(bandwidth.items())))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "bandwidth": bandwidth}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
