#!/usr/bin/env python3
"""Exports a LLaMA-architecture GGUF as ONNX, the way Hugging Face's
exporters lay out a decoder:

    inputs   input_ids [batch, sequence] (int64)
             attention_mask [batch, past_sequence + sequence] (int64)
             position_ids [batch, sequence] (int64)
             past_key_values.{i}.key/value [batch, kv_heads, past_sequence, head_dim]
    outputs  logits [batch, sequence, vocab]
             present.{i}.key/value [batch, kv_heads, past_sequence + sequence, head_dim]

with symbolic batch, sequence and past-sequence dimensions: one graph for
prefill (an empty past) and decode (one token). The weights are the GGUF's,
dequantized to float32.

    export_onnx.py MODEL.gguf -o MODEL.onnx
"""

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_llama  # noqa: E402
import llama  # noqa: E402


def cache_names(layers):
    """The graph's past inputs and present outputs, layer by layer, keys
    before values."""
    kinds = [(layer, kind) for layer in range(layers)
             for kind in ("key", "value")]
    return ([f"past_key_values.{layer}.{kind}" for layer, kind in kinds],
            [f"present.{layer}.{kind}" for layer, kind in kinds])


def export(model, path, opset=17):
    config = model.config
    batch, length, past_length = 1, 3, 2
    past = [torch.zeros(batch, config.kv_heads, past_length, config.head_dim)
            for _ in range(2 * config.layers)]
    inputs = (torch.zeros(batch, length, dtype=torch.int64),
              torch.ones(batch, past_length + length, dtype=torch.int64),
              torch.arange(past_length, past_length + length).unsqueeze(0),
              *past)
    past_names, present_names = cache_names(config.layers)
    axes = {"input_ids": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
            "position_ids": {0: "batch_size", 1: "sequence_length"},
            "logits": {0: "batch_size", 1: "sequence_length"}}
    for name in past_names:
        axes[name] = {0: "batch_size", 2: "past_sequence_length"}
    for name in present_names:
        axes[name] = {0: "batch_size", 2: "total_sequence_length"}
    with torch.no_grad():
        torch.onnx.export(
            model, inputs, path, opset_version=opset,
            input_names=["input_ids", "attention_mask", "position_ids",
                         *past_names],
            output_names=["logits", *present_names], dynamic_axes=axes,
            do_constant_folding=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("gguf", help="a LLaMA-architecture GGUF file")
    parser.add_argument("-o", "--output", required=True, help="the .onnx file")
    parser.add_argument("--opset", type=int, default=17)
    args = parser.parse_args()
    try:
        config, weights, _ = gguf_llama.load(args.gguf)
    except gguf_llama.GgufError as error:
        print(f"export_onnx: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"export_onnx: error: {args.gguf}: {error.strerror}",
              file=sys.stderr)
        return 1
    export(llama.Llama(config, weights).eval(), args.output, args.opset)
    print(f"{args.output}: {config.layers} layers, d={config.hidden_size}, "
          f"{config.heads} heads ({config.kv_heads} KV), vocabulary "
          f"{config.vocab_size}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
