"""Padding masks: batching sequences of different lengths without changing any real token's output.

Sequences in a batch are padded to one length. A key padding mask hides the pad tokens as keys, so
every real token attends only to real tokens and gets exactly the output it would get alone. A query
row that may see nothing at all (a pad that is masked from everything) becomes NaN with a −∞ fill, and
0 · NaN = NaN lets that NaN reach real tokens in the next layer.
"""

from __future__ import annotations

import functools

import torch
from torch import nn

from answers.evidence import Evidence
from answers.reference import MultiHeadAttention, causal_mask, randn, seeded_module

D, HEADS, D_FF = 16, 2, 32
LENGTHS, PAD_TO = (5, 3), 5


@functools.cache  # fixed seeded layers, never modified
def _attention() -> MultiHeadAttention:
    return seeded_module(lambda: MultiHeadAttention(D, HEADS), seed=1)


@functools.cache
def _torch_layer() -> nn.TransformerEncoderLayer:
    return seeded_module(lambda: nn.TransformerEncoderLayer(D, HEADS, D_FF, dropout=0.0, batch_first=True), seed=2)


def _sequences() -> list[torch.Tensor]:
    return [randn(1, n, D, seed=10 + n) for n in LENGTHS]


def _padded_batch() -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded batch (B, PAD_TO, D) of the sequences and its (B, PAD_TO) mask, True = real token."""
    batch = torch.cat([torch.cat([s, randn(1, PAD_TO - s.shape[1], D, seed=99)], 1) for s in _sequences()])
    real = torch.arange(PAD_TO)[None, :] < torch.tensor(LENGTHS)[:, None]
    return batch, real


def _largest_change_to_real_tokens(use_padding_mask: bool) -> float:
    batch, real = _padded_batch()
    mask = real[:, None, None, :] if use_padding_mask else None  # (B, 1, 1, n_keys): hide pad keys
    with torch.no_grad():
        out = _attention()(batch, mask=mask)
        alone = [_attention()(s) for s in _sequences()]
    return max((out[b, :n] - alone[b][0]).abs().max().item() for b, n in enumerate(LENGTHS))


def padded_batch_matches_unpadded_sequences() -> Evidence:
    """With a key padding mask, the real tokens of a padded batch get exactly the outputs each sequence
    gets on its own."""
    return Evidence(
        measured=_largest_change_to_real_tokens(use_padding_mask=True),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding only; masked pads get weight exactly 0
        derivation="the same layer run on each unpadded sequence separately, float64",
        counterfactual="no padding mask (real tokens attend to the pads)",
        counterfactual_measured=_largest_change_to_real_tokens(use_padding_mask=False),
    )


def _torch_change_to_real_tokens(use_padding_mask: bool) -> float:
    batch, real = _padded_batch()
    with torch.no_grad():
        out = _torch_layer()(batch, src_key_padding_mask=~real if use_padding_mask else None)  # torch: True = pad
        alone = [_torch_layer()(s) for s in _sequences()]
    return max((out[b, :n] - alone[b][0]).abs().max().item() for b, n in enumerate(LENGTHS))


def torch_src_key_padding_mask_does_the_same() -> Evidence:
    """``nn.TransformerEncoderLayer(src_key_padding_mask=…)`` (True marks a pad) gives the real tokens
    the same outputs as the unpadded sequences."""
    return Evidence(
        measured=_torch_change_to_real_tokens(use_padding_mask=True),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding only
        derivation="torch's own encoder layer on each unpadded sequence",
        counterfactual="src_key_padding_mask omitted",
        counterfactual_measured=_torch_change_to_real_tokens(use_padding_mask=False),
    )


def _left_padded_causal_rows(fill: float) -> tuple[int, torch.Tensor]:
    """A left-padded sequence (2 pads, 4 real tokens) under causal + padding masks: the pad queries see
    no allowed key. Returns (NaN output rows, outputs)."""
    real = torch.tensor([False, False, True, True, True, True])
    allowed = causal_mask(6) & real[None, :]  # (6, 6): causal and not a pad key
    x = randn(1, 6, D, seed=3)
    layer = _attention()
    q, k, v = (layer.split_heads(w(x), HEADS) for w in (layer.w_q, layer.w_k, layer.w_v))
    scores = (q @ k.transpose(-2, -1) / (D // HEADS) ** 0.5).masked_fill(~allowed, fill)
    out = torch.softmax(scores, -1) @ v  # (1, h, 6, d_head)
    return int(out[0].isnan().any(-1).any(0).sum()), out


def fully_masked_rows_are_nan_with_minus_infinity() -> Evidence:
    """Left padding + a causal mask leaves each pad query with no visible key: with a −∞ fill the
    softmax is 0/0 and those 2 rows are NaN; a finite fill hides the problem (uniform weights)."""
    with torch.no_grad():
        nan_rows, _ = _left_padded_causal_rows(float("-inf"))
        finite_nan_rows, _ = _left_padded_causal_rows(-1e9)
    return Evidence(
        measured=nan_rows,
        expected=2,
        comparison="equal",
        derivation="theory: a row of all −∞ gives e^(−∞) / Σ e^(−∞) = 0/0 = NaN; one per leading pad",
        counterfactual="finite fill −1e9",
        counterfactual_measured=finite_nan_rows,
    )


def _nan_reaches_real_tokens(clean_pads: bool) -> int:
    """Feed the first layer's output (NaN at the pads) to a second masked layer; count real tokens hit."""
    real = torch.tensor([False, False, True, True, True, True])
    with torch.no_grad():
        _, out = _left_padded_causal_rows(float("-inf"))
        x = out.transpose(1, 2).reshape(1, 6, D)
        if clean_pads:
            x = x.masked_fill(~real[None, :, None], 0.0)  # zero the padded positions between layers
        allowed = causal_mask(6) & real[None, :]
        y = _attention()(x, mask=allowed)
    return int(y[0, real].isnan().any(-1).sum())


def masked_nan_still_poisons_real_tokens() -> Evidence:
    """A NaN at a pad position reaches every real token in the next layer even though the pad is masked:
    its weight is 0, but 0 · NaN = NaN in the weighted sum of values."""
    return Evidence(
        measured=_nan_reaches_real_tokens(clean_pads=False),
        expected=4,
        comparison="equal",
        derivation="IEEE 754: 0 × NaN = NaN, so every row whose values include a NaN becomes NaN",
        counterfactual="pad positions zeroed between the layers",
        counterfactual_measured=_nan_reaches_real_tokens(clean_pads=True),
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
