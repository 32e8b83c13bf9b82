"""Padding masks: batching sequences of different lengths without changing any real token's output.

Sequences in a batch are padded to one length. A key padding mask hides the pad tokens as keys, so
every real token attends only to real tokens and gets exactly the output it would get alone. A query
row that may see nothing at all (a pad that is masked from everything) becomes NaN with a −∞ fill, and
0 · NaN = NaN lets that NaN reach real tokens in the next layer.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn

from answers.evidence import Evidence
from answers.reference import (
    MultiHeadAttention,
    apply_rope,
    attend,
    causal_mask,
    seeded_module,
    sinusoidal_encoding,
)

D, HEADS, D_FF = 16, 2, 32
LENGTHS, PAD_TO = (5, 3), 5


@functools.cache  # fixed seeded layers, never modified
def _attention() -> MultiHeadAttention:
    return seeded_module(lambda: MultiHeadAttention(D, HEADS), seed=1)


@functools.cache
def _torch_layer() -> nn.TransformerEncoderLayer:
    return seeded_module(lambda: nn.TransformerEncoderLayer(D, HEADS, D_FF, dropout=0.0, batch_first=True), seed=2)


def _sequences(seed: int) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(1, n, D, generator=generator, dtype=torch.float64) for n in LENGTHS]


def _padded_batch(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded batch (B, PAD_TO, D) of the sequences and its (B, PAD_TO) mask, True = real token.
    The pads hold arbitrary vectors: a correct mask makes their content irrelevant."""
    pads = torch.randn(1, PAD_TO, D, generator=torch.Generator().manual_seed(seed + 1000), dtype=torch.float64)
    batch = torch.cat([torch.cat([s, pads[:, : PAD_TO - s.shape[1]]], 1) for s in _sequences(seed)])
    real = torch.arange(PAD_TO)[None, :] < torch.tensor(LENGTHS)[:, None]
    return batch, real


def _largest_change_to_real_tokens(use_padding_mask: bool, seed: int) -> float:
    batch, real = _padded_batch(seed)
    mask = real[:, None, None, :] if use_padding_mask else None  # (B, 1, 1, n_keys): hide pad keys
    with torch.no_grad():
        out = _attention()(batch, mask=mask)
        alone = [_attention()(s) for s in _sequences(seed)]
    return max((out[b, :n] - alone[b][0]).abs().max().item() for b, n in enumerate(LENGTHS))


def padded_batch_matches_unpadded_sequences(seed: int = 0) -> Evidence:
    """With a key padding mask, the real tokens of a padded batch get exactly the outputs each sequence
    gets on its own."""
    return Evidence(
        measured=_largest_change_to_real_tokens(use_padding_mask=True, seed=seed),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding only; masked pads get weight exactly 0
        derivation="the same layer run on each unpadded sequence separately, float64",
        counterfactual="no padding mask (real tokens attend to the pads)",
        counterfactual_measured=_largest_change_to_real_tokens(use_padding_mask=False, seed=seed),
    )


def _torch_change_to_real_tokens(use_padding_mask: bool, seed: int) -> float:
    batch, real = _padded_batch(seed)
    with torch.no_grad():
        out = _torch_layer()(batch, src_key_padding_mask=~real if use_padding_mask else None)  # torch: True = pad
        alone = [_torch_layer()(s) for s in _sequences(seed)]
    return max((out[b, :n] - alone[b][0]).abs().max().item() for b, n in enumerate(LENGTHS))


def torch_src_key_padding_mask_does_the_same(seed: int = 0) -> Evidence:
    """``nn.TransformerEncoderLayer(src_key_padding_mask=…)`` (True marks a pad) gives the real tokens
    the same outputs as the unpadded sequences."""
    return Evidence(
        measured=_torch_change_to_real_tokens(use_padding_mask=True, seed=seed),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding only
        derivation="torch's own encoder layer on each unpadded sequence",
        counterfactual="src_key_padding_mask omitted",
        counterfactual_measured=_torch_change_to_real_tokens(use_padding_mask=False, seed=seed),
    )


LEFT_PADDED = torch.tensor([False, False, True, True, True, True])  # 2 pads, then 4 real tokens


