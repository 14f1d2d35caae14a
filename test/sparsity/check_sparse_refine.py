#!/usr/bin/env python3
"""Checks SparseRefine (`--sparse-refine`, the training-free refiner) end
to end on a small random-weight fully convolutional segmenter (strided
convolutions down, bilinear Resize up; a receptive field of about 11
pixels and an output stride of 4):
- with every pixel selected (`--refine-fraction=1`) the logits equal the
  dense full-resolution package's: each tile's window holds the context
  its logits depend on;
- against a straightforward reference (PyTorch): the image averaged down,
  the model at low resolution, the entropy of its softmax, the pixels above
  the cut (a threshold, or the k-th largest entropy), the tiles that hold
  one, the model on their windows (moved inside the image at its edges),
  and the logits upsampled (nearest) but at the selected pixels; within
  1e-4 at every pixel but those whose entropy is within rounding of the
  cut (which either side may select); and with a tile budget
  (`--refine-tiles`), only the tiles with the most selected pixels;
- no tile selected: a batch of no windows, the upsampled logits;
- the same on the CUDA emulator (`--target=cuda`): every pixel refined
  equals the dense package, and the fraction, tile budget and no-tile
  cases match the reference as the CPU's do;
- the model exported over a symbolic image, compiled at the size by
  `--dim H=... --dim W=...`, gives the static model's logits;
- `kiln inspect` shows the settings; one-line refusals of a resolution
  that does not divide the image, logits that are not per-pixel (a
  classifier, and a Resize sized by constants at export), both a
  threshold and a fraction, windows larger than the image, a symbolic
  image without --dim, and --dim naming no input dimension.

    check_sparse_refine.py --bin BUILD/bin --work DIR
"""

import argparse
import math
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HEIGHT, WIDTH = 256, 512
LOW = (128, 256)
TILE, HALO = 64, 32
TOLERANCE = 1e-4
# For the SIMT emulator alone: no nvcc needed (test/runtime/cuda proves the
# kernels compile for the GPUs).
CUDA = ["--target=cuda", "--cuda-arch=none"]


class Segmenter(nn.Module):
    """Convolutions to a quarter of the resolution, then bilinear up: by
    scale (follows the input), or to the input's size, which a static
    export fixes as constants."""

    def __init__(self, classes=5, sized_by_constants=False):
        super().__init__()
        self.sized_by_constants = sized_by_constants
        self.a = nn.Conv2d(3, 16, 3, 2, 1)
        self.b = nn.Conv2d(16, 32, 3, 2, 1)
        self.c = nn.Conv2d(32, 32, 3, 1, 1)
        self.d = nn.Conv2d(32, classes, 1)

    def forward(self, x):
        y = self.d(F.relu(self.c(F.relu(self.b(F.relu(self.a(x)))))))
        if self.sized_by_constants:
            return F.interpolate(y, size=x.shape[-2:], mode="bilinear",
                                 align_corners=False)
        return F.interpolate(y, scale_factor=4.0, mode="bilinear",
                             align_corners=False)


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, 2, 1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        return self.fc(F.relu(self.a(x)).mean(dim=(2, 3)))


def entropy_of(logits):
    p = torch.softmax(logits, dim=1)
    return -(p * torch.log(torch.clamp(p, min=1e-5))).sum(dim=1, keepdim=True)


def window_origin(origin, halo, image, window):
    return min(max(origin - halo, 0), image - window)


def sparse_refine_reference(model, image, low, tile, halo, threshold=None,
                            fraction=None, max_tiles=0):
    """SparseRefine with the training-free refiner, pixel by pixel as the
    paper describes it; returns the logits, the entropy and the cut."""
    _, _, height, width = image.shape
    fy, fx = height // low[0], width // low[1]
    with torch.no_grad():
        low_logits = model(F.avg_pool2d(image, (fy, fx)))
        entropy = entropy_of(low_logits)
        if fraction is not None:
            k = min(math.ceil(fraction * entropy.numel()), entropy.numel())
            cut = (torch.sort(entropy.flatten(), descending=True).values[k - 1]
                   if k > 0 else torch.tensor(float("inf")))
            mask = entropy >= cut
        else:
            cut = torch.tensor(threshold)
            mask = entropy > cut
        full_mask = mask.repeat_interleave(fy, 2).repeat_interleave(fx, 3)
        logits = low_logits.repeat_interleave(fy, 2).repeat_interleave(fx, 3)
        window = tile + 2 * halo
        counts = {(y0, x0): int(full_mask[..., y0:y0 + tile,
                                          x0:x0 + tile].sum())
                  for y0 in range(0, height, tile)
                  for x0 in range(0, width, tile)}
        chosen = [t for t in sorted(counts, key=lambda t: -counts[t])
                  if counts[t] > 0]
        if max_tiles:
            chosen = chosen[:max_tiles]  # the sort is stable: ties in order
        for y0, x0 in chosen:
            y1, x1 = min(y0 + tile, height), min(x0 + tile, width)
            top = window_origin(y0, halo, height, window)
            left = window_origin(x0, halo, width, window)
            refined = model(image[..., top:top + window, left:left + window])
            region = refined[..., y0 - top:y1 - top, x0 - left:x1 - left]
            here = full_mask[..., y0:y1, x0:x1]
            logits[..., y0:y1, x0:x1] = torch.where(
                here, region, logits[..., y0:y1, x0:x1])
    return logits.numpy(), entropy.numpy(), float(cut)


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"FAIL: {' '.join(command)}\n{result.stderr}")
    return result.stdout


