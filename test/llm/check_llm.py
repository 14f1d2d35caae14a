#!/usr/bin/env python3
"""Checks a LLaMA-architecture decoder exported from GGUF against its PyTorch
reference: prefill of a prompt over an empty cache, then decode steps, each
fed the previous step's present keys and values, through the one ONNX
graph with symbolic batch, sequence and past lengths; logits and present
caches within 1e-4 of their scale, and the greedy tokens identical. Also
that the exporter refuses a file that is not GGUF and a GGUF of another
architecture with a one-line error.

    check_llm.py --bin BUILD/bin --work DIR [--gguf MODEL.gguf] [--steps N]

Without --gguf it makes a small random-weight GGUF of SmolLM2's architecture
(tools/llm/make_test_gguf.py). Run it with a Python that has PyTorch and
`gguf` (scripts/llm-venv makes build/llm-venv).
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

TOLERANCE = 1e-4


def run_kiln(kiln, package, work, feeds):
    """The outputs of `kiln run` on `feeds`, by name."""
    inputs = []
    for name, value in feeds.items():
        path = os.path.join(work, name + ".npy")
        np.save(path, value)
        inputs += ["--input", f"{name}={path}"]
    out = os.path.join(work, "out")
    subprocess.run([kiln, "run", package, *inputs, "--output-dir", out],
                   check=True)
    return {name[:-4]: np.load(os.path.join(out, name))
            for name in os.listdir(out)}


def check_refusals(work):
    """The exporter refuses what it cannot read with one line and exit 1:
    a file that is not GGUF, and a GGUF of another architecture."""
    import gguf
    not_gguf = os.path.join(work, "not.gguf")
    with open(not_gguf, "w") as f:
        f.write("not a model\n")
    other = os.path.join(work, "gpt2.gguf")
    writer = gguf.GGUFWriter(other, "gpt2")
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    exporter = os.path.join(ROOT, "tools", "llm", "export_onnx.py")
    for path, reason in ((not_gguf, "not a readable GGUF file"),
                         (other, "architecture 'gpt2' is not supported")):
        result = subprocess.run(
            [sys.executable, exporter, path, "-o",
             os.path.join(work, "refused.onnx")],
            capture_output=True, text=True)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 1 and len(lines) == 1 and \
            reason in lines[0], (path, result.returncode, result.stderr)


def relative_error(actual, expected):
    return float(np.abs(actual - expected).max() /
                 max(np.abs(expected).max(), 1e-30))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--gguf")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--prompt-length", type=int, default=7)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    kiln = os.path.join(args.bin, "kiln")
    check_refusals(args.work)

    path = args.gguf
    if not path:
        path = os.path.join(args.work, "tiny.gguf")
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "llm",
                                                     "make_test_gguf.py"),
                        path], check=True)
    config, weights, _ = gguf_llama.load(path)
    model = llama.Llama(config, weights).eval()
    onnx_path = os.path.join(args.work, "model.onnx")
    export_onnx.export(model, onnx_path)
    package = os.path.join(args.work, "model.kiln")
    subprocess.run([kiln, "compile", onnx_path, "-o", package], check=True)

    past_names, present_names = export_onnx.cache_names(config.layers)
    rng = np.random.default_rng(5)
    tokens = rng.integers(3, config.vocab_size,
                          (1, args.prompt_length)).astype(np.int64)
    past = [t.numpy() for t in model.empty_cache()]
    worst, generated, expected_tokens = 0.0, [], []
    for step in range(args.steps + 1):
        length, past_length = tokens.shape[1], past[0].shape[2]
        feeds = {"input_ids": tokens,
                 "attention_mask": np.ones((1, past_length + length),
                                           np.int64),
                 "position_ids": np.arange(past_length, past_length + length,
                                           dtype=np.int64)[None]}
        feeds.update(zip(past_names, past))
        with torch.no_grad():
            reference = [r.numpy() for r in model(
                *[torch.from_numpy(v) for v in feeds.values()])]
        actual = run_kiln(kiln, package, args.work, feeds)
        names = ["logits"] + present_names
        for name, expected in zip(names, reference):
            got = actual[name]
            assert got.shape == expected.shape, (step, name, got.shape,
                                                 expected.shape)
            error = relative_error(got, expected)
            worst = max(worst, error)
            assert error <= TOLERANCE, \
                f"step {step}: {name} is off by {error:.3g}"
        token = int(actual["logits"][0, -1].argmax())
        generated.append(token)
        expected_tokens.append(int(reference[0][0, -1].argmax()))
        past = [actual[name] for name in names[1:]]
        tokens = np.array([[token]], np.int64)
    assert generated == expected_tokens, (generated, expected_tokens)
    print(f"LLM matches PyTorch over prefill ({args.prompt_length} tokens) "
          f"and {args.steps} decode steps: worst relative error "
          f"{worst:.2e}, greedy tokens identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
