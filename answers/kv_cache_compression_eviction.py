"""Shrinking the KV cache after training: evicting tokens (H2O, SnapKV) and quantising K and V.

Eviction drops cached tokens and renormalises attention over the rest; the output moves by at most twice
the evicted attention mass times the largest value norm, so a policy is good when it evicts little mass:
H2O keeps the "heavy hitters" that past queries attended to most, plus a recent window. Quantisation keeps
every token at fewer bits; keys have outlier channels, so their scales must be per channel (KIVI), not per
token. Both are post-hoc and lossy, unlike GQA or MLA, which change the architecture and are trained in.
"""

from __future__ import annotations

import math

import torch

from answers.evidence import Evidence
from answers.formulas.kv_compression import quantized_kv_bytes_per_token
from answers.reference import attention_weights, randn

__all__ = ["quantized_kv_bytes_per_token"]

N, D_HEAD, BUDGET, RECENT, HEAVY = 64, 16, 16, 8, 6  # 64 cached tokens, keep 16: 8 heavy hitters + 8 recent


def _heavy_hitter_context(seed: int) -> tuple[torch.Tensor, ...]:
    """Keys and values of N tokens where HEAVY of them (at random positions before the recent window) have
    keys aligned with a direction every query shares, the pattern H2O observed; plus the 8 prompt queries
    that score them, one new query, and the planted positions (which no policy is shown)."""
    g = torch.Generator().manual_seed(seed)
    shared = torch.randn(D_HEAD, generator=g, dtype=torch.float64)
    shared = 3 * shared / shared.norm()
    keys = torch.randn(N, D_HEAD, generator=g, dtype=torch.float64)
    heavy = torch.randperm(N - RECENT, generator=g)[:HEAVY]
    keys[heavy] += 2 * shared
    values = torch.randn(N, D_HEAD, generator=g, dtype=torch.float64)
    past_queries = torch.randn(8, D_HEAD, generator=g, dtype=torch.float64) + shared
    query = torch.randn(1, D_HEAD, generator=g, dtype=torch.float64) + shared
    return keys, values, past_queries, query, heavy


def _keep(policy: str, keys: torch.Tensor, past_queries: torch.Tensor) -> torch.Tensor:
    """Indices kept under a budget of BUDGET tokens."""
    recent = torch.arange(N - RECENT, N)
    if policy == "recent":  # a sliding window of the last BUDGET tokens
        return torch.arange(N - BUDGET, N)
    accumulated = attention_weights(past_queries, keys).sum(0)  # H2O: attention each token has received
    if policy == "h2o-inverted":  # the sort the wrong way round: keep the least attended
        accumulated = -accumulated
    accumulated[recent] = -math.inf
    return torch.cat([accumulated.topk(BUDGET - RECENT).indices, recent])


def _eviction(policy: str, seed: int, renormalise: bool = True) -> tuple[float, float, float]:
    """(output error ‖o − o'‖, evicted attention mass m, m·‖ō_E − o'‖ from a float64 loop) for the new query.
    ō_E is the attention-weighted mean of the evicted values, o' the output over the kept tokens."""
    keys, values, past_queries, query, _ = _heavy_hitter_context(seed)
    full = attention_weights(query, keys)[0]
    kept = _keep(policy, keys, past_queries)
    # Dropping the keys runs the softmax over the kept ones; the slip zeroes evicted weights after the softmax.
    kept_weights = attention_weights(query, keys[kept])[0] if renormalise else full[kept]
    compressed = kept_weights @ values[kept]
    error = (full @ values - compressed).norm().item()
    kept_set = set(kept.tolist())
    evicted = [j for j in range(N) if j not in kept_set]
    mass = sum(full[j].item() for j in evicted)
    kept_mass = 1 - mass
    kept_mean = [sum(full[j].item() * values[j, c].item() for j in kept_set) / kept_mass for c in range(D_HEAD)]
    evicted_mean = [sum(full[j].item() * values[j, c].item() for j in evicted) / mass for c in range(D_HEAD)]
    predicted = mass * math.sqrt(sum((e - k) ** 2 for e, k in zip(evicted_mean, kept_mean, strict=True)))
    return error, mass, predicted


def eviction_moves_the_output_by_the_evicted_mass_times_a_distance(seed: int = 0) -> Evidence:
    """Dropping tokens (here H2O's choice, 48 of 64) and renormalising moves the attention output by exactly
    m·‖ō_E − o'‖ (m the evicted attention mass), hence at most 2·m·max‖v‖; zeroing the evicted weights
    without renormalising does not obey it."""
    error, mass, predicted = _eviction("h2o", seed)
    return Evidence(
        measured=error,
        expected=predicted,
        comparison="abs",
        tolerance=1e-12,
        derivation="theory, float64 loop: o = (1 − m)·o' + m·ō_E, so o − o' = m·(ō_E − o')",
        counterfactual="the evicted weights zeroed after the softmax, the kept ones not renormalised",
        counterfactual_measured=_eviction("h2o", seed, renormalise=False)[0],
        details={"evicted mass m": mass},
    )


