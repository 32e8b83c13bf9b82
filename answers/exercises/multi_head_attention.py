"""Exercise multi-head-attention: the forward pass of multi-head attention with given projection weights."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from answers.exercises._kit import Case, Misconception, randn

ID = "multi-head-attention"
CARD = "multi-head-attention-implementation"
DIFFICULTY = "medium"
TITLE = "Multi-head attention forward with given weights"
FUNCTION = "multi_head_attention"
IMPORTS = "import math\n\nimport torch\n"
FORBIDDEN = {
    "torch.nn.functional.scaled_dot_product_attention": "write the attention of each head yourself",
    "torch.nn.functional.multi_head_attention_forward": "it is the function you are writing",
    "torch.nn.MultiheadAttention": "it is the module you are writing",
}


def multi_head_attention(x_q, x_kv, w_q, w_k, w_v, w_o, n_heads: int, mask=None):
    """Multi-head attention, "Attention Is All You Need" section 3.2.2, with given weights and no biases.

    x_q: (batch, n_q, d_model), the tokens that ask; x_kv: (batch, n_k, d_kv), the tokens attended to
    (self-attention passes the same tensor twice; d_kv = d_model then). Weights in nn.Linear's layout
    (out_features, in_features), so a projection is x @ w.T: w_q (d_model, d_model), w_k and w_v
    (d_model, d_kv), w_o (d_model, d_model). n_heads divides d_model; d_head = d_model // n_heads.
    mask: None or bool (n_q, n_k), True where query i may attend key j (F.scaled_dot_product_attention's
    convention, the opposite of nn.MultiheadAttention's attn_mask).
    1. project: q = x_q @ w_q.T, k = x_kv @ w_k.T, v = x_kv @ w_v.T, each (batch, n, d_model);
    2. split each into heads (batch, n_heads, n, d_head), head h = columns h·d_head … (h+1)·d_head − 1;
    3. per head, softmax(q kᵀ / √d_head) v, masked entries −∞ before the softmax;
    4. merge the heads back to (batch, n_q, d_model) and apply the output projection: @ w_o.T.
    Returns (batch, n_q, d_model) in the inputs' dtype. Do not call F.scaled_dot_product_attention or
    nn.MultiheadAttention (the checks compare with nn.MultiheadAttention, bias=False, given these weights).

    Example: with n_heads = 1 and every weight the identity, the result is softmax(x xᵀ/√d) x, plain
    self-attention; with w_o = 0 it is all zeros.
    """
    batch, n_q, d_model = x_q.shape
    n_k, d_head = x_kv.shape[1], d_model // n_heads

    def heads(t, n):
        return t.reshape(batch, n, n_heads, d_head).transpose(1, 2)  # (batch, heads, n, d_head)

    q, k, v = heads(x_q @ w_q.T, n_q), heads(x_kv @ w_k.T, n_k), heads(x_kv @ w_v.T, n_k)
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_head)
    if mask is not None:
        scores = scores.masked_fill(~mask, -math.inf)
    out = torch.softmax(scores, dim=-1) @ v  # (batch, heads, n_q, d_head)
    return out.transpose(1, 2).reshape(batch, n_q, d_model) @ w_o.T


# ------------------------------------------------------------------------------------------ the checks

# nn.MultiheadAttention computes through F.multi_head_attention_forward: bind torch's own module now, before a
# check replaces the public names with refusals.
_TorchMHA = nn.MultiheadAttention


def _torch_mha(x_q: Tensor, x_kv: Tensor, w_q, w_k, w_v, w_o, n_heads: int, mask: Tensor | None) -> Tensor:
    """nn.MultiheadAttention (bias=False) with the given weights copied in: the independent reference."""
    d_model, d_kv = w_k.shape
    module = _TorchMHA(d_model, n_heads, bias=False, kdim=d_kv, vdim=d_kv, batch_first=True, dtype=x_q.dtype)
    with torch.no_grad():
        if module._qkv_same_embed_dim:
            module.in_proj_weight.copy_(torch.cat([w_q, w_k, w_v]))
        else:
            module.q_proj_weight.copy_(w_q)
            module.k_proj_weight.copy_(w_k)
            module.v_proj_weight.copy_(w_v)
        module.out_proj.weight.copy_(w_o)
        # nn.MultiheadAttention's bool attn_mask is True where attending is *forbidden*
        out, _ = module(x_q, x_kv, x_kv, attn_mask=None if mask is None else ~mask, need_weights=False)
    return out


def _weights(d_model: int, d_kv: int, seed: int, dtype: torch.dtype = torch.float64) -> tuple[Tensor, ...]:
    shapes = [(d_model, d_model), (d_model, d_kv), (d_model, d_kv), (d_model, d_model)]
    return tuple(randn(*s, seed=seed + i, dtype=dtype) / math.sqrt(s[1]) for i, s in enumerate(shapes))


def cases() -> list[Case]:
    names = ("x_q", "x_kv", "w_q", "w_k", "w_v", "w_o", "n_heads", "mask")

    def case(name: str, args: tuple, why: str, **tolerance: float) -> Case:
        return Case(name, args, _torch_mha(*args), why, arg_names=names, **tolerance)

    x = randn(1, 3, 4, seed=1)
    xb = randn(2, 5, 12, seed=2)
    causal = torch.ones(5, 5, dtype=torch.bool).tril()
    xq, xkv = randn(2, 4, 8, seed=3), randn(2, 7, 10, seed=4)
    cross_mask = torch.rand(4, 7, generator=torch.Generator().manual_seed(5)) < 0.6
    cross_mask[:, 0] = True  # every query keeps a key
    x32 = randn(3, 6, 8, seed=6, dtype=torch.float32)
    return [
        case("self-attention, batch 1, n = 3, d_model = 4, 2 heads", (x, x, *_weights(4, 4, seed=10), 2, None),
             "the four projections and two heads"),
        case("batch 2, n = 5, d_model = 12, 3 heads, causal mask", (xb, xb, *_weights(12, 12, seed=20), 3, causal),
             "d_head = 4 ≠ the number of heads; the mask reaches every head"),
        case("cross-attention: n_q = 4, n_k = 7, d_kv = 10 ≠ d_model = 8, 2 heads, random mask",
             (xq, xkv, *_weights(8, 10, seed=30), 2, cross_mask), "queries and keys from different sequences"),
        case("one head of width 12", (xb, xb, *_weights(12, 12, seed=40), 1, None), "single-head attention, √12"),
        case("6 heads of width 2", (xb, xb, *_weights(12, 12, seed=50), 6, causal), "many narrow heads"),
        case("float32 in, float32 out", (x32, x32, *_weights(8, 8, seed=60, dtype=torch.float32), 4, None),
             "the dtype is kept", atol=1e-5, rtol=1e-4),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------- the misconceptions


def _variant(
    x_q, x_kv, w_q, w_k, w_v, w_o, n_heads, mask, *, strided=False, scale=None, w_out=True, t=True, invert=False
):
    batch, n_q, d_model = x_q.shape
    n_k, d_head = x_kv.shape[1], d_model // n_heads

    def heads(y: Tensor, n: int) -> Tensor:
        if strided:
            return y.reshape(batch, n, d_head, n_heads).permute(0, 3, 1, 2)
        return y.reshape(batch, n, n_heads, d_head).transpose(1, 2)

    def project(y: Tensor, w: Tensor) -> Tensor:
        return y @ (w.T if t else w)

    q, k, v = heads(project(x_q, w_q), n_q), heads(project(x_kv, w_k), n_k), heads(project(x_kv, w_v), n_k)
    scores = q @ k.transpose(-2, -1) / math.sqrt(scale or d_head)
    if mask is not None:
        scores = scores.masked_fill(mask if invert else ~mask, -math.inf)
    out = torch.softmax(scores, -1) @ v
    merged = out.permute(0, 2, 3, 1) if strided else out.transpose(1, 2)
    merged = merged.reshape(batch, n_q, d_model)
    return project(merged, w_o) if w_out else merged


def strided_heads(x_q, x_kv, w_q, w_k, w_v, w_o, n_heads: int, mask=None):
    return _variant(x_q, x_kv, w_q, w_k, w_v, w_o, n_heads, mask, strided=True)


def no_output_projection(x_q, x_kv, w_q, w_k, w_v, w_o, n_heads: int, mask=None):
    return _variant(x_q, x_kv, w_q, w_k, w_v, w_o, n_heads, mask, w_out=False)


def scale_by_d_model(x_q, x_kv, w_q, w_k, w_v, w_o, n_heads: int, mask=None):
    return _variant(x_q, x_kv, w_q, w_k, w_v, w_o, n_heads, mask, scale=x_q.shape[-1])


def weights_not_transposed(x_q, x_kv, w_q, w_k, w_v, w_o, n_heads: int, mask=None):
    return _variant(x_q, x_kv, w_q, w_k, w_v, w_o, n_heads, mask, t=False)


def mask_inverted(x_q, x_kv, w_q, w_k, w_v, w_o, n_heads: int, mask=None):
    return _variant(x_q, x_kv, w_q, w_k, w_v, w_o, n_heads, mask, invert=True)


MISCONCEPTIONS = [
    Misconception("heads as strided columns", strided_heads,
                  "you reshape to (…, d_head, heads), so head h takes columns h, h + heads, …: each head mixes "
                  "pieces of every trained head. Head h is the contiguous block h·d_head … (h+1)·d_head − 1",
                  "multi-head-attention-implementation: “Reshape the projected tensor to (n, d_k, h) and each slice "
                  "along the last axis is a head.”"),
    Misconception("no output projection", no_output_projection,
                  "you return the concatenated heads; multi-head attention then mixes them with W_O",
                  "multi-head-attention-implementation: “Multi-head output is the concatenation of the heads.”"),
    Misconception("scaled by √d_model", scale_by_d_model,
                  "you divide the scores by √d_model; each head's scores are dot products of width d_head, so the "
                  "scale is 1/√d_head (they agree only with one head)",
                  "sqrt-dk-scaling: scaled_scores_have_unit_variance_for_any_d_k"),
    Misconception("weights not transposed (x @ W)", weights_not_transposed,
                  "you compute x @ w; nn.Linear stores weights as (out_features, in_features) and computes "
                  "x @ w.T. For square weights it runs and is silently wrong; for d_kv ≠ d_model it cannot run",
                  "multi-head-attention-implementation: hand_written_heads_reproduce_nn_multihead_attention"),
    Misconception("the mask inverted (True = hidden)", mask_inverted,
                  "you hide the keys where the mask is True, nn.MultiheadAttention's attn_mask convention; here "
                  "True means 'may attend', as in F.scaled_dot_product_attention",
                  "nn-transformer-api-pitfalls (the two mask conventions)"),
]  # fmt: skip
