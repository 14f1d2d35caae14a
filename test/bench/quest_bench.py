#!/usr/bin/env python3
"""Times Quest's sparse decode attention against Kiln's dense attention.

    quest_bench.py --bin BUILD/bin --work DIR [--contexts 4096,16384,32768]
                   [--budgets 512,1024,2048,4096] [--page 16]
                   [--threads 1,2] [--steps 16] [--json FILE]

One decoder layer of SmolLM2's attention shapes (9 query heads, 3
key/value heads of 64, random weights: tools/llm/make_test_gguf.py)
compiled with the session cache, densely and with `--quest-budget` B
(`--quest-dense-layers=0`, pages of `--page` tokens). For each context, `kiln generate` fills the
cache with that many tokens (a dense prefill), then decodes `--steps`
tokens with `--profile`; a step's attention is the sum of its attention
kernels (for Quest: the bounds' update, the page scores, the selection and
the attention over the chosen pages), and the table gives the median over
the decode steps, Quest's and dense in the same run, and their ratio.
Bytes a dense step reads: the whole cache; a Quest step: the bounds (two
rows a page) and B tokens' keys and values.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools", "llm"))
import export_onnx  # noqa: E402
import gguf_llama  # noqa: E402
import llama  # noqa: E402

HEADS, KV_HEADS, HEAD_DIM = 9, 3, 64


def build_model(work):
    gguf_path = os.path.join(work, "attention.gguf")
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "llm",
                                                 "make_test_gguf.py"),
                    gguf_path, "--layers", "1",
                    "--hidden", str(HEADS * HEAD_DIM), "--heads", str(HEADS),
                    "--kv-heads", str(KV_HEADS), "--ffn", "64"], check=True)
    config, weights, _ = gguf_llama.load(gguf_path)
    onnx_path = os.path.join(work, "attention.onnx")
    export_onnx.export(llama.Llama(config, weights).eval(), onnx_path)
    return onnx_path


def attention_ms(trace_path):
    """Per decode run (runs after the prefill), the milliseconds of its
    attention kernels: the events named after the Softmax node's fusion."""
    with open(trace_path) as f:
        events = json.load(f)["traceEvents"]
    runs = {}
    for event in events:
        run = event["args"]["run"]
        if run == 0 or "Softmax" not in event["name"]:
            continue
        runs[run] = runs.get(run, 0.0) + event["dur"] / 1000.0
    return [runs[run] for run in sorted(runs)]


def decode_step(kiln, package, context, steps, threads, work):
    prompt = ",".join(str(10 + i % 90) for i in range(context))
    trace = os.path.join(work, "trace.json")
    result = subprocess.run(
        [kiln, "generate", package, "--prompt-ids", prompt, "--max-tokens",
         str(steps + 1), "--ids", "--ignore-eos", "--threads", str(threads),
         "--profile", trace], check=True, capture_output=True, text=True)
    per_step = attention_ms(trace)
    assert len(per_step) == steps, (len(per_step), result.stderr)
    return statistics.median(per_step)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--contexts", default="4096,16384,32768")
    parser.add_argument("--budgets", default="512,1024,2048,4096")
    parser.add_argument("--page", type=int, default=16)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--json")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    kiln = os.path.join(args.bin, "kiln")
    contexts = [int(c) for c in args.contexts.split(",")]
    budgets = [int(b) for b in args.budgets.split(",")]
    threads = [int(t) for t in args.threads.split(",")]
    onnx_path = build_model(args.work)
    capacity = max(contexts) + args.steps + 16

    packages = {}
    for budget in [0] + budgets:
        path = os.path.join(args.work, f"quest{budget}-{args.page}.kiln")
        options = [f"--quest-budget={budget}", f"--quest-page={args.page}",
                   "--quest-dense-layers=0"] if budget else []
        subprocess.run([kiln, "compile", onnx_path, "--kv-cache=session",
                        f"--max-context={capacity}", *options, "-o", path],
                       check=True)
        packages[budget] = path

    rows = []
    print("| threads | context | dense attention ms | " +
          " | ".join(f"Quest {b} ms (x)" for b in budgets) + " |")
    print("|---|---|---|" + "---|" * len(budgets))
    for thread_count in threads:
        for context in contexts:
            dense = decode_step(kiln, packages[0], context, args.steps,
                                thread_count, args.work)
            cells, row = [], {"threads": thread_count, "context": context,
                              "dense_ms": dense, "quest_ms": {}}
            for budget in budgets:
                quest = decode_step(kiln, packages[budget], context,
                                    args.steps, thread_count, args.work)
                row["quest_ms"][budget] = quest
                cells.append(f"{quest:.3f} ({dense / quest:.2f}x)")
            rows.append(row)
            print(f"| {thread_count} | {context} | {dense:.3f} | " +
                  " | ".join(cells) + " |", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
