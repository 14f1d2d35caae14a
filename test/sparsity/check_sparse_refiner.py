#!/usr/bin/env python3
"""Checks SparseRefine with a trained refiner (`--sparse-refine` with
`--refiner` and `--ensembler`) end to end, on random-weight networks of the
paper's shapes: a U-Net of submanifold 3x3 convolutions, a stride-2 level
down and a transposed convolution back up with the skip concatenated, of
the image and the upsampled logits; a gated ensembler (the two logits'
softmax and entropy, an MLP to two weights, their blend, a fuser MLP):
- sparse convolution equals dense convolution on a zero-filled input at
  the active sites (a refiner of one 3x3 Conv, and of one strided Conv
  down and its transpose up);
- the whole pipeline equals a straightforward reference (PyTorch, dense
  tensors masked to the sites at every layer) within 1e-4 at every pixel
  but those whose entropy is within rounding of the cut;
- the same on the CUDA emulator (`--target=cuda`): the strided refiner
  and the U-Net with its ensembler match the reference as the CPU's do;
- with every pixel selected, the refiner and ensembler run densely at
  every pixel;
- `kiln inspect` shows the settings; one-line refusals of an ensembler
  without a refiner, tile options with a refiner, a refiner node that has
  no sparse form (named), and a refiner file that is not ONNX.

    check_sparse_refiner.py --bin BUILD/bin --work DIR
"""

import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from check_sparse_refine import CUDA, one_line_failure, run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "test", "bench"))
from sparse_refiner import GatedEnsembler, entropy_of  # noqa: E402

HEIGHT, WIDTH = 128, 256
LOW = (64, 128)
CLASSES = 5
TOLERANCE = 1e-4


class Segmenter(nn.Module):
    """A small fully convolutional segmenter (output stride 4)."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 16, 3, 2, 1)
        self.b = nn.Conv2d(16, 16, 3, 2, 1)
        self.d = nn.Conv2d(16, CLASSES, 1)

    def forward(self, x):
        y = self.d(F.relu(self.b(F.relu(self.a(x)))))
        return F.interpolate(y, scale_factor=4.0, mode="bilinear",
                             align_corners=False)


class SparseUNet(nn.Module):
    """The refiner: written for dense images, run by Kiln on the sites.
    `masks` (one per level) gives the reference's sparse semantics: every
    layer's output zero off its level's sites."""

    def __init__(self, inputs=3 + CLASSES, width=16):
        super().__init__()
        self.stem = nn.Conv2d(inputs, width, 3, 1, 1)
        self.down = nn.Conv2d(width, 2 * width, 2, 2)
        self.norm = nn.BatchNorm2d(2 * width)
        self.deep = nn.Conv2d(2 * width, 2 * width, 3, 1, 1)
        self.up = nn.ConvTranspose2d(2 * width, width, 2, 2)
        self.fuse = nn.Conv2d(2 * width, width, 3, 1, 1)
        self.head = nn.Conv2d(width, CLASSES, 1)

    def forward(self, image, logits, masks=None):
        def at(x, level):
            return x if masks is None else x * masks[level]
        x = at(torch.cat([image, logits], 1), 0)
        skip = at(F.relu(self.stem(x)), 0)
        y = at(F.relu(self.norm(self.down(skip))), 1)
        y = at(F.relu(self.deep(y)), 1)
        y = at(self.up(y), 0)
        y = at(F.relu(self.fuse(torch.cat([skip, y], 1))), 0)
        return at(self.head(y), 0)


class OneConv(nn.Module):
    """A refiner of one submanifold 3x3 convolution."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, CLASSES, 3, 1, 1)

    def forward(self, image, masks=None):
        y = self.conv(image if masks is None else image * masks[0])
        return y if masks is None else y * masks[0]


class DownUp(nn.Module):
    """A refiner of a strided convolution down and its transpose up."""

    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(3, 8, 3, 2, 1)
        self.up = nn.ConvTranspose2d(8, CLASSES, 2, 2)

    def forward(self, image, masks=None):
        if masks is None:
            return self.up(self.down(image))
        return self.up(self.down(image * masks[0]) * masks[1]) * masks[0]


def level_masks(mask, levels=2):
    """The sites of each level: a coarse pixel is a site where a fine site
    falls in it."""
    masks = [mask.float()]
    for _ in range(levels - 1):
        masks.append(F.max_pool2d(masks[-1], 2))
    return masks


