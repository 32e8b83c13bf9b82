"""Learned absolute position embeddings: a trainable table with a hard maximum length.

BERT and GPT-1/2/3 learn one vector per position, ``nn.Embedding(max_len, d)``, added to the token
embedding. The table is flexible but costs max_len·d parameters and simply has no row past max_len − 1,
so the model cannot even be run on a longer input — a limit set by the table, not by the quadratic cost
of attention. The sinusoidal function can be evaluated at any position.
"""

from __future__ import annotations

import torch
from torch import nn

from answers.evidence import Evidence
from answers.reference import MultiHeadAttention, count_parameters, randn, seeded_module, sinusoidal_encoding

MAX_LEN, D = 512, 16  # BERT's table length; a small width keeps the attention cheap


def _learned_table(max_len: int = MAX_LEN, d: int = D) -> nn.Embedding:
    return seeded_module(lambda: nn.Embedding(max_len, d), seed=0)


def _learned_positions(n: int, table: nn.Embedding) -> torch.Tensor:
    return table(torch.arange(n))  # (n, d); raises IndexError past the last row


def _sinusoidal_positions(n: int, d: int = D) -> torch.Tensor:
    return sinusoidal_encoding(n, d)


@torch.no_grad()
def _longest_runnable(positions, seed: int, lengths=(128, 512, 513, 1024)) -> int:
    """Longest input length, among ``lengths``, for which embeddings + positions + one attention layer run."""
    layer = seeded_module(lambda: MultiHeadAttention(D, 2), seed=seed + 1)
    longest = 0
    for n in lengths:
        try:
            layer((randn(n, D, seed=seed + 2) + positions(n))[None])
        except IndexError:
            break
        longest = n
    return longest


def learned_table_has_no_row_past_its_maximum(position: int = 600) -> Evidence:
    """Looking up position 600 in a 512-row table fails; the sinusoidal encoding has a value there."""

    def has_code(lookup) -> bool:
        try:
            return bool(torch.isfinite(lookup(position + 1)[position]).all())
        except IndexError:
            return False

    return Evidence(
        measured=has_code(lambda n: _learned_positions(n, _learned_table())),
        expected=False,
        comparison="equal",
        derivation="definition: nn.Embedding(512, d) has rows 0 … 511 only",
        counterfactual="sinusoidal encoding, a function of the position",
        counterfactual_measured=has_code(_sinusoidal_positions),
    )


def context_limit_is_the_table_length_not_the_compute(seed: int = 0) -> Evidence:
    """The same attention layer runs at 1,024 tokens, but with a 512-row learned table the model stops at
    exactly 512: the limit is set by the table, and a 128-row table would stop at 128 with the same
    compute."""
    learned = _learned_table()
    return Evidence(
        measured=_longest_runnable(lambda n: _learned_positions(n, learned), seed),
        expected=MAX_LEN,
        comparison="equal",
        derivation="definition: the table length, 512 (BERT)",
        counterfactual="sinusoidal encoding, same attention layer",
        counterfactual_measured=_longest_runnable(_sinusoidal_positions, seed),
        details={
            "limit with a 128-row table": _longest_runnable(lambda n: _learned_positions(n, _learned_table(128)), seed),
            # why 512 was chosen: BERT-base (12 layers × 12 heads) keeps these for the backward pass
            "fp32 attention probabilities per 512-token sequence, BERT-base, MiB": 12 * 12 * MAX_LEN**2 * 4 / 2**20,
        },
    )


def _sinusoidal_module(max_len: int, d_model: int) -> nn.Module:
    """How models hold the sinusoidal table: a buffer, saved with the model but not trained."""
    module = nn.Module()
    module.register_buffer("pe", sinusoidal_encoding(max_len, d_model))
    return module


def learned_table_costs_max_len_times_d_parameters(max_len: int = 512, d_model: int = 768) -> Evidence:
    """A learned table has max_len·d trainable parameters (512·768 = 393,216 for BERT-base); the
    sinusoidal encoding has none."""
    return Evidence(
        measured=count_parameters(nn.Embedding(max_len, d_model)),
        expected=max_len * d_model,
        comparison="equal",
        derivation="theory: one d-vector per position",
        counterfactual="sinusoidal encoding (a fixed buffer, no parameters)",
        counterfactual_measured=count_parameters(_sinusoidal_module(max_len, d_model)),
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
