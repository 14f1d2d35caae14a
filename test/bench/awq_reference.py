#!/usr/bin/env python3
"""AWQ as its reference implementation runs it, in PyTorch, on SmolLM2:
what the method itself reaches on this model, beside Kiln's pass.

    awq_reference.py --gguf MODEL.gguf --kiln build/bin/kiln
        [--group-size 64] [--loss module|product] [--no-duo] [--no-clip]
        [--rounding nearest|gptq [--hessian-rows N]]

The GGUF's weights dequantized are the FP32 reference (tools/llm). Layer
by layer, on calibration windows of 512 tokens from Apache-2.0, MPL-2.0
and LGPL-2.1 (/usr/share/common-licenses), the inputs computed by the
FP32 layers before:
- scales for q, k, v (from the attention norm), gate and up (from the MLP
  norm) and down (from the up projection): `s = mean|x|^a / mean_w^(1-a)`
  ("duo" scaling: mean_w the weights' magnitudes normalized per group and
  averaged per input channel; `--no-duo`: `mean|x|^a`), normalized by
  sqrt(max s min s), a in {0, 0.05, ..., 0.95}, keeping the a with the
  least squared error of the module's output (`--loss module`: the
  attention's output after o for q, k, v, the MLP's for gate and up; the
  product's own for down) or of the products' outputs (`--loss product`,
  as Kiln's kiln-quant-awq);
- then each group's clipping `(1 - i/20) max|w|`, i < 10, on 512 sampled
  rows, for every product but q and k;
- INT4 asymmetric in groups, round to nearest (`--rounding gptq`: GPTQ's
  rounding in channel order, each group's grid chosen when reached, the
  Hessian from every calibration row or `--hessian-rows` of them, as a
  reference for Kiln's `--weight-rounding=gptq`; slow, about an hour).
  o is not scaled (v and o
  differ in shape under grouped-query attention). The output head stays
  FP32.
Prints the perplexity of FP32, round to nearest and AWQ over the first
1,024 tokens of GPL-3 (windows of 512, stride 256, as `kiln perplexity`).
About 20 minutes on two cores.
"""

import argparse
import math
import os
import subprocess
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "tools", "llm"))
import gguf_llama  # noqa: E402

LICENSES = "/usr/share/common-licenses"
# The weight products of a layer, the ones the methods quantize.
PRODUCTS = ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate",
            "ffn_up", "ffn_down")


def rounded(weights, layers, round_weight):
    """The weights with every layer's products through round_weight."""
    out = dict(weights)
    for layer in range(layers):
        for name in PRODUCTS:
            key = f"blk.{layer}.{name}.weight"
            out[key] = round_weight(weights[key])
    return out


def tokens(kiln, gguf, path):
    out = subprocess.run([kiln, "tokenize", gguf, "--text", path],
                         check=True, capture_output=True, text=True).stdout
    return [int(t) for t in out.split()]


def evaluation_tokens(kiln, gguf, count):
    """The first `count` tokens of GPL-3, the text every perplexity here is
    measured on."""
    return tokens(kiln, gguf, f"{LICENSES}/GPL-3")[:count]


