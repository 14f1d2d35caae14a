#!/usr/bin/env python3
"""A synthetic segmentation task with real boundaries, and a small
segmentation model trained on it, for SparseRefine's measurements (no
pretrained segmentation weights can be installed).

Images: a textured background (class 0) with 3 to 8 shapes (ellipses,
rectangles, triangles) of classes 1-3, each class its own texture (stripes
of a period and orientation, or dots) under a random tint and noise, the
later shapes over the earlier ones. Telling the classes apart takes a
neighbourhood of about a texture period, so a trained model is confident
inside regions and uncertain on their boundaries, as a real one is. A
scene is 1024x2048; a smaller canvas is a window of one at a random place,
which is what training sees.

    synthetic_shapes.py train --out DIR [--arch lraspp|lraspp-local|deeplabv3]
                        [--steps 1000]
                        [--batch 2] [--crop 192x384] [--seed 0]

trains torchvision's LRASPP (`--arch lraspp`) or DeepLabV3 (`--arch
deeplabv3`), each with a MobileNetV3-Large backbone (4 classes, no
pretrained weights), or LRASPP with its global poolings made local
(`--arch lraspp-local`: no squeeze-excitation blocks, the head's gate
per pixel), for a fixed number of AdamW steps on fresh
`--crop` renders, every other one at half the pixel scale (a twice larger
render averaged down, as SparseRefine's low-resolution input is), with a
fixed seed (the same weights on any machine, in a few minutes on two
cores), and writes DIR/ARCH_shapes.onnx (exported over a
[1, 3, H, W] image: compile it with --dim H=... --dim W=...) and
DIR/training.txt (the loss and pixel accuracy along the way).
"""

import argparse
import math
import os
import sys
import time

import numpy as np

CLASSES = 4


def _texture(kind, ys, xs, rng):
    """A class's pattern in [-1, 1] over the pixel grids ys, xs."""
    if kind == 0:
        return np.zeros_like(ys, dtype=np.float32)
    if kind == 1:  # horizontal stripes, period 10-14
        period = rng.uniform(10, 14)
        return np.sin(2 * math.pi * ys / period).astype(np.float32)
    if kind == 2:  # diagonal stripes, period 8-12
        period = rng.uniform(8, 12)
        return np.sin(2 * math.pi * (xs + ys) / (period * math.sqrt(2))) \
            .astype(np.float32)
    period = rng.uniform(10, 16)  # dots
    return (np.sin(2 * math.pi * xs / period) *
            np.sin(2 * math.pi * ys / period)).astype(np.float32)