def selection(model, image, fraction):
    """The low-resolution logits, entropy, cut and full-resolution mask."""
    fy, fx = HEIGHT // LOW[0], WIDTH // LOW[1]
    low_logits = model(F.avg_pool2d(image, (fy, fx)))
    entropy = entropy_of(low_logits, 1)
    k = min(math.ceil(fraction * entropy.numel()), entropy.numel())
    cut = (torch.sort(entropy.flatten(), descending=True).values[k - 1]
           if k > 0 else torch.tensor(float("inf")))
    mask = (entropy >= cut).repeat_interleave(fy, 2).repeat_interleave(fx, 3)
    upsampled = low_logits.repeat_interleave(fy, 2).repeat_interleave(fx, 3)
    return upsampled, entropy, float(cut), mask


def reference(model, refiner, ensembler, image, fraction, with_logits=True):
    """SparseRefine with the trained refiner, as the paper describes it,
    on dense tensors masked to the sites."""
    with torch.no_grad():
        upsampled, entropy, cut, mask = selection(model, image, fraction)
        masks = level_masks(mask)
        inputs = (image, upsampled) if with_logits else (image,)
        refined = refiner(*inputs, masks=masks)
        sites = mask[0, 0].nonzero(as_tuple=True)
        rows = refined[0][:, sites[0], sites[1]].T
        if ensembler is not None:
            rows = ensembler(upsampled[0][:, sites[0], sites[1]].T, rows)
        logits = upsampled.clone()
        logits[0][:, sites[0], sites[1]] = rows.T
    return logits.numpy(), entropy.numpy(), cut


