#!/usr/bin/env python3
"""Builds the real-architecture test models with PyTorch, fixed seeds.

    make_models.py OUT_DIR

For each model writes OUT_DIR/<name>.onnx (exported by torch.onnx, opset
17), its inputs as OUT_DIR/<name>.input.<input>.npy and PyTorch's own
outputs as OUT_DIR/<name>.expected.<output>.npy. Sizes are small so that
the whole set compiles and runs in well under a minute, but the
architectures are the real ones:

  resnet18       torchvision's ResNet-18 (10 classes), 1x3x32x32
  mobilenet_v3   torchvision's MobileNetV3-Small (HardSwish, depthwise
                 convolutions, squeeze-excite), 1x3x64x64
  transformer    a 2-layer pre-norm transformer encoder: LayerNormalization,
                 multi-head attention from MatMul and Softmax, GELU MLP
  segmenter      a small FCN: strided convolutions down, bilinear Resize up
                 to the input size, per-pixel classes
  lraspp_any_size  torchvision's LRASPP (MobileNetV3-Large backbone, 21
                 classes) exported over a [1, 3, H, W] image, its Resizes
                 sized by Shape -> Slice -> Concat at run time; checked at
                 1x3x96x160 (CPU only: CUDA packages need static shapes)
  gpt_decoder    one GPT decoding step: token + position embeddings,
                 2 layers of attention over a KV cache (past keys and values
                 in, present ones out), logits
  vit            torchvision's VisionTransformer: 8x8 patches of a 32x32
                 image (a strided Conv), a class token, 2 encoder layers of
                 4 heads, 1x3x32x32
"""

import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)

    def split_heads(self, x):
        batch, length, _ = x.shape
        return x.reshape(batch, length, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x, past_k=None, past_v=None):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        q, k, v = self.split_heads(q), self.split_heads(k), self.split_heads(v)
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        weights = torch.softmax(scores, dim=-1)
        mixed = torch.matmul(weights, v).transpose(1, 2)
        batch, length = x.shape[0], x.shape[1]
        return self.out(mixed.reshape(batch, length, -1)), k, v


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attention = Attention(dim, heads)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(),
                                 nn.Linear(4 * dim, dim))

    def forward(self, x, past_k=None, past_v=None):
        attended, k, v = self.attention(self.norm1(x), past_k, past_v)
        x = x + attended
        return x + self.mlp(self.norm2(x)), k, v


class TransformerEncoder(nn.Module):
    def __init__(self, dim=64, heads=4, layers=2, length=16, classes=10):
        super().__init__()
        self.position = nn.Parameter(torch.randn(1, length, dim) * 0.1)
        self.blocks = nn.ModuleList(Block(dim, heads) for _ in range(layers))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, tokens):
        x = tokens + self.position
        for block in self.blocks:
            x, _, _ = block(x)
        return self.head(self.norm(x).mean(dim=1))


class Segmenter(nn.Module):
    def __init__(self, classes=5):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU())
        self.classifier = nn.Conv2d(32, classes, 1)

    def forward(self, image):
        logits = self.classifier(self.encoder(image))
        return F.interpolate(logits, scale_factor=4.0, mode="bilinear",
                             align_corners=False)


class GptDecoderStep(nn.Module):
    def __init__(self, vocab=100, dim=64, heads=4, layers=2, context=32):
        super().__init__()
        self.token = nn.Embedding(vocab, dim)
        self.position = nn.Embedding(context, dim)
        self.blocks = nn.ModuleList(Block(dim, heads) for _ in range(layers))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab, bias=False)

    def forward(self, token, position, past_keys, past_values):
        x = self.token(token) + self.position(position)
        present_keys, present_values = [], []
        for index, block in enumerate(self.blocks):
            x, k, v = block(x, past_keys[index], past_values[index])
            present_keys.append(k)
            present_values.append(v)
        logits = self.head(self.norm(x))
        return logits, torch.stack(present_keys), torch.stack(present_values)


def models():
    """(name, module, {input name: tensor}, [output names])."""
    torch.manual_seed(0)
    resnet = torchvision.models.resnet18(num_classes=10)
    yield ("resnet18", resnet, {"image": torch.randn(1, 3, 32, 32)},
           ["logits"])

    torch.manual_seed(1)
    mobilenet = torchvision.models.mobilenet_v3_small(num_classes=10)
    yield ("mobilenet_v3", mobilenet, {"image": torch.randn(1, 3, 64, 64)},
           ["logits"])

    torch.manual_seed(2)
    yield ("transformer", TransformerEncoder(),
           {"tokens": torch.randn(1, 16, 64)}, ["logits"])

    torch.manual_seed(3)
    yield ("segmenter", Segmenter(), {"image": torch.randn(1, 3, 32, 32)},
           ["masks"])

    torch.manual_seed(4)
    past = 7
    yield ("gpt_decoder", GptDecoderStep(),
           {"token": torch.tensor([[42]]),
            "position": torch.tensor([[past]]),
            "past_keys": torch.randn(2, 1, 4, past, 16) * 0.5,
            "past_values": torch.randn(2, 1, 4, past, 16) * 0.5},
           ["logits", "present_keys", "present_values"])

    torch.manual_seed(5)
    vit = torchvision.models.VisionTransformer(
        image_size=32, patch_size=8, num_layers=2, num_heads=4,
        hidden_dim=64, mlp_dim=128, num_classes=10)
    # torchvision starts the head at zero: the logits would not depend on
    # anything before it.
    nn.init.normal_(vit.heads.head.weight, std=0.2)
    nn.init.uniform_(vit.heads.head.bias, -0.1, 0.1)
    yield ("vit", vit, {"image": torch.randn(1, 3, 32, 32)}, ["logits"])

    torch.manual_seed(6)
    lraspp = FirstOutput(torchvision.models.segmentation.lraspp_mobilenet_v3_large(
        weights=None, weights_backbone=None))
    yield ("lraspp_any_size", lraspp, {"image": torch.randn(1, 3, 96, 160)},
           ["out"], {"image": {2: "H", 3: "W"}, "out": {2: "H", 3: "W"}})


class FirstOutput(nn.Module):
    """torchvision's segmentation models return a dict."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, image):
        return self.module(image)["out"]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, module, inputs, output_names, *dynamic_axes in models():
        module.eval()
        # Batch statistics that are not the identity make BatchNormalization
        # do real work.
        for layer in module.modules():
            if isinstance(layer, nn.BatchNorm2d):
                layer.running_mean.uniform_(-0.2, 0.2)
                layer.running_var.uniform_(0.5, 1.5)
        arguments = tuple(inputs.values())
        with torch.no_grad():
            outputs = module(*arguments)
        if isinstance(outputs, torch.Tensor):
            outputs = (outputs,)
        torch.onnx.export(module, arguments, os.path.join(out, name + ".onnx"),
                          input_names=list(inputs), output_names=output_names,
                          opset_version=17, do_constant_folding=True,
                          dynamic_axes=dynamic_axes[0] if dynamic_axes else None)
        for input_name, tensor in inputs.items():
            np.save(os.path.join(out, f"{name}.input.{input_name}.npy"),
                    tensor.numpy())
        for output_name, tensor in zip(output_names, outputs):
            np.save(os.path.join(out, f"{name}.expected.{output_name}.npy"),
                    tensor.numpy())
        print(f"make_models: {name}")


if __name__ == "__main__":
    main()