def calibration_windows(kiln, gguf):
    """The whole windows of 512 tokens of Apache-2.0, MPL-2.0 and
    LGPL-2.1, in that order: the calibration text (22 windows)."""
    windows = []
    for name in ("Apache-2.0", "MPL-2.0", "LGPL-2.1"):
        ids = tokens(kiln, gguf, f"{LICENSES}/{name}")
        windows += [ids[i * 512:(i + 1) * 512] for i in range(len(ids) // 512)]
    return windows


def emulation_parser(doc, tokens=1024):
    """The arguments every emulation takes: the GGUF, the kiln that
    tokenizes, the evaluation's tokens and the threads."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--gguf", required=True)
    parser.add_argument("--kiln", required=True)
    parser.add_argument("--tokens", type=int, default=tokens)
    parser.add_argument("--threads", type=int, default=2)
    return parser


def check_variants(parser, variants, known):
    for variant in variants:
        if variant not in known:
            parser.error(f"unknown variant {variant!r} "
                         f"(known: {', '.join(known)})")


class Model:
    def __init__(self, config, weights):
        self.c = config
        self.w = {k: torch.from_numpy(v.copy()) for k, v in weights.items()}
        d = config.head_dim
        self.inverse = 1.0 / (config.rope_base ** (
            torch.arange(0, d, 2, dtype=torch.float64) / d))

    def weight(self, layer, name):
        return self.w[f"blk.{layer}.{name}.weight"]

    def rms(self, x, gain):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) +
                               self.c.rms_epsilon) * gain

    def product(self, x, w):
        """Rows x times a weight w [out, in]."""
        return x @ w.t()

    def cached(self, q, k, v):
        """The queries, keys and values [B, heads, T, D] (after RoPE) as
        the attention meets them: here as they are."""
        return q, k, v

    def attention(self, h, wq, wk, wv):
        """The attention of normed rows h [B, T, C] before o."""
        c = self.c
        b, t, _ = h.shape
        q = self.product(h, wq).view(b, t, c.heads, c.head_dim) \
            .transpose(1, 2)
        k = self.product(h, wk).view(b, t, c.kv_heads, c.head_dim) \
            .transpose(1, 2)
        v = self.product(h, wv).view(b, t, c.kv_heads, c.head_dim) \
            .transpose(1, 2)
        angles = torch.arange(t).unsqueeze(-1).double() * self.inverse
        angles = torch.cat((angles, angles), -1).float()
        cos, sin = angles.cos(), angles.sin()

        def rope(x):
            half = x.shape[-1] // 2
            return x * cos + torch.cat((-x[..., half:], x[..., :half]),
                                       -1) * sin
        q, k, v = self.cached(rope(q), rope(k), v)
        group = c.heads // c.kv_heads
        k = k.repeat_interleave(group, 1)
        v = v.repeat_interleave(group, 1)
        scores = q @ k.transpose(2, 3) / c.head_dim ** 0.5
        causal = torch.ones(t, t, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(causal, float("-inf"))
        return (torch.softmax(scores, -1) @ v).transpose(1, 2) \
            .reshape(b, t, -1)

    def layer(self, weights, layer, x):
        g = lambda name: weights[f"blk.{layer}.{name}.weight"]  # noqa: E731
        h = self.rms(x, g("attn_norm"))
        x = x + self.product(self.attention(h, g("attn_q"), g("attn_k"),
                                            g("attn_v")), g("attn_output"))
        h = self.rms(x, g("ffn_norm"))
        gated = torch.nn.functional.silu(self.product(h, g("ffn_gate"))) * \
            self.product(h, g("ffn_up"))
        return x + self.product(gated, g("ffn_down"))

    def logits(self, weights, ids):
        """The output head is `output.weight`, or the embedding table when
        the model ties them."""
        x = weights["token_embd.weight"][ids]
        for layer in range(self.c.layers):
            x = self.layer(weights, layer, x)
        head = weights.get("output.weight", weights["token_embd.weight"])
        return self.rms(x, weights["output_norm.weight"]) @ head.t()

    def perplexity(self, weights, ids, window=512, stride=256):
        nll, scored, start = [], 0, 0
        while True:
            end = min(start + window, len(ids))
            with torch.no_grad():
                out = self.logits(weights, torch.tensor([ids[start:end]]))[0]
            logp = torch.log_softmax(out.double(), -1)
            for i in range(max(scored, start + 1), end):
                nll.append(-logp[i - start - 1, ids[i]].item())
            scored = end
            if end == len(ids):
                return math.exp(sum(nll) / len(nll))
            start += stride


def quantize(w, group, clip=None):
    """Round to nearest in asymmetric INT4 groups (ALGORITHMS.md §2),
    after clamping each group to [-clip, clip]."""
    shape = w.shape
    w = w.reshape(-1, group)
    if clip is not None:
        clip = clip.reshape(-1, 1)
        w = torch.max(torch.min(w, clip), -clip)
    high, low = w.amax(1, keepdim=True), w.amin(1, keepdim=True)
    s = (high - low).clamp(min=1e-5) / 15
    z = (-torch.round(low / s)).clamp(0, 15)
    return ((torch.clamp(torch.round(w / s) + z, 0, 15) - z) * s) \
        .reshape(shape)


def params(w, clip=None):
    """Each row's asymmetric INT4 scale and zero point of group w [N, G]."""
    if clip is not None:
        w = torch.max(torch.min(w, clip), -clip)
    high, low = w.amax(1, keepdim=True), w.amin(1, keepdim=True)
    s = (high - low).clamp(min=1e-5) / 15
    return s, (-torch.round(low / s)).clamp(0, 15)


def gptq(w, x, group, clip=None, rows=0, damp=0.01, block=128):
    """INT4 groups rounded one input channel at a time, each channel's
    rounding error spread over the channels not yet rounded by the
    inverse Hessian of the products' squared error on the inputs x
    (GPTQ); a group's scale and zero point from its weights as they are
    when its first channel is reached, clamped to the clip."""
    w = w.clone().double()
    x = x.reshape(-1, x.shape[-1]).double()
    if rows:
        x = x[0::max(1, x.shape[0] // rows)]
    k = w.shape[1]
    h = x.t() @ x / x.shape[0]
    dead = h.diagonal() == 0
    h[dead, dead] = 1
    w[:, dead] = 0
    h += damp * h.diagonal().mean() * torch.eye(k, dtype=h.dtype)
    hinv = torch.linalg.cholesky(torch.cholesky_inverse(
        torch.linalg.cholesky(h)), upper=True)
    q = torch.zeros_like(w)
    for first in range(0, k, block):
        last = min(first + block, k)
        w1 = w[:, first:last].clone()
        errors = torch.zeros_like(w1)
        hinv1 = hinv[first:last, first:last]
        for i in range(last - first):
            column = first + i
            if column % group == 0:
                bound = None
                if clip is not None:
                    bound = clip[:, column // group].double().unsqueeze(1)
                end = min(i + group, last - first)
                g = torch.cat((w1[:, i:end], w[:, first + end:column + group]),
                              1)
                s, z = params(g, bound)
            c = w1[:, i:i + 1]
            qc = (torch.clamp(torch.round(c / s) + z, 0, 15) - z) * s
            q[:, column] = qc[:, 0]
            e = (c - qc) / hinv1[i, i]
            w1[:, i:] -= e @ hinv1[i:i + 1, i:]
            errors[:, i] = e[:, 0]
        w[:, last:] -= errors @ hinv[first:last, last:]
    return q.float()


def outputs_of(x):
    """The outputs of products with input x, side by side, for weights ws
    (the loss of `--loss product`)."""
    return lambda ws: torch.cat([x @ w.t() for w in ws], -1)


def search_scales(x, weights, output, group, duo):
    """The scales whose quantized weights give `output(weights)` the least
    squared error against the float weights'."""
    reference = output(weights)
    x_mean = x.abs().reshape(-1, x.shape[-1]).mean(0)
    w = torch.cat(weights, 0)
    magnitude = w.reshape(-1, group).abs()
    magnitude = magnitude / (magnitude.amax(1, keepdim=True) + 1e-6)
    w_mean = magnitude.reshape(w.shape).mean(0)
    best, chosen = float("inf"), None
    for step in range(20):
        a = step / 20
        s = x_mean.pow(a)
        if duo:
            s = s / (w_mean.pow(1 - a) + 1e-4)
        s = s.clamp(min=1e-4)
        s = s / (s.max() * s.min()).sqrt()
        error = (output([quantize(wi * s, group) / s for wi in weights]) -
                 reference).pow(2).mean().item()
        if error < best:
            best, chosen = error, s
    return chosen


def search_clip(w, x, group):
    x = x.reshape(-1, x.shape[-1])
    x = x[0::max(1, x.shape[0] // 512)]
    n, k = w.shape
    xg = x.reshape(1, -1, k // group, group)
    wg = w.reshape(n, 1, k // group, group)
    result = torch.empty(n, k // group)
    for first in range(0, n, 64):
        block = wg[first:first + 64]
        reference = (xg * block).sum(-1)
        widest = block.abs().amax(-1, keepdim=True)
        best = torch.full(widest.shape, float("inf"))
        chosen = widest.clone()
        for i in range(10):
            bound = widest * (1 - i / 20)
            clamped = torch.max(torch.min(block, bound), -bound)
            q = quantize(clamped.reshape(-1, group), group).reshape(
                clamped.shape)
            error = ((xg * q).sum(-1) - reference).pow(2).mean(
                1, keepdim=True).unsqueeze(-1)
            better = error < best
            best[better], chosen[better] = error[better], bound[better]
        result[first:first + 64] = chosen.reshape(-1, k // group)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gguf", required=True)
    parser.add_argument("--kiln", required=True)
    parser.add_argument("--group-size", type=int, default=64)
    parser.add_argument("--loss", choices=("module", "product"),
                        default="module")
    parser.add_argument("--no-duo", action="store_true")
    parser.add_argument("--no-clip", action="store_true")
    parser.add_argument("--rounding", choices=("nearest", "gptq"),
                        default="nearest")
    parser.add_argument("--hessian-rows", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    group, duo, module = args.group_size, not args.no_duo, \
        args.loss == "module"

    config, weights, _ = gguf_llama.load(args.gguf)
    model = Model(config, weights)
    text = evaluation_tokens(args.kiln, args.gguf, 1024)
    windows = calibration_windows(args.kiln, args.gguf)
    print(f"calibration: {len(windows)} windows of 512 tokens", flush=True)
    print(f"FP32: {model.perplexity(model.w, text):.4f}", flush=True)
    rtn = rounded(model.w, config.layers, lambda w: quantize(w, group))
    print(f"round to nearest, g{group}: {model.perplexity(rtn, text):.4f}",
          flush=True)

    awq = dict(model.w)
    x = model.w["token_embd.weight"][torch.tensor(windows)]
    silu = torch.nn.functional.silu
    with torch.no_grad():
        for layer in range(config.layers):
            w = {name: model.weight(layer, name) for name in
                 PRODUCTS + ("attn_norm", "ffn_norm")}
            h1 = model.rms(x, w["attn_norm"])
            attended = model.attention(h1, w["attn_q"], w["attn_k"],
                                       w["attn_v"])
            x2 = x + attended @ w["attn_output"].t()
            h2 = model.rms(x2, w["ffn_norm"])
            gated = silu(h2 @ w["ffn_gate"].t()) * (h2 @ w["ffn_up"].t())
            following = x2 + gated @ w["ffn_down"].t()

            qkv = [w["attn_q"], w["attn_k"], w["attn_v"]]
            output = outputs_of(h1)
            if module:
                output = lambda ws: model.attention(h1, *ws) @ \
                    w["attn_output"].t()  # noqa: E731
            s = search_scales(h1, qkv, output, group, duo)
            w["attn_norm"] = w["attn_norm"] / s
            for name in ("attn_q", "attn_k", "attn_v"):
                w[name] = w[name] * s
            h1 = h1 / s

            gate_up = [w["ffn_gate"], w["ffn_up"]]
            output = outputs_of(h2)
            if module:
                output = lambda ws: (silu(h2 @ ws[0].t()) * (  # noqa: E731
                    h2 @ ws[1].t())) @ w["ffn_down"].t()
            s = search_scales(h2, gate_up, output, group, duo)
            w["ffn_norm"] = w["ffn_norm"] / s
            w["ffn_gate"], w["ffn_up"] = w["ffn_gate"] * s, w["ffn_up"] * s
            h2 = h2 / s

            s = search_scales(gated, [w["ffn_down"]], outputs_of(gated), group,
                              duo)
            w["ffn_up"] = w["ffn_up"] / s.unsqueeze(1)
            w["ffn_down"] = w["ffn_down"] * s
            gated = gated / s

            inputs = {"attn_q": h1, "attn_k": h1, "attn_v": h1,
                      "attn_output": attended, "ffn_gate": h2, "ffn_up": h2,
                      "ffn_down": gated}
            for name in PRODUCTS:
                clip = None
                if not args.no_clip and name not in ("attn_q", "attn_k"):
                    clip = search_clip(w[name], inputs[name], group)
                if args.rounding == "gptq":
                    quantized = gptq(w[name], inputs[name], group, clip,
                                     args.hessian_rows)
                else:
                    quantized = quantize(w[name], group, clip)
                awq[f"blk.{layer}.{name}.weight"] = quantized
            for name in ("attn_norm", "ffn_norm"):
                awq[f"blk.{layer}.{name}.weight"] = w[name]
            x = following
            print(f"\rlayer {layer + 1} of {config.layers}", end="",
                  file=sys.stderr, flush=True)
    print(file=sys.stderr)
    print(f"AWQ (loss {args.loss}, {'duo' if duo else 'activation'} scales,"
          f" {args.rounding} rounding,"
          f" {'no ' if args.no_clip else ''}clipping), g{group}: "
          f"{model.perplexity(awq, text):.4f}", flush=True)


if __name__ == "__main__":
    main()
