"""Multi-head attention by hand, reproducing torch's nn.MultiheadAttention.

Project X with W_Q, W_K, W_V (d × d each), split the last axis into h heads of d_k = d/h, run scaled
dot-product attention for all heads in one batched matmul on (B, h, n, d_k) tensors, put the heads
back side by side into (B, n, d) and mix them with W_O. The reshape order matters: the d columns are
h contiguous blocks of d_k, one per head.
"""

from __future__ import annotations

import inspect

import torch
from torch import nn

from answers.evidence import Evidence
from answers.formulas.heads import head_dim, mha_parameters
from answers.reference import attend, count_parameters, randn, seeded_module

__all__ = ["head_dim", "mha_parameters"]

D_MODEL, N_HEADS, N_TOKENS, BATCH = 64, 4, 10, 2


def _torch_mha(seed: int = 0) -> nn.MultiheadAttention:
    return seeded_module(lambda: nn.MultiheadAttention(D_MODEL, N_HEADS, batch_first=True), seed=seed)


def _split_heads(x: torch.Tensor, heads: int, *, wrong_order: bool = False) -> torch.Tensor:
    """(B, n, d) → (B, h, n, d_k). The wrong order reads the d columns as (d_k, h) instead of (h, d_k)."""
    batch, n, d = x.shape
    if wrong_order:
        return x.view(batch, n, d // heads, heads).permute(0, 3, 1, 2)
    return x.view(batch, n, heads, d // heads).transpose(1, 2)


def _hand_mha(
    x: torch.Tensor, mha: nn.MultiheadAttention, *, wrong_order: bool = False, skip_w_o: bool = False
) -> torch.Tensor:
    """Self-attention from the packed in_proj_weight (3d, d): rows 0…d−1 are W_Q, then W_K, then W_V."""
    w_q, w_k, w_v = mha.in_proj_weight.chunk(3)  # (d, d) each
    b_q, b_k, b_v = mha.in_proj_bias.chunk(3)
    q, k, v = (
        _split_heads(x @ w.T + b, N_HEADS, wrong_order=wrong_order) for w, b in ((w_q, b_q), (w_k, b_k), (w_v, b_v))
    )
    heads = attend(q, k, v)  # (B, h, n, d_k), all heads in one batched matmul
    concat = heads.transpose(1, 2).reshape(x.shape)  # (B, n, h·d_k) = (B, n, d)
    return concat if skip_w_o else mha.out_proj(concat)


def hand_written_heads_reproduce_nn_multihead_attention(seed: int = 0) -> Evidence:
    """Slicing in_proj_weight into W_Q, W_K, W_V, splitting into heads, concatenating and applying
    out_proj reproduces nn.MultiheadAttention's output."""
    mha, x = _torch_mha(seed), randn(BATCH, N_TOKENS, D_MODEL, seed=seed + 1)
    with torch.no_grad():
        torch_out, _ = mha(x, x, x, need_weights=False)
        gap = (_hand_mha(x, mha) - torch_out).abs().max().item()
        no_w_o = (_hand_mha(x, mha, skip_w_o=True) - torch_out).abs().max().item()
    return Evidence(
        measured=gap,
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 throughout; only summation order differs
        derivation="torch's own implementation: nn.MultiheadAttention (float64, eval mode)",
        counterfactual="heads concatenated without the output projection W_O",
        counterfactual_measured=no_w_o,
    )


def _hand_head_weights(x: torch.Tensor, mha: nn.MultiheadAttention, *, wrong_order: bool) -> torch.Tensor:
    """Each head's attention weights, (B, h, n, n), from the hand-split Q and K."""
    w_q, w_k, _ = mha.in_proj_weight.chunk(3)
    b_q, b_k, _ = mha.in_proj_bias.chunk(3)
    q, k = (_split_heads(x @ w.T + b, N_HEADS, wrong_order=wrong_order) for w, b in ((w_q, b_q), (w_k, b_k)))
    return torch.softmax(q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5, dim=-1)


def heads_are_contiguous_blocks_of_d_k_columns(seed: int = 0) -> Evidence:
    """Head i uses columns i·d_k … (i+1)·d_k − 1 of the projections: the attention weights of
    view(n, h, d_k)'s head i are torch's own head i (read with average_attn_weights=False); the
    interleaved view(n, d_k, h) gives every head different weights."""
    mha, x = _torch_mha(seed), randn(BATCH, N_TOKENS, D_MODEL, seed=seed + 1)
    with torch.no_grad():
        _, torch_weights = mha(x, x, x, need_weights=True, average_attn_weights=False)  # (B, h, n, n)
        right = (_hand_head_weights(x, mha, wrong_order=False) - torch_weights).abs().max().item()
        wrong = (_hand_head_weights(x, mha, wrong_order=True) - torch_weights).abs().max().item()
    return Evidence(
        measured=right,
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding
        derivation="torch's own implementation: nn.MultiheadAttention's per-head attention weights",
        counterfactual="columns split as (d_k, h) — interleaved heads",
        counterfactual_measured=wrong,
    )


def the_base_model_has_eight_heads_of_size_64() -> Evidence:
    """nn.Transformer's defaults are the paper's base model: d_model = 512, 8 heads, so d_k = 64
    (Vaswani et al., section 3.2.2). The attention block holds 4d² weights, plus 4d biases in torch's
    module; the paper's tensor2tensor code has bias-free projections (bias=False here)."""
    defaults = inspect.signature(nn.Transformer).parameters
    d_model, heads = defaults["d_model"].default, defaults["nhead"].default

    def built(h: int, bias: bool) -> nn.MultiheadAttention:
        return seeded_module(lambda: nn.MultiheadAttention(d_model, h, bias=bias), dtype=torch.float32)

    with_bias, without_bias = built(heads, True), built(heads, False)
    single = built(1, True)
    return Evidence(
        measured=(with_bias.head_dim, count_parameters(with_bias), count_parameters(without_bias)),
        expected=(64, mha_parameters(d_model, heads, bias=True), mha_parameters(d_model, heads, bias=False)),
        comparison="equal",
        derivation="paper: d_k = d_model/h = 512/8 = 64 (section 3.2.2); formula 4d² + 4d, or 4d² without biases",
        counterfactual="one head of the full width",
        counterfactual_measured=(single.head_dim, count_parameters(single), count_parameters(built(1, False))),
        details={"d_model default": d_model, "nhead default": heads, "head_dim formula": head_dim(d_model, heads)},
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
