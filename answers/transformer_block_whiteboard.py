"""One Transformer block on the whiteboard: the sublayers, their order and every tensor shape.

x (B, n, d) → multi-head self-attention → add & LayerNorm → position-wise FFN d → d_ff → d → add &
LayerNorm → (B, n, d). Inside attention: (B, n, d) → (B, h, n, d_k) → scores (B, h, n, n) → (B, h, n, d_k)
→ concatenated (B, n, d) → W_O. The output has the input's shape, which is what lets blocks stack.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from answers.evidence import Evidence
from answers.reference import randn, seeded_module

BATCH, N_TOKENS, D_MODEL, N_HEADS, D_FF = 2, 5, 32, 4, 128
D_HEAD = D_MODEL // N_HEADS


def _torch_layer(seed: int = 0) -> nn.TransformerEncoderLayer:
    """The paper's post-norm encoder layer, as torch ships it (ReLU FFN, no dropout)."""
    return seeded_module(
        lambda: nn.TransformerEncoderLayer(D_MODEL, N_HEADS, D_FF, dropout=0.0, batch_first=True), seed=seed
    )


def _attention(
    x: torch.Tensor, layer: nn.TransformerEncoderLayer, shapes: list | None = None, *, qt_k: bool = False
) -> torch.Tensor:
    """Multi-head self-attention written out, recording each intermediate shape in ``shapes``.
    ``qt_k`` is the classic slip QᵀK instead of QKᵀ: feature-by-feature "scores" of shape (d_k, d_k)."""
    record = shapes.append if shapes is not None else (lambda _: None)
    mha = layer.self_attn
    batch, n, d = x.shape
    q, k, v = F.linear(x, mha.in_proj_weight, mha.in_proj_bias).chunk(3, dim=-1)  # (B, n, d) each
    q, k, v = (t.view(batch, n, N_HEADS, D_HEAD).transpose(1, 2) for t in (q, k, v))  # (B, h, n, d_k)
    record(tuple(q.shape))
    if qt_k:
        scores = q.transpose(-2, -1) @ k / math.sqrt(D_HEAD)  # (B, h, d_k, d_k)
        record(tuple(scores.shape))
        heads = v @ scores.softmax(-1)  # (B, h, n, d_k): still runs, the shapes betray it
    else:
        scores = q @ k.transpose(-2, -1) / math.sqrt(D_HEAD)  # (B, h, n, n)
        record(tuple(scores.shape))
        heads = scores.softmax(-1) @ v  # (B, h, n, d_k)
    concat = heads.transpose(1, 2).reshape(batch, n, d)  # (B, n, d)
    record(tuple(concat.shape))
    return mha.out_proj(concat)


def _ffn(x: torch.Tensor, layer: nn.TransformerEncoderLayer, shapes: list | None = None) -> torch.Tensor:
    hidden = F.relu(layer.linear1(x))  # (B, n, d_ff): the same two matrices at every position
    if shapes is not None:
        shapes.append(tuple(hidden.shape))
    return layer.linear2(hidden)


def _block(x: torch.Tensor, layer, *, pre_norm: bool = False, shapes=None, qt_k: bool = False):
    """Post-norm (the paper): x ← LN(x + Sublayer(x)). Pre-norm: x ← x + Sublayer(LN(x))."""
    if pre_norm:
        x = x + _attention(layer.norm1(x), layer, shapes)
        return x + _ffn(layer.norm2(x), layer, shapes)
    x = layer.norm1(x + _attention(x, layer, shapes, qt_k=qt_k))
    return layer.norm2(x + _ffn(x, layer, shapes))


def hand_written_block_equals_torch_encoder_layer(seed: int = 0) -> Evidence:
    """The whiteboard block — attention, add & norm, FFN, add & norm — reproduces
    nn.TransformerEncoderLayer(norm_first=False) with the same weights."""
    layer, x = _torch_layer(seed), randn(BATCH, N_TOKENS, D_MODEL, seed=seed + 1)
    with torch.no_grad():
        reference = layer(x)
        post = (_block(x, layer) - reference).abs().max().item()
        pre = (_block(x, layer, pre_norm=True) - reference).abs().max().item()
    return Evidence(
        measured=post,
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding
        derivation="torch's own implementation: nn.TransformerEncoderLayer (post-norm, dropout 0)",
        counterfactual="LayerNorm moved before each sublayer (pre-norm)",
        counterfactual_measured=pre,
    )


