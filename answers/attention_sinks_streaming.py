"""Attention sinks and StreamingLLM: why a sliding window must keep the first tokens.

Trained LLMs park a large share of attention on the first few tokens ("attention sinks"), whatever they
say, because the softmax must put its mass somewhere. A plain sliding-window cache evicts those tokens,
and the softmax then hands their mass to the remaining keys, scaling every weight by 1/(1 − p_sink).
StreamingLLM keeps a handful of initial tokens plus a recent window: the output stays close to full
attention and the cache size stays constant however long the stream runs.
"""

from __future__ import annotations

import torch

from answers.evidence import Evidence
from answers.reference import KVCache, attend, randn

N, D = 64, 16
SINKS, WINDOW = 4, 16  # StreamingLLM keeps 4 initial tokens plus a recent window
SINK_LOGIT = 6.0  # the first token's score well above the N(0, 1) content scores, as in trained models


def _toy_head(seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One query (1, 1, D) over N keys whose first key is a sink: its score is SINK_LOGIT above the rest."""
    q, k, v = randn(1, 1, D, seed=3 * seed), randn(1, N, D, seed=3 * seed + 1), randn(1, N, D, seed=3 * seed + 2)
    k[0, 0] = q[0, 0] * SINK_LOGIT * D**0.5 / q[0, 0].pow(2).sum()  # makes q·k₀/√D = SINK_LOGIT exactly
    return q, k, v


def _weights(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    return torch.softmax(q @ k.transpose(-2, -1) / D**0.5, dim=-1)[0, 0]  # (n_keys,)


def _reweighting_after_evicting(index: int, seed: int) -> tuple[float, float]:
    """(largest ratio new/old weight over the surviving keys, the evicted key's old weight)."""
    q, k, _ = _toy_head(seed)
    before = _weights(q, k)
    keep = torch.ones(N, dtype=torch.bool)
    keep[index] = False
    after = _weights(q, k[:, keep])
    return (after / before[keep]).max().item(), before[index].item()


def evicting_a_sink_rescales_every_other_weight(seed: int = 0) -> Evidence:
    """Removing the sink key, which holds mass p, multiplies every remaining weight by exactly 1/(1 − p):
    the softmax redistributes the sink's mass over tokens that never earned it."""
    ratio, p_sink = _reweighting_after_evicting(0, seed)
    ordinary_ratio, _ = _reweighting_after_evicting(N // 2, seed)
    return Evidence(
        measured=ratio,
        expected=1 / (1 - p_sink),
        comparison="rel",
        tolerance=1e-12,  # float64 rounding
        derivation="theory: softmax over a subset = full softmax / (mass of the subset)",
        counterfactual="evicting an ordinary middle token instead",
        counterfactual_measured=ordinary_ratio,
        details={"mass on the sink": p_sink},
    )


def _window_error(*, keep_sinks: bool, seed: int) -> tuple[float, float]:
    """(max |windowed − full| output, bound 2·ε·max|v| with ε the mass of the middle tokens, which
    StreamingLLM evicts)."""
    q, k, v = _toy_head(seed)
    recent = torch.arange(N - WINDOW, N)
    kept = torch.cat([torch.arange(SINKS), recent]) if keep_sinks else recent
    full = attend(q, k, v)
    windowed = attend(q, k[:, kept], v[:, kept])
    middle = _weights(q, k)[SINKS : N - WINDOW].sum().item()
    return (windowed - full).abs().max().item(), 2 * middle * v.abs().max().item()


def keeping_the_sinks_keeps_the_output_close_to_full_attention(seed: int = 0) -> Evidence:
    """Sinks + recent window changes the output by no more than 2·ε·max|v|, where ε is the (small) mass of
    the evicted middle tokens; a window without the sinks exceeds it."""
    with_sinks, bound = _window_error(keep_sinks=True, seed=seed)
    without_sinks, _ = _window_error(keep_sinks=False, seed=seed)
    return Evidence(
        measured=with_sinks,
        expected=bound,
        comparison="at_most",
        derivation="theory: full = (1 − ε)·kept + ε·dropped, so |full − kept| ≤ 2ε·max|v|",
        counterfactual="recent window only, sinks evicted",
        counterfactual_measured=without_sinks,
    )


def _largest_cache(steps: int, *, evict: bool, seed: int) -> int:
    """Generate ``steps`` tokens one at a time; return the largest cache length ever held."""
    cache, largest = KVCache(), 0
    for t in range(steps):
        k, v = randn(1, 1, 1, 4, seed=seed * steps + t), randn(1, 1, 1, 4, seed=seed * steps + t)  # (B, h, 1, d_head)
        cache.append(k, v)
        if evict and cache.length > SINKS + WINDOW:  # keep the first SINKS and the last WINDOW tokens
            keep = torch.cat([torch.arange(SINKS), torch.arange(cache.length - WINDOW, cache.length)])
            cache.keys, cache.values = cache.keys[:, :, keep], cache.values[:, :, keep]
        largest = max(largest, cache.length)
    return largest


def streaming_cache_size_stays_constant(steps: int = 200, seed: int = 0) -> Evidence:
    """Over a 200-token stream, the StreamingLLM cache never holds more than sinks + window tokens; a
    plain cache grows with every token."""
    return Evidence(
        measured=_largest_cache(steps, evict=True, seed=seed),
        expected=SINKS + WINDOW,
        comparison="equal",
        derivation="definition: 4 sink tokens + a 16-token window",
        counterfactual="plain KV cache, no eviction",
        counterfactual_measured=_largest_cache(steps, evict=False, seed=seed),
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
