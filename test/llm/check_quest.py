#!/usr/bin/env python3
"""Checks Quest's sparse decode attention (`--quest-budget`) end to end on a
small random-weight decoder of SmolLM2's architecture:
- against a straightforward reference: the PyTorch model whose decode
  steps let each query head see only the keys of the pages Quest picks
  (per page the channel-wise minimum m and maximum M of the cached keys,
  rounded outward to bf16, the bound sum_i max(q_i M_i, q_i m_i), the
  query heads sharing a key/value head taking the sum of theirs, the best
  budget / page - 1 pages and the current one; prefill, the first dense
  layers and contexts within the budget dense): `kiln generate`'s logits
  at every greedy step within the tolerance, and different from the dense
  package's (the selection took keys away);
- the bound property of the reference's bounds: for random keys and
  queries a page's bound is at least every one of its keys' scores;
- with a budget that covers the cache, the logits exactly the dense
  package's, for f32, bf16 and 4-bit caches;
- the same packages compiled for CUDA, on the SIMT emulator (and, given
  real architectures and the stand-in libcuda.so.1, through the driver
  path): the same reference within the tolerance; with a budget that
  covers the cache, exactly the logits of its attentions left dense;
- `kiln inspect` shows the settings; the one-line refusals of a budget
  below one page, a page that is not a multiple of 16, Quest without the
  session cache, and the warning when no attention is left to make sparse.

    check_quest.py --bin BUILD/bin --work DIR [--tolerance T]
                   [--cuda-arch ARCHS --fake-cuda-dir DIR]

Run it with a Python that has PyTorch and `gguf` (scripts/llm-venv makes
build/llm-venv).
"""

import argparse
import os
import subprocess
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools", "llm"))
import export_onnx  # noqa: E402
import gguf_llama  # noqa: E402
import llama  # noqa: E402
from check_llm import (one_line_failure, reference_generation,  # noqa: E402
                       relative_error)

LAYERS = 3
CAPACITY = 640
# CUDA packages for the emulator only: nvcc's compilation is the driver
# path's.
CUDA = ["--target=cuda", "--cuda-arch=none"]


def outward_bf16(values, upward):
    """f32 values (in a float64 tensor) rounded to bf16 away from the
    values they bound: up for a maximum, down for a minimum."""
    bits = values.to(torch.float32).numpy().view(np.uint32)
    kept = bits & np.uint32(0xFFFF0000)
    negative = (bits >> np.uint32(31)) == 1
    away = (kept != bits) & (~negative if upward else negative)
    rounded = kept + away.astype(np.uint32) * np.uint32(0x10000)
    return torch.from_numpy(rounded.view(np.float32)).double()


