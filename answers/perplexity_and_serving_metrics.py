"""Perplexity and serving metrics: exp of the mean token NLL, and latency percentiles rather than means.

Perplexity is the exponential of the average negative log-likelihood per token, the geometric mean of
1/p(token): a uniform model over V tokens scores exactly V. For a served model, latency is reported as
percentiles (P50/P95/P99), since a mean hides the slow tail users notice.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import torch
import torch.nn.functional as F

from answers.evidence import Evidence
from answers.formulas.serving import perplexity
from answers.reference import generator, randn

__all__ = ["perplexity"]

VOCAB, TOKENS = 50257, 8  # GPT-2's vocabulary


def _uniform_model_perplexity(summed: bool) -> float:
    logits = torch.zeros(TOKENS, VOCAB, dtype=torch.float64)  # every token equally likely
    targets = torch.randint(VOCAB, (TOKENS,), generator=generator(1))
    nll = F.cross_entropy(logits, targets, reduction="sum" if summed else "mean")
    return perplexity(nll.item())


def uniform_model_has_perplexity_equal_to_the_vocabulary() -> Evidence:
    """Uniform logits over V = 50,257 tokens give a mean NLL of ln V and a perplexity of exactly V;
    exponentiating the summed NLL instead gives V to the power of the sequence length."""
    return Evidence(
        measured=_uniform_model_perplexity(summed=False),
        expected=float(VOCAB),
        comparison="rel",
        tolerance=1e-12,  # exp(ln V) in float64
        derivation="theory: −ln(1/V) = ln V per token, exp(ln V) = V",
        counterfactual="exp of the summed (not averaged) NLL over 8 tokens",
        counterfactual_measured=_uniform_model_perplexity(summed=True),
        details={"ln V (nats)": math.log(VOCAB)},
    )


def _sequence_perplexity(average_token_perplexities: bool) -> tuple[float, float]:
    """A model's perplexity on 8 tokens via torch's cross-entropy, and the float64 loop value
    (Π 1/p)^(1/n), the geometric mean of the inverse probabilities."""
    logits = randn(TOKENS, 100, seed=2) * 3
    targets = torch.randint(100, (TOKENS,), generator=generator(3))
    nll = F.cross_entropy(logits, targets, reduction="none")
    p = torch.softmax(logits, -1)[torch.arange(TOKENS), targets].tolist()
    loop = math.prod(1 / q for q in p) ** (1 / TOKENS)
    measured = nll.exp().mean().item() if average_token_perplexities else perplexity(nll.mean().item())
    return measured, loop


def perplexity_is_the_geometric_mean_of_inverse_probabilities() -> Evidence:
    """exp(mean NLL) equals (Π 1/p_i)^(1/n); averaging per-token perplexities (an arithmetic mean of 1/p)
    overstates it."""
    measured, loop = _sequence_perplexity(average_token_perplexities=False)
    return Evidence(
        measured=measured,
        expected=loop,
        comparison="rel",
        tolerance=1e-10,  # float64, product of 8 factors
        derivation="float64 loop: the n-th root of the product of 1/p(target)",
        counterfactual="mean of the per-token perplexities exp(NLL_i)",
        counterfactual_measured=_sequence_perplexity(average_token_perplexities=True)[0],
    )


MU, SIGMA, REQUESTS = math.log(0.2), 0.8, 20000  # log-normal request latencies, median 200 ms


def _latencies() -> torch.Tensor:
    return torch.exp(MU + SIGMA * randn(REQUESTS, seed=4))


def p99_latency_matches_the_distribution_tail() -> Evidence:
    """The measured P99 of seeded log-normal latencies matches exp(μ + σ·z₀.₉₉); the mean latency, a
    common stand-in, is far below the tail."""
    latencies = _latencies()
    z99 = NormalDist().inv_cdf(0.99)
    return Evidence(
        measured=torch.quantile(latencies, 0.99).item(),
        expected=math.exp(MU + SIGMA * z99),
        comparison="rel",
        tolerance=0.05,  # 20,000 samples: the 99th-percentile estimate has ~2% standard error here
        derivation="theory: the 0.99 quantile of a log-normal, exp(μ + σ Φ⁻¹(0.99))",
        counterfactual="mean latency reported instead of P99",
        counterfactual_measured=latencies.mean().item(),
        unit="seconds",
        details={
            "P50 (measured)": torch.quantile(latencies, 0.5).item(),
            "P95 (measured)": torch.quantile(latencies, 0.95).item(),
        },
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
