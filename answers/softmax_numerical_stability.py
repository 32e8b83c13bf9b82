"""Computing the softmax without overflow: subtract the row maximum, and take logs with log-sum-exp.

softmax(x)_i = e^{x_i} / Σ_j e^{x_j} is unchanged by adding one constant to a whole row, so every
implementation subtracts the row's maximum first: the largest exponent becomes e^0 = 1 and nothing can
overflow. For log-probabilities, log softmax(x)_i = x_i − logsumexp(x) stays finite where log(softmax(x))
has already rounded a tiny probability to zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from answers.evidence import Evidence
from answers.reference import randn


def _softmax_minus(logits: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    exps = torch.exp(logits - shift)
    return exps / exps.sum(dim=-1, keepdim=True)


def shifted_softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """exp(x − max) / Σ exp(x − max) along ``dim``: the mechanism these claims prove, with the signature of the
    stable-softmax exercise (quiz code check passes the learner's in its place)."""
    exps = torch.exp(x - x.amax(dim=dim, keepdim=True))
    return exps / exps.sum(dim=dim, keepdim=True)


Softmax = Callable[[torch.Tensor], torch.Tensor]


def subtracting_the_row_maximum_leaves_the_softmax_unchanged(
    seed: int = 0, softmax: Softmax = shifted_softmax
) -> Evidence:
    """softmax(x − max_row x) equals torch.softmax(x): a constant shift per row cancels in the ratio."""
    logits = randn(8, 16, seed=seed) * 5  # (rows, keys)
    reference = torch.softmax(logits, dim=-1)

    def error(shift: torch.Tensor) -> float:
        return (_softmax_minus(logits, shift) - reference).abs().max().item()

    return Evidence(
        measured=(softmax(logits) - reference).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64: only rounding may differ
        derivation="torch's own torch.softmax, float64",
        counterfactual="subtracting each column's maximum (a shift that differs within a row)",
        counterfactual_measured=error(logits.amax(dim=-2, keepdim=True)),
    )


def _float32_error(logits: torch.Tensor, stable: bool, softmax: Softmax = shifted_softmax) -> float:
    """Largest error of a float32 softmax against the exact one computed in float64."""
    x = logits.float()
    # The exact softmax of the float32 inputs themselves: near 1000, float32 steps are 6e-5 apart, and that
    # input rounding is not the softmax's error.
    exact = torch.softmax(x.double(), dim=-1)
    out = softmax(x) if stable else _softmax_minus(x, torch.zeros_like(x[..., :1]))
    return (out.double() - exact).abs().max().item()


def the_shifted_softmax_survives_logits_that_overflow_exp(
    seed: int = 0, softmax: Softmax = shifted_softmax
) -> Evidence:
    """With logits near 1000, e^x overflows float32 (its largest value is about 3.4e38 = e^88.7) and the
    naive softmax is inf/inf = NaN; the max-subtracted one is accurate to float32 rounding."""
    logits = 1000 + randn(4, 16, seed=seed)  # every logit far beyond ln(3.4e38) ≈ 88.7
    return Evidence(
        measured=_float32_error(logits, stable=True, softmax=softmax),
        expected=1e-6,
        comparison="at_most",  # float32 carries about 7 significant digits
        derivation="exact softmax of the same logits in float64",
        counterfactual="naive exp(x) / Σ exp(x) in float32",
        counterfactual_measured=_float32_error(logits, stable=False),
        details={"e^1000 in float32": float(torch.exp(torch.tensor(1000.0)))},
    )


def _log_probability_error(gap: float, via_logsumexp: bool) -> float:
    """Error in the log-probability of a token whose logit is ``gap`` below its only rival, in float32."""
    logits = torch.tensor([[gap, 0.0]], dtype=torch.float32)
    log_p = torch.log_softmax(logits, -1) if via_logsumexp else torch.log(torch.softmax(logits, -1))
    exact = -torch.log1p(torch.exp(torch.tensor(gap, dtype=torch.float64)))  # log σ(−gap), exactly
    return abs(log_p[0, 1].double().item() - exact.item())


def log_softmax_stays_finite_where_log_of_softmax_underflows() -> Evidence:
    """A token 200 nats below its rival has probability e^−200 ≈ 1e−87, which float32 rounds to 0, so
    log(softmax) is −∞; x_i − logsumexp(x) gives the right −200."""
    gap = 200.0
    return Evidence(
        measured=_log_probability_error(gap, via_logsumexp=True),
        expected=2.0**-16,
        comparison="at_most",  # one float32 step near 200 (2⁷ · 2⁻²³)
        derivation="log p = −log(1 + e^gap), evaluated in float64",
        counterfactual="log(softmax(x)) in float32",
        counterfactual_measured=_log_probability_error(gap, via_logsumexp=False),
    )


def _first_overflow(dtype: torch.dtype) -> float:
    """The smallest x representable in ``dtype`` for which torch.exp(x), computed in ``dtype``, is inf."""
    grid = torch.linspace(5.0, 100.0, 200_001, dtype=torch.float64).to(dtype).unique()  # every value there
    overflowed = torch.isinf(torch.exp(grid))
    return grid[overflowed][0].item()


def float16_exp_overflows_just_above_11_09_not_at_11() -> Evidence:
    """In float16, e^11 = 59,874 is still finite (it rounds to 59,872); e^x first overflows at the first
    float16 value above ln 65,504 ≈ 11.09. bfloat16 keeps float32's exponent range and overflows only
    near 88.7, so "half precision overflows at e^11" is a fact about float16 alone."""
    ln_max = math.log(torch.finfo(torch.float16).max)  # ln 65,504 = 11.0898
    step = 2.0**-7  # float16 spacing between 8 and 16
    return Evidence(
        measured=_first_overflow(torch.float16),
        expected=ln_max,
        comparison="abs",
        tolerance=step,  # the first representable x past the threshold, at most one step above it
        derivation="theory: e^x overflows float16 once it passes the largest finite value, 65,504 = e^11.0898",
        counterfactual="the same scan in bfloat16 (8 exponent bits, like float32)",
        counterfactual_measured=_first_overflow(torch.bfloat16),
        details={
            "float16 e^11": float(torch.exp(torch.tensor(11.0, dtype=torch.float16))),
            "float16 e^11.09375": float(torch.exp(torch.tensor(11.09375, dtype=torch.float16))),
            "ln of the float32 maximum": math.log(torch.finfo(torch.float32).max),
        },
    )


def _nan_count_of_fully_masked_row(fill: float, n: int) -> int:
    """NaNs that torch.softmax returns for one query whose n keys are all masked with ``fill``."""
    scores = torch.zeros(1, n, dtype=torch.float32).masked_fill(torch.ones(1, n, dtype=torch.bool), fill)
    return int(torch.isnan(torch.softmax(scores, dim=-1)).sum())


def a_fully_masked_row_has_no_maximum_to_subtract(n: int = 8) -> Evidence:
    """If every logit of a row is −∞ the maximum is −∞ and −∞ − (−∞) = NaN: the softmax is NaN in every
    entry. A finite fill (torch.finfo.min, as many libraries use) gives a uniform row instead, which is
    finite but silently attends everywhere."""
    return Evidence(
        measured=_nan_count_of_fully_masked_row(-math.inf, n),
        expected=n,
        comparison="equal",
        derivation="IEEE 754: −∞ − (−∞) is NaN, and NaN propagates through exp and the sum",
        counterfactual="the mask filled with torch.finfo(float32).min instead of −∞",
        counterfactual_measured=_nan_count_of_fully_masked_row(torch.finfo(torch.float32).min, n),
        unit="NaN entries",
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
