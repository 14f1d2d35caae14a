#!/usr/bin/env python3
"""SparseRefine's trained refiner for the synthetic shapes task
(synthetic_shapes.py): a sparse U-Net and the gated ensembler of the
paper's shapes, and their training on the segmenter's own uncertain pixels.

    sparse_refiner.py train --bin BUILD/bin --model DIR/lraspp_shapes.onnx
                      --out DIR [--steps 1200] [--scenes 24] [--seed 0]

The refiner reads the image and the low-resolution logits (upsampled) at
the selected pixels; the ensembler blends its logits with the upsampled
ones there. Training distils the segmenter at full resolution: on
`--scenes` training scenes (seeds from 2,000,000, apart from the
segmenter's training renders and the benchmark's held-apart ones) Kiln
runs the segmenter at 512x1024 (the low-resolution logits) and at
1024x2048 (the target labels); each step takes crops of 256x512, each
around a selected pixel, whose pixels of highest low-resolution entropy (a
fraction drawn in [2%, 12%] of the scene, as SparseRefine selects them)
are the sites, and the
networks run as Kiln runs them, on the sites alone: every layer's output
masked to its level's sites (dense tensors, so PyTorch's own convolutions
train them). The loss is the cross-entropy at the sites of the ensembler's
logits and, to train the refiner on its own too, of the refiner's. Writes
DIR/refiner.onnx, DIR/ensembler.onnx and DIR/refiner-training.txt.
"""

import argparse
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synthetic_shapes  # noqa: E402

CLASSES = synthetic_shapes.CLASSES
WIDTHS = (16, 32, 64)
CROP = (256, 512)


class SparseUNet(nn.Module):
    """The refiner: submanifold 3x3 convolutions, two stride-2 levels down
    and transposed convolutions back up with the skips concatenated. With
    `masks` (one per level, [1, 1, h, w]) every layer's output is zero off
    its level's sites, which is what Kiln's sparse run computes."""

    def __init__(self, widths=WIDTHS):
        super().__init__()
        w0, w1, w2 = widths
        self.stem = nn.Conv2d(3 + CLASSES, w0, 3, 1, 1)
        self.down1 = nn.Conv2d(w0, w1, 2, 2)
        self.block1 = nn.Conv2d(w1, w1, 3, 1, 1)
        self.down2 = nn.Conv2d(w1, w2, 2, 2)
        self.block2 = nn.Conv2d(w2, w2, 3, 1, 1)
        self.up2 = nn.ConvTranspose2d(w2, w1, 2, 2)
        self.fuse1 = nn.Conv2d(2 * w1, w1, 3, 1, 1)
        self.up1 = nn.ConvTranspose2d(w1, w0, 2, 2)
        self.fuse0 = nn.Conv2d(2 * w0, w0, 1)
        self.head = nn.Conv2d(w0, CLASSES, 1)

    def forward(self, image, logits, masks=None):
        def at(x, level):
            return x if masks is None else x * masks[level]
        x = at(torch.cat([image, 0.1 * logits], 1), 0)
        skip0 = at(F.relu(self.stem(x)), 0)
        x = at(F.relu(self.down1(skip0)), 1)
        skip1 = at(F.relu(self.block1(x)), 1)
        x = at(F.relu(self.down2(skip1)), 2)
        x = at(F.relu(self.block2(x)), 2)
        x = at(F.relu(self.up2(x)), 1)
        x = at(F.relu(self.fuse1(torch.cat([skip1, x], 1))), 1)
        x = at(F.relu(self.up1(x)), 0)
        x = at(F.relu(self.fuse0(torch.cat([skip0, x], 1))), 0)
        return at(self.head(x), 0)


def entropy_of(logits, axis):
    p = torch.softmax(logits, dim=axis)
    return -(p * torch.log(torch.clamp(p, min=1e-5))).sum(dim=axis,
                                                          keepdim=True)


class GatedEnsembler(nn.Module):
    """Rows [n, K] of the upsampled and the refined logits: the softmax
    and entropy of each, an MLP (2K + 2 -> 64 -> 2) to the two logits'
    weights, their weighted sum, and a fuser MLP (K -> 64 -> K) added to
    it."""

    def __init__(self, classes=CLASSES, hidden=64):
        super().__init__()
        self.gate = nn.Sequential(nn.Linear(2 * classes + 2, hidden),
                                  nn.ReLU(), nn.Linear(hidden, 2))
        self.fuser = nn.Sequential(nn.Linear(classes, hidden), nn.ReLU(),
                                   nn.Linear(hidden, classes))

    def forward(self, low, refined):
        features = torch.cat([torch.softmax(low, 1), entropy_of(low, 1),
                              torch.softmax(refined, 1),
                              entropy_of(refined, 1)], 1)
        w = torch.softmax(self.gate(features), 1)
        blend = w[:, :1] * low + w[:, 1:] * refined
        return blend + self.fuser(blend)


def kiln_run(kiln, package, image, work):
    """The package's logits on `image` [1, 3, H, W]."""
    np.save(os.path.join(work, "input.npy"), image)
    subprocess.run([kiln, "run", package, "--input",
                    "image=" + os.path.join(work, "input.npy"),
                    "--output-dir", work], check=True, capture_output=True)
    return np.load(os.path.join(work, "logits.npy"))


