#!/usr/bin/env python3
"""Variants of the 4-bit KV cache (W4A8KV4's cache) emulated in PyTorch on
SmolLM2, before Kiln builds them: what each does to perplexity with the
weights left FP32, so that only the cache is 4-bit.

    kv4_cache_emulation.py --gguf MODEL.gguf --kiln build/bin/kiln
        [--tokens 1024] [--calibration-windows 11] [VARIANT ...]

The GGUF's weights dequantized are the FP32 reference (tools/llm). Each
token's keys and values are held in 4 bits per head, with an f16 scale
and an unrounded zero point, as `kiln.pack_kv4` holds them. What Kiln does
today (the variant `kiln`): keys centered on the key projection's mean
output over the calibration rows (taken before RoPE, subtracted after it,
as kiln-quant-center-keys does) and rotated by the normalized Hadamard
matrix of the head size (kiln-quant-rotate-keys); values as they are. A
variant adds, joined by `+`:
- `keys-mean-after-rope`: the keys centered on their own mean over the
  calibration rows after RoPE instead (RoPE turns the fast pairs' mean
  toward zero, which the mean before it does not know);
- `center-values`: each head's mean value over the calibration rows
  subtracted before the cache and added to the attention's output (a
  softmax's row sums to one, so the attention is unchanged in exact
  arithmetic);
- `rotate-values`: values rotated by the Hadamard matrix before the
  cache and the attention's output rotated back;
- `exact-first-keys` / `exact-first-values`: the first token's keys or
  values (the attention sink) kept FP32;
- `exact-keys` / `exact-values`: keys or values kept FP32 altogether.
Calibration: the first windows of 512 tokens of Apache-2.0, MPL-2.0 and
LGPL-2.1 (/usr/share/common-licenses), as Kiln's README calibrates.
Prints the perplexity of FP32 and of each variant over the first --tokens
tokens of GPL-3 (windows of 512, stride 256, as `kiln perplexity`).
About a minute a variant at 1,024 tokens on two cores.
"""

import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "tools", "llm"))
import awq_reference  # noqa: E402
import gguf_llama  # noqa: E402
from qoq_rotation_emulation import four_bits, sylvester  # noqa: E402

CHANGES = ("keys-mean-after-rope", "center-values", "rotate-values",
           "exact-first-keys", "exact-first-values", "exact-keys",
           "exact-values")


class Cache(awq_reference.Model):
    """The model with its cache in 4 bits as `variant` holds it; with
    `means` None, it gathers each layer's mean key (before and after
    RoPE) and value instead."""
    variant, means = frozenset(), None

    def layer(self, weights, layer, x):
        self.current = layer
        return super().layer(weights, layer, x)

    def attention(self, h, wq, wk, wv):
        if self.means is None:
            rows = h.reshape(-1, h.shape[-1])
            sums = self.sums.setdefault(self.current, [0, 0, 0, 0])
            sums[0] = sums[0] + (rows @ wk.t()).sum(0)
            sums[1] = sums[1] + (rows @ wv.t()).sum(0)
            sums[3] += rows.shape[0]
        return super().attention(h, wq, wk, wv)

    def cached(self, q, k, v):
        if self.means is None:
            sums = self.sums[self.current]
            sums[2] = sums[2] + k.sum((0, 2)).reshape(-1)
            return q, k, v
        if "fp32" in self.variant:
            return q, k, v
        d = self.c.head_dim
        hadamard = sylvester(d) / math.sqrt(d)
        key_mean, value_mean, turned_mean = (
            m.view(1, -1, 1, d) for m in self.means[self.current])
        if "keys-mean-after-rope" in self.variant:
            key_mean = turned_mean
        held_k = four_bits((k - key_mean) @ hadamard) @ hadamard.t() + \
            key_mean
        center = value_mean if "center-values" in self.variant else 0
        turn = hadamard if "rotate-values" in self.variant else torch.eye(d)
        held_v = four_bits((v - center) @ turn) @ turn.t() + center
        if "exact-first-keys" in self.variant:
            held_k[:, :, 0] = k[:, :, 0]
        if "exact-first-values" in self.variant:
            held_v[:, :, 0] = v[:, :, 0]
        return (q, k if "exact-keys" in self.variant else held_k,
                v if "exact-values" in self.variant else held_v)


def main():
    parser = awq_reference.emulation_parser(__doc__)
    parser.add_argument("--calibration-windows", type=int, default=11)
    parser.add_argument("variants", nargs="*", default=[
        "kiln", "kiln+keys-mean-after-rope", "kiln+center-values",
        "kiln+rotate-values", "kiln+center-values+rotate-values",
        "kiln+exact-first-keys",
        "kiln+exact-first-keys+center-values+rotate-values",
        "kiln+keys-mean-after-rope+exact-first-keys"])
    args = parser.parse_args()
    for variant in args.variants:
        unknown = set(variant.split("+")) - set(CHANGES) - {"kiln"}
        if unknown:
            parser.error(f"unknown change {sorted(unknown)[0]!r} in "
                         f"{variant!r} (known: {', '.join(CHANGES)})")
    torch.set_num_threads(args.threads)
    config, weights, _ = gguf_llama.load(args.gguf)
    model = Cache(config, weights)
    text = awq_reference.evaluation_tokens(args.kiln, args.gguf,
                                           args.tokens)
    windows = awq_reference.calibration_windows(
        args.kiln, args.gguf)[:args.calibration_windows]
    model.sums = {}
    with torch.no_grad():
        for window in windows:
            model.logits(model.w, torch.tensor([window]))
    model.means = {layer: (k / n, v / n, turned / n)
                   for layer, (k, v, turned, n) in model.sums.items()}
    print(f"calibration: {len(windows)} windows of 512 tokens; "
          f"perplexity over {len(text)} tokens of GPL-3", flush=True)
    for variant in ["fp32"] + args.variants:
        model.variant = frozenset(variant.split("+"))
        print(f"{variant}: {model.perplexity(model.w, text):.4f}",
              flush=True)


if __name__ == "__main__":
    main()
