"""A LLaMA decoder in PyTorch, in the convention of Hugging Face's ONNX
exports: forward(input_ids, attention_mask, position_ids, past keys and
values) -> (logits, present keys and values). It is both the floating-point
reference (the GGUF's weights, dequantized) and what `export_onnx.py`
exports.

RMSNorm, rotary embedding on the two halves of each head (base and
dimensions from the GGUF), grouped-query attention with a causal mask
offset by the past length and the attention mask's padding, a SiLU-gated
MLP, and the output projection tied to the embedding when the GGUF has no
separate one.

A reference may set `key_selector(layer, q, k)`, returning which keys each
query head sees ([batch, heads, length, total] booleans) or None for all:
how a sparse attention (Quest's page selection) is checked against this
model. The export leaves it None.
"""

import torch


class Llama(torch.nn.Module):
    def __init__(self, config, weights):
        super().__init__()
        self.config = config

        def parameter(name):
            return torch.nn.Parameter(torch.from_numpy(weights[name].copy()),
                                      requires_grad=False)

        self.embedding = parameter("token_embd.weight")
        self.output_norm = parameter("output_norm.weight")
        self.output = (self.embedding if config.tied_embeddings
                       else parameter("output.weight"))
        self.layers = torch.nn.ModuleList()
        for layer in range(config.layers):
            block = torch.nn.Module()
            for name in ("attn_norm", "attn_q", "attn_k", "attn_v",
                         "attn_output", "ffn_norm", "ffn_gate", "ffn_up",
                         "ffn_down"):
                setattr(block, name, parameter(f"blk.{layer}.{name}.weight"))
            self.layers.append(block)
        dims = config.rope_dims
        inverse = 1.0 / (config.rope_base **
                         (torch.arange(0, dims, 2, dtype=torch.float64) / dims))
        self.register_buffer("inverse_frequencies", inverse.float(),
                             persistent=False)
        self.key_selector = None

    def rms_norm(self, x, weight):
        variance = x.pow(2).mean(-1, keepdim=True)
        return x * torch.rsqrt(variance + self.config.rms_epsilon) * weight

    @staticmethod
    def rotate_half(x):
        half = x.shape[-1] // 2
        return torch.cat((-x[..., half:], x[..., :half]), dim=-1)

    def rope(self, x, cos, sin):
        dims = self.config.rope_dims
        if dims == self.config.head_dim:
            return x * cos + self.rotate_half(x) * sin
        rotated, passed = x[..., :dims], x[..., dims:]
        rotated = rotated * cos + self.rotate_half(rotated) * sin
        return torch.cat((rotated, passed), dim=-1)

    def forward(self, input_ids, attention_mask, position_ids, *past):
        config = self.config
        batch, length = input_ids.shape
        heads, kv_heads, head_dim = config.heads, config.kv_heads, \
            config.head_dim
        x = self.embedding[input_ids]

        # Query i (at past + i) sees key j if j <= past + i and the mask
        # keeps j.
        past_length = past[0].shape[2]
        total = past_length + length
        query_positions = torch.arange(length).unsqueeze(1) + past_length
        key_positions = torch.arange(total).unsqueeze(0)
        allowed = (key_positions <= query_positions).unsqueeze(0).unsqueeze(0)
        allowed = allowed & attention_mask.bool()[:, None, None, :]
        bias = torch.zeros(allowed.shape, dtype=x.dtype).masked_fill(
            ~allowed, torch.finfo(x.dtype).min)

        angles = position_ids.unsqueeze(-1).float() * self.inverse_frequencies
        angles = torch.cat((angles, angles), dim=-1).unsqueeze(1)
        cos, sin = angles.cos(), angles.sin()

        presents = []
        for index, block in enumerate(self.layers):
            h = self.rms_norm(x, block.attn_norm)
            q = (h @ block.attn_q.t()).view(batch, length, heads, head_dim)
            k = (h @ block.attn_k.t()).view(batch, length, kv_heads, head_dim)
            v = (h @ block.attn_v.t()).view(batch, length, kv_heads, head_dim)
            q = self.rope(q.transpose(1, 2), cos, sin)
            k = self.rope(k.transpose(1, 2), cos, sin)
            v = v.transpose(1, 2)
            k = torch.cat((past[2 * index], k), dim=2)
            v = torch.cat((past[2 * index + 1], v), dim=2)
            presents += [k, v]
            group = heads // kv_heads
            k = k[:, :, None].expand(batch, kv_heads, group, total, head_dim) \
                .reshape(batch, heads, total, head_dim)
            v = v[:, :, None].expand(batch, kv_heads, group, total, head_dim) \
                .reshape(batch, heads, total, head_dim)
            layer_bias = bias
            if self.key_selector is not None:
                seen = self.key_selector(index, q, presents[-2])
                if seen is not None:
                    layer_bias = bias.masked_fill(~seen,
                                                  torch.finfo(x.dtype).min)
            scores = q @ k.transpose(2, 3) / head_dim ** 0.5 + layer_bias
            attention = torch.softmax(scores, dim=-1) @ v
            attention = attention.transpose(1, 2).reshape(batch, length, -1)
            x = x + attention @ block.attn_output.t()
            h = self.rms_norm(x, block.ffn_norm)
            gated = torch.nn.functional.silu(h @ block.ffn_gate.t()) * \
                (h @ block.ffn_up.t())
            x = x + gated @ block.ffn_down.t()
        x = self.rms_norm(x, self.output_norm)
        return (x @ self.output.t(), *presents)

    def empty_cache(self, batch=1):
        """The past keys and values of no tokens."""
        shape = (batch, self.config.kv_heads, 0, self.config.head_dim)
        return [torch.zeros(shape) for _ in range(2 * self.config.layers)]
