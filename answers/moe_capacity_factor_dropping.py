"""Expert capacity and token dropping: each expert has a fixed buffer of C = capacity_factor · T / E slots.

Tokens routed to an expert beyond its C-th are dropped: the layer skips them and the residual connection carries
them on unchanged. Even perfectly uniform random routing drops tokens at capacity factor 1, because the loads
fluctuate around T/E.
"""

from __future__ import annotations

import itertools

import torch
from torch import Tensor

from answers.evidence import Evidence
from answers.formulas.moe import expected_dropped_fraction_uniform, expert_capacity, tokens_dropped_at_expert
from answers.reference import generator

__all__ = ["expected_dropped_fraction_uniform", "expert_capacity", "tokens_dropped_at_expert"]

TOKENS, EXPERTS = 512, 8
CAPACITY_FACTORS = (1.0, 1.25, 2.0)
# Switch's equation 3 worked by hand for 512 tokens and 8 experts: 512 / 8 = 64 tokens per expert, × the factor.
# The dispatcher is sized from these, so the formula's capacity is checked against the paper, not against itself.
SLOTS_BY_HAND = {1.0: 64, 1.25: 80, 2.0: 128}


def _dispatch(chosen: Tensor, experts: int, capacity: int) -> Tensor:
    """Switch/GShard-style dispatch of top-1 choices (T,): a token's slot is its rank among the tokens routed to
    the same expert, in batch order (a cumulative sum of the one-hot routing); it is kept if the slot < capacity.
    Returns the (T,) mask of kept tokens."""
    one_hot = torch.nn.functional.one_hot(chosen, experts)  # (T, E)
    slot = (one_hot.cumsum(0) - 1)[torch.arange(len(chosen)), chosen]  # (T,) position in its expert's buffer
    return slot < capacity


def _skewed_choices(seed: int) -> Tensor:
    """Top-1 choices of an untrained router whose logits favour the first experts (a bias of 0, 0.1, ..., 0.7
    reversed), as a router drifts before the balance loss has evened it out."""
    g = generator(seed)
    logits = torch.randn(TOKENS, EXPERTS, generator=g) + torch.linspace(0.7, 0.0, EXPERTS)
    return logits.argmax(-1)


def _dropped_by_dispatch(chosen: Tensor, capacity: int) -> int:
    return int((~_dispatch(chosen, EXPERTS, capacity)).sum())


