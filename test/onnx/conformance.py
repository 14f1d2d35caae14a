#!/usr/bin/env python3
"""Compiles and runs ONNX backend tests with kiln and compares the outputs.

Each test is a directory holding model.onnx and test_data_set_*/ with
input_N.pb and output_N.pb. For each, `kiln compile` builds a package,
`kiln run` runs it on every data set, and every output is compared with
the expected one as the ONNX backend test runner does: same dtype and
shape, and numpy.testing.assert_allclose with rtol 1e-3, atol 1e-7
(NaNs must match NaNs).

A test is `passed`, `unsupported` (kiln refused the model with its
one-line error: an op, type or attribute the CPU path does not handle) or
`failed` (anything else: wrong numbers, a crash, a run-time error).

  conformance.py --bin build/bin --report out.json [--target cpu|cuda-emu]
                 [--cuda-arch LIST] [--data DIR] [--jobs N]
                 [--filter REGEX] [--require PASS_LIST] [--update PASS_LIST]

With --require, only the listed tests run and any that does not pass
fails the script. --update adds the tests that pass to the list (which
only grows). The last line printed is "N passed, M failed".
"""

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

RTOL = 1e-3
ATOL = 1e-7
DEFAULT_DATA = "/usr/share/libonnx-testdata/data"
DEFAULT_SETS = ("node", "pytorch-converted", "pytorch-operator", "simple")
COMPILE_TIMEOUT = 300
RUN_TIMEOUT = 300


def discover(data, sets):
    """(test id, directory) for every test under `data`."""
    tests = []
    for set_name in sets:
        root = os.path.join(data, set_name)
        if not os.path.isdir(root):
            continue
        for name in sorted(os.listdir(root)):
            directory = os.path.join(root, name)
            if os.path.isfile(os.path.join(directory, "model.onnx")):
                tests.append((f"{set_name}/{name}", directory))
    return tests


def file_safe_name(name):
    """The file name `kiln run --output-dir` gives an output."""
    safe = "".join(c if c.isalnum() and c.isascii() or c in "._-" else "_"
                   for c in name)
    if not safe or safe[0] == ".":
        safe = "_" + safe
    return safe


def first_line(text):
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "(no message)"


# bfloat16 keeps 8 significant bits: 1e-3 is below one unit in its last
# place, so its outputs may differ by two units (2^-6 relative), as
# arithmetic that rounds once at the end differs from a reference that
# rounds after every step.
BFLOAT16_RTOL = 2.0**-6


def compare(expected, actual, rtol=RTOL):
    """None if `actual` matches `expected`, else why not."""
    if expected.dtype != actual.dtype:
        return f"dtype {actual.dtype}, expected {expected.dtype}"
    if expected.shape != actual.shape:
        return f"shape {actual.shape}, expected {expected.shape}"
    if expected.dtype.kind in "fc":
        try:
            np.testing.assert_allclose(actual, expected, rtol=rtol, atol=ATOL,
                                       equal_nan=True)
        except AssertionError as error:
            lines = [l for l in str(error).splitlines() if "Mismatch" in l
                     or "Max absolute" in l or "Max relative" in l]
            return "values differ: " + "; ".join(l.strip() for l in lines)
        return None
    if not np.array_equal(actual, expected):
        mismatches = int(np.sum(actual != expected))
        return f"values differ at {mismatches} of {expected.size} elements"
    return None


def load_tensor(path):
    tensor = onnx.TensorProto()
    with open(path, "rb") as f:
        tensor.ParseFromString(f.read())
    return numpy_helper.to_array(tensor)


BFLOAT16 = 16


def bfloat16_as_float32(array):
    """`kiln run` exchanges bfloat16 as float32; older onnx packages read
    bfloat16 tensors as their raw uint16 bits."""
    if array.dtype == np.uint16:
        return (array.astype(np.uint32) << 16).view(np.float32)
    return array.astype(np.float32)


