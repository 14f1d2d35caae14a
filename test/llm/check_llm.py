#!/usr/bin/env python3
"""Checks a LLaMA-architecture decoder exported from GGUF against its PyTorch
reference:
- the plain graph (`kiln run`): prefill of a prompt over an empty cache,
  then decode steps, each fed the previous step's present keys and values,
  through the one ONNX graph with symbolic batch, sequence and past
  lengths; logits and present caches within the tolerance of their scale,
  and the greedy tokens identical;
- the tokenizer (`kiln tokenize`) against Hugging Face's `tokenizers` built
  from the same vocabulary and merges, on the GPL-3 text and a Unicode
  sample (when `tokenizers` is installed);
- the session cache (`--kv-cache=session`, `kiln generate`): greedy
  generation from a text prompt, every step's logits within the tolerance
  and the tokens identical (a near-tie, top-2 gap < 1e-4, is reported, not
  failed);
- one-line refusals: the exporter's of a file that is not GGUF and of a
  GGUF of another architecture; `kiln generate`'s of a package without the
  session cache, of a prompt longer than the cache, of a full cache.

    check_llm.py --bin BUILD/bin --work DIR [--gguf MODEL.gguf] [--steps N]
                 [--generate N] [--tolerance T]

Without --gguf it makes a small random-weight GGUF of SmolLM2's architecture
(tools/llm/make_test_gguf.py). Run it with a Python that has PyTorch and
`gguf` (scripts/llm-venv makes build/llm-venv).
"""

import argparse
import json
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

GPL3 = "/usr/share/common-licenses/GPL-3"
UNICODE_SAMPLE = ("Größe 1234 naïve café \u2014 東京タワー don't  stop\n\n"
                  "\tx<|im_start|>y  \n")


def run_kiln(kiln, package, work, feeds, device="cpu"):
    """The outputs of `kiln run` on `feeds`, by name."""
    inputs = []
    for name, value in feeds.items():
        path = os.path.join(work, name + ".npy")
        np.save(path, value)
        inputs += ["--input", f"{name}={path}"]
    out = os.path.join(work, "out")
    subprocess.run([kiln, "run", package, "--device", device, *inputs,
                    "--output-dir", out], check=True)
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


def one_line_failure(command, reason):
    """`command` fails with exit code 1 and one line of stderr naming
    `reason`."""
    result = subprocess.run(command, capture_output=True, text=True)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and \
        reason in lines[0], (command, result.returncode, result.stderr)


def reference_tokenizer(vocabulary):
    """Hugging Face's tokenizer of the same vocabulary, merges and special
    tokens, or None where `tokenizers` is not installed."""
    try:
        from tokenizers import Tokenizer, models, pre_tokenizers
    except ImportError:
        return None
    if vocabulary.pre_tokenizer not in ("smollm", "gpt2", "default"):
        return None
    vocab = {token: i for i, token in enumerate(vocabulary.tokens)}
    merges = [tuple(merge.split(" ", 1)) for merge in vocabulary.merges]
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False,
                                          use_regex=True)
    tokenizer.pre_tokenizer = byte_level if vocabulary.pre_tokenizer != \
        "smollm" else pre_tokenizers.Sequence(
            [pre_tokenizers.Digits(individual_digits=True), byte_level])
    tokenizer.add_special_tokens(
        [token for token, kind in zip(vocabulary.tokens,
                                      vocabulary.token_types) if kind == 3])
    return tokenizer


def kiln_tokenize(kiln, gguf_path, text_args):
    out = subprocess.run([kiln, "tokenize", gguf_path, *text_args],
                         check=True, capture_output=True, text=True).stdout
    return [int(t) for t in out.split()]


def check_tokenizer(kiln, gguf_path, vocabulary, work):
    """Kiln's tokenizer gives the reference's ids on GPL-3 and a Unicode
    sample; returns how many tokens it compared (0 when skipped)."""
    reference = reference_tokenizer(vocabulary)
    if reference is None:
        print("tokenizer: no reference (Python package 'tokenizers'); "
              "not compared")
        return 0
    sample = os.path.join(work, "unicode.txt")
    with open(sample, "w", encoding="utf-8") as f:
        f.write(UNICODE_SAMPLE)
    compared = 0
    for path in (GPL3, sample):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        expected = reference.encode(text).ids
        actual = kiln_tokenize(kiln, gguf_path, ["--text", path])
        first = next((i for i, (a, e) in enumerate(zip(actual, expected))
                      if a != e), min(len(actual), len(expected)))
        assert actual == expected, \
            f"{path}: tokens differ from the reference at {first}: " \
            f"{actual[first:first + 8]} vs {expected[first:first + 8]}"
        compared += len(expected)
    return compared


