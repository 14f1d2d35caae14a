#!/usr/bin/env python3
"""Feeds `kiln compile` mutated ONNX models and fails on any crash.

Takes the models of a test-data tree, mutates each pick at the byte level
(flips, cuts, insertions) or the protobuf level (attribute values, input
names, dimensions, element types, operator names, opsets, removed nodes),
and runs `kiln compile` on it to each stage (`--stages`, by default onnx,
graph, linalg and package).
Every run must either succeed or fail with exit code 1 and only
one-line `kiln: error:` messages (one per problem, e.g. per op that cannot
be lowered): no signal, no abort, no stack dump. Deterministic for a given
seed.

    mutation_fuzz.py --bin build/bin --seed 1 --count 300 DATA_DIR
"""

import argparse
import glob
import os
import random
import subprocess
import sys
import tempfile

import onnx

INTS = [0, 1, -1, 2, 3, -5, 7, 100, 2**31, -2**40, 2**62]


def mutate_bytes(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(data))
        kind = rng.random()
        if kind < 0.6:
            data[i] = rng.randrange(256)
        elif kind < 0.8:
            del data[i:i + rng.randint(1, 16)]
        else:
            data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return bytes(data)


def mutate_proto(rng, model):
    graph = model.graph
    names = [o for n in graph.node for o in n.output] + [i.name for i in graph.input]
    for _ in range(rng.randint(1, 3)):
        kind = rng.random()
        if graph.node and kind < 0.35:
            for attr in rng.choice(graph.node).attribute:
                if attr.type == onnx.AttributeProto.INT:
                    attr.i = rng.choice(INTS)
                elif attr.type == onnx.AttributeProto.INTS and len(attr.ints):
                    attr.ints[rng.randrange(len(attr.ints))] = rng.choice(INTS)
                elif attr.type == onnx.AttributeProto.FLOAT:
                    attr.f = rng.choice([0.0, -1.0, 1e30, float("nan")])
                elif attr.type == onnx.AttributeProto.STRING:
                    attr.s = rng.choice([b"", b"NOTSET", b"bogus", b"\xff"])
        elif graph.node and kind < 0.5:
            node = rng.choice(graph.node)
            if node.input:
                node.input[rng.randrange(len(node.input))] = rng.choice([""] + names)
        elif graph.input and kind < 0.6:
            tensor = rng.choice(graph.input).type.tensor_type
            if tensor.HasField("shape") and tensor.shape.dim:
                rng.choice(tensor.shape.dim).dim_value = rng.choice([0, 1, 3, 2**40])
            tensor.elem_type = rng.choice([tensor.elem_type, 1, 7, 9, 8, 0, 30])
        elif graph.initializer and kind < 0.7:
            tensor = rng.choice(graph.initializer)
            if tensor.dims:
                tensor.dims[rng.randrange(len(tensor.dims))] = rng.choice([0, 1, 5, -1, 2**33])
            else:
                tensor.data_type = rng.choice([1, 7, 9, 16, 30])
        elif graph.node and kind < 0.8:
            rng.choice(graph.node).op_type = rng.choice(
                ["Conv", "Reshape", "Gather", "Concat", "If", "Loop", "Split",
                 "Resize", "Softmax", "Slice", "Pad", "Upsample"])
        elif graph.node and kind < 0.9:
            del graph.node[rng.randrange(len(graph.node))]
        elif model.opset_import:
            model.opset_import[0].version = rng.choice([1, 5, 7, 9, 11, 13, 18, 28, 29])
    return model.SerializeToString()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--stages", default="onnx,graph,linalg,package",
                        help="the --emit stages to compile each model to")
    parser.add_argument("data")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    models = sorted(glob.glob(os.path.join(args.data, "*", "*", "model.onnx")))
    kiln = os.path.join(args.bin, "kiln")
    bad = 0
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "model.onnx")
        for case in range(args.count):
            source = rng.choice(models)
            with open(source, "rb") as f:
                data = f.read()
            if rng.random() < 0.3:
                data = mutate_bytes(rng, data)
            else:
                data = mutate_proto(rng, onnx.load_from_string(data))
            with open(path, "wb") as f:
                f.write(data)
            for emit in args.stages.split(","):
                output = os.path.join(scratch, "out.kiln")
                run = subprocess.run([kiln, "compile", path, f"--emit={emit}",
                                      "-o", output if emit == "package"
                                      else os.devnull],
                                     capture_output=True, text=True,
                                     errors="replace", timeout=120)
                lines = run.stderr.strip().splitlines()
                clean = lines and all(line.startswith("kiln: error: ")
                                      for line in lines)
                if run.returncode == 0 or (run.returncode == 1 and clean):
                    continue
                bad += 1
                kept = os.path.join(tempfile.gettempdir(),
                                    f"kiln-fuzz-{args.seed}-{case}.onnx")
                with open(kept, "wb") as f:
                    f.write(data)
                print(f"BAD case {case} (from {source}, --emit={emit}): exit "
                      f"{run.returncode}; kept as {kept}")
                print("\n".join(lines[:6]))
                break
    print(f"{args.count} mutated models, {bad} crashes or unclear errors")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
