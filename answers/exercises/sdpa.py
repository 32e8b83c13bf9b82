"""Exercise sdpa: scaled dot-product attention, softmax(Q Kᵀ / √d_k) V, with a boolean mask."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from answers.exercises._kit import Case, Misconception, randn

ID = "sdpa"
CARD = "self-attention-from-scratch"
DIFFICULTY = "medium"
TITLE = "Scaled dot-product attention with a boolean mask"
FUNCTION = "attention"
IMPORTS = "import math\n\nimport torch\n"
# The card's claims run on the learner's function too, passed as this keyword (see _claims.py).
CLAIM_PARAMETER = "attention"
CARD_CLAIMS = (
    "hand_written_attention_matches_torch_sdpa",
    "attention_weights_are_row_stochastic",
    "values_supply_content_but_not_the_weights",
    "outputs_are_convex_combinations_of_value_rows",
    "causal-masking:masking_before_the_softmax_keeps_rows_distributions",
)
FORBIDDEN = {
    "torch.nn.functional.scaled_dot_product_attention": "it is the function you are writing",
    "torch.nn.functional.multi_head_attention_forward": "F.multi_head_attention_forward computes attention for you",
    "torch.nn.MultiheadAttention": "nn.MultiheadAttention computes attention for you",
}

# Torch's own implementation, bound before any check replaces the public name with a refusal.
_torch_sdpa = F.scaled_dot_product_attention


def attention(q, k, v, mask=None):
    """Scaled dot-product attention: softmax(q kᵀ / √d_k) v, each query's weighted average of the values.

    q: (..., n_q, d_k)   k: (..., n_k, d_k)   v: (..., n_k, d_v)   floating point, one dtype (float32/float64)
    mask: None, or a bool tensor broadcastable to (..., n_q, n_k); True where query i may attend key j.
    Returns (..., n_q, d_v) in the inputs' dtype. The leading dims "..." may be empty, (batch,) or
    (batch, heads). n_q ≠ n_k and d_k ≠ d_v in general. Every query has at least one key it may attend
    (a row with none is not checked). Scores may be large (in the thousands): stay finite.
    Do not call F.scaled_dot_product_attention or nn.MultiheadAttention.

    Example:
        q = [[1., 0.]], k = [[1., 0.], [0., 1.]], v = [[10.], [20.]]
        scores = [[1/√2, 0]], weights = softmax = [[0.670, 0.330]], output = [[13.30]]
        with mask = [[False, True]] the output is [[20.]].
    """
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, -math.inf)
    return torch.softmax(scores, dim=-1) @ v


# ------------------------------------------------------------------------------------------ the checks


def _loop(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None) -> Tensor:
    """A float64 loop over every query and key: the definition, written out, for one unbatched case."""
    out = torch.zeros(q.shape[0], v.shape[1], dtype=torch.float64)
    for i in range(q.shape[0]):
        keys = [j for j in range(k.shape[0]) if mask is None or mask[i, j]]
        scores = [sum(float(q[i, c]) * float(k[j, c]) for c in range(q.shape[1])) / math.sqrt(q.shape[1]) for j in keys]
        top = max(scores)
        weights = [math.exp(s - top) for s in scores]
        for j, w in zip(keys, weights, strict=True):
            out[i] += w / sum(weights) * v[j].double()
    return out


def _rows_mask(n_q: int, n_k: int, seed: int) -> Tensor:
    """A random mask in which every row allows at least one key and hides at least one."""
    mask = torch.rand(n_q, n_k, generator=torch.Generator().manual_seed(seed)) < 0.5
    mask[torch.arange(n_q), torch.arange(n_q) % n_k] = True
    mask[torch.arange(n_q), (torch.arange(n_q) + 1) % n_k] = False
    return mask


def cases() -> list[Case]:
    names = ("q", "k", "v", "mask")
    small = (randn(2, 3, seed=1), randn(4, 3, seed=2), randn(4, 2, seed=3), None)
    masked = (randn(3, 4, seed=4), randn(5, 4, seed=5), randn(5, 2, seed=6), _rows_mask(3, 5, seed=7))
    qb, kb, vb = randn(2, 3, 5, 4, seed=8), randn(2, 3, 7, 4, seed=9), randn(2, 3, 7, 6, seed=10)
    causal = torch.ones(5, 7, dtype=torch.bool).tril(diagonal=2)  # query i sees keys 0 … i+2 (a cache of 2)
    padding = torch.tensor([[True] * 7, [True] * 4 + [False] * 3]).view(2, 1, 1, 7)
    big_q, big_k, big_v = 30 * randn(2, 3, 8, seed=11), 30 * randn(2, 6, 8, seed=12), randn(2, 6, 3, seed=13)
    f32 = tuple(t.float() for t in (qb, kb, vb))
    return [
        Case("no mask, unbatched: n_q=2, n_k=4, d_k=3, d_v=2", small, _loop(*small),
             "the definition, checked against a float64 loop", arg_names=names),
        Case("random (n_q, n_k) mask, unbatched", masked, _loop(*masked),
             "masked keys get exactly zero weight; each row is still a distribution", arg_names=names),
        Case("batch 2 × 3 heads, n_q=5 ≠ n_k=7, d_k=4 ≠ d_v=6, no mask", (qb, kb, vb, None),
             _torch_sdpa(qb, kb, vb), "leading dims, and sizes that are not square", arg_names=names),
        Case("(5, 7) mask broadcast over batch and heads", (qb, kb, vb, causal),
             _torch_sdpa(qb, kb, vb, attn_mask=causal), "a mask shared by every batch row and head", arg_names=names),
        Case("padding mask (2, 1, 1, 7) broadcast over heads and queries", (qb, kb, vb, padding),
             _torch_sdpa(qb, kb, vb, attn_mask=padding), "a per-sequence key mask", arg_names=names),
        Case("large scores (|q·k|/√d_k in the thousands)", (big_q, big_k, big_v, None),
             _torch_sdpa(big_q, big_k, big_v),
             "exp of a large score overflows unless the row maximum is subtracted first", arg_names=names),
        Case("float32 in, float32 out", (*f32, causal), _torch_sdpa(*f32, attn_mask=causal),
             "the output keeps the inputs' dtype", atol=1e-5, rtol=1e-4, arg_names=names),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------- the misconceptions


def _scores(q: Tensor, k: Tensor, divisor: float) -> Tensor:
    return q @ k.transpose(-2, -1) / divisor


def no_scale(q, k, v, mask=None):
    scores = _scores(q, k, 1.0)
    return torch.softmax(scores if mask is None else scores.masked_fill(~mask, -math.inf), -1) @ v


def scale_by_d_k(q, k, v, mask=None):
    scores = _scores(q, k, q.shape[-1])
    return torch.softmax(scores if mask is None else scores.masked_fill(~mask, -math.inf), -1) @ v


def scale_by_sqrt_d_v(q, k, v, mask=None):
    scores = _scores(q, k, math.sqrt(v.shape[-1]))
    return torch.softmax(scores if mask is None else scores.masked_fill(~mask, -math.inf), -1) @ v


def mask_after_softmax(q, k, v, mask=None):
    weights = torch.softmax(_scores(q, k, math.sqrt(q.shape[-1])), -1)
    return (weights if mask is None else weights * mask) @ v


def zero_fill(q, k, v, mask=None):
    scores = _scores(q, k, math.sqrt(q.shape[-1]))
    return torch.softmax(scores if mask is None else scores.masked_fill(~mask, 0.0), -1) @ v


def inverted_mask(q, k, v, mask=None):
    scores = _scores(q, k, math.sqrt(q.shape[-1]))
    return torch.softmax(scores if mask is None else scores.masked_fill(mask, -math.inf), -1) @ v


def softmax_over_queries(q, k, v, mask=None):
    scores = _scores(q, k, math.sqrt(q.shape[-1]))
    return torch.softmax(scores if mask is None else scores.masked_fill(~mask, -math.inf), -2) @ v


def unshifted_exp(q, k, v, mask=None):
    scores = _scores(q, k, math.sqrt(q.shape[-1]))
    e = scores.exp() if mask is None else scores.exp() * mask
    return e / e.sum(-1, keepdim=True) @ v


MISCONCEPTIONS = [
    Misconception("no scale", no_scale,
                  "your scores are q·k without the 1/√d_k factor: as d_k grows the softmax saturates towards one key",
                  "sqrt-dk-scaling: unscaled_softmax_saturates_as_d_k_grows"),
    Misconception("scale by d_k", scale_by_d_k,
                  "you divide the scores by d_k instead of √d_k: the softmax comes out too flat",
                  "sqrt-dk-scaling: scaled_scores_have_unit_variance_for_any_d_k"),
    Misconception("scale by √d_v", scale_by_sqrt_d_v,
                  "you divide by √(the value width) instead of √d_k, the width of q and k; they agree only when "
                  "d_k = d_v", "sqrt-dk-scaling: scaled_scores_have_unit_variance_for_any_d_k"),
    Misconception("mask after the softmax", mask_after_softmax,
                  "you zero the masked weights after the softmax, so each row sums to less than 1: the mass of the "
                  "hidden keys just disappears. Fill the scores with −∞ before the softmax",
                  "causal-masking: masking_before_the_softmax_keeps_rows_distributions"),
    Misconception("zero fill instead of −∞", zero_fill,
                  "you fill masked scores with 0 (or multiply the scores by the 0/1 mask): 0 is an ordinary score, "
                  "so hidden keys still get weight e⁰ and leak. Fill with −∞",
                  "causal-masking: large_finite_fill_acts_like_minus_infinity"),
    Misconception("inverted mask", inverted_mask,
                  "you treat True as 'hidden' (nn.MultiheadAttention's convention); here True means 'may attend', "
                  "as in F.scaled_dot_product_attention",
                  "nn-transformer-api-pitfalls (the two mask conventions)"),
    Misconception("softmax over the queries", softmax_over_queries,
                  "your softmax runs over dim -2 (the queries); each query's weights must sum to 1 over the keys, "
                  "dim -1", "self-attention-from-scratch: attention_weights_are_row_stochastic"),
    Misconception("exp without the row maximum", unshifted_exp,
                  "you compute exp(s) / Σ exp(s) directly: exp overflows to inf for large scores and inf/inf is "
                  "NaN. Subtract each row's maximum first (torch.softmax does)",
                  "softmax-numerical-stability: the_shifted_softmax_survives_logits_that_overflow_exp"),
]  # fmt: skip