def reference_generation(model, past_count, prompt, count):
    """Greedy tokens after `prompt` and the logits each was chosen from,
    from the PyTorch reference with its own cache."""
    past = [t for t in model.empty_cache()]
    step, tokens, rows = prompt, [], []
    with torch.no_grad():
        for _ in range(count):
            cached = past[0].shape[2]
            outputs = model(torch.tensor([step]),
                            torch.ones(1, cached + len(step),
                                       dtype=torch.int64),
                            torch.arange(cached, cached + len(step))[None],
                            *past)
            row = outputs[0][0, -1].numpy()
            rows.append(row)
            tokens.append(int(row.argmax()))
            past = list(outputs[1:1 + past_count])
            step = [tokens[-1]]
    return tokens, np.stack(rows)


def near_tie(row):
    top = np.sort(row)[-2:]
    return float(top[1] - top[0]) < 1e-4


def check_session_cache(kiln, onnx_path, gguf_path, model, past_count, work,
                        prompt_ids, count, tolerance, window):
    """`kiln generate` on a --kv-cache=session package: greedy tokens and
    logits against the reference, and its one-line refusals."""
    package = os.path.join(work, "session.kiln")
    # Room for the generation and for a perplexity window.
    capacity = (max(len(prompt_ids) + count + 16, window) + 15) // 16 * 16
    subprocess.run([kiln, "compile", onnx_path, "--kv-cache=session",
                    f"--max-context={capacity}", "--kv-page=16",
                    "-o", package], check=True)
    logits_path = os.path.join(work, "generated_logits.npy")
    trace_path = os.path.join(work, "generate_trace.json")
    prompt = ",".join(map(str, prompt_ids))
    result = subprocess.run(
        [kiln, "generate", package, "--prompt-ids", prompt,
         "--max-tokens", str(count), "--ids", "--ignore-eos",
         "--save-logits", logits_path, "--profile", trace_path],
        check=True, capture_output=True, text=True)
    generated = [int(t) for t in result.stdout.split()]
    # The trace: every run's kernels (the prefill and count - 1 decode
    # runs, the same kernels each), named by their ONNX nodes; the
    # summary of the decode runs on stderr.
    with open(trace_path) as f:
        events = json.load(f)["traceEvents"]
    runs = {event["args"]["run"] for event in events}
    assert runs == set(range(count)), runs
    per_run = [sum(1 for e in events if e["args"]["run"] == r)
               for r in sorted(runs)]
    assert len(set(per_run)) == 1 and per_run[0] > 0, per_run
    assert all(e["ph"] == "X" and e["dur"] >= 0 and e["name"]
               for e in events)
    assert any("MatMul" in e["name"] for e in events)
    if count > 1:
        assert f"slowest kernels (mean over {count - 1} runs)" in \
            result.stderr, result.stderr
    stats = next(line for line in result.stderr.splitlines()
                 if line.startswith("kiln: prefill"))
    expected, expected_logits = reference_generation(model, past_count,
                                                     prompt_ids, count)
    logits = np.load(logits_path)
    assert logits.shape == expected_logits.shape, (logits.shape,
                                                   expected_logits.shape)
    worst = 0.0
    for step, (row, reference_row) in enumerate(zip(logits,
                                                    expected_logits)):
        error = relative_error(row, reference_row)
        worst = max(worst, error)
        assert error <= tolerance, \
            f"generate step {step}: logits off by {error:.3g}"
    ties = 0
    for step, (a, e) in enumerate(zip(generated, expected)):
        if a != e:
            assert near_tie(expected_logits[step]), \
                f"generate step {step}: token {a}, the reference's {e}"
            ties += 1
            break  # After a tie the sequences legitimately part.
    print(f"session cache: {count} greedy tokens after a "
          f"{len(prompt_ids)}-token prompt, worst relative logit error "
          f"{worst:.2e}, {'identical' if not ties else 'a near-tie at one step'}"
          f"; {stats}")

    # Sampling: a seed gives one sequence, another seed (almost surely)
    # another; every token is in the vocabulary.
    def sample(seed):
        out = subprocess.run(
            [kiln, "generate", package, "--prompt-ids", prompt,
             "--max-tokens", str(count), "--ids", "--ignore-eos",
             "--temperature", "1.5", "--top-p", "0.95", "--seed", str(seed)],
            check=True, capture_output=True, text=True).stdout
        return [int(t) for t in out.split()]
    first, again, other = sample(7), sample(7), sample(8)
    vocabulary = expected_logits.shape[1]
    assert first == again and len(first) == count and \
        all(0 <= t < vocabulary for t in first + other), (first, again)
    assert first != other or count < 4, (first, other)

    # Refusals: a prompt longer than the cache, a cache that fills up.
    long_prompt = ",".join(["5"] * (capacity + 1))
    one_line_failure([kiln, "generate", package, "--prompt-ids", long_prompt],
                     "the prompt has")
    one_line_failure([kiln, "generate", package, "--prompt-ids", prompt,
                      "--max-tokens", str(capacity), "--ignore-eos"],
                     "the key/value cache is full")
    one_line_failure([kiln, "generate", package, "--prompt-ids",
                      f"5,{vocabulary}"],
                     f"prompt token {vocabulary} is outside the model's "
                     f"vocabulary of {vocabulary}")
    if gguf_path:
        one_line_failure([kiln, "generate", package, "--tokenizer",
                          os.path.join(work, "not.gguf"), "--prompt", "hi"],
                         "not a GGUF file")
    # Through the runtime: a mask whose length is not the cached plus the
    # new tokens (3 tokens, a mask of 5 on an empty cache).
    feeds = {"input_ids": np.array([[5, 6, 7]], np.int64),
             "attention_mask": np.ones((1, 5), np.int64),
             "position_ids": np.arange(3, dtype=np.int64)[None]}
    arguments = [kiln, "run", package, "--output-dir",
                 os.path.join(work, "mismatch")]
    for name, value in feeds.items():
        path = os.path.join(work, f"mismatch_{name}.npy")
        np.save(path, value)
        arguments += ["--input", f"{name}={path}"]
    one_line_failure(arguments, "it must be the cached plus the new tokens")