def _mass_outside_the_planted_heavy_hitters_and_the_window(seed: int) -> float:
    """The new query's attention mass on tokens that are neither planted heavy hitters nor among the RECENT
    most recent, from the construction: what a policy that finds every planted heavy hitter evicts at most."""
    keys, _, _, query, heavy = _heavy_hitter_context(seed)
    weights = attention_weights(query, keys)[0].tolist()
    protected = set(heavy.tolist()) | set(range(N - RECENT, N))
    return math.fsum(w for j, w in enumerate(weights) if j not in protected)


def heavy_hitters_evict_less_attention_mass_than_a_recent_window(seed: int = 0) -> Evidence:
    """At a budget of 16 of 64 tokens, H2O (the 8 tokens that 8 earlier queries attended to most, plus the 8
    most recent) finds all six planted heavy hitters from those queries alone, so it evicts no more of the new
    query's attention mass than lies outside them and the recent window. A window of the last 16 tokens
    evicts far more (0.82 against 0.28 on seed 0) and moves the output more (1.61 against 0.57)."""
    error, mass, _ = _eviction("h2o", seed)
    window_error, window_mass, _ = _eviction("recent", seed)
    return Evidence(
        measured=mass,
        expected=_mass_outside_the_planted_heavy_hitters_and_the_window(seed),
        comparison="at_most",
        derivation="the construction, float64 sum: the new query's mass outside the 6 planted heavy hitters "
        "and the 8 most recent tokens (an upper bound for any policy that keeps all of them)",
        counterfactual="a window of the last 16 tokens (StreamingLLM without its sink tokens), same budget",
        counterfactual_measured=window_mass,
        unit="attention mass",
        details={
            "output error, H2O / window": f"{error:.3f} / {window_error:.3f}",
            "evicted mass, H2O ranked the wrong way round": _eviction("h2o-inverted", seed)[1],
        },
    )


# --------------------------------------------------------------------------------------------------
# int8 quantisation of the keys


def _quantise(x: torch.Tensor, dim: int, bits: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric round-to-nearest: one scale per slice along ``dim`` (max |x| / 127). Returns (ints, scale)."""
    scale = x.abs().amax(dim=dim, keepdim=True) / (2 ** (bits - 1) - 1)
    return torch.round(x / scale).to(torch.int8), scale


def _keys_with_outlier_channels(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Keys whose channels 3 and 11 are ~20× larger than the rest for every token, the pattern KIVI reports."""
    keys = randn(N, D_HEAD, seed=seed)
    keys[:, [3, 11]] = 20 + 2 * keys[:, [3, 11]]
    return keys, randn(4, D_HEAD, seed=seed + 1)


def _score_error(keys: torch.Tensor, queries: torch.Tensor, per_channel: bool) -> float:
    ints, scale = _quantise(keys, dim=0 if per_channel else 1)
    restored = ints.to(torch.float64) * scale
    return ((queries @ (restored - keys).T) / math.sqrt(D_HEAD)).abs().max().item()


def per_channel_key_scales_survive_outlier_channels(seed: int = 0) -> Evidence:
    """With two outlier channels, int8 keys with one scale per channel move every attention score by at
    most Σ_c |q_c|·s_c / 2 / √d (half a step per channel); one scale per token, stretched by the outliers,
    moves them past that bound."""
    keys, queries = _keys_with_outlier_channels(seed)
    _, channel_scale = _quantise(keys, dim=0)
    bound = ((queries.abs() @ channel_scale.T) / 2 / math.sqrt(D_HEAD)).max().item()
    return Evidence(
        measured=_score_error(keys, queries, per_channel=True),
        expected=bound,
        comparison="at_most",
        derivation="theory: round-to-nearest errs by ≤ s/2 per element, so |Δ(q·k)| ≤ Σ_c |q_c| s_c / 2",
        counterfactual="one int8 scale per token (max over its channels, the outliers included)",
        counterfactual_measured=_score_error(keys, queries, per_channel=False),
    )


def quantised_cache_bytes_match_the_formula(seed: int = 0) -> Evidence:
    """A 2-layer, 2-KV-head cache of 64 tokens stored as int8 with one fp16 scale per token and head holds
    2·L·h_kv·(d_head + 2) bytes per token; forgetting the scales undercounts it by 2/(d_head + 2)."""
    layers, kv_heads = 2, 2
    total = 0
    for layer in range(layers):
        for tensor in ("k", "v"):
            x = randn(1, kv_heads, N, D_HEAD, seed=seed + 10 * layer + (tensor == "v"))
            ints, scale = _quantise(x, dim=-1)
            stored_scale = scale.to(torch.float16)  # one fp16 scale per token and head
            total += ints.numel() * ints.element_size() + stored_scale.numel() * stored_scale.element_size()
    return Evidence(
        measured=total / N,
        expected=quantized_kv_bytes_per_token(layers, kv_heads, D_HEAD, 8, 2),
        comparison="equal",
        derivation="formula quantized_kv_bytes_per_token: 2 · layers · kv_heads · (head_dim · bits / 8 + scale bytes)",
        counterfactual="the same cache counted without its scales (head_dim · bits / 8 per vector)",
        counterfactual_measured=quantized_kv_bytes_per_token(layers, kv_heads, D_HEAD, 8, 0),
        unit="bytes",
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
