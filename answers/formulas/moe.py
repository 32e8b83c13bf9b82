"""Mixture-of-experts training arithmetic: the Switch load-balancing loss, expert capacity and dropped tokens,
and the expert combinations of fine-grained segmentation."""

from __future__ import annotations

import math


def switch_balance_loss_hot_expert(experts: int, hot_fraction: float) -> float:
    """Switch's auxiliary loss N·Σ f_i·P_i (before α) when one expert receives ``hot_fraction`` h of the tokens
    and of the router probability and the other N − 1 share the rest evenly:
    N·(h² + (1 − h)²/(N − 1)). It is 1 at h = 1/N (balanced) and N at h = 1 (collapsed)."""
    return experts * (hot_fraction**2 + (1 - hot_fraction) ** 2 / (experts - 1))


def expert_capacity(tokens: int, experts: int, capacity_factor: float) -> int:
    """Switch's expert capacity, (tokens / experts) · capacity factor, rounded down to whole tokens."""
    return math.floor(tokens / experts * capacity_factor)


def tokens_dropped_at_expert(tokens: int, experts: int, capacity_factor: float, routed: int) -> int:
    """Tokens an expert cannot take: those routed to it beyond its capacity (they skip the layer through the
    residual connection)."""
    return max(0, routed - expert_capacity(tokens, experts, capacity_factor))


def expected_dropped_fraction_uniform(tokens: int, experts: int, capacity_factor: float) -> float:
    """Expected fraction of tokens dropped when each of T tokens picks one of E experts uniformly at random.
    An expert's load n is Binomial(T, 1/E) and it drops max(0, n − C); since max(0, n − C) = n − C + max(0, C − n),
    E[drops] = T/E − C + Σ_{n<C} P(n)·(C − n), and the fraction is E · E[drops] / T."""
    # plain numbers: a sum of C binomial terms is no working to show
    tokens, experts, capacity_factor = int(tokens), int(experts), float(capacity_factor)
    capacity, p = expert_capacity(tokens, experts, capacity_factor), 1 / experts
    log_pmf = [
        math.lgamma(tokens + 1)
        - math.lgamma(n + 1)
        - math.lgamma(tokens - n + 1)
        + n * math.log(p)
        + (tokens - n) * math.log(1 - p)
        for n in range(capacity)
    ]
    shortfall = sum(math.exp(lp) * (capacity - n) for n, lp in enumerate(log_pmf))
    return max(0.0, experts * (tokens * p - capacity + shortfall) / tokens)  # cancellation can leave −1e-12


def router_z_loss_equal_logits(experts: int, logit: float) -> float:
    """ST-MoE's router z-loss (log Σ_j e^{x_j})² for one token whose E router logits all equal c:
    log(E·e^c) = c + ln E, squared. Softmax is uniform whatever c; the z-loss is not."""
    return (logit + math.log(experts)) ** 2


def expert_combinations(experts: int, active: int) -> int:
    """Distinct sets of ``active`` experts out of ``experts``: C(N, K). Fine-grained segmentation (each expert cut
    into m, top-mK of mN) raises it from C(N, K) to C(mN, mK) at the same parameters and FLOPs."""
    return math.comb(experts, active)
