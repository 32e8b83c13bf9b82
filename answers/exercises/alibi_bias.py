"""Exercise alibi-bias: ALiBi's per-head linear distance penalty, added to the attention scores."""

from __future__ import annotations

import torch
from torch import Tensor

from answers.exercises._kit import Case, Misconception

ID = "alibi-bias"
CARD = "alibi-linear-bias"
DIFFICULTY = "easy"
TITLE = "The ALiBi bias"
FUNCTION = "alibi_bias"
IMPORTS = "import torch\n"
FORBIDDEN: dict[str, str] = {}


def alibi_bias(n_heads: int, n: int) -> torch.Tensor:
    """ALiBi (Press et al., 2022): float64 (n_heads, n, n), bias[h, i, j] = −m_h · (i − j), added to the scores.

    Head h = 0 … n_heads − 1 has the slope m_h = 2^(−8(h+1)/n_heads): the geometric sequence that starts
    at 2^(−8/n_heads) and ends at 2^(−8) = 1/256 (8 heads: 1/2, 1/4, …, 1/256). n_heads is a power of
    two, n ≥ 1. The formula holds for every (i, j): entries with j > i come out positive, and the causal
    mask, applied separately, removes them. No learned parameters, nothing added to the embeddings.

    Example: alibi_bias(2, 3)   (slopes 1/16, 1/256)
        head 0: [[0, 1/16, 2/16], [−1/16, 0, 1/16], [−2/16, −1/16, 0]]
        head 1: the same pattern times 1/256
    """
    slopes = 2.0 ** (-8.0 * torch.arange(1, n_heads + 1, dtype=torch.float64) / n_heads)  # (heads,)
    distance = torch.arange(n)[:, None] - torch.arange(n)[None, :]  # i − j
    return -slopes[:, None, None] * distance.to(torch.float64)


# Press et al. (2022), section 3: for 8 heads the slopes are 1/2^1 … 1/2^8; for 16 heads, 1/2^0.5 … 1/2^8 (the
# geometric averages of the 8-head pairs). Written out from the paper here, not computed by the formula.
_PAPER_SLOPES = {8: [1 / 2**k for k in range(1, 9)], 16: [1 / 2 ** (k / 2) for k in range(1, 17)]}


def _loop(n: int, slopes: list[float]) -> Tensor:
    """−m_h·(i − j) written out entry by entry, from literal slopes."""
    rows = [[[-m * (i - j) for j in range(n)] for i in range(n)] for m in slopes]
    return torch.tensor(rows, dtype=torch.float64)


def cases() -> list[Case]:
    names = ("n_heads", "n")
    return [
        Case("the worked example: 2 heads, n = 3", (2, 3), _loop(3, [1 / 16, 1 / 256]), "the definition",
             arg_names=names),
        Case("8 heads, n = 5: the paper's slopes 1/2 … 1/256", (8, 5), _loop(5, _PAPER_SLOPES[8]),
             "Press et al., section 3", arg_names=names),
        Case("16 heads, n = 7: slopes 1/2^0.5 … 1/2^8", (16, 7), _loop(7, _PAPER_SLOPES[16]),
             "the slopes follow the head count", arg_names=names),
        Case("1 head, n = 4: the slope 1/256", (1, 4), _loop(4, [1 / 256]), "2^(−8·1/1)", arg_names=names),
        Case("4 heads, n = 1", (4, 1), torch.zeros(4, 1, 1, dtype=torch.float64), "distance 0: no bias",
             arg_names=names),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------- the misconceptions


def _bias(slopes: Tensor, distance: Tensor) -> Tensor:
    return -slopes.to(torch.float64)[:, None, None] * distance.to(torch.float64)


def _distance(n: int) -> Tensor:
    return torch.arange(n)[:, None] - torch.arange(n)[None, :]


def heads_from_zero(n_heads: int, n: int) -> Tensor:
    return _bias(2.0 ** (-8.0 * torch.arange(n_heads) / n_heads), _distance(n))


def sign_flipped(n_heads: int, n: int) -> Tensor:
    return _bias(2.0 ** (-8.0 * torch.arange(1, n_heads + 1) / n_heads), -_distance(n))


def one_slope_for_all_heads(n_heads: int, n: int) -> Tensor:
    return _bias(torch.full((n_heads,), 2.0 ** (-8.0 / n_heads)), _distance(n))


def key_position_only(n_heads: int, n: int) -> Tensor:
    key = torch.arange(n)[None, :].expand(n, n)
    return _bias(2.0 ** (-8.0 * torch.arange(1, n_heads + 1) / n_heads), -key)


def absolute_distance(n_heads: int, n: int) -> Tensor:
    return _bias(2.0 ** (-8.0 * torch.arange(1, n_heads + 1) / n_heads), _distance(n).abs())


MISCONCEPTIONS = [
    Misconception("heads numbered from 0", heads_from_zero,
                  "your slopes are 2^(−8h/H) for h = 0 … H − 1: the first head gets slope 1 and the last misses "
                  "1/256. The paper's sequence starts at 2^(−8/H): h = 1 … H",
                  "alibi-linear-bias: alibi_slopes_form_a_geometric_sequence"),
    Misconception("the sign flipped", sign_flipped,
                  "your bias is +m·(i − j): it rewards distant keys instead of penalising them",
                  "alibi-linear-bias: equal_scores_become_a_per_head_recency_decay"),
    Misconception("one slope for every head", one_slope_for_all_heads,
                  "every head gets the same slope; ALiBi gives each head its own, from nearly 1 (local) down to "
                  "1/256 (nearly global)", "alibi-linear-bias: “All heads share the same distance penalty.”"),
    Misconception("the key position only (BLOOM's form)", key_position_only,
                  "you return m·j, the key-position part only (as BLOOM's code does): after the softmax it gives "
                  "the same weights, since −m·i is constant along a row, but it is not the bias −m·(i − j) asked "
                  "for", "alibi-linear-bias: only_the_key_position_part_of_the_bias_matters"),
    Misconception("|i − j| (the encoder variant)", absolute_distance,
                  "you penalise |i − j|, the symmetric form for bidirectional attention; for a decoder it is "
                  "−m·(i − j), which is the same on the causal part and positive above it, where the mask rules",
                  "alibi-linear-bias: alibi_bias_depends_only_on_the_distance"),
]  # fmt: skip
