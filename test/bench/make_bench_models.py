#!/usr/bin/env python3
"""Builds the benchmark suite with PyTorch: real architectures at the sizes
users run them, random weights with fixed seeds (speed does not depend on
the weights' values).

    make_bench_models.py OUT_DIR [--only NAME,...]

For each model writes OUT_DIR/<name>.onnx (torch.onnx, opset 17) and its
inputs as OUT_DIR/<name>.input.<input>.npy. Models already present are
kept.

  resnet50         torchvision ResNet-50, 1x3x224x224
  mobilenet_v2     torchvision MobileNetV2, 1x3x224x224
  efficientnet_b0  torchvision EfficientNet-B0, 1x3x224x224
  vit_b_16         torchvision ViT-B/16, 1x3x224x224
  bert_encoder     BERT-base-sized encoder: d=768, 12 heads, MLP 3072,
                   4 layers, sequence 128
  gpt2_decode      one GPT-2-small-sized decode step (d=768, 12 heads,
                   4 layers) over a 512-token KV cache
  lraspp_seg       torchvision LRASPP with a MobileNetV3-Large backbone,
                   1x3x512x1024
"""

import argparse
import os
import sys

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "models"))
from make_models import GptDecoderStep, TransformerEncoder  # noqa: E402


def image(height=224, width=224):
    return {"image": torch.randn(1, 3, height, width)}


def suite():
    """name -> (constructor, inputs constructor, output names)."""
    tv = torchvision.models
    return {
        "resnet50": (lambda: tv.resnet50(), image, ["logits"]),
        "mobilenet_v2": (lambda: tv.mobilenet_v2(), image, ["logits"]),
        "efficientnet_b0": (lambda: tv.efficientnet_b0(), image, ["logits"]),
        "vit_b_16": (lambda: tv.vit_b_16(), image, ["logits"]),
        "bert_encoder": (
            lambda: TransformerEncoder(dim=768, heads=12, layers=4,
                                       length=128, classes=2),
            lambda: {"tokens": torch.randn(1, 128, 768)}, ["logits"]),
        "gpt2_decode": (
            lambda: GptDecoderStep(vocab=50257, dim=768, heads=12, layers=4,
                                   context=1024),
            lambda: {"token": torch.tensor([[42]]),
                     "position": torch.tensor([[512]]),
                     "past_keys": torch.randn(4, 1, 12, 512, 64) * 0.5,
                     "past_values": torch.randn(4, 1, 12, 512, 64) * 0.5},
            ["logits", "present_keys", "present_values"]),
        "lraspp_seg": (
            lambda: tv.segmentation.lraspp_mobilenet_v3_large(
                weights=None, weights_backbone=None),
            lambda: image(512, 1024), ["out"]),
    }


class FirstOutput(torch.nn.Module):
    """torchvision's segmentation models return a dict."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, x):
        return self.module(x)["out"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out")
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    chosen = set(filter(None, args.only.split(",")))
    for seed, (name, (make, make_inputs, outputs)) in enumerate(suite().items()):
        path = os.path.join(args.out, name + ".onnx")
        if (chosen and name not in chosen) or os.path.exists(path):
            continue
        torch.manual_seed(seed)
        module = make().eval()
        if name == "lraspp_seg":
            module = FirstOutput(module)
        if name == "vit_b_16":
            # torchvision starts the head at zero: the logits would not
            # depend on anything before it.
            torch.nn.init.normal_(module.heads.head.weight, std=0.02)
        inputs = make_inputs()
        # Not under no_grad: there nn.MultiheadAttention takes a fused
        # fast path that the exporter cannot express.
        torch.onnx.export(module, tuple(inputs.values()), path,
                          input_names=list(inputs), output_names=outputs,
                          opset_version=17, do_constant_folding=True)
        for input_name, tensor in inputs.items():
            np.save(os.path.join(args.out, f"{name}.input.{input_name}.npy"),
                    tensor.numpy())
        print(f"make_bench_models: {name}", flush=True)


if __name__ == "__main__":
    main()
