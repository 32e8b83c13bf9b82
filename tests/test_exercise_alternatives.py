"""A right solution written another common way passes too: the checks ask for the mechanism, not for the reference
solution's arithmetic (float32 intermediates where the spec allows them, complex numbers, einsum, −∞ initial state)."""

from __future__ import annotations

import textwrap

import pytest

from answers.exercises._grade import evaluate, exercise_module

ALTERNATIVES = {
    "sinusoidal-encoding": """
        import math, torch
        def sinusoidal_encoding(n_positions, d_model):  # the Annotated Transformer's float32 exp/log form
            pe = torch.zeros(n_positions, d_model)
            position = torch.arange(0, n_positions).unsqueeze(1).float()
            div_term = torch.exp(torch.arange(0, d_model, 2).float() * -(math.log(10000.0) / d_model))
            pe[:, 0::2] = torch.sin(position * div_term)
            pe[:, 1::2] = torch.cos(position * div_term)
            return pe
    """,
    "apply-rope": """
        import torch
        def apply_rope(x, positions, base=10000.0):  # Meta's Llama form, complex numbers, in float64
            d = x.shape[-1]
            freqs = torch.outer(positions.double(), 1.0 / base ** (torch.arange(0, d, 2).double() / d))
            z = torch.view_as_complex(x.double().reshape(*x.shape[:-1], -1, 2))
            return torch.view_as_real(z * torch.polar(torch.ones_like(freqs), freqs)).flatten(-2).to(x.dtype)
    """,
    "layernorm": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            var, mean = torch.var_mean(x, dim=-1, keepdim=True, unbiased=False)
            return (x - mean) * torch.rsqrt(var + eps) * weight + bias
    """,
    "padding-causal-mask": """
        import torch
        def padding_causal_mask(attention_mask):
            b, n = attention_mask.shape
            causal = torch.tril(torch.ones(n, n)).bool().view(1, 1, n, n)
            return causal & (attention_mask == 1).view(b, 1, 1, n)
    """,
    "multi-head-attention": """
        import math, torch
        def multi_head_attention(x_q, x_kv, w_q, w_k, w_v, w_o, n_heads, mask=None):  # einsum, heads as a view
            d = w_q.shape[0] // n_heads
            q = torch.einsum("bnd,ed->bne", x_q, w_q).unflatten(-1, (n_heads, d))
            k = torch.einsum("bnd,ed->bne", x_kv, w_k).unflatten(-1, (n_heads, d))
            v = torch.einsum("bnd,ed->bne", x_kv, w_v).unflatten(-1, (n_heads, d))
            s = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(d)
            if mask is not None:
                s = s.masked_fill(~mask, float("-inf"))
            o = torch.einsum("bhqk,bkhd->bqhd", s.softmax(-1), v).flatten(-2)
            return o @ w_o.T
    """,
    "kv-cache-decode-step": """
        import math, torch
        def decode_step(q, k, v, k_cache, v_cache):
            k_all, v_all = torch.cat((k_cache, k), dim=2), torch.cat((v_cache, v), dim=2)
            w = torch.einsum("bhqd,bhkd->bhqk", q, k_all).div(math.sqrt(q.shape[-1])).softmax(-1)
            return w @ v_all, k_all, v_all
    """,
    "online-softmax-attention": """
        import math, torch
        def online_attention(q, blocks):  # FlashAttention's form: the state starts at m = −∞, l = 0, o = 0
            m = torch.full((*q.shape[:-1], 1), -math.inf, dtype=q.dtype)
            l = torch.zeros_like(m)
            o = None
            for kb, vb in blocks:
                s = q @ kb.transpose(-1, -2) / math.sqrt(q.shape[-1])
                m_new = torch.maximum(m, s.amax(-1, keepdim=True))
                p, a = torch.exp(s - m_new), torch.exp(m - m_new)
                l = a * l + p.sum(-1, keepdim=True)
                o = p @ vb if o is None else a * o + p @ vb
                m = m_new
            return o / l
    """,
}


@pytest.mark.parametrize("exercise_id", sorted(ALTERNATIVES))
def test_a_right_solution_written_another_way_passes(exercise_id):
    module = exercise_module(exercise_id)
    namespace: dict = {}
    exec(compile(textwrap.dedent(ALTERNATIVES[exercise_id]), "<alternative>", "exec"), namespace)
    record = evaluate(module, lambda: namespace[module.FUNCTION])
    assert record["status"] == "passed", record.get("failure")
