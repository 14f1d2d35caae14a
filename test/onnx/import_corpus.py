#!/usr/bin/env python3
"""Imports every model.onnx of an ONNX test-data tree and re-parses the IR.

For each model: `kiln compile MODEL --emit=onnx` must succeed, and
`kiln-opt` must parse and verify what it printed (the print -> parse ->
verify round trip). Tests listed in the out-of-scope file (name, then the
reason) are expected to fail import with a clear error instead; a listed
test that now imports is reported so the list can shrink.

    import_corpus.py --bin build/bin --out-of-scope test/onnx/import-out-of-scope.txt \
        DATA_DIR [DATA_DIR ...]
"""

import argparse
import concurrent.futures
import fnmatch
import os
import subprocess
import sys
import tempfile


def check(bin_dir, model):
    with tempfile.TemporaryDirectory() as scratch:
        ir = os.path.join(scratch, "model.mlir")
        compile_run = subprocess.run(
            [os.path.join(bin_dir, "kiln"), "compile", model, "--emit=onnx",
             "-o", ir], capture_output=True, text=True, errors="replace", timeout=300)
        if compile_run.returncode != 0:
            lines = compile_run.stderr.strip().splitlines() or ["(no message)"]
            if compile_run.returncode < 0 or len(lines) != 1:
                return "crash", "\n".join(lines[-3:])
            return "import", lines[0]
        parse_run = subprocess.run(
            [os.path.join(bin_dir, "kiln-opt"), ir, "-o", os.devnull],
            capture_output=True, text=True, errors="replace", timeout=300)
        if parse_run.returncode != 0:
            return "reparse", parse_run.stderr.strip().splitlines()[0]
        return "ok", ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--out-of-scope", required=True)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--skip-if-missing", action="store_true",
                        help="exit 77 (skipped) when a data directory is absent")
    parser.add_argument("data", nargs="+")
    args = parser.parse_args()
    missing = [d for d in args.data if not os.path.isdir(d)]
    if missing:
        print(f"no test data at {', '.join(missing)}")
        return 77 if args.skip_if_missing else 1

    out_of_scope = {}
    with open(args.out_of_scope) as listing:
        for line in listing:
            line = line.split("#", 1)[0].strip()
            if line:
                name, _, reason = line.partition(" ")
                out_of_scope[name] = reason.strip()

    models = []
    for data in args.data:
        for root, _, files in os.walk(data):
            if "model.onnx" in files:
                test = os.path.relpath(root, os.path.dirname(data.rstrip("/")))
                models.append((test, os.path.join(root, "model.onnx")))
    models.sort()

    failures, stale, excluded, passed = [], [], 0, 0
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        results = pool.map(lambda m: (m[0], check(args.bin, m[1])), models)
        for test, (status, message) in results:
            name = os.path.basename(test)
            listed = any(fnmatch.fnmatchcase(name, pattern) or test == pattern
                         for pattern in out_of_scope)
            if listed:
                excluded += 1
                # Out of scope must still fail cleanly: one line, no crash.
                if status == "ok":
                    stale.append(test)
                elif status == "crash":
                    failures.append((test, status, message))
            elif status != "ok":
                failures.append((test, status, message))
            else:
                passed += 1

    for test, status, message in failures:
        print(f"FAIL {test} [{status}]: {message}")
    for test in stale:
        print(f"NOW IMPORTS (remove from the out-of-scope list): {test}")
    print(f"{passed} of {len(models) - excluded} models import and re-parse "
          f"({excluded} out of scope, {len(failures)} failures)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
