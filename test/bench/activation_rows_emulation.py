#!/usr/bin/env python3
"""What 8-bit activation rows cost SmolLM2, emulated in PyTorch with the
weights FP32: per kind of product, and with the first position's rows
(the attention sink's token) left exact.

    activation_rows_emulation.py --gguf MODEL.gguf --kiln build/bin/kiln
        [--tokens 100000] [VARIANT ...]

The GGUF's weights dequantized are the FP32 reference (tools/llm). Each
product's input rows are rounded to 8 bits with one scale per row, its
largest magnitude over 127 (`--activations=dynamic`, and what W4A8 and
W4A8KV4 do), for the products a variant names:
- `all`: every product of every layer (the output head stays FP32);
- `qkv`, `o`, `gate-up`, `down`: only that kind's inputs;
- `all-but-first`: every product, but the first position's rows exact.
Prints the perplexity of FP32 and of each variant over the first --tokens
tokens of GPL-3 (all of it by default: 7,638 tokens; windows of 512,
stride 256, as `kiln perplexity`). About three minutes a variant over the
whole text on two cores.
"""

import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "tools", "llm"))
import awq_reference  # noqa: E402
import gguf_llama  # noqa: E402
from qoq_rotation_emulation import eight_bit_rows  # noqa: E402

KINDS = {"qkv": ("attn_q", "attn_k", "attn_v"), "o": ("attn_output",),
         "gate-up": ("ffn_gate", "ffn_up"), "down": ("ffn_down",)}
VARIANTS = ("all", "all-but-first", *KINDS)


class Rows(awq_reference.Model):
    """The model with 8-bit rows into the products whose weights are in
    `rounded` (by identity); with `first_exact`, row 0 of each window as
    it is."""
    rounded, first_exact = frozenset(), False

    def product(self, x, w):
        if id(w) in self.rounded:
            held = eight_bit_rows(x)
            if self.first_exact:
                held[..., 0, :] = x[..., 0, :]
            x = held
        return super().product(x, w)


def main():
    parser = awq_reference.emulation_parser(__doc__, tokens=100000)
    parser.add_argument("variants", nargs="*",
                        default=["all", "all-but-first"])
    args = parser.parse_args()
    awq_reference.check_variants(parser, args.variants, VARIANTS)
    torch.set_num_threads(args.threads)
    config, weights, _ = gguf_llama.load(args.gguf)
    model = Rows(config, weights)
    text = awq_reference.evaluation_tokens(args.kiln, args.gguf,
                                           args.tokens)
    print(f"perplexity over {len(text)} tokens of GPL-3", flush=True)

    def weights_of(names):
        return frozenset(id(model.weight(layer, name))
                         for layer in range(config.layers) for name in names)
    every = weights_of(awq_reference.PRODUCTS)
    for variant in ["fp32"] + args.variants:
        model.rounded = (frozenset() if variant == "fp32" else
                         weights_of(KINDS[variant]) if variant in KINDS else
                         every)
        model.first_exact = variant == "all-but-first"
        with torch.no_grad():
            print(f"{variant}: {model.perplexity(model.w, text):.4f}",
                  flush=True)


if __name__ == "__main__":
    main()
