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


def _torch_mha() -> nn.MultiheadAttention:
    return seeded_module(lambda: nn.MultiheadAttention(D_MODEL, N_HEADS, batch_first=True))


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


def hand_written_heads_reproduce_nn_multihead_attention() -> Evidence:
    """Slicing in_proj_weight into W_Q, W_K, W_V, splitting into heads, concatenating and applying
    out_proj reproduces nn.MultiheadAttention's output."""
    mha, x = _torch_mha(), randn(BATCH, N_TOKENS, D_MODEL, seed=1)
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


def heads_are_contiguous_blocks_of_d_k_columns() -> Evidence:
    """Head i uses columns i·d_k … (i+1)·d_k − 1 of the projections: view(n, h, d_k) is right and
    view(n, d_k, h) is a different (wrong) split."""
    mha, x = _torch_mha(), randn(BATCH, N_TOKENS, D_MODEL, seed=1)
    with torch.no_grad():
        torch_out, _ = mha(x, x, x, need_weights=False)
        right = (_hand_mha(x, mha) - torch_out).abs().max().item()
        wrong = (_hand_mha(x, mha, wrong_order=True) - torch_out).abs().max().item()
    return Evidence(
        measured=right,
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding
        derivation="torch's own implementation: nn.MultiheadAttention",
        counterfactual="columns split as (d_k, h) — interleaved heads",
        counterfactual_measured=wrong,
    )


def the_base_model_has_eight_heads_of_size_64() -> Evidence:
    """nn.Transformer's defaults are the paper's base model: d_model = 512, 8 heads, so d_k = 64, and
    the attention block holds 4d² + 4d parameters."""
    defaults = inspect.signature(nn.Transformer).parameters
    d_model, heads = defaults["d_model"].default, defaults["nhead"].default
    mha = seeded_module(lambda: nn.MultiheadAttention(d_model, heads), dtype=torch.float32)
    single = seeded_module(lambda: nn.MultiheadAttention(d_model, 1), dtype=torch.float32)
    return Evidence(
        measured=(mha.head_dim, count_parameters(mha)),
        expected=(64, mha_parameters(d_model, heads)),
        comparison="equal",
        derivation="paper: d_k = d_model/h = 512/8 = 64; formula 4d² + 4d for the parameters",
        counterfactual="one head of the full width",
        counterfactual_measured=(single.head_dim, count_parameters(single)),
        details={"d_model default": d_model, "nhead default": heads, "head_dim formula": head_dim(d_model, heads)},
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
