"""Exercise causal-mask: the boolean mask of a decoder, True where query i may attend key j."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from answers.exercises._kit import Case, Misconception

ID = "causal-mask"
CARD = "causal-masking"
DIFFICULTY = "easy"
TITLE = "The causal mask of a decoder"
FUNCTION = "causal_mask"
IMPORTS = "import torch\n"
# The card's claims run on the learner's function too, passed as this keyword (see _claims.py).
CLAIM_PARAMETER = "make_mask"
CARD_CLAIMS = (
    "each_position_attends_to_itself_and_the_past",
    "future_tokens_cannot_change_past_outputs",
    "strictly_upper_triangular_minus_infinity_matches_torch_is_causal",
)
FORBIDDEN: dict[str, str] = {}


def causal_mask(n: int) -> torch.Tensor:
    """The causal mask for a sequence of n tokens: bool (n, n), True where query i may attend key j.

    Query i may attend keys 0 … i: the past and itself (the diagonal is True), never the future.
    n ≥ 1; n = 1 gives [[True]]. dtype torch.bool (the convention of F.scaled_dot_product_attention's
    attn_mask: True = may attend), not 0/1 floats and not an additive 0/−∞ mask.

    Example:
        causal_mask(3) = [[True, False, False],
                          [True, True,  False],
                          [True, True,  True ]]
    """
    return torch.ones(n, n, dtype=torch.bool).tril()


def _loop(n: int) -> Tensor:
    """The rule written out, one entry at a time: key j is visible to query i when j ≤ i."""
    return torch.tensor([[j <= i for j in range(n)] for i in range(n)], dtype=torch.bool)


def cases() -> list[Case]:
    return [
        Case(f"n = {n}", (n,), _loop(n), why, arg_names=("n",))
        for n, why in [
            (3, "the worked example"),
            (1, "one token sees itself"),
            (6, "an even size"),
            (7, "an odd size"),
        ]
    ]


def diagonal_hidden(n: int) -> Tensor:
    return torch.ones(n, n, dtype=torch.bool).tril(diagonal=-1)


def inverted(n: int) -> Tensor:
    return torch.ones(n, n, dtype=torch.bool).triu(diagonal=1)


def future_visible(n: int) -> Tensor:
    return torch.ones(n, n, dtype=torch.bool).triu()


def float_ones(n: int) -> Tensor:
    return torch.ones(n, n).tril()


def additive(n: int) -> Tensor:
    return torch.full((n, n), -math.inf).triu(diagonal=1)


MISCONCEPTIONS = [
    Misconception("the diagonal hidden", diagonal_hidden,
                  "your mask also hides the diagonal: token t cannot see itself, the 1 … t−1 mistake, and the first "
                  "token has no key at all (a NaN row in a hand-written softmax)",
                  "causal-masking: “Token t can only attend to tokens 1 … t−1.”"),
    Misconception("inverted (True = hidden)", inverted,
                  "your mask is True where attending is forbidden (nn.MultiheadAttention's convention); here True "
                  "means 'may attend', as in F.scaled_dot_product_attention",
                  "causal-masking: strictly_upper_triangular_minus_infinity_matches_torch_is_causal"),
    Misconception("the future visible", future_visible,
                  "your mask is upper triangular: query i sees keys i … n−1, the future, instead of 0 … i",
                  "causal-masking: each_position_attends_to_itself_and_the_past"),
    Misconception("0/1 floats instead of bool", float_ones,
                  "the pattern is right but the dtype is float: masked_fill(~mask) and attn_mask need bool (a float "
                  "attn_mask is *added* to the scores, so 0/1 would hide nothing)",
                  "causal-masking: large_finite_fill_acts_like_minus_infinity"),
    Misconception("an additive 0/−∞ mask", additive,
                  "you return the additive form (0 allowed, −∞ hidden); the exercise asks for the bool mask, True = "
                  "may attend", "causal-masking: strictly_upper_triangular_minus_infinity_matches_torch_is_causal"),
]  # fmt: skip
