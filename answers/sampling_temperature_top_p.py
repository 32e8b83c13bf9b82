"""Sampling: temperature reshapes the model's distribution, top-k and top-p truncate and renormalise it.

Dividing the logits by T before the softmax sharpens the distribution for T < 1 (greedy as T → 0),
leaves it unchanged at T = 1 and flattens it for T > 1 (uniform as T → ∞). Top-k keeps the k most likely
tokens, top-p the smallest set whose probability reaches p; both must renormalise what they keep.
"""

from __future__ import annotations

import math
from fractions import Fraction

import torch

from answers.evidence import Evidence
from answers.reference import generator, randn

V = 10
DYADIC = (Fraction(1, 2), Fraction(1, 4), Fraction(1, 8), Fraction(1, 16), Fraction(1, 16))  # exact in binary


def _logits(seed: int) -> torch.Tensor:
    return randn(V, seed=seed + 1) * 2.0  # (V,)


def _tempered(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    return torch.softmax(logits / temperature, dim=-1)


def low_temperature_is_greedy(seed: int = 0) -> Evidence:
    """At T = 0.01 all but a vanishing share of the mass sits on the argmax token: sampling is greedy."""
    logits = _logits(seed)
    top2 = logits.topk(2).values
    gap, argmax = (top2[0] - top2[1]).item(), logits.argmax()

    def off_argmax(temperature: float) -> float:
        return 1.0 - _tempered(logits, temperature)[argmax].item()

    return Evidence(
        measured=off_argmax(0.01),
        expected=(V - 1) * math.exp(-gap / 0.01),
        comparison="at_most",
        derivation="theory: each other token has at most e^(−gap/T) of the top token's mass",
        counterfactual="T = 1 (the model's own distribution)",
        counterfactual_measured=off_argmax(1.0),
        details={"gap between the two largest logits": gap},
    )


def high_temperature_is_uniform(seed: int = 0) -> Evidence:
    """At T = 10⁴ every token's probability is within (e^(r/T) − 1)/V of 1/V, r the logit range."""
    logits = _logits(seed)
    spread = (logits.max() - logits.min()).item()

    def distance_from_uniform(temperature: float) -> float:
        return (_tempered(logits, temperature) - 1 / V).abs().max().item()

    return Evidence(
        measured=distance_from_uniform(1e4),
        expected=(math.exp(spread / 1e4) - 1) / V,
        comparison="at_most",
        derivation="theory: e^(−r/T)/V ≤ p_i ≤ e^(r/T)/V",
        counterfactual="T = 1",
        counterfactual_measured=distance_from_uniform(1.0),
    )


def _sampling_error(temperature: float, seed: int, draws: int = 20_000) -> float:
    """Largest gap, in standard errors, between sampled frequencies at ``temperature`` and softmax(logits)."""
    logits = _logits(seed)
    model = torch.softmax(logits, dim=-1)
    samples = torch.multinomial(_tempered(logits, temperature), draws, replacement=True, generator=generator(seed + 2))
    frequencies = torch.bincount(samples, minlength=V).to(model.dtype) / draws
    standard_error = (model * (1 - model) / draws).sqrt()
    return ((frequencies - model).abs() / standard_error).max().item()


def temperature_one_samples_the_model_distribution(seed: int = 0) -> Evidence:
    """Sampling 20,000 tokens at T = 1 reproduces softmax(logits): every frequency within 4.5 standard
    errors (a miss has probability < 10 · 7e−6 for 10 tokens)."""
    return Evidence(
        measured=_sampling_error(1.0, seed),
        expected=4.5,
        comparison="at_most",
        derivation="theory: binomial frequency, standard error √(p(1−p)/N)",
        counterfactual="sampled at T = 2 instead",
        counterfactual_measured=_sampling_error(2.0, seed),
    )


def _top_k(probs: list[Fraction], k: int, renormalise: bool = True) -> list[Fraction]:
    keep = sorted(range(len(probs)), key=lambda i: -probs[i])[:k]
    total = sum(probs[i] for i in keep) if renormalise else Fraction(1)
    return [probs[i] / total if i in keep else Fraction(0) for i in range(len(probs))]


def _top_p(probs: torch.Tensor, p: float, renormalise: bool = True) -> torch.Tensor:
    """Keep the smallest set of most likely tokens whose mass reaches p (the nucleus)."""
    sorted_probs, order = probs.sort(descending=True)
    before = sorted_probs.cumsum(-1) - sorted_probs  # mass strictly before each token
    kept = torch.zeros_like(probs).scatter(-1, order, (before < p).to(probs.dtype)) * probs
    return kept / kept.sum() if renormalise else kept


def top_p_renormalises_the_nucleus() -> Evidence:
    """For p = (1/2, 1/4, 1/8, 1/16, 1/16) and top-p 0.8, the nucleus is the first three tokens (mass 7/8)
    and sampling uses (4/7, 2/7, 1/7, 0, 0) exactly."""
    probs = torch.tensor([float(x) for x in DYADIC], dtype=torch.float64)
    kept = DYADIC[:3]
    exact = torch.tensor([float(x / sum(kept)) for x in kept] + [0.0, 0.0], dtype=torch.float64)
    return Evidence(
        measured=(_top_p(probs, 0.8) - exact).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-15,  # one float64 division per entry
        derivation="exact fractions: each kept p_i divided by the nucleus mass 7/8",
        counterfactual="nucleus kept but not renormalised (sums to 7/8)",
        counterfactual_measured=(_top_p(probs, 0.8, renormalise=False) - exact).abs().max().item(),
    )


def top_k_renormalises_the_kept_tokens() -> Evidence:
    """Top-2 of (1/2, 1/4, 1/8, 1/16, 1/16) samples from exactly (2/3, 1/3, 0, 0, 0), a distribution."""
    return Evidence(
        measured=tuple(str(x) for x in _top_k(list(DYADIC), 2)),
        expected=("2/3", "1/3", "0", "0", "0"),
        comparison="equal",
        derivation="exact fractions: p_i / (1/2 + 1/4)",
        counterfactual="the two tokens kept but not renormalised",
        counterfactual_measured=tuple(str(x) for x in _top_k(list(DYADIC), 2, renormalise=False)),
    )


def _nucleus_size_exact(probs: tuple[Fraction, ...], temperature: Fraction, p: Fraction) -> int:
    """Nucleus size with exact fractions: p_i^(1/T) renormalised (T = 1/2 squares them), then the
    smallest prefix of the sorted list whose mass reaches p."""
    power = int(1 / temperature)
    tempered = [x**power for x in probs]
    total, mass, size = sum(tempered), Fraction(0), 0
    for x in sorted(tempered, reverse=True):
        if mass >= p:
            break
        mass, size = mass + x / total, size + 1
    return size


def temperature_is_applied_before_top_p() -> Evidence:
    """Temperature comes first (as in Hugging Face's logits warpers), so it changes the nucleus itself: at
    T = 1/2 the p = 0.8 nucleus of (1/2, 1/4, 1/8, 1/16, 1/16) has 2 tokens, not the 3 it has at T = 1.
    Cutting the nucleus before tempering keeps the wrong set."""
    probs = torch.tensor([float(x) for x in DYADIC], dtype=torch.float64)
    logits, temperature = probs.log(), 0.5
    tempered_first = _top_p(_tempered(logits, temperature), 0.8)
    nucleus_first = _top_p(probs, 0.8)
    return Evidence(
        measured=int((tempered_first > 0).sum()),
        expected=_nucleus_size_exact(DYADIC, Fraction(1, 2), Fraction(4, 5)),
        comparison="equal",
        derivation="exact fractions: (p_i²/Σp_j²) = (64, 16, 4, 1, 1)/86, sorted, until the mass reaches 4/5",
        counterfactual="top-p cut on the untempered distribution, then tempered",
        counterfactual_measured=int((nucleus_first > 0).sum()),
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
