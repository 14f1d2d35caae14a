#!/usr/bin/env python3
"""Writes a small random-weight GGUF of SmolLM2's architecture (LLaMA:
grouped-query attention, RoPE, RMSNorm, SiLU-gated MLP, tied embeddings)
for tests: Q4_1 projections and a Q8_0 embedding, like the real file, and
the real file's layout of query and key rows (permuted as llama.cpp's
converter does), with a byte-level vocabulary: the 256 byte tokens and
merges learned from a fixed English sample, so that tokenizers have merges
to apply.

    make_test_gguf.py OUT.gguf [--layers 2] [--hidden 64] [--heads 4]
                      [--kv-heads 2] [--ffn 96] [--seed 0]
"""

import argparse
import collections
import re
import sys

import numpy as np

import gguf
from gguf import GGMLQuantizationType as QuantType


def byte_tokens():
    """GPT-2's printable stand-ins for the 256 bytes."""
    printable = list(range(ord("!"), ord("~") + 1)) + \
        list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    codes, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            codes[byte] = chr(byte)
        else:
            codes[byte] = chr(256 + extra)
            extra += 1
    return [codes[b] for b in range(256)]


SAMPLE = ("the quick brown fox jumps over the lazy dog; the dog sleeps in "
          "the sun, and the fox runs on. there is nothing in these lines "
          "but the words of a test, and then the end of the text.")


def learn_merges(count):
    """BPE merges over SAMPLE's words (a leading space kept, as GPT-2's
    pre-tokenizer does): the most frequent adjacent pair first, ties to the
    smaller pair. Returns the merges ("left right") and the new tokens."""
    chars = byte_tokens()
    words = collections.Counter(
        tuple(chars[b] for b in word.encode())
        for word in re.findall(r" ?[a-z]+", SAMPLE))
    merges, tokens = [], []
    for _ in range(count):
        pairs = collections.Counter()
        for word, n in words.items():
            for pair in zip(word, word[1:]):
                pairs[pair] += n
        if not pairs:
            break
        best = min(pairs, key=lambda pair: (-pairs[pair], pair))
        merges.append(f"{best[0]} {best[1]}")
        tokens.append(best[0] + best[1])
        merged = collections.Counter()
        for word, n in words.items():
            out, i = [], 0
            while i < len(word):
                if word[i:i + 2] == best:
                    out.append(best[0] + best[1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            merged[tuple(out)] += n
        words = merged
    return merges, tokens


def permute(weight, heads):
    """llama.cpp's converter's row order for query and key projections."""
    rows = weight.shape[0]
    return (weight.reshape(heads, 2, rows // heads // 2, *weight.shape[1:])
            .swapaxes(1, 2).reshape(weight.shape))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("output")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--kv-heads", type=int, default=2)
    parser.add_argument("--ffn", type=int, default=96)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    head_dim = args.hidden // args.heads
    merges, merged = learn_merges(40)
    tokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] + byte_tokens() + \
        merged

    writer = gguf.GGUFWriter(args.output, "llama")
    writer.add_block_count(args.layers)
    writer.add_context_length(512)
    writer.add_embedding_length(args.hidden)
    writer.add_feed_forward_length(args.ffn)
    writer.add_head_count(args.heads)
    writer.add_head_count_kv(args.kv_heads)
    writer.add_rope_freq_base(100000.0)
    writer.add_rope_dimension_count(head_dim)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("smollm")
    writer.add_token_list(tokens)
    writer.add_token_types([3, 3, 3] + [1] * (len(tokens) - 3))
    writer.add_token_merges(merges)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)

    def tensor(name, shape, scale, kind=QuantType.Q4_1, heads=None):
        value = (rng.standard_normal(shape) * scale).astype(np.float32)
        if heads:
            value = permute(value, heads)
        if kind == QuantType.F32:
            writer.add_tensor(name, value)
        else:
            writer.add_tensor(name, gguf.quants.quantize(value, kind),
                              raw_dtype=kind)

    hidden, ffn = args.hidden, args.ffn
    tensor("token_embd.weight", (len(tokens), hidden), 0.5, QuantType.Q8_0)
    tensor("output_norm.weight", (hidden,), 0.1, QuantType.F32)
    for layer in range(args.layers):
        block = f"blk.{layer}."
        for name in ("attn_norm", "ffn_norm"):
            tensor(block + name + ".weight", (hidden,), 0.1, QuantType.F32)
        scale = hidden ** -0.5
        tensor(block + "attn_q.weight", (hidden, hidden), scale,
               heads=args.heads)
        tensor(block + "attn_k.weight", (args.kv_heads * head_dim, hidden),
               scale, heads=args.kv_heads)
        tensor(block + "attn_v.weight", (args.kv_heads * head_dim, hidden),
               scale)
        tensor(block + "attn_output.weight", (hidden, hidden), scale)
        tensor(block + "ffn_gate.weight", (ffn, hidden), scale)
        tensor(block + "ffn_up.weight", (ffn, hidden), scale)
        tensor(block + "ffn_down.weight", (hidden, ffn), ffn ** -0.5)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
