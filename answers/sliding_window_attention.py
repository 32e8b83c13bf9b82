"""Sliding-window attention: each token sees the last w tokens, and stacking layers widens the view.

With a causal window of w (itself and w − 1 predecessors), one layer costs O(n·w) scores instead of
O(n²), and information travels w − 1 positions further back per layer: L layers reach L(w − 1) + 1
tokens. At inference a rolling buffer of w keys and values is all the cache a layer needs.
"""

from __future__ import annotations

import torch

from answers.evidence import Evidence
from answers.formulas.serving import sliding_window_reach
from answers.reference import attend, randn

__all__ = ["sliding_window_reach"]

N, WINDOW, LAYERS = 64, 4, 3


def _window_mask(n: int, window: int) -> torch.Tensor:
    """(n, n) bool: i sees j when 0 ≤ i − j < window."""
    distance = torch.arange(n)[:, None] - torch.arange(n)[None, :]
    return (distance >= 0) & (distance < window)


def _reach_of_last_token(mask: torch.Tensor, layers: int) -> int:
    """How many positions can influence the last token through ``layers`` stacked attention layers."""
    step = mask.to(torch.float64)
    paths = torch.linalg.matrix_power(step, layers)  # (i, j) > 0 iff a path of `layers` hops exists
    return int((paths[-1] > 0).sum())


def stacked_windows_reach_l_times_w_minus_one_plus_one() -> Evidence:
    """After 3 layers with a window of 4 the last token depends on 3·(4 − 1) + 1 = 10 positions (one
    layer: 4); a full causal mask reaches all 64 in one layer."""
    return Evidence(
        measured=_reach_of_last_token(_window_mask(N, WINDOW), LAYERS),
        expected=sliding_window_reach(WINDOW, LAYERS),
        comparison="equal",
        derivation="formula sliding_window_reach: each layer adds w − 1 positions, L(w − 1) + 1",
        counterfactual="full causal attention",
        counterfactual_measured=_reach_of_last_token(_window_mask(N, N), LAYERS),
        unit="tokens",
        details={
            "one layer (measured)": _reach_of_last_token(_window_mask(N, WINDOW), 1),
            "Mistral-7B, 32 layers, window 4096 (formula)": sliding_window_reach(4096, 32),
        },
    )


def window_scores_grow_linearly_in_n() -> Evidence:
    """A causal window of w keeps n·w − w(w − 1)/2 scores (n = 64, w = 4: 250), against n(n + 1)/2 = 2,080
    for full causal attention."""
    return Evidence(
        measured=int(_window_mask(N, WINDOW).sum()),
        expected=N * WINDOW - WINDOW * (WINDOW - 1) // 2,
        comparison="equal",
        derivation="theory: w scores per row, fewer in the first w − 1 rows",
        counterfactual="full causal mask",
        counterfactual_measured=int(_window_mask(N, N).sum()),
        unit="count",
    )


def _rolling_buffer_error(slots: int, seed: int) -> float:
    """Decode token by token with a ring buffer of ``slots`` keys/values: token t overwrites slot t mod slots
    (Mistral's rolling buffer cache). Compare with full-sequence attention under the window mask. The keys
    sit in the buffer out of order, which attention does not see: it is a sum over keys (positions, with
    RoPE, are already rotated into them)."""
    q, k, v = (randn(1, 20, 8, seed=3 * seed + i) for i in range(3))  # (1, n, d)
    reference = attend(q, k, v, _window_mask(20, WINDOW))
    buffer_k, buffer_v = torch.zeros(1, slots, 8, dtype=k.dtype), torch.zeros(1, slots, 8, dtype=v.dtype)
    worst = 0.0
    for t in range(20):
        buffer_k[:, t % slots], buffer_v[:, t % slots] = k[:, t], v[:, t]
        filled = min(t + 1, slots)  # slots not yet written hold nothing
        out = attend(q[:, t : t + 1], buffer_k[:, :filled], buffer_v[:, :filled])
        worst = max(worst, (out - reference[:, t : t + 1]).abs().max().item())
    return worst


def a_rolling_buffer_of_w_slots_is_the_whole_cache(seed: int = 0) -> Evidence:
    """Keeping only the last w keys and values per layer in a ring buffer (Mistral's rolling buffer)
    reproduces windowed attention exactly; a buffer of w − 1 slots (an off-by-one) does not."""
    return Evidence(
        measured=_rolling_buffer_error(WINDOW, seed),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64; the same scores, just never the masked ones
        derivation="full-sequence attention with the window mask, float64",
        counterfactual="rolling buffer of w − 1 slots",
        counterfactual_measured=_rolling_buffer_error(WINDOW - 1, seed),
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