def target_options(target, cuda_arch):
    """(compile options, run options) for a --target."""
    if target == "cuda-emu":
        # FP32 arithmetic, so the ONNX tolerances apply.
        return ([f"--target=cuda", f"--cuda-arch={cuda_arch}",
                 "--cuda-precision=fp32"], ["--device=cuda-emu"])
    return [], []


def run_test(kiln, test_id, directory, workdir, options=([], [])):
    """(status, reason) of one test."""
    model_path = os.path.join(directory, "model.onnx")
    package = os.path.join(workdir, "model.kiln")
    compile_options, run_options = options
    try:
        compiled = subprocess.run(
            [kiln, "compile", model_path, "-o", package, *compile_options],
            capture_output=True, text=True, timeout=COMPILE_TIMEOUT)
    except subprocess.TimeoutExpired:
        return "failed", f"compile timed out after {COMPILE_TIMEOUT} s"
    if compiled.returncode != 0:
        message = first_line(compiled.stderr)
        # A clean refusal is one `kiln: error:` line per problem and exit 1;
        # anything else (a crash, a signal) is a failure.
        if compiled.returncode == 1 and message.startswith("kiln: error:"):
            return "unsupported", message
        return "failed", f"compile exited with {compiled.returncode}: {message}"

    model = onnx.load(model_path, load_external_data=False)
    initializers = {i.name for i in model.graph.initializer}
    inputs_info = [i for i in model.graph.input if i.name not in initializers]
    input_names = [i.name for i in inputs_info]
    input_types = [i.type.tensor_type.elem_type for i in inputs_info]
    output_names = [o.name for o in model.graph.output]
    output_types = [o.type.tensor_type.elem_type for o in model.graph.output]
    data_sets = sorted(d for d in os.listdir(directory)
                       if d.startswith("test_data_set"))
    if not data_sets:
        return "unsupported", "the test has no data set"
    for data_set in data_sets:
        set_dir = os.path.join(directory, data_set)
        inputs = sorted((f for f in os.listdir(set_dir)
                         if re.fullmatch(r"input_\d+\.pb", f)),
                        key=lambda f: int(f[6:-3]))
        outputs = sorted((f for f in os.listdir(set_dir)
                          if re.fullmatch(r"output_\d+\.pb", f)),
                         key=lambda f: int(f[7:-3]))
        arguments = [kiln, "run", package, *run_options]
        for index, name in enumerate(inputs):
            try:
                array = load_tensor(os.path.join(set_dir, name))
            except Exception as error:  # an element type numpy lacks
                return "unsupported", f"cannot read {name}: {error}"
            if index >= len(input_names):
                return "failed", f"{data_set} has more inputs than the model"
            if input_types[index] == BFLOAT16:
                array = bfloat16_as_float32(array)
            npy = os.path.join(workdir, f"input_{index}.npy")
            np.save(npy, np.require(array, requirements="C"))
            arguments += ["--input", f"{input_names[index]}={npy}"]
        out_dir = os.path.join(workdir, "out-" + data_set)
        arguments += ["--output-dir", out_dir]
        try:
            ran = subprocess.run(arguments, capture_output=True, text=True,
                                 timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            return "failed", f"run timed out after {RUN_TIMEOUT} s"
        if ran.returncode != 0:
            return "failed", (f"run exited with {ran.returncode}: "
                              f"{first_line(ran.stderr)}")
        used = set()
        for index, name in enumerate(outputs):
            try:
                expected = load_tensor(os.path.join(set_dir, name))
            except Exception as error:
                return "unsupported", f"cannot read {name}: {error}"
            base = file_safe_name(output_names[index])
            file_name, suffix = base, 1
            while file_name in used:
                file_name, suffix = f"{base}_{suffix}", suffix + 1
            used.add(file_name)
            actual = np.load(os.path.join(out_dir, file_name + ".npy"))
            rtol = RTOL
            if output_types[index] == BFLOAT16:
                expected = bfloat16_as_float32(expected)
                rtol = BFLOAT16_RTOL
            why = compare(expected, actual, rtol)
            if why:
                return "failed", f"{data_set} output '{output_names[index]}': {why}"
    return "passed", ""


def read_list(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [l.strip() for l in f if l.strip() and not l.startswith("#")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True, help="directory of kiln")
    parser.add_argument("--target", default="cpu", choices=["cpu", "cuda-emu"],
                        help="cpu, or cuda-emu: CUDA packages run by the "
                             "SIMT emulator")
    parser.add_argument("--cuda-arch", default="none",
                        help="with cuda-emu: also compile the kernels with "
                             "nvcc for these architectures (default: none, "
                             "the emulator build only)")
    parser.add_argument("--data", default=DEFAULT_DATA,
                        help="test data: a directory of test sets "
                             "(node, pytorch-converted, ...)")
    parser.add_argument("--report", help="write the JSON report here")
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--filter", help="only tests whose id matches")
    parser.add_argument("--require", help="run only the tests of this pass "
                        "list and fail unless all pass")
    parser.add_argument("--update", help="add the tests that pass to this "
                        "pass list")
    parser.add_argument("--skip-if-missing", action="store_true",
                        help="exit 77 (skipped) when --data is absent")
    args = parser.parse_args()
    if not os.path.isdir(args.data):
        print(f"no test data at {args.data}")
        return 77 if args.skip_if_missing else 1

    kiln = os.path.join(args.bin, "kiln")
    sets = [s for s in sorted(os.listdir(args.data))
            if os.path.isdir(os.path.join(args.data, s))] \
        if args.data != DEFAULT_DATA else DEFAULT_SETS
    tests = discover(args.data, sets)
    if args.require:
        required = set(read_list(args.require))
        found = {test_id for test_id, _ in tests}
        missing = sorted(required - found)
        if missing:
            print(f"conformance: {len(missing)} listed tests are not in "
                  f"{args.data}: {', '.join(missing[:5])}", file=sys.stderr)
            print(f"0 passed, {len(missing)} failed")
            return 1
        tests = [t for t in tests if t[0] in required]
    if args.filter:
        tests = [t for t in tests if re.search(args.filter, t[0])]

    results = {}
    with tempfile.TemporaryDirectory(prefix="kiln-conformance-") as scratch:
        def one(index_test):
            index, (test_id, directory) = index_test
            workdir = os.path.join(scratch, str(index))
            os.makedirs(workdir)
            try:
                return test_id, run_test(
                    kiln, test_id, directory, workdir,
                    target_options(args.target, args.cuda_arch))
            except Exception as error:  # keep going; report it
                return test_id, ("failed", f"harness error: {error}")
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            for test_id, (status, reason) in pool.map(one, enumerate(tests)):
                results[test_id] = {"status": status, "reason": reason}

    counts = {s: sum(1 for r in results.values() if r["status"] == s)
              for s in ("passed", "failed", "unsupported")}
    report = {"target": args.target, "data": args.data, **counts,
              "total": len(results), "tests": results}
    if args.report:
        with open(args.report, "w") as f:
            json.dump(report, f, indent=1, sort_keys=True)

    exit_code = 0
    if args.require:
        for test_id, result in sorted(results.items()):
            if result["status"] != "passed":
                print(f"REGRESSION {test_id}: {result['status']}: "
                      f"{result['reason']}")
                exit_code = 1
    if args.update:
        listed = set(read_list(args.update))
        passing = {t for t, r in results.items() if r["status"] == "passed"}
        with open(args.update, "w") as f:
            data = "" if args.data == DEFAULT_DATA else f" --data {args.data}"
            f.write(f"# Tests `scripts/conformance --target {args.target}"
                    f"{data}` must pass; the list only grows.\n")
            for test_id in sorted(listed | passing):
                f.write(test_id + "\n")
    print(f"{counts['unsupported']} unsupported of {len(results)} tests")
    print(f"{counts['passed']} passed, {counts['failed']} failed")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
