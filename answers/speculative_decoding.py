"""Speculative decoding: a draft proposes, the target accepts or resamples, and p is unchanged.

A draft token x ~ q is accepted with probability min(1, p(x)/q(x)); on rejection a token is drawn from the
residual max(0, p − q), renormalised. Every emitted token is then distributed exactly as the target's p,
while one target pass can confirm several draft tokens.
"""

from __future__ import annotations

import torch

from answers.evidence import Evidence
from answers.formulas.serving import speculative_tokens_per_target_pass
from answers.reference import generator

__all__ = ["speculative_tokens_per_target_pass"]

VOCAB = 6


def _distributions(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Target p and draft q over a small vocabulary (float64)."""
    g = generator(seed)
    p = torch.softmax(torch.randn(VOCAB, generator=g, dtype=torch.float64), -1)
    q = torch.softmax(torch.randn(VOCAB, generator=g, dtype=torch.float64), -1)
    return p, q


def _emitted_distribution(on_reject: str, seed: int) -> torch.Tensor:
    """Exact probability of emitting each token: accepted drafts plus the fallback after a rejection."""
    p, q = _distributions(seed)
    accept = torch.minimum(torch.ones_like(p), p / q)  # per draft token
    rejected = 1 - (q * accept).sum()
    if on_reject == "residual":
        fallback = (p - q).clamp(min=0) / (p - q).clamp(min=0).sum()
    elif on_reject == "target":  # the slip: resample from p itself
        fallback = p
    else:  # accept every draft token
        return q
    return q * accept + rejected * fallback


def accept_reject_with_residual_resampling_reproduces_the_target(seed: int = 0) -> Evidence:
    """Enumerating a 6-token vocabulary: accepted drafts plus residual resampling emit each token with
    probability exactly p(x); resampling from p itself after a rejection does not."""
    p, _ = _distributions(seed)
    return Evidence(
        measured=(_emitted_distribution("residual", seed) - p).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-15,  # float64 sums of six terms
        derivation="theory: q·min(1, p/q) + (1 − Σ min(p, q))·(p − q)⁺/Σ(p − q)⁺ = min(p, q) + (p − q)⁺ = p",
        counterfactual="resample from p (not the residual) after a rejection",
        counterfactual_measured=(_emitted_distribution("target", seed) - p).abs().max().item(),
        details={"accept every draft (gives q)": (_emitted_distribution("accept", seed) - p).abs().max().item()},
    )


def _sample_tokens(accept_all: bool, seed: int, draws: int = 20000) -> tuple[torch.Tensor, float]:
    """Run the sampler ``draws`` times, vectorised; return the empirical distribution of emitted tokens
    and the share of draft tokens accepted."""
    p, q = _distributions(seed)
    g = generator(seed + 1)
    draft = torch.multinomial(q, draws, replacement=True, generator=g)
    keep = torch.rand(draws, generator=g, dtype=torch.float64) < (p / q).clamp(max=1)[draft]
    residual = (p - q).clamp(min=0)
    fallback = torch.multinomial(residual / residual.sum(), draws, replacement=True, generator=g)
    emitted = draft if accept_all else torch.where(keep, draft, fallback)
    return torch.bincount(emitted, minlength=VOCAB).to(torch.float64) / draws, keep.double().mean().item()


def sampled_tokens_follow_the_target_distribution(seed: int = 0) -> Evidence:
    """20,000 runs of the sampler give token frequencies within sampling error of p; accepting every
    draft token gives the draft's q instead."""
    p, q = _distributions(seed)
    bound = 5 * (0.25 / 20000) ** 0.5  # 5 standard errors of a frequency (p(1 − p) ≤ 1/4)
    frequencies, accepted = _sample_tokens(accept_all=False, seed=seed)
    return Evidence(
        measured=(frequencies - p).abs().max().item(),
        expected=bound,
        comparison="at_most",
        derivation="statistics: 5 binomial standard errors for 20,000 draws",
        counterfactual="every draft token accepted",
        counterfactual_measured=(_sample_tokens(accept_all=True, seed=seed)[0] - p).abs().max().item(),
        details={
            "acceptance rate (measured)": accepted,
            "acceptance rate, theory Σ min(p, q) = 1 − TV(p, q)": torch.minimum(p, q).sum().item(),
        },
    )


def _mean_tokens_per_pass(alpha: float, gamma: int, count_bonus: bool, seed: int, rounds: int = 20000) -> float:
    """Simulate rounds: draft γ tokens, accept each with probability α until the first rejection; the
    target pass always adds one token of its own (the resampled or the bonus token)."""
    accepted = torch.rand(rounds, gamma, generator=generator(seed), dtype=torch.float64) < alpha
    run = accepted.to(torch.int64).cumprod(dim=1).sum(dim=1)  # accepted prefix length
    return (run + (1 if count_bonus else 0)).to(torch.float64).mean().item()


def tokens_per_target_pass_match_the_geometric_formula(seed: int = 0) -> Evidence:
    """With acceptance α = 0.8 and γ = 4 draft tokens, a target pass yields (1 − α⁵)/(1 − α) ≈ 3.36
    tokens on average; forgetting the token the target itself contributes undercounts by one."""
    alpha, gamma = 0.8, 4
    return Evidence(
        measured=_mean_tokens_per_pass(alpha, gamma, count_bonus=True, seed=seed),
        expected=speculative_tokens_per_target_pass(alpha, gamma),
        comparison="rel",
        tolerance=0.02,  # 20,000 rounds, standard deviation ≈ 1.5 tokens: standard error ≈ 0.3%
        derivation="formula speculative_tokens_per_target_pass: (1 − α^(γ+1)) / (1 − α)",
        counterfactual="only accepted draft tokens counted",
        counterfactual_measured=_mean_tokens_per_pass(alpha, gamma, count_bonus=False, seed=seed),
        unit="tokens",
    )


def _tokens_per_pass_with_the_target_as_draft(gamma: int, count_bonus: bool, seed: int, rounds: int = 2000) -> float:
    """Run the accept/reject rule with the draft equal to the target (q = p): draft γ tokens from q, accept
    each with probability min(1, p/q) until the first rejection, then add the target's own token."""
    p, _ = _distributions(seed)
    q = p.clone()
    g = generator(seed + 2)
    draft = torch.multinomial(q, rounds * gamma, replacement=True, generator=g).view(rounds, gamma)
    accepted = torch.rand(rounds, gamma, generator=g, dtype=torch.float64) < (p / q).clamp(max=1)[draft]
    run = accepted.to(torch.int64).cumprod(dim=1).sum(dim=1)
    return (run + (1 if count_bonus else 0)).to(torch.float64).mean().item()


DRAFT_LENGTHS = (1, 4, 8)


def a_draft_equal_to_the_target_yields_gamma_plus_one_tokens(seed: int = 0) -> Evidence:
    """When the draft model is the target (q = p, acceptance α = 1, where the geometric formula's 0/0 needs its
    own branch) every draft token is accepted and each target pass yields exactly γ + 1 tokens: 2, 5 and 9
    for γ = 1, 4, 8, as the formula's α = 1 case says; counting only the accepted drafts gives γ."""
    return Evidence(
        measured=tuple(_tokens_per_pass_with_the_target_as_draft(k, True, seed) for k in DRAFT_LENGTHS),
        expected=tuple(speculative_tokens_per_target_pass(1.0, k) for k in DRAFT_LENGTHS),
        comparison="equal",
        derivation="simulation of the accept/reject rule with q = p: min(1, p/q) = 1 accepts every draft",
        counterfactual="only accepted draft tokens counted",
        counterfactual_measured=tuple(_tokens_per_pass_with_the_target_as_draft(k, False, seed) for k in DRAFT_LENGTHS),
        unit="tokens",
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