def one_line_failure(command, reason):
    result = subprocess.run(command, capture_output=True, text=True)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and \
        reason in lines[0], (command, result.returncode, result.stderr)


def export(model, path, shape, symbolic=False):
    axes = {"image": {2: "H", 3: "W"}, "logits": {2: "H", 3: "W"}}
    torch.onnx.export(model.eval(), torch.zeros(shape), path,
                      opset_version=17, input_names=["image"],
                      output_names=["logits"],
                      dynamic_axes=axes if symbolic else None)


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
        # Confident logits in places, as a trained model's: the entropy
        # then ranges from near 0 to near log 5.
        model.d.weight.mul_(40.0)
    shape = (1, 3, HEIGHT, WIDTH)
    export(model, work("segmenter.onnx"), shape)
    # Smooth random blobs, so that the logits have regions and boundaries.
    image = F.interpolate(torch.randn(1, 3, HEIGHT // 32, WIDTH // 32),
                          size=(HEIGHT, WIDTH), mode="bilinear",
                          align_corners=False)
    image = image + 0.1 * torch.randn(shape)
    np.save(work("image.npy"), image.numpy())

    def kiln_logits(name, *options, model_file="segmenter.onnx"):
        package = work(name + ".kiln")
        run([kiln, "compile", work(model_file), "-o", package, *options])
        out = work(name)
        os.makedirs(out, exist_ok=True)
        device = ["--device=cuda-emu"] if "--target=cuda" in options else []
        run([kiln, "run", package, "--input", "image=" + work("image.npy"),
             "--output-dir", out, *device])
        return np.load(os.path.join(out, "logits.npy"))

    refine = [f"--sparse-refine={LOW[0]}x{LOW[1]}", f"--refine-tile={TILE}",
              f"--refine-halo={HALO}"]
    dense = kiln_logits("dense")
    everything = kiln_logits("everything", *refine, "--refine-fraction=1")
    error = np.abs(everything - dense).max()
    assert error <= 1e-5 * max(1.0, np.abs(dense).max()), \
        f"every pixel refined: {error} from dense"
    print(f"every pixel refined: within {error:.2e} of the dense package")
    # The same on the CUDA emulator (every tile: the batch of windows read
    # back from the device sizes the model's second run).
    cuda_everything = kiln_logits("cuda-everything", *refine, *CUDA,
                                  "--refine-fraction=1")
    error = np.abs(cuda_everything - dense).max()
    assert error <= 1e-5 * max(1.0, np.abs(dense).max()), \
        f"CUDA, every pixel refined: {error} from dense"
    print(f"CUDA emulator, every pixel refined: within {error:.2e} of the "
          "dense package")

    _, entropy, _ = sparse_refine_reference(model, image, LOW, TILE, HALO,
                                            threshold=100.0)
    threshold = round(float(np.quantile(entropy, 0.9)), 3)
    fraction_logits = None
    for name, options, selection in [
            ("fraction", ["--refine-fraction=0.2"], {"fraction": 0.2}),
            ("threshold", [f"--refine-threshold={threshold}"],
             {"threshold": threshold}),
            ("budget", ["--refine-fraction=0.2", "--refine-tiles=5"],
             {"fraction": 0.2, "max_tiles": 5}),
            ("nothing", ["--refine-threshold=100"], {"threshold": 100.0}),
            ("cuda-fraction", ["--refine-fraction=0.2", *CUDA],
             {"fraction": 0.2}),
            ("cuda-budget", ["--refine-fraction=0.2", "--refine-tiles=5",
                             *CUDA], {"fraction": 0.2, "max_tiles": 5}),
            ("cuda-nothing", ["--refine-threshold=100", *CUDA],
             {"threshold": 100.0})]:
        logits = kiln_logits(name, *refine, *options)
        expected, entropy, cut = sparse_refine_reference(
            model, image, LOW, TILE, HALO, **selection)
        # Pixels whose entropy rounding could put on either side of the cut.
        near = np.abs(entropy - cut) <= 1e-5 * max(1.0, abs(cut))
        near = near.repeat(HEIGHT // LOW[0], 2).repeat(WIDTH // LOW[1], 3)
        differs = np.abs(logits - expected).max(axis=1, keepdims=True) > \
            TOLERANCE * max(1.0, np.abs(expected).max())
        wrong = differs & ~near
        assert not wrong.any(), \
            f"{name}: {wrong.sum()} pixels off the reference"
        selected = float((entropy > cut).mean() if "threshold" in selection
                         else (entropy >= cut).mean())
        if name.endswith("budget"):
            # Fewer tiles than the fraction's: fewer refined logits. The
            # 5th and 6th tiles' counts far enough apart that no pixel at
            # the cut can swap them.
            assert np.abs(logits - fraction_logits).max() > 1e-3
            low_tile = TILE * LOW[0] // HEIGHT
            counts = np.sort((entropy[0, 0] >= cut).reshape(
                LOW[0] // low_tile, low_tile, LOW[1] // low_tile, low_tile)
                .sum(axis=(1, 3)).ravel())[::-1]
            assert counts[4] - counts[5] > near.sum(), counts[:8]
        if name == "fraction":
            fraction_logits = logits
        print(f"{name}: {selected:.1%} of the pixels refined, the reference's "
              f"logits ({near.sum()} pixels at the cut aside)")
        if not name.endswith("nothing"):
            assert np.abs(logits - dense).max() > 1e-3 and \
                np.abs(logits - everything).max() > 1e-3
    upsampled = kiln_logits("lowonly", *refine, "--refine-fraction=0")
    assert np.abs(upsampled - logits).max() <= TOLERANCE

    # The same model exported over a symbolic [1, 3, H, W] image, its
    # Resize sized at run time, compiled at the size by --dim.
    export(model, work("symbolic.onnx"), shape, symbolic=True)
    symbolic = kiln_logits("symbolic", *refine, "--refine-fraction=0.2",
                           "--dim", f"H={HEIGHT}", "--dim", f"W={WIDTH}",
                           model_file="symbolic.onnx")
    fraction = kiln_logits("fraction", *refine, "--refine-fraction=0.2")
    assert np.abs(symbolic - fraction).max() <= 1e-5 * max(
        1.0, np.abs(fraction).max()), "--dim: not the static model's logits"
    print("symbolic image at --dim H=256 --dim W=512: the static model's "
          "logits")

    inspected = run([kiln, "inspect", work("fraction.kiln")])
    for setting in ["--sparse-refine=128x256", "--refine-fraction=0.2",
                    f"--refine-tile={TILE}", f"--refine-halo={HALO}",
                    "SparseRefine: the model at 128x256, then at full "
                    f"resolution on the tiles of {TILE} pixels (with {HALO} "
                    "of context) that hold a pixel among the 20% most "
                    "uncertain"]:
        assert setting in inspected, (setting, inspected)
    assert "at most 5 of them" in run([kiln, "inspect", work("budget.kiln")])
    assert "SparseRefine: the model at 128x256" in run(
        [kiln, "inspect", work("cuda-fraction.kiln")])

    segmenter = work("segmenter.onnx")
    one_line_failure([kiln, "compile", segmenter, "-o", work("x.kiln"),
                      "--sparse-refine=100x256"], "does not divide")
    one_line_failure([kiln, "compile", segmenter, "-o", work("x.kiln"),
                      "--sparse-refine=128"], "HEIGHTxWIDTH")
    one_line_failure([kiln, "compile", segmenter, "-o", work("x.kiln"),
                      "--sparse-refine=128x256", "--refine-threshold=0.1",
                      "--refine-fraction=0.1"], "give one")
    one_line_failure([kiln, "compile", segmenter, "-o", work("x.kiln"),
                      "--sparse-refine=128x256", "--refine-tile=256",
                      "--refine-halo=32"], "fit in the image")
    export(Segmenter(sized_by_constants=True), work("constant.onnx"), shape)
    one_line_failure([kiln, "compile", work("constant.onnx"), "-o",
                      work("x.kiln"), "--sparse-refine=128x256"],
                     "not per-pixel")
    export(Classifier(), work("classifier.onnx"), shape)
    one_line_failure([kiln, "compile", work("classifier.onnx"), "-o",
                      work("x.kiln"), "--sparse-refine=128x256"],
                     "not per-pixel")
    one_line_failure([kiln, "compile", work("symbolic.onnx"), "-o",
                      work("x.kiln"), "--sparse-refine=128x256"],
                     "of static shape")
    one_line_failure([kiln, "compile", work("symbolic.onnx"), "-o",
                      work("x.kiln"), "--dim", "D=4"],
                     "no input of")
    one_line_failure([kiln, "compile", work("symbolic.onnx"), "-o",
                      work("x.kiln"), "--dim", "H=0"],
                     "expected NAME=SIZE")
    print("inspect and refusals: as expected")


if __name__ == "__main__":
    main()