def training_scenes(kiln, model, out, count, seed):
    """Per scene: the image, the low-resolution logits and the
    full-resolution labels, by Kiln."""
    low = os.path.join(out, "train-low.kiln")
    dense = os.path.join(out, "train-dense.kiln")
    for package, (h, w) in [(low, (512, 1024)), (dense, (1024, 2048))]:
        subprocess.run([kiln, "compile", model, "-o", package, "--dim",
                        f"H={h}", "--dim", f"W={w}"], check=True)
    scenes = []
    for i in range(count):
        image, _ = synthetic_shapes.render(2_000_000 + seed * 10_000 + i)
        image = image[None]
        small = image.reshape(1, 3, 512, 2, 1024, 2).mean(axis=(3, 5))
        low_logits = kiln_run(kiln, low, small, out)
        labels = kiln_run(kiln, dense, image, out)[0].argmax(0)
        entropy = entropy_of(torch.from_numpy(low_logits), 1)[0, 0].numpy()
        scenes.append((image.astype(np.float16), low_logits, labels,
                       np.sort(entropy.ravel())[::-1], entropy))
        print(f"training scene {i + 1}/{count}", file=sys.stderr, flush=True)
    return scenes


def crop_sample(scene, rng):
    """A crop around a selected pixel: its image, upsampled logits, level
    masks and labels."""
    image, low_logits, labels, sorted_entropy, entropy = scene
    fraction = rng.uniform(0.02, 0.12)
    cut = sorted_entropy[int(fraction * sorted_entropy.size)]
    selected = np.argwhere(entropy >= cut)
    y, x = 2 * selected[rng.integers(len(selected))]
    top = 4 * (min(max(y - CROP[0] // 2, 0), 1024 - CROP[0]) // 4)
    left = 4 * (min(max(x - CROP[1] // 2, 0), 2048 - CROP[1]) // 4)
    rows, cols = slice(top, top + CROP[0]), slice(left, left + CROP[1])
    low_rows = slice(top // 2, (top + CROP[0]) // 2)
    low_cols = slice(left // 2, (left + CROP[1]) // 2)
    low = torch.from_numpy(low_logits[:, :, low_rows, low_cols].copy())
    mask1 = torch.from_numpy(entropy[low_rows, low_cols] >= cut)[None, None]
    mask1 = mask1.float()
    masks = [mask1.repeat_interleave(2, 2).repeat_interleave(2, 3), mask1,
             F.max_pool2d(mask1, 2)]
    return (torch.from_numpy(image[:, :, rows, cols].astype(np.float32)),
            low.repeat_interleave(2, 2).repeat_interleave(2, 3), masks,
            torch.from_numpy(labels[rows, cols].astype(np.int64)))


def rows_at(tensor, mask):
    """[1, C, H, W] at the mask's pixels: [n, C]."""
    return tensor[0].permute(1, 2, 0)[mask[0, 0] > 0]


def train(kiln, model, out, steps=1200, scenes=24, batch=4, seed=0):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    data = training_scenes(kiln, model, out, scenes, seed)
    refiner, ensembler = SparseUNet(), GatedEnsembler()
    parameters = list(refiner.parameters()) + list(ensembler.parameters())
    optimizer = torch.optim.AdamW(parameters, lr=1e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    log = open(os.path.join(out, "refiner-training.txt"), "w")
    start = time.time()
    for step in range(steps):
        loss, right, low_right, total = 0.0, 0, 0, 0
        for _ in range(batch):
            image, upsampled, masks, labels = crop_sample(
                data[rng.integers(len(data))], rng)
            refined = refiner(image, upsampled, masks)
            target = labels[masks[0][0, 0] > 0]
            low_rows = rows_at(upsampled, masks[0])
            refined_rows = rows_at(refined, masks[0])
            blended = ensembler(low_rows, refined_rows)
            loss = loss + F.cross_entropy(blended, target) + \
                0.5 * F.cross_entropy(refined_rows, target)
            right += int((blended.argmax(1) == target).sum())
            low_right += int((low_rows.argmax(1) == target).sum())
            total += target.numel()
        optimizer.zero_grad()
        (loss / batch).backward()
        optimizer.step()
        schedule.step()
        if step % 20 == 0 or step == steps - 1:
            line = (f"step {step} ({time.time() - start:.0f} s): loss "
                    f"{float(loss) / batch:.4f}, agreement at the sites "
                    f"{right / max(total, 1):.4f} (upsampled "
                    f"{low_right / max(total, 1):.4f})")
            print(line, file=log, flush=True)
            print(line, file=sys.stderr, flush=True)

    refiner.eval()
    ensembler.eval()
    image_axes = {2: "H", 3: "W"}
    torch.onnx.export(refiner, (torch.zeros(1, 3, 64, 64),
                                torch.zeros(1, CLASSES, 64, 64)),
                      os.path.join(out, "refiner.onnx"), opset_version=17,
                      input_names=["image", "logits"], output_names=["out"],
                      dynamic_axes={"image": image_axes,
                                    "logits": image_axes,
                                    "out": image_axes})
    torch.onnx.export(ensembler, (torch.zeros(4, CLASSES),
                                  torch.zeros(4, CLASSES)),
                      os.path.join(out, "ensembler.onnx"), opset_version=17,
                      input_names=["low", "refined"], output_names=["out"],
                      dynamic_axes={"low": {0: "n"}, "refined": {0: "n"},
                                    "out": {0: "n"}})


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    training = sub.add_parser("train")
    training.add_argument("--bin", required=True)
    training.add_argument("--model", required=True)
    training.add_argument("--out", required=True)
    training.add_argument("--steps", type=int, default=1200)
    training.add_argument("--scenes", type=int, default=24)
    training.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    train(os.path.join(args.bin, "kiln"), args.model, args.out, args.steps,
          args.scenes, seed=args.seed)


if __name__ == "__main__":
    main()