def step_feeds(tokens, past, past_names):
    """The plain graph's inputs for `tokens` after the caches `past`."""
    length, past_length = tokens.shape[1], past[0].shape[2]
    feeds = {"input_ids": tokens,
             "attention_mask": np.ones((1, past_length + length), np.int64),
             "position_ids": np.arange(past_length, past_length + length,
                                       dtype=np.int64)[None]}
    feeds.update(zip(past_names, past))
    return feeds


def check_cuda_session_cache(kiln, onnx_path, prompt_ids, args):
    """`kiln generate` on a CUDA package with the session cache (the
    emulator, and the driver path through the stand-in libcuda.so.1 when
    the package has GPU code): the CPU session package's greedy tokens and
    logits."""
    count = 8
    capacity = (len(prompt_ids) + count + 15) // 16 * 16
    packages = {}
    for target in ("cpu", "cuda"):
        packages[target] = os.path.join(args.work, f"session-{target}.kiln")
        options = (["--target=cuda", f"--cuda-arch={args.cuda_arch}"]
                   if target == "cuda" else [])
        subprocess.run([kiln, "compile", onnx_path, "--kv-cache=session",
                        f"--max-context={capacity}", *options, "-o",
                        packages[target]], check=True)
    runs = [("cpu", packages["cpu"], [], None),
            ("cuda-emu", packages["cuda"], ["--device=cuda-emu"], None)]
    if args.cuda_arch != "none" and args.fake_cuda_dir:
        environment = dict(os.environ, LD_LIBRARY_PATH=args.fake_cuda_dir)
        runs.append(("cuda (stand-in driver)", packages["cuda"],
                     ["--device=cuda"], environment))
    results = {}
    for name, package, device, environment in runs:
        logits = os.path.join(args.work, f"session-{len(results)}.npy")
        result = subprocess.run(
            [kiln, "generate", package, *device, "--prompt-ids",
             ",".join(map(str, prompt_ids)), "--max-tokens", str(count),
             "--ids", "--ignore-eos", "--save-logits", logits],
            check=True, capture_output=True, text=True, env=environment)
        results[name] = (result.stdout.split(), np.load(logits))
    tokens, logits = results["cpu"]
    for name, (other_tokens, other_logits) in results.items():
        error = relative_error(other_logits, logits)
        assert other_tokens == tokens and error <= 1e-4, \
            (name, other_tokens, tokens, error)
        if name != "cpu":
            print(f"session cache on {name}: the CPU package's {count} "
                  f"greedy tokens, logits within {error:.2e}")


