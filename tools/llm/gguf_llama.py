"""Reads a LLaMA-architecture GGUF file: its hyperparameters, its weights
dequantized to float32 (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, F16, BF16, F32), and
its byte-level BPE vocabulary.

llama.cpp's converter permutes the rows of the query and key projections so
that its rotary embedding can rotate adjacent channel pairs; `load` undoes
that, so the weights are those of the original (Hugging Face) model, whose
rotary embedding rotates the two halves of each head.
"""

from dataclasses import dataclass, field

import numpy as np

import gguf
from gguf import GGMLQuantizationType as QuantType

SUPPORTED_TYPES = {QuantType.F32, QuantType.F16, QuantType.BF16, QuantType.Q4_0,
                   QuantType.Q4_1, QuantType.Q5_0, QuantType.Q5_1,
                   QuantType.Q8_0}


class GgufError(Exception):
    """A GGUF file this reader cannot use, with the reason."""


@dataclass
class LlamaConfig:
    vocab_size: int
    hidden_size: int
    layers: int
    heads: int
    kv_heads: int
    intermediate_size: int
    rope_base: float
    rope_dims: int
    rms_epsilon: float
    context_length: int
    tied_embeddings: bool = True

    @property
    def head_dim(self):
        return self.hidden_size // self.heads


@dataclass
class Vocabulary:
    tokens: list = field(default_factory=list)
    token_types: list = field(default_factory=list)
    merges: list = field(default_factory=list)
    bos_id: int = -1
    eos_id: int = -1
    pre_tokenizer: str = ""


def _field(reader, key, default=None):
    entry = reader.fields.get(key)
    if entry is None:
        if default is None:
            raise GgufError(f"missing metadata key '{key}'")
        return default
    kind = entry.types[0] if entry.types else None
    if kind == gguf.GGUFValueType.STRING:
        return bytes(entry.parts[entry.data[0]]).decode("utf-8")
    if kind == gguf.GGUFValueType.ARRAY:
        item = entry.types[-1]
        if item == gguf.GGUFValueType.STRING:
            return [bytes(entry.parts[i]).decode("utf-8", "replace")
                    for i in entry.data]
        return [entry.parts[i][0].item() for i in entry.data]
    return entry.parts[entry.data[0]][0].item()


def _unpermute(weight, heads):
    """Inverts llama.cpp's row permutation of a query or key projection."""
    rows = weight.shape[0]
    return (weight.reshape(heads, rows // heads // 2, 2, *weight.shape[1:])
            .swapaxes(1, 2).reshape(weight.shape))


def load(path):
    """(LlamaConfig, {name: float32 array}, Vocabulary) of a GGUF file."""
    try:
        reader = gguf.GGUFReader(path)
    except Exception as error:  # the reader's own parse errors
        raise GgufError(f"{path}: not a readable GGUF file: {error}") from None
    architecture = _field(reader, "general.architecture")
    if architecture != "llama":
        raise GgufError(f"{path}: architecture '{architecture}' is not "
                        "supported (only 'llama')")
    prefix = "llama."
    heads = _field(reader, prefix + "attention.head_count")
    hidden = _field(reader, prefix + "embedding_length")
    config = LlamaConfig(
        vocab_size=0,
        hidden_size=hidden,
        layers=_field(reader, prefix + "block_count"),
        heads=heads,
        kv_heads=_field(reader, prefix + "attention.head_count_kv", heads),
        intermediate_size=_field(reader, prefix + "feed_forward_length"),
        rope_base=float(_field(reader, prefix + "rope.freq_base", 10000.0)),
        rope_dims=_field(reader, prefix + "rope.dimension_count",
                         hidden // heads),
        rms_epsilon=float(_field(reader,
                                 prefix + "attention.layer_norm_rms_epsilon")),
        context_length=_field(reader, prefix + "context_length"))

    weights = {}
    for tensor in reader.tensors:
        if tensor.tensor_type not in SUPPORTED_TYPES:
            raise GgufError(f"{path}: tensor '{tensor.name}' has type "
                            f"{tensor.tensor_type.name}, which is not "
                            "supported (F32, F16, BF16, Q4_0, Q4_1, Q5_0, "
                            "Q5_1, Q8_0)")
        value = gguf.quants.dequantize(tensor.data, tensor.tensor_type)
        value = np.asarray(value, np.float32).reshape(
            [int(d) for d in reversed(tensor.shape)])
        if tensor.name.endswith("attn_q.weight"):
            value = _unpermute(value, config.heads)
        elif tensor.name.endswith("attn_k.weight"):
            value = _unpermute(value, config.kv_heads)
        weights[tensor.name] = value
    if "token_embd.weight" not in weights:
        raise GgufError(f"{path}: no token_embd.weight")
    config.vocab_size = weights["token_embd.weight"].shape[0]
    config.tied_embeddings = "output.weight" not in weights
    for layer in range(config.layers):
        for name in ("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output",
                     "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"):
            if f"blk.{layer}.{name}.weight" not in weights:
                raise GgufError(f"{path}: no blk.{layer}.{name}.weight")

    vocabulary = Vocabulary()
    if "tokenizer.ggml.tokens" in reader.fields:
        model = _field(reader, "tokenizer.ggml.model", "")
        if model != "gpt2":
            raise GgufError(f"{path}: tokenizer '{model}' is not supported "
                            "(only byte-level BPE, 'gpt2')")
        vocabulary.tokens = _field(reader, "tokenizer.ggml.tokens")
        vocabulary.token_types = _field(reader, "tokenizer.ggml.token_type",
                                        [1] * len(vocabulary.tokens))
        vocabulary.merges = _field(reader, "tokenizer.ggml.merges", [])
        vocabulary.bos_id = _field(reader, "tokenizer.ggml.bos_token_id", -1)
        vocabulary.eos_id = _field(reader, "tokenizer.ggml.eos_token_id", -1)
        vocabulary.pre_tokenizer = _field(reader, "tokenizer.ggml.pre", "")
    return config, weights, vocabulary
