"""Perplexity and serving metrics: exp of the mean token NLL, and latency percentiles rather than means.

Perplexity is the exponential of the average negative log-likelihood per token, the geometric mean of
1/p(token): a uniform model over V tokens scores exactly V. For a served model, latency is reported as
percentiles (P50/P95/P99) at the real load, since under load the tail is mostly queueing.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from answers.evidence import Evidence
from answers.formulas.serving import perplexity
from answers.reference import generator, randn

__all__ = ["perplexity"]

VOCAB, TOKENS = 50257, 8  # GPT-2's vocabulary


def _uniform_model_perplexity(summed: bool, seed: int) -> float:
    logits = torch.zeros(TOKENS, VOCAB, dtype=torch.float64)  # every token equally likely
    targets = torch.randint(VOCAB, (TOKENS,), generator=generator(seed))
    nll = F.cross_entropy(logits, targets, reduction="sum" if summed else "mean")
    return perplexity(nll.item())


def uniform_model_has_perplexity_equal_to_the_vocabulary(seed: int = 0) -> Evidence:
    """Uniform logits over V = 50,257 tokens give a mean NLL of ln V and a perplexity of exactly V;
    exponentiating the summed NLL instead gives V to the power of the sequence length."""
    return Evidence(
        measured=_uniform_model_perplexity(summed=False, seed=seed),
        expected=float(VOCAB),
        comparison="rel",
        tolerance=1e-12,  # exp(ln V) in float64
        derivation="theory: −ln(1/V) = ln V per token, exp(ln V) = V",
        counterfactual="exp of the summed (not averaged) NLL over 8 tokens",
        counterfactual_measured=_uniform_model_perplexity(summed=True, seed=seed),
        details={"ln V (nats)": math.log(VOCAB)},
    )


def _sequence_perplexity(average_token_perplexities: bool, seed: int) -> tuple[float, float]:
    """A model's perplexity on 8 tokens via torch's cross-entropy, and the float64 loop value
    (Π 1/p)^(1/n), the geometric mean of the inverse probabilities."""
    logits = randn(TOKENS, 100, seed=seed) * 3
    targets = torch.randint(100, (TOKENS,), generator=generator(seed + 1))
    nll = F.cross_entropy(logits, targets, reduction="none")
    p = torch.softmax(logits, -1)[torch.arange(TOKENS), targets].tolist()
    loop = math.prod(1 / q for q in p) ** (1 / TOKENS)
    measured = nll.exp().mean().item() if average_token_perplexities else perplexity(nll.mean().item())
    return measured, loop


def perplexity_is_the_geometric_mean_of_inverse_probabilities(seed: int = 0) -> Evidence:
    """exp(mean NLL) equals (Π 1/p_i)^(1/n); averaging per-token perplexities (an arithmetic mean of 1/p)
    overstates it."""
    measured, loop = _sequence_perplexity(average_token_perplexities=False, seed=seed)
    return Evidence(
        measured=measured,
        expected=loop,
        comparison="rel",
        tolerance=1e-10,  # float64, product of 8 factors
        derivation="float64 loop: the n-th root of the product of 1/p(target)",
        counterfactual="mean of the per-token perplexities exp(NLL_i)",
        counterfactual_measured=_sequence_perplexity(average_token_perplexities=True, seed=seed)[0],
    )


SERVICE_RATE, ARRIVAL_RATE, REQUESTS = 10.0, 5.0, 100_000  # 100 ms mean service, 50% utilisation


def _response_times(seed: int, queueing: bool = True) -> list[float]:
    """Response times (queueing + service) of a single FCFS server with Poisson arrivals and exponential
    service times (M/M/1), by Lindley's recursion: each request waits for the work still ahead of it.
    Without queueing (an idle-server benchmark, one request at a time) the response is the service time."""
    g = generator(seed)
    gaps = torch.empty(REQUESTS, dtype=torch.float64).exponential_(ARRIVAL_RATE, generator=g).tolist()
    service = torch.empty(REQUESTS, dtype=torch.float64).exponential_(SERVICE_RATE, generator=g).tolist()
    if not queueing:
        return service
    work, response = 0.0, []
    for gap, s in zip(gaps, service, strict=True):
        work = max(0.0, work - gap) + s  # work left when this request arrives, plus its own service
        response.append(work)
    return response


def _p99(values: list[float]) -> float:
    return sorted(values)[int(0.99 * len(values))]


def queueing_sets_the_p99_latency(seed: int = 0) -> Evidence:
    """Under load, tail latency is mostly queueing. For a server at 50% utilisation (M/M/1) the simulated
    P99 response time matches queueing theory, ln(100)/(μ − λ), twice the P99 of the same requests on an
    idle server; it grows like 1/(1 − ρ) as the load ρ rises."""
    response = _response_times(seed)
    return Evidence(
        measured=_p99(response),
        expected=math.log(100) / (SERVICE_RATE - ARRIVAL_RATE),
        comparison="rel",
        # The sample P99 of 100,000 correlated response times has a relative SE of about 1.7% (over 40
        # seeds); 7% is about 4 SE, and the idle-server figure is 50% off.
        tolerance=0.07,
        derivation="theory: M/M/1 FCFS response time is exponential with rate μ − λ, so P99 = ln(100)/(μ − λ)",
        counterfactual="P99 benchmarked on an idle server (one request at a time, no queueing)",
        counterfactual_measured=_p99(_response_times(seed, queueing=False)),
        unit="seconds",
        details={
            "mean response (measured)": sum(response) / len(response),
            "mean response, theory 1/(μ − λ)": 1 / (SERVICE_RATE - ARRIVAL_RATE),
            "P99 at 90% load, theory (s)": math.log(100) / (SERVICE_RATE * 0.1),
        },
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