def check_plain_graph(kiln, package, model, past_names, present_names,
                      vocab_size, args, device="cpu", against=None):
    """Prefill, then decode steps fed the last step's present caches,
    through `kiln run` on the plain graph; with `against` (a CPU package),
    also how far the outputs are from its outputs on the same feeds."""
    rng = np.random.default_rng(5)
    tokens = rng.integers(3, vocab_size,
                          (1, args.prompt_length)).astype(np.int64)
    past = [t.numpy() for t in model.empty_cache()]
    worst, generated, expected_tokens = 0.0, [], []
    from_cpu = 0.0
    for step in range(args.steps + 1):
        feeds = step_feeds(tokens, past, past_names)
        with torch.no_grad():
            reference = [r.numpy() for r in model(
                *[torch.from_numpy(v) for v in feeds.values()])]
        actual = run_kiln(kiln, package, args.work, feeds, device)
        names = ["logits"] + present_names
        if against:
            cpu = run_kiln(kiln, against, args.work, feeds)
            from_cpu = max(from_cpu, max(relative_error(actual[n], cpu[n])
                                         for n in names))
        for name, expected in zip(names, reference):
            got = actual[name]
            assert got.shape == expected.shape, (step, name, got.shape,
                                                 expected.shape)
            error = relative_error(got, expected)
            worst = max(worst, error)
            assert error <= args.tolerance, \
                f"step {step}: {name} is off by {error:.3g}"
        token = int(actual["logits"][0, -1].argmax())
        generated.append(token)
        expected_tokens.append(int(reference[0][0, -1].argmax()))
        past = [actual[name] for name in names[1:]]
        tokens = np.array([[token]], np.int64)
    assert generated == expected_tokens, (generated, expected_tokens)
    print(f"LLM on {device} matches PyTorch over prefill "
          f"({args.prompt_length} tokens) and {args.steps} decode steps: "
          f"worst relative error {worst:.2e}, greedy tokens identical"
          + (f"; {from_cpu:.2e} from the CPU package's outputs"
             if against else ""))



def check_same_outputs(kiln, package, reference, model, past_names,
                       present_names, vocab_size, args, device, tolerance):
    """Prefill, then decode steps fed back their present caches, through
    `package` on `device` and the CPU package `reference`: the outputs
    within `tolerance` of each other's scale, the greedy tokens the same."""
    rng = np.random.default_rng(6)
    tokens = rng.integers(3, vocab_size,
                          (1, args.prompt_length)).astype(np.int64)
    past = [t.numpy() for t in model.empty_cache()]
    worst = 0.0
    names = ["logits"] + present_names
    for step in range(args.steps + 1):
        feeds = step_feeds(tokens, past, past_names)
        actual = run_kiln(kiln, package, args.work, feeds, device)
        expected = run_kiln(kiln, reference, args.work, feeds)
        for name in names:
            error = relative_error(actual[name], expected[name])
            worst = max(worst, error)
            assert error <= tolerance, \
                f"step {step}: {name} is off by {error:.3g} on {device}"
        token = int(actual["logits"][0, -1].argmax())
        assert token == int(expected["logits"][0, -1].argmax()), step
        past = [actual[name] for name in present_names]
        tokens = np.array([[token]], np.int64)
    return worst


def check_prefill(kiln, package, model, prompt_ids, tolerance, work):
    """`kiln run` on the session package (a fresh session, an empty cache):
    the logits at every position of the prompt."""
    count = len(prompt_ids)
    feeds = {"input_ids": np.array([prompt_ids], np.int64),
             "attention_mask": np.ones((1, count), np.int64),
             "position_ids": np.arange(count, dtype=np.int64)[None]}
    actual = run_kiln(kiln, package, work, feeds)["logits"]
    with torch.no_grad():
        expected = model(*[torch.from_numpy(v) for v in feeds.values()],
                         *model.empty_cache())[0].numpy()
    errors = [relative_error(a, e) for a, e in zip(actual[0], expected[0])]
    assert max(errors) <= tolerance, \
        f"prefill position {int(np.argmax(errors))}: logits off by " \
        f"{max(errors):.3g}"
    print(f"prefill of {count} tokens: logits at every position within "
          f"{max(errors):.2e} of the reference (relative to each row's scale)")