def page_bounds(keys, page):
    """keys [T, D] (f32 values) -> per page its minimum and maximum rows,
    [P, 2, D], rounded outward to bf16 as Kiln keeps them."""
    pages = -(-keys.shape[0] // page)
    return torch.stack([torch.stack(
        (outward_bf16(keys[p * page:(p + 1) * page].min(0).values, False),
         outward_bf16(keys[p * page:(p + 1) * page].max(0).values, True)))
        for p in range(pages)])


def upper_bounds(queries, bounds):
    """queries [g, D], bounds [P, 2, D] -> per page the sum of the g
    queries' bounds of their scores, [P]."""
    low, high = bounds[:, 0], bounds[:, 1]
    products = torch.maximum(queries[:, None] * high[None],
                             queries[:, None] * low[None])
    return products.sum(-1).sum(0)


def check_bound_property(trials=200):
    """For random keys and queries, every page's bound (from bounds rounded
    outward to bf16) is at least each of its keys' scores (summed over the
    queries that share the page)."""
    generator = torch.Generator().manual_seed(3)
    for _ in range(trials):
        keys = torch.randn(64, 16, generator=generator).double()
        queries = torch.randn(3, 16, generator=generator, dtype=torch.float64)
        bounds = upper_bounds(queries, page_bounds(keys, 16))
        scores = (queries @ keys.t()).sum(0).view(4, 16).max(1).values
        assert bool((bounds >= scores - 1e-12).all()), (bounds, scores)


class QuestReference:
    """Llama.key_selector for Quest: which keys each query head sees."""

    def __init__(self, config, budget, page, dense_layers, keep_first):
        self.config, self.page, self.dense_layers = config, page, dense_layers
        self.keep_first = keep_first
        self.chosen = budget // page
        self.sparse_steps = 0

    def __call__(self, layer, q, k):
        heads, kv_heads = self.config.heads, self.config.kv_heads
        length, total = q.shape[2], k.shape[2]
        pages = -(-total // self.page)
        if layer < self.dense_layers or length != 1 or pages <= self.chosen:
            return None
        self.sparse_steps += 1
        group = heads // kv_heads
        seen = torch.zeros(1, heads, 1, total, dtype=torch.bool)
        for head in range(kv_heads):
            bounds = page_bounds(k[0, head].double(), self.page)
            queries = q[0, head * group:(head + 1) * group, 0].double()
            scores = upper_bounds(queries, bounds[:-1]).tolist()
            if self.keep_first:
                scores[0] = float("inf")
            best = sorted(range(pages - 1),
                          key=lambda p: (-scores[p], p))[:self.chosen - 1]
            for p in sorted(best) + [pages - 1]:
                seen[0, head * group:(head + 1) * group, 0,
                     p * self.page:(p + 1) * self.page] = True
        return seen


def compile_package(kiln, onnx_path, path, *options):
    subprocess.run([kiln, "compile", onnx_path, "--kv-cache=session",
                    f"--max-context={CAPACITY}", *options, "-o", path],
                   check=True)
    return path


def generate(kiln, package, prompt, count, work, device="cpu",
             environment=None):
    logits = os.path.join(work, f"{os.path.basename(package)}.{device}.npy")
    subprocess.run([kiln, "generate", package, f"--device={device}",
                    "--prompt-ids", ",".join(map(str, prompt)),
                    "--max-tokens", str(count), "--ids", "--ignore-eos",
                    "--save-logits", logits],
                   check=True, capture_output=True, env=environment)
    return np.load(logits)


def check_against(name, logits, expected, tolerance):
    """The worst relative error of `logits`' steps from `expected`'s."""
    worst = 0.0
    for step, (row, expected_row) in enumerate(zip(logits, expected)):
        error = relative_error(row, expected_row)
        worst = max(worst, error)
        assert error <= tolerance, \
            f"{name}, step {step}: logits off by {error:.3g}"
    return worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--cuda-arch", default="none",
                        help="architectures of one CUDA package run "
                        "through the driver path (none: emulator only)")
    parser.add_argument("--fake-cuda-dir", default="",
                        help="the stand-in libcuda.so.1's directory")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    kiln = os.path.join(args.bin, "kiln")
    check_bound_property()

    gguf_path = os.path.join(args.work, "tiny.gguf")
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "llm",
                                                 "make_test_gguf.py"),
                    gguf_path, "--layers", str(LAYERS)], check=True)
    config, weights, _ = gguf_llama.load(gguf_path)
    model = llama.Llama(config, weights).eval()
    onnx_path = os.path.join(args.work, "model.onnx")
    export_onnx.export(model, onnx_path)
    vocabulary = config.vocab_size
    rng = np.random.default_rng(11)
    prompt = [int(t) for t in rng.integers(0, vocabulary, 560)]
    steps = 12

    dense = compile_package(kiln, onnx_path,
                            os.path.join(args.work, "dense.kiln"))
    dense_logits = generate(kiln, dense, prompt, steps, args.work)
    driver = args.cuda_arch != "none" and args.fake_cuda_dir
    for budget, page, keep_first in ((48, 16, False), (64, 32, False),
                                     (64, 16, True)):
        name = f"quest{budget}" + ("-first" if keep_first else "")
        settings = [f"--quest-budget={budget}", f"--quest-page={page}",
                    "--quest-dense-layers=1",
                    f"--quest-keep-first-page={str(keep_first).lower()}"]
        package = compile_package(
            kiln, onnx_path, os.path.join(args.work, f"{name}.kiln"),
            *settings)
        logits = generate(kiln, package, prompt, steps, args.work)
        reference = QuestReference(config, budget, page, dense_layers=1,
                                   keep_first=keep_first)
        model.key_selector = reference
        _, expected = reference_generation(model, 2 * LAYERS, prompt, steps)
        model.key_selector = None
        assert reference.sparse_steps == (steps - 1) * (LAYERS - 1), \
            reference.sparse_steps
        worst = check_against(f"budget {budget}", logits, expected,
                              args.tolerance)
        departure = relative_error(logits, dense_logits)
        assert departure > 10 * args.tolerance, \
            f"budget {budget}: the logits are the dense ones ({departure:.3g})"
        print(f"Quest, budget {budget} in pages of {page}"
              f"{', the first kept' if keep_first else ''}: {steps} greedy "
              f"steps after {len(prompt)} tokens match the reference "
              f"(worst relative error {worst:.2e}; {departure:.2e} from "
              "dense)")

        # The same on CUDA: the emulator, and once the driver path.
        runs = [("cuda-emu", CUDA, None)]
        if driver and budget == 48:
            runs.append(("cuda", ["--target=cuda",
                                  f"--cuda-arch={args.cuda_arch}"],
                         dict(os.environ, LD_LIBRARY_PATH=args.fake_cuda_dir)))
        for device, target, environment in runs:
            cuda = compile_package(
                kiln, onnx_path,
                os.path.join(args.work, f"{name}-{device}.kiln"), *target,
                *settings)
            cuda_logits = generate(kiln, cuda, prompt, steps, args.work,
                                   device, environment)
            worst = check_against(f"budget {budget} on {device}", cuda_logits,
                                  expected, args.tolerance)
            print(f"  on {device}: the reference within {worst:.2e}")

    # A budget covering the cache: the dense kernel, the same numbers.
    for name, options in (("f32", []), ("bf16", ["--precision=bf16"]),
                          ("kv4", ["--quantize=w4a8kv4",
                                   "--quantize-method=rtn",
                                   "--group-size=32"])):
        plain = compile_package(kiln, onnx_path,
                                os.path.join(args.work, f"{name}.kiln"),
                                *options)
        covering = compile_package(
            kiln, onnx_path, os.path.join(args.work, f"{name}-all.kiln"),
            *options, f"--quest-budget={CAPACITY}", "--quest-dense-layers=0")
        expected = generate(kiln, plain, prompt, steps, args.work)
        actual = generate(kiln, covering, prompt, steps, args.work)
        assert np.array_equal(actual, expected), \
            f"{name}: {relative_error(actual, expected):.3g}"
        # And with few pages it runs on such caches too.
        sparse = compile_package(
            kiln, onnx_path, os.path.join(args.work, f"{name}-48.kiln"),
            *options, "--quest-budget=48", "--quest-dense-layers=0")
        logits = generate(kiln, sparse, prompt, steps, args.work)
        assert np.isfinite(logits).all() and \
            relative_error(logits, expected) > 10 * args.tolerance
    print("Quest with a budget that covers the cache: logits identical to "
          "the dense package's (f32, bf16 and 4-bit caches)")
    # On CUDA the dense package's attention is the unfused graph's; the
    # same attentions left dense (the pass warns) are the comparison.
    covering = compile_package(
        kiln, onnx_path, os.path.join(args.work, "cuda-all.kiln"), *CUDA,
        f"--quest-budget={CAPACITY}", "--quest-dense-layers=0")
    left_dense = compile_package(
        kiln, onnx_path, os.path.join(args.work, "cuda-dense.kiln"), *CUDA,
        f"--quest-budget={CAPACITY}", f"--quest-dense-layers={LAYERS}")
    actual = generate(kiln, covering, prompt, steps, args.work, "cuda-emu")
    expected = generate(kiln, left_dense, prompt, steps, args.work,
                        "cuda-emu")
    assert np.array_equal(actual, expected), \
        f"CUDA: {relative_error(actual, expected):.3g}"
    worst = check_against("CUDA, dense", expected, dense_logits,
                          args.tolerance)
    print("  on cuda-emu: logits identical to its attentions left dense "
          f"(those within {worst:.2e} of the CPU's dense package)")

    inspected = subprocess.run(
        [kiln, "inspect", os.path.join(args.work, "quest48.kiln")],
        check=True, capture_output=True, text=True).stdout
    for setting in ("--quest-budget=48", "--quest-page=16",
                    "--quest-dense-layers=1", "--quest-keep-first-page=false",
                    f"{2 * LAYERS} caches of {CAPACITY} tokens",
                    f"Quest's page bounds of {LAYERS - 1} of the key caches"):
        assert setting in inspected, (setting, inspected)

    bad = os.path.join(args.work, "bad.kiln")
    if os.path.exists(bad):
        os.remove(bad)
    base = [kiln, "compile", onnx_path, "-o", bad]
    one_line_failure(base + ["--kv-cache=session", "--quest-budget=8"],
                     "--quest-budget=8 is less than one page of 16 tokens")
    one_line_failure(base + ["--kv-cache=session", "--quest-budget=64",
                             "--quest-page=24"],
                     "--quest-page=24: a page is a positive multiple of 16")
    one_line_failure(base + ["--quest-budget=64"],
                     "--quest-budget takes --kv-cache=session")
    assert not os.path.exists(bad)
    result = subprocess.run(
        [kiln, "compile", onnx_path, "-o",
         os.path.join(args.work, "all-dense.kiln"), "--kv-cache=session",
         "--quest-budget=64", f"--quest-dense-layers={LAYERS}"],
        check=True, capture_output=True, text=True)
    assert "Quest has no decode attention to make sparse" in result.stderr, \
        result.stderr
    print("Quest's settings in kiln inspect; its refusals and warning")


if __name__ == "__main__":
    main()