def dispatch_drops_what_the_capacity_formula_predicts(seed: int = 0) -> Evidence:
    """A dispatcher with Switch's capacity C = CF · T/E per expert (64, 80 and 128 slots, worked by hand) drops,
    for 512 tokens from a skewed router at capacity factors 1, 1.25 and 2, exactly Σ_i max(0, n_i − C) tokens,
    n_i the load of expert i. A dispatcher that sizes its buffers at T/E whatever the capacity factor drops too
    many at 1.25 and 2."""
    chosen = _skewed_choices(seed)
    loads = torch.bincount(chosen, minlength=EXPERTS).tolist()
    expected = tuple(
        sum(tokens_dropped_at_expert(TOKENS, EXPERTS, cf, routed=n) for n in loads) for cf in CAPACITY_FACTORS
    )
    measured = tuple(_dropped_by_dispatch(chosen, SLOTS_BY_HAND[cf]) for cf in CAPACITY_FACTORS)
    ignores_cf = tuple(_dropped_by_dispatch(chosen, TOKENS // EXPERTS) for _ in CAPACITY_FACTORS)
    return Evidence(
        measured=measured,
        expected=expected,
        comparison="equal",
        derivation="formula tokens_dropped_at_expert summed over the measured loads, capacity ⌊CF·T/E⌋",
        counterfactual="buffers of T/E slots whatever the capacity factor",
        counterfactual_measured=ignores_cf,
        unit="tokens dropped at CF 1, 1.25, 2",
        details={"loads per expert": tuple(loads), "capacity at CF 1.25": expert_capacity(TOKENS, EXPERTS, 1.25)},
    )


def _switch_layer(x: Tensor, chosen: Tensor, experts: Tensor, capacity: int) -> Tensor:
    """x + gate-free top-1 expert output for the tokens that got a slot; the others get only the residual."""
    kept = _dispatch(chosen, len(experts), capacity)
    branch = torch.zeros_like(x)
    branch[kept] = torch.bmm(x[kept, None], experts[chosen[kept]])[:, 0]
    return x + branch


def dropped_tokens_leave_the_layer_unchanged(seed: int = 0) -> Evidence:
    """In a residual Switch layer y = x + expert(x) at capacity factor 1, each of the ≈ 80 tokens over capacity
    leaves the layer exactly as it entered (max |y − x| = 0): it is neither removed nor zeroed. Without the
    capacity limit (dropless routing) the same tokens are changed by their experts."""
    g = generator(seed)
    chosen = _skewed_choices(seed)
    x = torch.randn(TOKENS, 16, generator=g, dtype=torch.float64)
    experts = torch.randn(EXPERTS, 16, 16, generator=g, dtype=torch.float64) / 4
    capacity = expert_capacity(TOKENS, EXPERTS, 1.0)
    dropped = ~_dispatch(chosen, EXPERTS, capacity)
    with_capacity = _switch_layer(x, chosen, experts, capacity)
    dropless = _switch_layer(x, chosen, experts, TOKENS)
    return Evidence(
        measured=(with_capacity - x)[dropped].abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=0.0,
        derivation="theory: a dropped token's MoE branch is zero, so the residual returns x itself",
        counterfactual="dropless routing: every token reaches its expert",
        counterfactual_measured=(dropless - x)[dropped].abs().max().item(),
        unit="",
        details={"tokens dropped": int(dropped.sum()), "tokens in the sequence after the layer": len(with_capacity)},
    )


def _mean_dropped_fraction(choices: Tensor, capacity: int) -> tuple[float, float]:
    """Mean and standard error over batches (B, T) of the fraction of each batch's tokens dropped."""
    fractions = torch.tensor(
        [(~_dispatch(row, EXPERTS, capacity)).double().mean().item() for row in choices], dtype=torch.float64
    )
    spread = (fractions.std() / len(fractions) ** 0.5).item() if len(fractions) > 1 else 0.0
    return fractions.mean().item(), spread


def uniform_routing_still_drops_tokens_at_capacity_factor_one(seed: int = 0) -> Evidence:
    """Routing each of 1024 tokens to one of 8 experts uniformly at random, so that every expert's expected load
    is exactly its capacity T/E = 128, still drops 3.3% of the tokens at capacity factor 1: loads are
    Binomial(1024, 1/8), with a standard deviation of 10.6 tokens, and the overloaded experts' excess is lost.
    Measured over 200 batches; the tolerance is 4 standard errors of that mean. Perfectly even (round-robin)
    loads through the same dispatcher drop nothing."""
    tokens, batches = 1024, 200
    capacity = expert_capacity(tokens, EXPERTS, 1.0)
    choices = torch.randint(EXPERTS, (batches, tokens), generator=generator(seed))
    mean, standard_error = _mean_dropped_fraction(choices, capacity)
    round_robin = (torch.arange(tokens) % EXPERTS)[None]
    return Evidence(
        measured=mean,
        expected=expected_dropped_fraction_uniform(tokens, EXPERTS, 1.0),
        comparison="abs",
        tolerance=4 * standard_error,
        derivation="formula expected_dropped_fraction_uniform: E·E[max(0, n − C)]/T, n ~ Binomial(T, 1/E)",
        counterfactual="perfectly even loads (round-robin), the picture of 'balanced means nothing dropped'",
        counterfactual_measured=_mean_dropped_fraction(round_robin, capacity)[0],
        unit="of tokens",
        details={
            "expected at CF 1.25": expected_dropped_fraction_uniform(tokens, EXPERTS, 1.25),
            "measured at CF 1.25": _mean_dropped_fraction(choices, expert_capacity(tokens, EXPERTS, 1.25))[0],
        },
    )


def dropped_fraction_formula_matches_every_possible_routing() -> Evidence:
    """The binomial formula for the expected dropped fraction equals, to rounding, the average over all
    4⁸ = 65,536 equally likely ways to route 8 tokens to 4 experts at capacity 2 (a float64 enumeration).
    Estimating drops from the mean load (n_i = T/E = C for every expert) gives 0 instead of 23%."""
    tokens, experts, capacity_factor = 8, 4, 1.0
    capacity = expert_capacity(tokens, experts, capacity_factor)
    dropped = 0
    for routing in itertools.product(range(experts), repeat=tokens):
        dropped += sum(max(0, routing.count(e) - capacity) for e in range(experts))
    exhaustive = dropped / experts**tokens / tokens
    mean_load = tokens / experts
    return Evidence(
        measured=expected_dropped_fraction_uniform(tokens, experts, capacity_factor),
        expected=exhaustive,
        comparison="abs",
        tolerance=1e-12,
        derivation="exhaustive enumeration of all 4^8 routings, each with probability 4^-8",
        counterfactual="drops computed from the mean load T/E of every expert",
        counterfactual_measured=experts * max(0.0, mean_load - capacity) / tokens,
        unit="of tokens",
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