def _left_padded_causal_rows(fill: float, seed: int) -> tuple[int, torch.Tensor]:
    """A left-padded sequence (2 pads, 4 real tokens) under causal + padding masks: the pad queries see
    no allowed key. Returns (NaN output rows, outputs)."""
    real = LEFT_PADDED
    allowed = causal_mask(6) & real[None, :]  # (6, 6): causal and not a pad key
    x = torch.randn(1, 6, D, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    layer = _attention()
    q, k, v = (layer.split_heads(w(x), HEADS) for w in (layer.w_q, layer.w_k, layer.w_v))
    scores = (q @ k.transpose(-2, -1) / (D // HEADS) ** 0.5).masked_fill(~allowed, fill)
    out = torch.softmax(scores, -1) @ v  # (1, h, 6, d_head)
    return int(out[0].isnan().any(-1).any(0).sum()), out


def _sdpa_pad_rows(seed: int) -> float:
    """The same left-padded rows through ``F.scaled_dot_product_attention``: largest |output| at the pads."""
    x = torch.randn(1, 6, D, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    layer = _attention()
    q, k, v = (layer.split_heads(w(x), HEADS) for w in (layer.w_q, layer.w_k, layer.w_v))
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=causal_mask(6) & LEFT_PADDED[None, :])
    return out[0, :, ~LEFT_PADDED].abs().max().item()


def fully_masked_rows_are_nan_with_minus_infinity(seed: int = 0) -> Evidence:
    """Left padding + a causal mask leaves each pad query with no visible key: with a hand-written −∞
    softmax the row is 0/0 and those 2 rows are NaN. ``F.scaled_dot_product_attention`` returns zeros
    there instead, and a finite fill (Hugging Face uses the dtype's minimum) gives uniform weights over
    every key, future real tokens included: both silently finite."""
    with torch.no_grad():
        nan_rows, _ = _left_padded_causal_rows(float("-inf"), seed)
        finite_nan_rows, finite_out = _left_padded_causal_rows(torch.finfo(torch.float64).min, seed)
        sdpa_pads = _sdpa_pad_rows(seed)
        x = torch.randn(1, 6, D, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        v = _attention().split_heads(_attention().w_v(x), HEADS)
        uniform_gap = (finite_out[:, :, ~LEFT_PADDED] - v.mean(-2, keepdim=True)).abs().max().item()
    return Evidence(
        measured=nan_rows,
        expected=2,
        comparison="equal",
        derivation="theory: a row of all −∞ gives e^(−∞) / Σ e^(−∞) = 0/0 = NaN; one per leading pad",
        counterfactual="finite fill torch.finfo(float64).min",
        counterfactual_measured=finite_nan_rows,
        details={
            f"F.scaled_dot_product_attention (torch {torch.__version__}), pad rows, max |·|": sdpa_pads,
            "finite fill, pad rows minus the mean of all 6 values (uniform weights), max |·|": uniform_gap,
        },
    )


def _nan_reaches_real_tokens(clean_pads: bool, seed: int) -> int:
    """Feed the first layer's output (NaN at the pads) to a second masked layer; count real tokens hit."""
    real = LEFT_PADDED
    with torch.no_grad():
        _, out = _left_padded_causal_rows(float("-inf"), seed)
        x = out.transpose(1, 2).reshape(1, 6, D)
        if clean_pads:
            x = x.masked_fill(~real[None, :, None], 0.0)  # zero the padded positions between layers
        allowed = causal_mask(6) & real[None, :]
        y = _attention()(x, mask=allowed)
    return int(y[0, real].isnan().any(-1).sum())


def masked_nan_still_poisons_real_tokens(seed: int = 0) -> Evidence:
    """A NaN at a pad position reaches every real token in the next layer even though the pad is masked:
    its weight is 0, but 0 · NaN = NaN in the weighted sum of values."""
    return Evidence(
        measured=_nan_reaches_real_tokens(clean_pads=False, seed=seed),
        expected=4,
        comparison="equal",
        derivation="IEEE 754: 0 × NaN = NaN, so every row whose values include a NaN becomes NaN",
        counterfactual="pad positions zeroed between the layers",
        counterfactual_measured=_nan_reaches_real_tokens(clean_pads=True, seed=seed),
    )


# Dynamic NTK (Hugging Face's rope_type "dynamic"): past the trained length the base is recomputed from the
# current sequence length, pads included: base·(s·n/n_train − (s − 1))^(d/(d−2)).
DYNAMIC_NTK_TRAIN_LEN, DYNAMIC_NTK_FACTOR, ROPE_BASE = 4, 2.0, 10000.0


def _dynamic_ntk_base(n: int) -> float:
    if n <= DYNAMIC_NTK_TRAIN_LEN:
        return ROPE_BASE
    d_head = D // HEADS
    growth = DYNAMIC_NTK_FACTOR * n / DYNAMIC_NTK_TRAIN_LEN - (DYNAMIC_NTK_FACTOR - 1)
    return ROPE_BASE * growth ** (d_head / (d_head - 2))


def _attention_at(x: torch.Tensor, positions: torch.Tensor, allowed: torch.Tensor, encoding: str) -> torch.Tensor:
    """The reference layer with positions given explicitly: sinusoids added to the input ("absolute"),
    RoPE applied to queries and keys ("rope"), or RoPE whose base follows the sequence length, pads
    included ("rope_dynamic_ntk")."""
    layer = _attention()
    if encoding == "absolute":
        x = x + sinusoidal_encoding(int(positions.max()) + 1, D)[positions]
    q, k, v = (layer.split_heads(w(x), HEADS) for w in (layer.w_q, layer.w_k, layer.w_v))
    if encoding.startswith("rope"):
        base = _dynamic_ntk_base(x.shape[1]) if encoding == "rope_dynamic_ntk" else ROPE_BASE
        q, k = apply_rope(q, positions, base), apply_rope(k, positions, base)
    out = attend(q, k, v, allowed).transpose(1, 2).reshape(x.shape)
    return layer.w_o(out)


def _left_padding_change(encoding: str, position_ids: str, seed: int) -> float:
    """Largest change of the 4 real tokens' outputs when their sequence is left-padded with 2 pads.
    ``position_ids``: "arange" numbers every slot 0 … 5, pads included (the default); "from_mask" starts
    the real tokens at 0, as Hugging Face does with attention_mask.cumsum(−1) − 1."""
    x = torch.randn(1, 6, D, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    n_real = int(LEFT_PADDED.sum())
    positions = torch.arange(6) if position_ids == "arange" else (LEFT_PADDED.cumsum(-1) - 1).clamp(min=0)
    allowed = causal_mask(6) & LEFT_PADDED[None, :]
    allowed |= torch.eye(6, dtype=torch.bool) & ~LEFT_PADDED[:, None]  # pads see themselves: no empty row
    with torch.no_grad():
        padded = _attention_at(x, positions, allowed, encoding)[0, LEFT_PADDED]
        alone = _attention_at(x[:, LEFT_PADDED], torch.arange(n_real), causal_mask(n_real), encoding)[0]
    return (padded - alone).abs().max().item()


def left_padding_needs_position_ids_from_the_mask(seed: int = 0) -> Evidence:
    """With absolute positions, left padding moves every real token 2 positions along, so its output
    changes; position ids counted from the first real token (attention_mask.cumsum − 1) restore the
    unpadded outputs exactly."""
    return Evidence(
        measured=_left_padding_change("absolute", "from_mask", seed),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding only
        derivation="the same layer on the unpadded sequence, positions 0 … 3, float64",
        counterfactual="default position ids 0 … 5, pads counted",
        counterfactual_measured=_left_padding_change("absolute", "arange", seed),
    )


def rope_is_unmoved_by_a_common_position_shift(seed: int = 0) -> Evidence:
    """With RoPE the same left padding is harmless even with position ids 0 … 5: every real token moves by
    the same 2 positions, and RoPE scores depend only on the offsets between tokens. The argument needs
    the offsets to be *all* that positions change: with dynamic NTK scaling, whose base is recomputed from
    the padded length (6 > the trained 4 here, while the unpadded 4 is not scaled), the same padding
    changes every angle per offset and the outputs move."""
    return Evidence(
        measured=_left_padding_change("rope", "arange", seed),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding of the rotations
        derivation="theory: ⟨R_(m+2) q, R_(n+2) k⟩ = ⟨R_m q, R_n k⟩; the unpadded run, float64",
        counterfactual="dynamic NTK RoPE (base from the padded length 6, trained on 4), same ids 0 … 5",
        counterfactual_measured=_left_padding_change("rope_dynamic_ntk", "arange", seed),
        details={"absolute sinusoidal positions, same ids": _left_padding_change("absolute", "arange", seed)},
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
