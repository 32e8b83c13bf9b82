"""Exercise sliding-window-mask: the causal window mask of local (sliding-window) attention."""

from __future__ import annotations

import torch
from torch import Tensor

from answers.exercises._kit import Case, Misconception

ID = "sliding-window-mask"
CARD = "sliding-window-attention"
DIFFICULTY = "easy"
TITLE = "The causal sliding-window mask"
FUNCTION = "sliding_window_mask"
IMPORTS = "import torch\n"
FORBIDDEN: dict[str, str] = {}


def sliding_window_mask(n: int, window: int) -> torch.Tensor:
    """The causal sliding-window mask: bool (n, n), True where query i may attend key j.

    Query i sees the last ``window`` tokens, itself included: keys j with 0 ≤ i − j < window, that is
    i − window + 1 … i: the token and its window − 1 predecessors (as in gpt-oss and the card; codebases
    disagree on this, see huggingface/transformers issue 29176, so an interviewer will say which). Never
    the future. n ≥ 1, window ≥ 1; window = 1 is the diagonal, window ≥ n the ordinary causal mask.
    dtype torch.bool (True = may attend, as F.scaled_dot_product_attention's attn_mask).

    Example:
        sliding_window_mask(4, 2) = [[True,  False, False, False],
                                     [True,  True,  False, False],
                                     [False, True,  True,  False],
                                     [False, False, True,  True ]]
    """
    distance = torch.arange(n)[:, None] - torch.arange(n)[None, :]  # i − j
    return (distance >= 0) & (distance < window)


def _loop(n: int, window: int) -> Tensor:
    """The rule written out: key j is visible to query i when it is one of the last ``window`` tokens up to i."""
    return torch.tensor([[j in range(i - window + 1, i + 1) for j in range(n)] for i in range(n)], dtype=torch.bool)


def cases() -> list[Case]:
    return [
        Case(f"n = {n}, window = {w}", (n, w), _loop(n, w), why, arg_names=("n", "window"))
        for n, w, why in [
            (4, 2, "the worked example"),
            (7, 3, "an odd size: rows 3 … 6 each see exactly 3 keys"),
            (6, 1, "a window of 1 is the diagonal: each token sees only itself"),
            (5, 5, "a window as long as the sequence is the causal mask"),
            (4, 9, "a window longer than the sequence is the causal mask too"),
            (1, 3, "one token sees itself"),
        ]
    ]


# ---------------------------------------------------------------------------------- the misconceptions


def _distance(n: int) -> Tensor:
    return torch.arange(n)[:, None] - torch.arange(n)[None, :]


def one_key_too_many(n: int, window: int) -> Tensor:
    return (_distance(n) >= 0) & (_distance(n) <= window)


def the_future_visible(n: int, window: int) -> Tensor:
    return _distance(n).abs() < window


def itself_not_counted(n: int, window: int) -> Tensor:
    return (_distance(n) > 0) & (_distance(n) <= window)


def the_window_ignored(n: int, window: int) -> Tensor:
    return _distance(n) >= 0


MISCONCEPTIONS = [
    Misconception("one key too many (i − j ≤ window)", one_key_too_many,
                  "you allow 0 ≤ i − j ≤ window, window + 1 keys (e.g. tril() minus tril(-window - 1)). Some "
                  "codebases do define it so; here, as asked, the window counts the token itself: 0 ≤ i − j < window",
                  "sliding-window-attention: window_scores_grow_linearly_in_n"),
    Misconception("the future visible (a symmetric band)", the_future_visible,
                  "you keep |i − j| < window, a band on both sides of the diagonal: query i also sees the next "
                  "window − 1 tokens. A decoder's window is causal: intersect the band with the causal mask",
                  "causal-masking: each_position_attends_to_itself_and_the_past"),
    Misconception("the token itself not counted", itself_not_counted,
                  "you allow the window tokens before i but not i itself (0 < i − j ≤ window): every token loses "
                  "its own key, and the first token has no key at all", "causal-masking: “Token t can only attend "
                  "to tokens 1 … t−1.”"),
    Misconception("the window ignored (plain causal)", the_window_ignored,
                  "your mask is the full causal mask: the window never cuts anything off",
                  "sliding-window-attention: stacked_windows_reach_l_times_w_minus_one_plus_one"),
]  # fmt: skip