def reference_perplexity(model, tokens, window, stride):
    """The sliding-window perplexity `kiln perplexity` computes: windows of
    `window` tokens every `stride`, each scoring the tokens no earlier
    window scored, from an empty cache."""
    total, scored, done, begin = 0.0, 0, 1, 0
    with torch.no_grad():
        while done < len(tokens):
            end = min(begin + window, len(tokens))
            chunk = torch.tensor([tokens[begin:end]])
            logits = model(chunk, torch.ones_like(chunk),
                           torch.arange(end - begin)[None],
                           *model.empty_cache())[0][0].double()
            log_probs = torch.log_softmax(logits, dim=-1)
            for target in range(max(done, begin + 1), end):
                total -= float(log_probs[target - begin - 1, tokens[target]])
                scored += 1
            done, begin = end, begin + stride
    return float(np.exp(total / scored)), scored


def check_perplexity(kiln, packages, gguf_path, model, limit, window, stride):
    """`kiln perplexity` on the GPL-3 text within 0.1% of the reference's,
    through each package."""
    tokens = kiln_tokenize(kiln, gguf_path, ["--text", GPL3])[:limit]
    expected, scored = reference_perplexity(model, tokens, window, stride)
    for package in packages:
        out = subprocess.run(
            [kiln, "perplexity", package, "--tokenizer", gguf_path, "--text",
             GPL3, f"--limit={limit}", f"--window={window}",
             f"--stride={stride}"],
            check=True, capture_output=True, text=True).stdout
        actual = float(out.split()[1])
        assert f"over {scored} tokens" in out, out
        assert abs(actual - expected) <= 1e-3 * expected, \
            f"{package}: perplexity {actual}, the reference's {expected}"
    print(f"perplexity over {scored} tokens of GPL-3 (window {window}, "
          f"stride {stride}): {actual:.4f}, the reference's {expected:.4f}")
    return expected


