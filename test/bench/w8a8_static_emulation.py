#!/usr/bin/env python3
"""What SmoothQuant W8A8 with static per-tensor activation scales costs
SmolLM2, emulated in PyTorch, and what it would cost if the rows beyond
the calibrated range (the attention sink's token) stayed floating point.

    w8a8_static_emulation.py --gguf MODEL.gguf --kiln build/bin/kiln
        [--tokens 100000] [--alpha 0.8] [VARIANT ...]

The GGUF's weights dequantized are the FP32 reference (tools/llm). Each
layer's products are grouped by their input (q, k and v; o; gate and up;
down), as `--quantize=w8a8` groups them. Calibration runs the FP32 model
over windows of 512 tokens of Apache-2.0, MPL-2.0 and LGPL-2.1
(/usr/share/common-licenses) and keeps each group's per-channel maxima
of |x|, over every row and over the rows after each window's first.
A group's inputs are divided by `s_j = max|x_j|^a / max|w_j|^(1-a)` and
its weights multiplied by it; weights in signed 8 bits with a scale per
output channel, activations in signed 8 bits with one scale, the
smoothed maxima's largest over 127. Variants:
- `static`: the maxima over every calibration row (as Kiln's pass);
- `float-outliers`: the scale from the rows after the first; a row whose
  largest smoothed magnitude exceeds the range multiplies the 8-bit
  weights as it is (floating point);
- `float-outliers-smooth-rest`: the same, and the smoothing from the rows
  after the first too;
- `row-scale-outliers-smooth-rest`: as the last, but a row beyond the
  range takes a scale of its own, its largest magnitude over 127 (the
  scale of every row the larger of the two);
- `dynamic`: every row its own scale (the smoothing from every row).
Prints the perplexity of FP32 and of each variant over the first --tokens
tokens of GPL-3 (all of it by default; windows of 512, stride 256, as
`kiln perplexity`), with the share of rows kept floating point.
"""

import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "tools", "llm"))
import awq_reference  # noqa: E402
import gguf_llama  # noqa: E402

GROUPS = (("attn_q", "attn_k", "attn_v"), ("attn_output",),
          ("ffn_gate", "ffn_up"), ("ffn_down",))
VARIANTS = ("static", "float-outliers", "float-outliers-smooth-rest",
            "row-scale-outliers-smooth-rest", "dynamic")


class Recording(awq_reference.Model):
    """The FP32 model, keeping per weight the per-channel maxima of |x|
    over every row (`every`) and over the rows after the first (`rest`)."""

    def __init__(self, config, weights):
        super().__init__(config, weights)
        self.every, self.rest = {}, {}

    def product(self, x, w):
        rows = x.abs().reshape(-1, x.shape[-2], x.shape[-1])
        for stats, seen in ((self.every, rows), (self.rest, rows[:, 1:])):
            top = seen.amax((0, 1))
            old = stats.get(id(w))
            stats[id(w)] = top if old is None else torch.max(old, top)
        return super().product(x, w)


class Static(awq_reference.Model):
    """Smoothed 8-bit products: per weight (by identity) the smoothing,
    the 8-bit weight and the activations' step; `outlier_rows` says what
    becomes of a row beyond the range: "float" keeps it as it is,
    "own-scale" gives it its own scale; "every-row" gives every row its
    own."""

    def __init__(self, config, weights):
        super().__init__(config, weights)
        self.plan, self.outlier_rows = {}, None
        self.rows = self.outliers = 0

    def product(self, x, w):
        if id(w) not in self.plan:
            return super().product(x, w)
        smoothing, quantized, step = self.plan[id(w)]
        x = x / smoothing
        largest = x.abs().amax(-1, keepdim=True)
        beyond = largest > 127 * step
        if self.outlier_rows == "own-scale":
            step = torch.clamp(largest / 127, min=step)
        elif self.outlier_rows == "every-row":
            step = largest.clamp_min(1e-30) / 127
        held = torch.clamp(torch.round(x / step), -128, 127) * step
        if self.outlier_rows in ("float", "own-scale"):
            self.rows += beyond.numel()
            self.outliers += int(beyond.sum())
        if self.outlier_rows == "float":
            held = torch.where(beyond, x, held)
        return held @ quantized.t()


def eight_bit_columns(w):
    """w [out, in] in signed 8 bits, one scale per output channel."""
    s = w.abs().amax(1, keepdim=True).clamp_min(1e-8) / 127
    return torch.round(w / s) * s


def plan(model, maxima, smoothing_maxima, alpha):
    """Per weight of each group: its smoothing, 8-bit weight and step."""
    result = {}
    for layer in range(model.c.layers):
        for names in GROUPS:
            weights = [model.weight(layer, name) for name in names]
            x_max = smoothing_maxima[id(weights[0])].clamp_min(1e-5)
            w_max = torch.stack([w.abs().amax(0) for w in weights]) \
                .amax(0).clamp_min(1e-5)
            s = x_max.pow(alpha) / w_max.pow(1 - alpha)
            step = float((maxima[id(weights[0])] / s).max()) / 127
            for w in weights:
                result[id(w)] = (s, eight_bit_columns(w * s), step)
    return result


def main():
    parser = awq_reference.emulation_parser(__doc__, tokens=100000)
    parser.add_argument("--alpha", type=float, default=0.8)
    parser.add_argument("variants", nargs="*", default=list(VARIANTS))
    args = parser.parse_args()
    awq_reference.check_variants(parser, args.variants, VARIANTS)
    torch.set_num_threads(args.threads)
    config, weights, _ = gguf_llama.load(args.gguf)

    recording = Recording(config, weights)
    windows = awq_reference.calibration_windows(args.kiln, args.gguf)
    with torch.no_grad():
        for window in windows:
            recording.logits(recording.w, torch.tensor([window]))
    print(f"calibration: {len(windows)} windows of 512 tokens", flush=True)

    model = Static(config, weights)
    # The same tensors by identity: the recording's maxima key the plan.
    model.w = recording.w
    text = awq_reference.evaluation_tokens(args.kiln, args.gguf,
                                           args.tokens)
    print(f"perplexity over {len(text)} tokens of GPL-3", flush=True)
    for variant in ["fp32"] + args.variants:
        model.plan = {} if variant == "fp32" else plan(
            model, recording.every if variant in ("static", "dynamic")
            else recording.rest,
            recording.rest if variant.endswith("smooth-rest")
            else recording.every, args.alpha)
        model.outlier_rows = ("float" if variant.startswith("float")
                              else "own-scale" if variant.startswith("row")
                              else "every-row" if variant == "dynamic"
                              else None)
        model.rows = model.outliers = 0
        with torch.no_grad():
            line = f"{variant}: {model.perplexity(model.w, text):.4f}"
        if model.rows:
            line += (f" ({100 * model.outliers / model.rows:.2f}% of rows "
                     "beyond the range)")
        print(line, flush=True)


if __name__ == "__main__":
    main()