def export(model, path, inputs, names, symbolic):
    torch.onnx.export(model.eval(), inputs, path, opset_version=17,
                      input_names=names, output_names=["out"],
                      dynamic_axes=symbolic)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    kiln = os.path.join(args.bin, "kiln")
    os.makedirs(args.work, exist_ok=True)
    work = lambda name: os.path.join(args.work, name)  # noqa: E731

    torch.manual_seed(0)
    model = Segmenter().eval()
    with torch.no_grad():
        model.d.weight.mul_(30.0)  # confident in places
    torch.onnx.export(model, torch.zeros(1, 3, HEIGHT, WIDTH),
                      work("segmenter.onnx"), opset_version=17,
                      input_names=["image"], output_names=["logits"])
    image = F.interpolate(torch.randn(1, 3, HEIGHT // 16, WIDTH // 16),
                          size=(HEIGHT, WIDTH), mode="bilinear",
                          align_corners=False)
    image = image + 0.1 * torch.randn(1, 3, HEIGHT, WIDTH)
    np.save(work("image.npy"), image.numpy())

    dense_axes = {"image": {2: "H", 3: "W"}, "logits": {2: "H", 3: "W"},
                  "out": {2: "H", 3: "W"}}
    unet = SparseUNet().eval()
    with torch.no_grad():  # statistics a trained network would have
        unet.norm.running_mean.uniform_(-0.5, 0.5)
        unet.norm.running_var.uniform_(0.5, 2.0)
        unet.norm.weight.uniform_(0.5, 1.5)
        unet.norm.bias.uniform_(-0.2, 0.2)
    export(unet, work("unet.onnx"),
           (torch.zeros(1, 3, 32, 32), torch.zeros(1, CLASSES, 32, 32)),
           ["image", "logits"], dense_axes)
    ensembler = GatedEnsembler(CLASSES).eval()
    export(ensembler, work("ensembler.onnx"),
           (torch.zeros(4, CLASSES), torch.zeros(4, CLASSES)),
           ["low", "refined"], {"low": {0: "n"}, "refined": {0: "n"},
                                "out": {0: "n"}})
    one_conv, down_up = OneConv().eval(), DownUp().eval()
    export(one_conv, work("oneconv.onnx"), (torch.zeros(1, 3, 32, 32),),
           ["image"], dense_axes)
    export(down_up, work("downup.onnx"), (torch.zeros(1, 3, 32, 32),),
           ["image"], dense_axes)

    def kiln_logits(name, *options):
        package = work(name + ".kiln")
        run([kiln, "compile", work("segmenter.onnx"), "-o", package,
             f"--sparse-refine={LOW[0]}x{LOW[1]}", *options])
        out = work(name)
        os.makedirs(out, exist_ok=True)
        device = ["--device=cuda-emu"] if "--target=cuda" in options else []
        run([kiln, "run", package, "--input", "image=" + work("image.npy"),
             "--output-dir", out, *device])
        return np.load(os.path.join(out, "logits.npy"))

    def check(name, refiner_model, ensembler_model, fraction, with_logits,
              *files, target=()):
        options = [f"--refine-fraction={fraction}",
                   "--refiner=" + work(files[0]), *target]
        if len(files) > 1:
            options.append("--ensembler=" + work(files[1]))
        logits = kiln_logits(name, *options)
        expected, entropy, cut = reference(model, refiner_model,
                                           ensembler_model, image, fraction,
                                           with_logits)
        fy, fx = HEIGHT // LOW[0], WIDTH // LOW[1]
        near = np.abs(entropy - cut) <= 1e-5 * max(1.0, abs(cut))
        near = near.repeat(fy, 2).repeat(fx, 3)
        differs = np.abs(logits - expected).max(axis=1, keepdims=True) > \
            TOLERANCE * max(1.0, np.abs(expected).max())
        wrong = differs & ~near
        assert not wrong.any(), \
            f"{name}: {wrong.sum()} pixels off the reference " \
            f"(largest error {np.abs(logits - expected).max()})"
        print(f"{name}: {float((entropy >= cut).mean()):.1%} of the pixels "
              f"refined, the reference's logits ({near.sum()} pixels at the "
              "cut aside)")
        return logits

    check("oneconv", one_conv, None, 0.2, False, "oneconv.onnx")
    check("downup", down_up, None, 0.2, False, "downup.onnx")
    print("sparse convolution: dense convolution of the zero-filled input "
          "at the active sites")
    check("trained", unet, ensembler, 0.2, True, "unet.onnx",
          "ensembler.onnx")
    # The same kernels on the CUDA emulator: the sites' counts, computed by
    # kernels, read back by the host to size the rows.
    check("cuda-downup", down_up, None, 0.2, False, "downup.onnx",
          target=CUDA)
    check("cuda-trained", unet, ensembler, 0.2, True, "unet.onnx",
          "ensembler.onnx", target=CUDA)
    # Every pixel selected: the refiner and the ensembler, densely.
    everything = kiln_logits("everything", "--refine-fraction=1",
                             "--refiner=" + work("unet.onnx"),
                             "--ensembler=" + work("ensembler.onnx"))
    with torch.no_grad():
        upsampled, _, _, _ = selection(model, image, 1.0)
        refined = unet(image, upsampled)
        rows = ensembler(upsampled[0].flatten(1).T, refined[0].flatten(1).T)
        dense = rows.T.reshape(1, CLASSES, HEIGHT, WIDTH).numpy()
    error = np.abs(everything - dense).max()
    assert error <= TOLERANCE * max(1.0, np.abs(dense).max()), \
        f"every pixel refined: {error} from the dense refiner"
    print(f"every pixel refined: within {error:.2e} of the refiner and "
          "ensembler run densely")

    inspected = run([kiln, "inspect", work("trained.kiln")])
    for setting in ["--refiner=unet.onnx", "--ensembler=ensembler.onnx",
                    f"SparseRefine: the model at {LOW[0]}x{LOW[1]}, then the "
                    "trained refiner unet.onnx run sparsely on the pixels "
                    "among the 20% most uncertain, blended by the ensembler "
                    "ensembler.onnx"]:
        assert setting in inspected, (setting, inspected)

    segmenter = work("segmenter.onnx")
    refine = f"--sparse-refine={LOW[0]}x{LOW[1]}"
    one_line_failure([kiln, "compile", segmenter, "-o", work("x.kiln"),
                      refine, "--ensembler=" + work("ensembler.onnx")],
                     "give --refiner too")
    one_line_failure([kiln, "compile", segmenter, "-o", work("x.kiln"),
                      refine, "--refiner=" + work("unet.onnx"),
                      "--refine-tile=64"], "--refiner runs on the pixels")
    torch.onnx.export(nn.Sequential(nn.Conv2d(3, 5, 3, 1, 1),
                                    nn.MaxPool2d(3, 1, 1)),
                      torch.zeros(1, 3, 32, 32), work("pooling.onnx"),
                      opset_version=17, input_names=["image"],
                      output_names=["out"], dynamic_axes=dense_axes)
    one_line_failure([kiln, "compile", segmenter, "-o", work("x.kiln"),
                      refine, "--refiner=" + work("pooling.onnx")],
                     "pooling.onnx: node '/1/MaxPool': a sparse network "
                     "cannot run MaxPool")
    with open(work("garbage.onnx"), "wb") as f:
        f.write(b"not a model")
    one_line_failure([kiln, "compile", segmenter, "-o", work("x.kiln"),
                      refine, "--refiner=" + work("garbage.onnx")],
                     "garbage.onnx")
    print("inspect and refusals: as expected")


if __name__ == "__main__":
    main()
