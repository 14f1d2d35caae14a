#!/usr/bin/env python3
"""Compiles, runs and checks the real-architecture models.

    check_models.py --bin build/bin --models DIR
                    [--target cpu|cuda-emu|cuda] [--cuda-arch LIST]
                    [--cuda-precision fp32|tf32|fp16|bf16]

DIR is what make_models.py wrote. Each model is compiled with
`kiln compile`, run with `kiln run` on the saved inputs, and every output is
compared with PyTorch's: the largest absolute difference must be at most
1e-3 times the largest magnitude of PyTorch's output (relative tolerance
1e-3 on the output's scale). Prints one line per model and fails if any
model does not compile, run or match. With --target cuda-emu the models are
compiled with --target=cuda (FP32 arithmetic, so the same tolerance) and
run by the SIMT emulator; --cuda-arch also compiles them with nvcc, and
then no kernel may spill registers (ptxas, through `kiln inspect`). With
--target cuda they run through the CUDA driver, and the script exits 77
(skipped) where there is no GPU. --cuda-precision picks the GEMMs'
arithmetic, and with it the tolerance.
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

TOLERANCE = 1e-3
# Relative to the output's scale, per precision of the GEMMs' operands:
# TF32 and FP16 keep 10 mantissa bits (about 5e-4 relative per product),
# BF16 7 bits; errors grow with the depth of the network.
# Models the CUDA target cannot compile yet, and why.
CPU_ONLY = {"lraspp_any_size": "symbolic dimensions are compiled for the CPU "
                               "only"}
PRECISION_TOLERANCE = {"fp32": TOLERANCE, "tf32": 1e-2, "fp16": 1e-2,
                       "bf16": 5e-2}


def file_safe_name(name):
    safe = "".join(c if c.isalnum() and c.isascii() or c in "._-" else "_"
                   for c in name)
    return "_" + safe if not safe or safe[0] == "." else safe


def kernel_spills(kiln, package):
    """Which CUDA kernel spills registers on which architecture, per ptxas
    as `kiln inspect` reports it; empty if none does (or no nvcc ran)."""
    inspected = subprocess.run([kiln, "inspect", package, "--json"],
                               capture_output=True, text=True)
    if inspected.returncode != 0:
        return f"inspect failed: {inspected.stderr.strip()[:300]}"
    for kernel in json.loads(inspected.stdout).get("cuda", {}).get("kernels", []):
        for resources in kernel["resources"]:
            spilled = (resources["spill_store_bytes"] +
                       resources["spill_load_bytes"])
            if spilled:
                return (f"{kernel['name']} ({kernel['nodes']}) spills "
                        f"{spilled} bytes on {resources['architecture']}")
    return ""


def check(kiln, models, name, work, compile_options=(), run_options=(),
          tolerance=TOLERANCE):
    package = os.path.join(work, name + ".kiln")
    start = time.monotonic()
    compiled = subprocess.run([kiln, "compile", os.path.join(models, name + ".onnx"),
                               "-o", package, *compile_options],
                              capture_output=True, text=True)
    compile_seconds = time.monotonic() - start
    if compiled.returncode != 0:
        return False, f"compile failed: {compiled.stderr.strip()[:300]}"
    spills = kernel_spills(kiln, package)
    if spills:
        return False, spills
    arguments = [kiln, "run", package, *run_options]
    prefix = os.path.join(models, name + ".input.")
    for path in sorted(glob.glob(prefix + "*.npy")):
        arguments += ["--input", f"{path[len(prefix):-4]}={path}"]
    out = os.path.join(work, name + ".out")
    start = time.monotonic()
    ran = subprocess.run(arguments + ["--output-dir", out],
                         capture_output=True, text=True)
    run_seconds = time.monotonic() - start
    if ran.returncode != 0:
        return False, f"run failed: {ran.stderr.strip()[:300]}"
    prefix = os.path.join(models, name + ".expected.")
    worst = []
    for path in sorted(glob.glob(prefix + "*.npy")):
        output = path[len(prefix):-4]
        expected = np.load(path)
        actual = np.load(os.path.join(out, file_safe_name(output) + ".npy"))
        if actual.shape != expected.shape or actual.dtype != expected.dtype:
            return False, (f"output '{output}' is {actual.dtype}{list(actual.shape)}, "
                           f"expected {expected.dtype}{list(expected.shape)}")
        scale = max(float(np.max(np.abs(expected))), 1e-30)
        error = float(np.max(np.abs(actual.astype(np.float64) - expected)))
        worst.append((error / scale, output))
        if not error <= tolerance * scale:
            return False, (f"output '{output}' differs by {error:.3g} "
                           f"(scale {scale:.3g}, relative {error / scale:.3g})")
    relative, output = max(worst)
    return True, (f"max relative error {relative:.2e} ('{output}'); compile "
                  f"{compile_seconds:.1f} s, run {run_seconds:.2f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--models", required=True)
    parser.add_argument("--target", default="cpu",
                        choices=["cpu", "cuda-emu", "cuda"])
    parser.add_argument("--cuda-arch", default="none")
    parser.add_argument("--cuda-precision", default="fp32",
                        choices=["fp32", "tf32", "fp16", "bf16"])
    args = parser.parse_args()
    compile_options, run_options = [], []
    if args.target == "cuda-emu":
        compile_options = ["--target=cuda", f"--cuda-arch={args.cuda_arch}",
                           f"--cuda-precision={args.cuda_precision}"]
        run_options = ["--device=cuda-emu"]
    if args.target == "cuda":
        compile_options = ["--target=cuda", f"--cuda-arch={args.cuda_arch}",
                           f"--cuda-precision={args.cuda_precision}"]
        run_options = ["--device=cuda"]
    kiln = os.path.join(args.bin, "kiln")
    names = sorted(os.path.basename(p)[:-5]
                   for p in glob.glob(os.path.join(args.models, "*.onnx")))
    if not names:
        print(f"check_models: no models in {args.models}")
        return 1
    failures = skipped = 0
    with tempfile.TemporaryDirectory(prefix="kiln-models-") as work:
        for name in names:
            if args.target != "cpu" and name in CPU_ONLY:
                print(f"SKIP {name}: {CPU_ONLY[name]}")
                skipped += 1
                continue
            ok, message = check(kiln, args.models, name, work,
                                compile_options, run_options,
                                PRECISION_TOLERANCE[args.cuda_precision])
            if not ok and "cannot run a CUDA package here" in message:
                # No GPU: the test is skipped (ctest SKIP_RETURN_CODE 77).
                print(f"SKIP: {message}")
                return 77
            failures += not ok
            print(f"{'PASS' if ok else 'FAIL'} {name}: {message}")
    checked = len(names) - skipped
    print(f"{checked - failures} of {checked} models match PyTorch")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