def shapes_follow_the_whiteboard_trace(seed: int = 0) -> Evidence:
    """Per-head queries (B, h, n, d_k), scores (B, h, n, n), concatenated heads (B, n, d), FFN hidden
    (B, n, d_ff), and a block output of the input's shape (B, n, d)."""
    layer, x = _torch_layer(seed), randn(BATCH, N_TOKENS, D_MODEL, seed=seed + 1)

    def trace(qt_k: bool) -> tuple[str, ...]:
        shapes: list = []
        with torch.no_grad():
            shapes.append(tuple(_block(x, layer, shapes=shapes, qt_k=qt_k).shape))
        return tuple(str(s) for s in shapes)

    b, n, d, h, k = BATCH, N_TOKENS, D_MODEL, N_HEADS, D_HEAD
    expected = ((b, h, n, k), (b, h, n, n), (b, n, d), (b, n, D_FF), (b, n, d))
    return Evidence(
        measured=trace(qt_k=False),
        expected=tuple(str(s) for s in expected),
        comparison="equal",
        derivation="theory: d_k = d/h, scores are query × key, the FFN widens to d_ff and back",
        counterfactual="scores computed as QᵀK instead of QKᵀ (it runs, with (d_k, d_k) scores)",
        counterfactual_measured=trace(qt_k=True),
    )


def the_feed_forward_acts_on_each_position_separately(seed: int = 0) -> Evidence:
    """Applying the FFN token by token gives exactly its output on the whole sequence; attention,
    which mixes positions, does not have this property."""
    layer, x = _torch_layer(seed), randn(BATCH, N_TOKENS, D_MODEL, seed=seed + 1)

    def per_token_gap(sublayer) -> float:
        one_by_one = torch.cat([sublayer(x[:, t : t + 1]) for t in range(N_TOKENS)], dim=1)
        return (one_by_one - sublayer(x)).abs().max().item()

    with torch.no_grad():
        return Evidence(
            measured=per_token_gap(lambda t: _ffn(t, layer)),
            expected=0.0,
            comparison="abs",
            tolerance=1e-12,  # float64 rounding
            derivation="theory: FFN(x)_t = W₂·relu(W₁x_t + b₁) + b₂ uses only x_t",
            counterfactual="the attention sublayer treated the same way",
            counterfactual_measured=per_token_gap(lambda t: _attention(t, layer)),
        )


def layer_norm_normalises_each_token_on_its_own(seed: int = 0) -> Evidence:
    """LayerNorm gives every token mean 0 and variance 1 over its d features (before gain and bias),
    whatever the input's scale as long as var(x) ≫ ε (here var ≈ 10⁶, ε = 1e-5); statistics shared
    across tokens (batch-norm style) do not. For var(x) comparable to ε the output variance is
    var/(var + ε) < 1."""
    x = 1000 * randn(BATCH, N_TOKENS, D_MODEL, seed=seed + 2) + 50 * randn(BATCH, N_TOKENS, 1, seed=seed + 3)
    norm = seeded_module(lambda: nn.LayerNorm(D_MODEL, elementwise_affine=False))

    def worst_token(y: torch.Tensor) -> float:
        var = y.var(-1, unbiased=False)
        return max(y.mean(-1).abs().max().item(), (var - 1).abs().max().item())

    shared = (x - x.mean((0, 1))) / x.std((0, 1), unbiased=False)  # per feature, across tokens
    return Evidence(
        measured=worst_token(norm(x)),
        expected=0.0,
        comparison="abs",
        tolerance=1e-6,  # the eps = 1e-5 inside the square root shifts the variance by ~eps/var(x) ≈ 1e-11
        derivation="theory: LN(x) = (x − mean(x)) / √(var(x) + ε) over the feature axis of each token",
        counterfactual="normalising each feature across the tokens (batch-norm style)",
        counterfactual_measured=worst_token(shared),
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
