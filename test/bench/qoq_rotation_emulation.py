#!/usr/bin/env python3
"""QoQ's optional rotation of the residual stream, emulated in PyTorch on
SmolLM2: what it would do to W4A8 and W4A8KV4 before Kiln builds it.

    qoq_rotation_emulation.py --gguf MODEL.gguf --kiln build/bin/kiln
        [--tokens 1024] [--group-size 64]

The GGUF's weights dequantized are the FP32 reference (tools/llm). The
rotation (ALGORITHMS.md §3, step 1, as QuaRot and QServe make it): each
RMS normalization's gain folded into the products it feeds, then an
orthogonal Q [576, 576] on the residual stream, so that the embedding
table becomes E Q, the products reading the stream Q^T W, those writing
it (o, down) W Q; the normalizations commute with Q, so the FP32 model
computes the same. Q is a Hadamard matrix of order 576 (Paley's second
construction of order 36, for q = 17, times Sylvester's of order 16)
with random signs, or a random orthogonal matrix. Quantized as Kiln's
QoQ does it with round to nearest: progressive weights (8-bit integers per
output channel within [-119, 119], then 4-bit groups of them with integer
scales), rows to 8 bits with one scale each, and for KV4 each token's
keys (centered on their mean over the sequence, after RoPE, rotated by a
Hadamard matrix per head) and values in 4 bits per head. The output head
stays FP32. Prints the perplexity of each over the first --tokens tokens
of GPL-3 (windows of 512, stride 256, as `kiln perplexity`).
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

def sylvester(n):
    h = torch.ones(1, 1)
    while h.shape[0] < n:
        h = torch.cat([torch.cat([h, h], 1), torch.cat([h, -h], 1)], 0)
    return h


def paley2(q):
    """A Hadamard matrix of order 2 (q + 1), q a prime = 1 mod 4."""
    residues = {x * x % q for x in range(1, q)}
    chi = [0] + [1 if x in residues else -1 for x in range(1, q)]
    jacobsthal = torch.tensor([[chi[(j - i) % q] for j in range(q)]
                               for i in range(q)], dtype=torch.float)
    c = torch.zeros(q + 1, q + 1)
    c[0, 1:], c[1:, 0], c[1:, 1:] = 1, 1, jacobsthal
    return torch.kron(c, torch.tensor([[1., -1.], [-1., -1.]])) + \
        torch.kron(torch.eye(q + 1), torch.tensor([[1., 1.], [1., -1.]]))


def hadamard576(generator):
    h = torch.kron(paley2(17), sylvester(16)) / 24
    signs = torch.randint(0, 2, (576,), generator=generator).float() * 2 - 1
    return h * signs.unsqueeze(1)


def four_bits(x):
    """Each row in 4 bits with an f16 scale and an unrounded zero point."""
    low, high = x.amin(-1, keepdim=True), x.amax(-1, keepdim=True)
    s = ((high - low) / 15).clamp_min(1e-8).half().float()
    z = -low / s
    return (torch.clamp(torch.round(x / s + z), 0, 15) - z) * s


def eight_bit_rows(x):
    s = x.abs().amax(-1, keepdim=True).clamp_min(1e-8) / 127
    return torch.round(x / s) * s


def progressive(w, group):
    """QoQ's two levels, w [out, in]."""
    s1 = w.abs().amax(1, keepdim=True) / 119
    w8 = torch.round(w / s1).reshape(-1, group)
    high, low = w8.amax(1, keepdim=True), w8.amin(1, keepdim=True)
    s2 = torch.clamp(torch.round((high - low) / 15), min=1)
    z = torch.clamp(torch.round(-low / s2), 0, 15)
    q = torch.clamp(torch.round(w8 / s2) + z, 0, 15)
    return ((q - z) * s2).reshape(w.shape) * s1


class Quantized(awq_reference.Model):
    """The model with 8-bit rows into every product (`rows8`) and, with
    `kv4`, the 4-bit cache."""
    rows8, kv4 = True, False

    def product(self, x, w):
        return super().product(eight_bit_rows(x) if self.rows8 else x, w)

    def cached(self, q, k, v):
        if not self.kv4:
            return q, k, v
        d = self.c.head_dim
        per_head = sylvester(d) / math.sqrt(d)
        k = four_bits((k - k.mean(2, keepdim=True)) @ per_head)
        return q @ per_head, k, four_bits(v)


def rotated(weights, layers, q):
    """The weights with the norms' gains folded and the stream rotated."""
    out, d = dict(weights), q.shape[0]
    for layer in range(layers):
        key = lambda name: f"blk.{layer}.{name}.weight"  # noqa: E731
        for norm, names in (("attn_norm", ("attn_q", "attn_k", "attn_v")),
                            ("ffn_norm", ("ffn_gate", "ffn_up"))):
            for name in names:
                out[key(name)] = (weights[key(name)] * weights[key(norm)]) @ q
            out[key(norm)] = torch.ones(d)
        for name in ("attn_output", "ffn_down"):
            out[key(name)] = q.t() @ weights[key(name)]
    out["output.weight"] = (weights["output.weight"] *
                            weights["output_norm.weight"]) @ q
    out["output_norm.weight"] = torch.ones(d)
    out["token_embd.weight"] = weights["token_embd.weight"] @ q
    return out


def main():
    parser = awq_reference.emulation_parser(__doc__)
    parser.add_argument("--group-size", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config, weights, _ = gguf_llama.load(args.gguf)
    model = Quantized(config, weights)
    base = dict(model.w)
    base["output.weight"] = base.get("output.weight",
                                     base["token_embd.weight"])
    text = awq_reference.evaluation_tokens(args.kiln, args.gguf,
                                           args.tokens)
    generator = torch.Generator().manual_seed(0)
    hadamard = hadamard576(generator)
    assert torch.allclose(hadamard @ hadamard.t(), torch.eye(576), atol=1e-5)
    orthogonal, _ = torch.linalg.qr(
        torch.randn(576, 576, generator=generator, dtype=torch.float64))

    def quantized(w):
        return awq_reference.rounded(
            w, config.layers, lambda x: progressive(x, args.group_size))

    def report(name, w, kv4, rows8=True):
        model.kv4, model.rows8 = kv4, rows8
        print(f"{name}: {model.perplexity(w, text):.4f}", flush=True)

    turned = rotated(base, config.layers, hadamard)
    report("FP32", base, False, rows8=False)
    report("FP32, stream rotated (the same model)", turned, False,
           rows8=False)
    report("W4A8", quantized(base), False)
    report("W4A8, stream rotated (Hadamard)", quantized(turned), False)
    report("W4A8KV4", quantized(base), True)
    report("W4A8KV4, stream rotated (Hadamard)", quantized(turned), True)
    report("W4A8KV4, stream rotated (random orthogonal)",
           quantized(rotated(base, config.layers, orthogonal.float())), True)


if __name__ == "__main__":
    main()
