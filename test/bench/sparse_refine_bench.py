#!/usr/bin/env python3
"""Times SparseRefine (the training-free refiner, and the trained one)
against dense full-resolution inference, and measures how well its labels
agree with the dense ones.

    sparse_refine_bench.py --bin BUILD/bin --work DIR [--arch ARCH]
        [--images 4] [--fractions 0.01,0.03,0.1] [--tile-budgets 0,6,9,12]
        [--refiner-fractions 0.03,0.1] [--threads 2] [--iterations 3]
        [--low 512x1024] [--tile 128] [--halo 32] [--json FILE]

The model: torchvision's LRASPP (`--arch lraspp`) or DeepLabV3 (`--arch
deeplabv3`) with a MobileNetV3-Large backbone, or LRASPP with its global
poolings made local (`--arch lraspp-local`), trained on the synthetic
shapes task (test/bench/synthetic_shapes.py, 1,000 steps, a fixed seed;
kept as DIR/ARCH_shapes.onnx, trained again only when missing; the other
files of a run go to DIR/ARCH/, LRASPP's to DIR itself). The
images: `--images` held-apart renders (seeds from 1,000,000, which training
never draws) at 1024x2048. Packages, all compiled with --dim H=1024
--dim W=2048: dense (full resolution), low resolution alone (`--low`,
logits upsampled: `--refine-fraction=0`), and SparseRefine at each
fraction of the pixels and budget of tiles (`--refine-tiles`; 0: every
tile holding a selected pixel), and with the trained refiner and
ensembler (test/bench/sparse_refiner.py, trained on the segmenter's own
full-resolution labels; kept as DIR/refiner.onnx and DIR/ensembler.onnx,
trained again only when missing) at each of `--refiner-fractions`. For
each: the median time of a run per
image (`kiln bench` on that image, `--threads`), averaged over the images;
the refined share of the pixels and of the tiles (`--tile`); and the argmax
labels against the dense package's: pixel accuracy, mIoU over the classes,
and the share of the low-resolution run's disagreement that refinement
removes.
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synthetic_shapes  # noqa: E402

HEIGHT, WIDTH = 1024, 2048


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"sparse_refine_bench: {' '.join(command)} failed:\n"
                 f"{result.stderr}")
    return result.stdout


def agreement(labels, reference, classes):
    """Pixel accuracy and mIoU (over the classes either labelling has) of
    `labels` against `reference`."""
    accuracy = float((labels == reference).mean())
    ious = []
    for c in range(classes):
        predicted, actual = labels == c, reference == c
        union = np.logical_or(predicted, actual).sum()
        if union:
            ious.append(np.logical_and(predicted, actual).sum() / union)
    return accuracy, float(np.mean(ious))


def selection_shares(low_logits, fraction, tile, budget):
    """The share of the pixels and of the tiles SparseRefine refines at
    `fraction` (and at most `budget` tiles, 0: no limit), from the
    low-resolution logits [K, h, w] as the package computes them (the
    entropy of the softmax, the k-th largest as the cut, the tiles with
    the most selected pixels)."""
    shifted = low_logits - low_logits.max(axis=0, keepdims=True)
    p = np.exp(shifted)
    p /= p.sum(axis=0, keepdims=True)
    entropy = -(p * np.log(np.maximum(p, 1e-5))).sum(axis=0)
    k = int(np.ceil(fraction * entropy.size))
    if k == 0:
        return 0.0, 0.0
    cut = np.sort(entropy.ravel())[::-1][k - 1]
    mask = entropy >= cut
    tile = tile * mask.shape[0] // HEIGHT
    counts = mask.reshape(mask.shape[0] // tile, tile, mask.shape[1] // tile,
                          tile).sum(axis=(1, 3)).ravel()
    order = np.argsort(-counts, kind="stable")
    chosen = order[counts[order] > 0][:budget or None]
    return float(counts[chosen].sum() / mask.size), \
        float(len(chosen) / counts.size)


def option_value(options, name):
    for option in options:
        if option.startswith(f"--{name}="):
            return float(option.split("=")[1])
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--arch", choices=sorted(synthetic_shapes
                                                 .ARCHITECTURES),
                        default="lraspp")
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--fractions", default="0.01,0.03,0.1")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--tile-budgets", default="0,6,9,12")
    parser.add_argument("--refiner-fractions", default="0.03,0.1")
    parser.add_argument("--low", default="512x1024")
    parser.add_argument("--tile", type=int, default=128)
    parser.add_argument("--halo", type=int, default=32)
    parser.add_argument("--json")
    args = parser.parse_args()
    kiln = os.path.join(args.bin, "kiln")
    os.makedirs(args.work, exist_ok=True)
    # The images and models in DIR; the rest of a model's run in a
    # directory of its own (LRASPP's: DIR itself).
    own = args.work if args.arch == "lraspp" else os.path.join(args.work,
                                                               args.arch)
    os.makedirs(own, exist_ok=True)
    work = lambda *names: os.path.join(own, *names)  # noqa: E731

    model = synthetic_shapes.model_file(args.work, args.arch)
    if not os.path.exists(model):
        print("training the segmenter (1,000 steps)", file=sys.stderr)
        synthetic_shapes.train(args.work, arch=args.arch)
    refiner, ensembler = work("refiner.onnx"), work("ensembler.onnx")
    if args.refiner_fractions and not (os.path.exists(refiner) and
                                       os.path.exists(ensembler)):
        print("training the refiner and ensembler", file=sys.stderr)
        import sparse_refiner
        sparse_refiner.train(kiln, model, own)

    images = []
    for i in range(args.images):
        path = os.path.join(args.work, f"image{i}.npy")
        if not os.path.exists(path):
            image, _ = synthetic_shapes.render(1_000_000 + i, HEIGHT, WIDTH)
            np.save(path, image[None])
        images.append(path)

    dims = ["--dim", f"H={HEIGHT}", "--dim", f"W={WIDTH}"]
    variants = [("dense", []),
                ("low resolution", [f"--sparse-refine={args.low}",
                                    "--refine-fraction=0"])]
    for fraction in args.fractions.split(","):
        for budget in args.tile_budgets.split(","):
            name = f"refine {float(fraction):.1%}"
            options = [f"--sparse-refine={args.low}",
                       f"--refine-fraction={fraction}",
                       f"--refine-tile={args.tile}",
                       f"--refine-halo={args.halo}"]
            if int(budget):
                name += f" <={budget}"
                options.append(f"--refine-tiles={budget}")
            variants.append((name, options))
    for fraction in filter(None, args.refiner_fractions.split(",")):
        variants.append((f"trained {float(fraction):.1%}",
                         [f"--sparse-refine={args.low}",
                          f"--refine-fraction={fraction}",
                          f"--refiner={refiner}",
                          f"--ensembler={ensembler}"]))
    rows = []
    for name, options in variants:
        package = work(name.replace(" ", "_").replace("%", "")
                       .replace("<=", "max") + ".kiln")
        run([kiln, "compile", model, "-o", package, *dims, *options])
        times, labels = [], []
        for i, image in enumerate(images):
            timing = json.loads(run(
                [kiln, "bench", package, "--input", f"image={image}",
                 "--threads", str(args.threads), "--iterations",
                 str(args.iterations), "--warmup", "1", "--json"]))
            times.append(timing["median_ms"])
            out = work("out", os.path.basename(package)[:-5], str(i))
            os.makedirs(out, exist_ok=True)
            run([kiln, "run", package, "--input", f"image={image}",
                 "--output-dir", out])
            labels.append(np.load(os.path.join(out, "logits.npy"))[0]
                          .argmax(0).astype(np.int8))
        rows.append({"name": name, "ms": float(np.mean(times)),
                     "labels": labels,
                     "fraction": option_value(options, "refine-fraction"),
                     "trained": any(o.startswith("--refiner=")
                                    for o in options),
                     "budget": int(option_value(options, "refine-tiles")
                                   or 0)})
        if name == "low resolution":
            # Its logits are the low-resolution ones, upsampled.
            step = HEIGHT // int(args.low.split("x")[0])
            lows = [np.load(os.path.join(work("out", "low_resolution",
                                              str(i)),
                                         "logits.npy"))[0, :, ::step, ::step]
                    for i in range(len(images))]

    dense = rows[0]
    low_disagreement = None
    table = []
    print(f"{'':20} {'ms':>8} {'speed-up':>8} {'pixels':>7} {'tiles':>6} "
          f"{'accuracy':>9} {'mIoU':>7} {'removed':>8}")
    for row in rows:
        accuracies, ious, pixels, tiles = [], [], [], []
        for labels, reference, low in zip(row["labels"], dense["labels"],
                                          lows):
            accuracy, iou = agreement(labels, reference,
                                      synthetic_shapes.CLASSES)
            accuracies.append(accuracy)
            ious.append(iou)
            fraction = row["fraction"]
            pixel_share, tile_share = (
                selection_shares(low, fraction, args.tile, row["budget"])
                if fraction is not None
                else (1.0, 1.0))
            pixels.append(pixel_share)
            tiles.append(tile_share)
        accuracy = float(np.mean(accuracies))
        disagreement = 1 - accuracy
        if row["name"] == "low resolution":
            low_disagreement = disagreement
        removed = (1 - disagreement / low_disagreement
                   if low_disagreement and row is not dense else None)
        entry = {"name": row["name"], "ms": row["ms"],
                 "speedup": dense["ms"] / row["ms"],
                 "refined_pixels": float(np.mean(pixels)),
                 "refined_tiles": (None if row["trained"]
                                   else float(np.mean(tiles))),
                 "pixel_accuracy": accuracy, "miou": float(np.mean(ious)),
                 "disagreement_removed": removed}
        table.append(entry)
        print(f"{row['name']:20} {row['ms']:8.1f} {entry['speedup']:7.2f}x "
              f"{entry['refined_pixels']:7.1%} "
              + (f"{'-':>6} " if row["trained"]
                 else f"{entry['refined_tiles']:6.1%} ")
              + f"{accuracy:9.4%} {entry['miou']:7.4f} "
              + (f"{removed:8.1%}" if removed is not None else f"{'':8}"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(table, f, indent=2)


if __name__ == "__main__":
    main()