def check_quantized(kiln, onnx_path, gguf_path, work, limit, window,
                    reference):
    """W4A16 through the session cache, calibrated on another text (AWQ)
    and by round to nearest: each compiles, generates, and keeps perplexity
    within 5% of the float reference's; the statistics cache serves the
    second AWQ compile."""
    capacity = (window + 15) // 16 * 16
    cache = os.path.join(work, "calibration.cal")
    if os.path.exists(cache):
        os.remove(cache)
    results = {}
    for method, extra in (("awq", ["--calibration-text",
                                   "/usr/share/common-licenses/GPL-2",
                                   "--tokenizer", gguf_path,
                                   "--calibration-window=64",
                                   "--calibration-samples=4",
                                   f"--calibration-cache={cache}"]),
                          ("awq-cached", [f"--calibration-cache={cache}"]),
                          ("rtn", ["--quantize-method=rtn"])):
        package = os.path.join(work, f"w4a16-{method}.kiln")
        subprocess.run([kiln, "compile", onnx_path, "--kv-cache=session",
                        f"--max-context={capacity}", "--quantize=w4a16",
                        "--group-size=32", *extra, "-o", package], check=True)
        subprocess.run([kiln, "generate", package, "--prompt-ids", "5,6,7",
                        "--max-tokens", "4", "--ids", "--ignore-eos"],
                       check=True, capture_output=True)
        out = subprocess.run(
            [kiln, "perplexity", package, "--tokenizer", gguf_path, "--text",
             GPL3, f"--limit={limit}", f"--window={window}",
             f"--stride={window // 2}"],
            check=True, capture_output=True, text=True).stdout
        results[method] = float(out.split()[1])
        assert abs(results[method] - reference) <= 0.05 * reference, \
            f"W4A16 {method}: perplexity {results[method]}, FP32 {reference}"
    assert results["awq"] == results["awq-cached"], results
    print("W4A16 perplexity: " + ", ".join(
        f"{m} {p:.4f}" for m, p in results.items()) +
        f" (FP32 {reference:.4f})")


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
    parser.add_argument("--generate", type=int, default=8,
                        help="tokens kiln generate makes greedily")
    parser.add_argument("--prompt-chars", type=int, default=200,
                        help="characters of GPL-3 for its prompt")
    parser.add_argument("--perplexity-tokens", type=int, default=400,
                        help="tokens of GPL-3 the perplexity covers")
    parser.add_argument("--window", type=int, default=128,
                        help="perplexity window (the stride is half)")
    parser.add_argument("--session-only", action="store_true",
                        help="skip the plain graph (its compilation and "
                             "kiln run steps)")
    parser.add_argument("--cuda-arch", default="",
                        help="also compile the plain graph for CUDA (these "
                             "architectures, or none for the emulator "
                             "alone) and run its steps on the emulator")
    parser.add_argument("--fake-cuda-dir", default="",
                        help="the stand-in libcuda.so.1's directory: with "
                             "GPU architectures, the CUDA session cache "
                             "also runs through the runtime's driver path")
    parser.add_argument("--tolerance", type=float, default=1e-4,
                        help="logits' error relative to their scale")
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
    config, weights, vocabulary = gguf_llama.load(path)
    model = llama.Llama(config, weights).eval()
    onnx_path = os.path.join(args.work, "model.onnx")
    export_onnx.export(model, onnx_path)
    past_names, present_names = export_onnx.cache_names(config.layers)
    packages = []
    if not args.session_only:
        package = os.path.join(args.work, "model.kiln")
        subprocess.run([kiln, "compile", onnx_path, "-o", package],
                       check=True)
        # Each layer's attention reads its past and new keys where they
        # are, not the present the graph copies them into.
        graph = subprocess.run([kiln, "compile", onnx_path, "--emit=graph"],
                               check=True, capture_output=True,
                               text=True).stdout
        attentions = [line for line in graph.splitlines()
                      if "kiln.attention" in line]
        assert len(attentions) == config.layers and all(
            " past " in line for line in attentions), \
            "the plain graph's attentions do not read the past where it is"
        check_plain_graph(kiln, package, model, past_names, present_names,
                          config.vocab_size, args)
        # A package without the session cache is no use to generate.
        one_line_failure([kiln, "generate", package, "--prompt-ids", "5,6"],
                         "compile it with --kv-cache=session")
        packages.append(package)
    if args.cuda_arch:
        # The same graph for CUDA, its prefill and decode steps on the
        # emulator (against the CPU package too, where there is one).
        cuda = os.path.join(args.work, "model-cuda.kiln")
        subprocess.run([kiln, "compile", onnx_path, "--target=cuda",
                        f"--cuda-arch={args.cuda_arch}", "-o", cuda],
                       check=True)
        check_plain_graph(kiln, cuda, model, past_names, present_names,
                          config.vocab_size, args, device="cuda-emu",
                          against=packages[0] if packages else None)
        if packages:
            # 4-bit weights on CUDA compute what the CPU's compute.
            for scheme in ("w4a16", "w4a8"):
                options = [f"--quantize={scheme}", "--quantize-method=rtn",
                           "--group-size=32"]
                cpu_package = os.path.join(args.work, f"{scheme}-plain.kiln")
                cuda_package = os.path.join(args.work,
                                            f"{scheme}-plain-cuda.kiln")
                subprocess.run([kiln, "compile", onnx_path, *options, "-o",
                                cpu_package], check=True)
                subprocess.run([kiln, "compile", onnx_path, *options,
                                "--target=cuda",
                                f"--cuda-arch={args.cuda_arch}", "-o",
                                cuda_package], check=True)
                worst = check_same_outputs(
                    kiln, cuda_package, cpu_package, model, past_names,
                    present_names, config.vocab_size, args, "cuda-emu", 1e-4)
                print(f"{scheme.upper()} on cuda-emu matches the CPU's "
                      f"package over prefill and {args.steps} decode steps: "
                      f"worst relative error {worst:.2e}, greedy tokens "
                      "identical")
    compared = check_tokenizer(kiln, path, vocabulary, args.work)
    if compared:
        print(f"tokenizer: {compared} tokens of GPL-3 and a Unicode sample "
              "identical to Hugging Face's")
    with open(GPL3, encoding="utf-8") as f:
        text = f.read()[:args.prompt_chars]
    prompt_ids = kiln_tokenize(kiln, path, ["--string", text])
    if args.cuda_arch:
        check_cuda_session_cache(kiln, onnx_path, prompt_ids, args)
    check_session_cache(kiln, onnx_path, path, model, len(past_names),
                        args.work, prompt_ids, args.generate, args.tolerance,
                        args.window)
    session = os.path.join(args.work, "session.kiln")
    check_prefill(kiln, session, model, prompt_ids, args.tolerance, args.work)
    reference = check_perplexity(kiln, packages + [session],
                                 path, model, args.perplexity_tokens,
                                 args.window, args.window // 2)
    if not args.gguf:
        check_quantized(kiln, onnx_path, path, args.work,
                        args.perplexity_tokens, args.window, reference)
    return 0


if __name__ == "__main__":
    sys.exit(main())
