#!/usr/bin/env python3
"""Quest on SmolLM2-135M: decode speed with and without it at long
contexts, and passkey retrieval.

    quest_smollm2.py --bin BUILD/bin --gguf SmolLM2.gguf --work DIR
                     [--budget 1024] [--page 16] [--keep-first]
                     [--contexts 2048,4096,8000]
                     [--passkey-tokens 4000] [--trials 20] [--threads 2]
                     [--json FILE]

Compiles the exported SmolLM2 with the session cache (room for 8K tokens)
densely and with `--quest-budget` (pages of `--page` tokens, the first
two layers dense; `--keep-first`: `--quest-keep-first-page`). Speed: for each context, `kiln generate` on a prompt of that many
tokens (GPL-3, repeated) and 16 decoded tokens; its decode tokens/s for
each package, one after the other. Passkey: a five-digit number hidden at
a random depth of about `--passkey-tokens` tokens of filler, asked for at
the end; a trial passes when the greedy continuation contains the number.
The same trials (seeded) for both packages; both accuracies printed.
"""

import argparse
import json
import os
import random
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools", "llm"))
import export_onnx  # noqa: E402
import gguf_llama  # noqa: E402
import llama  # noqa: E402

GPL3 = "/usr/share/common-licenses/GPL-3"
CAPACITY = 8192
INTRO = ("There is an important piece of information hidden inside a lot of "
         "irrelevant text. Find it and memorize it. I will quiz you about it "
         "at the end.\n")
FILLER = ("The grass is green. The sky is blue. The sun is yellow. Here we "
          "go. There and back again. ")
QUESTION = "\nWhat is the pass key? The pass key is"


def tokens_of(kiln, gguf, text, work):
    path = os.path.join(work, "text.txt")
    with open(path, "w") as f:
        f.write(text)
    out = subprocess.run([kiln, "tokenize", gguf, "--text", path],
                         check=True, capture_output=True, text=True).stdout
    return [int(t) for t in re.findall(r"-?\d+", out)]


def generate(kiln, package, gguf, prompt_ids, count, threads):
    result = subprocess.run(
        [kiln, "generate", package, "--tokenizer", gguf, "--prompt-ids",
         ",".join(map(str, prompt_ids)), "--max-tokens", str(count),
         "--threads", str(threads), "--ignore-eos"],
        check=True, capture_output=True, text=True)
    stats = next(line for line in result.stderr.splitlines()
                 if line.startswith("kiln: prefill"))
    return result.stdout, stats


def decode_rate(stats):
    """Decode tokens/s from `kiln generate`'s last line."""
    match = re.search(r"decode .*\(([0-9.]+) tokens/s\)", stats)
    return float(match.group(1)) if match else float("nan")


def passkey_prompt(kiln, gguf, key, depth, tokens, work):
    repeats = max(1, tokens // len(tokens_of(kiln, gguf, FILLER, work)))
    before = int(repeats * depth)
    text = (INTRO + FILLER * before + f"The pass key is {key}. Remember it. "
            f"{key} is the pass key. " + FILLER * (repeats - before) +
            QUESTION)
    return tokens_of(kiln, gguf, text, work)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--gguf", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--budget", type=int, default=1024)
    parser.add_argument("--page", type=int, default=16)
    parser.add_argument("--keep-first", action="store_true")
    parser.add_argument("--contexts", default="2048,4096,8000")
    parser.add_argument("--passkey-tokens", type=int, default=4000)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    kiln = os.path.join(args.bin, "kiln")

    onnx_path = os.path.join(args.work, "smollm2.onnx")
    if not os.path.exists(onnx_path):
        config, weights, _ = gguf_llama.load(args.gguf)
        export_onnx.export(llama.Llama(config, weights).eval(), onnx_path)
    packages = {}
    quest = [f"--quest-budget={args.budget}", f"--quest-page={args.page}"]
    if args.keep_first:
        quest.append("--quest-keep-first-page")
    for name, options in (("dense", []), ("quest", quest)):
        # Named by the settings, so that a package is reused only for them.
        tag = "" if name == "dense" else \
            f"-{args.budget}-{args.page}{'-first' if args.keep_first else ''}"
        path = os.path.join(args.work, f"{name}{tag}.kiln")
        if not os.path.exists(path):
            subprocess.run([kiln, "compile", onnx_path, "--kv-cache=session",
                            f"--max-context={CAPACITY}", *options, "-o",
                            path], check=True)
        packages[name] = path

    results = {"budget": args.budget, "page": args.page,
               "keep_first": args.keep_first, "speed": [], "passkey": {}}
    with open(GPL3, encoding="utf-8") as f:
        text = f.read()
    corpus = tokens_of(kiln, args.gguf, text, args.work)
    print("| context | dense decode tokens/s | Quest decode tokens/s |")
    print("|---|---|---|")
    for context in [int(c) for c in args.contexts.split(",")]:
        prompt = (corpus * (context // len(corpus) + 1))[:context]
        rates = {}
        for name, package in packages.items():
            _, stats = generate(kiln, package, args.gguf, prompt, 16,
                                args.threads)
            rates[name] = decode_rate(stats)
        results["speed"].append({"context": context, **rates})
        print(f"| {context} | {rates['dense']:.1f} | {rates['quest']:.1f} |",
              flush=True)

    rng = random.Random(5)
    trials = [(rng.randrange(10000, 100000), rng.random())
              for _ in range(args.trials)]
    for name, package in packages.items():
        passed = 0
        for key, depth in trials:
            prompt = passkey_prompt(kiln, args.gguf, key, depth,
                                    args.passkey_tokens, args.work)
            answer, _ = generate(kiln, package, args.gguf, prompt, 8,
                                 args.threads)
            passed += str(key) in answer.replace(" ", "")
        results["passkey"][name] = passed
        print(f"passkey, {name}: {passed}/{len(trials)} at about "
              f"{len(prompt)} tokens", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