def _smooth_noise(height, width, cell, rng):
    """Low-frequency noise: random values on a coarse grid, upsampled."""
    coarse = rng.standard_normal((height // cell + 2, width // cell + 2))
    y = np.arange(height) / cell
    x = np.arange(width) / cell
    y0, x0 = y.astype(int), x.astype(int)
    fy, fx = (y - y0)[:, None], (x - x0)[None, :]
    a = coarse[y0][:, x0]
    b = coarse[y0][:, x0 + 1]
    c = coarse[y0 + 1][:, x0]
    d = coarse[y0 + 1][:, x0 + 1]
    return ((a * (1 - fx) + b * fx) * (1 - fy) +
            (c * (1 - fx) + d * fx) * fy).astype(np.float32)


SCENE = (1024, 2048)


def render(seed, height=1024, width=2048):
    """One image [3, H, W] (float32, about zero mean and unit variance) and
    its labels [H, W] (int64): a 1024x2048 scene, or a window of one at a
    random place when the canvas is smaller (training's crops)."""
    rng = np.random.default_rng(seed)
    top = rng.integers(0, SCENE[0] - height + 1)
    left = rng.integers(0, SCENE[1] - width + 1)
    ys, xs = np.mgrid[top:top + height, left:left + width].astype(np.float32)
    labels = np.zeros((height, width), np.int64)
    for _ in range(rng.integers(3, 9)):
        kind = rng.integers(1, CLASSES)
        cy, cx = rng.uniform(0, SCENE[0]), rng.uniform(0, SCENE[1])
        ry, rx = rng.uniform(60, 300, size=2)
        form = rng.integers(0, 3)
        if form == 0:
            inside = ((ys - cy) / ry) ** 2 + ((xs - cx) / rx) ** 2 <= 1
        elif form == 1:
            angle = rng.uniform(0, math.pi)
            u = (xs - cx) * math.cos(angle) + (ys - cy) * math.sin(angle)
            v = -(xs - cx) * math.sin(angle) + (ys - cy) * math.cos(angle)
            inside = (np.abs(u) <= rx) & (np.abs(v) <= ry)
        else:
            corners = [(cy + ry * math.sin(a), cx + rx * math.cos(a))
                       for a in rng.uniform(0, 2 * math.pi) +
                       np.arange(3) * 2 * math.pi / 3]
            inside = np.ones((height, width), bool)
            for (y1, x1), (y2, x2) in zip(corners, corners[1:] + corners[:1]):
                side = (x2 - x1) * (ys - y1) - (y2 - y1) * (xs - x1)
                centre = (x2 - x1) * (cy - y1) - (y2 - y1) * (cx - x1)
                inside &= side * centre >= 0
        labels[inside] = kind
    image = np.empty((3, height, width), np.float32)
    background = _smooth_noise(height, width, 64, rng)
    tints = rng.uniform(-0.6, 0.6, size=(CLASSES, 3)).astype(np.float32)
    patterns = [_texture(k, ys, xs, rng) for k in range(CLASSES)]
    for channel in range(3):
        plane = 0.5 * background + tints[0, channel]
        for kind in range(1, CLASSES):
            where = labels == kind
            plane[where] = (patterns[kind][where] * 0.8 +
                            tints[kind, channel] + 0.3 * background[where])
        image[channel] = plane
    image += 0.35 * rng.standard_normal(image.shape).astype(np.float32)
    return image, labels


ARCHITECTURES = {
    "lraspp": "lraspp_mobilenet_v3_large",
    "lraspp-local": "lraspp_mobilenet_v3_large",
    "deeplabv3": "deeplabv3_mobilenet_v3_large",
}


def make_local(model):
    """LRASPP with its global poolings made local: the backbone's
    squeeze-excitation blocks removed and the head's gate computed per
    pixel (its 1x1 convolution and sigmoid without the pooling before), so
    that every output pixel depends on a bounded neighbourhood of the
    image, and a window with enough context computes what the whole image
    does there."""
    import torch
    from torchvision.ops.misc import SqueezeExcitation

    for module in list(model.modules()):
        for name, child in module.named_children():
            if isinstance(child, SqueezeExcitation):
                setattr(module, name, torch.nn.Identity())
    model.classifier.scale = torch.nn.Sequential(
        *[layer for layer in model.classifier.scale
          if not isinstance(layer, torch.nn.AdaptiveAvgPool2d)])
    return model


def model_file(out, arch="lraspp"):
    return os.path.join(out, f"{arch}_shapes.onnx")


def train(out, steps=1000, batch=2, crop=(192, 384), seed=0, arch="lraspp"):
    import torch
    import torch.nn.functional as F
    import torchvision

    torch.manual_seed(seed)
    build = getattr(torchvision.models.segmentation, ARCHITECTURES[arch])
    model = build(weights=None, weights_backbone=None, num_classes=CLASSES)
    if arch == "lraspp-local":
        model = make_local(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3,
                                  weight_decay=1e-4)
    log = open(os.path.join(out, "training.txt" if arch == "lraspp"
                            else f"training-{arch}.txt"), "w")
    model.train()
    def sample(index):
        # Every other sample at half the pixel scale: a twice larger render
        # averaged down, as SparseRefine's low-resolution input is; the
        # model then knows the textures at both resolutions.
        if index % 2 == 0:
            return render(index, *crop)
        image, labels = render(index, 2 * crop[0], 2 * crop[1])
        image = image.reshape(3, crop[0], 2, crop[1], 2).mean(axis=(2, 4))
        return image, labels[::2, ::2]

    start = time.time()
    for step in range(steps):
        samples = [sample(seed * 1_000_000 + step * batch + i)
                   for i in range(batch)]
        images = torch.from_numpy(np.stack([s[0] for s in samples]))
        labels = torch.from_numpy(np.stack([s[1] for s in samples]))
        logits = model(images)["out"]
        loss = F.cross_entropy(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 20 == 0 or step == steps - 1:
            accuracy = (logits.argmax(1) == labels).float().mean().item()
            line = (f"step {step} ({time.time() - start:.0f} s): loss "
                    f"{loss.item():.4f}, pixel accuracy {accuracy:.4f}")
            print(line, file=log, flush=True)
            print(line, file=sys.stderr, flush=True)
    model.eval()

    class Logits(torch.nn.Module):
        def __init__(self, segmenter):
            super().__init__()
            self.segmenter = segmenter

        def forward(self, image):
            return self.segmenter(image)["out"]

    torch.onnx.export(Logits(model), torch.zeros(1, 3, 256, 512),
                      model_file(out, arch),
                      opset_version=17, input_names=["image"],
                      output_names=["logits"],
                      dynamic_axes={"image": {2: "H", 3: "W"},
                                    "logits": {2: "H", 3: "W"}})


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    training = sub.add_parser("train")
    training.add_argument("--out", required=True)
    training.add_argument("--steps", type=int, default=1000)
    training.add_argument("--batch", type=int, default=2)
    training.add_argument("--crop", default="192x384")
    training.add_argument("--seed", type=int, default=0)
    training.add_argument("--arch", choices=sorted(ARCHITECTURES),
                          default="lraspp")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    crop = tuple(int(v) for v in args.crop.split("x"))
    train(args.out, args.steps, args.batch, crop, args.seed, args.arch)


if __name__ == "__main__":
    main()
