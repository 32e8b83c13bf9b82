"""What scaling laws say, and why "GPT-3 is 100× better than GPT-1" is not one of them.

Kaplan et al. (2020) fit the test loss of language models as a power law in the non-embedding
parameter count N: L(N) = (N_c / N)^α with N_c = 8.8·10¹³ and α = 0.076 (nats per token). A power law is
a straight line on log-log axes, so improvements are predictable — and slow: 1,000× more parameters
divides the loss by 1000^0.076 ≈ 1.69.
"""

from __future__ import annotations

import math

import numpy as np

from answers.evidence import Evidence
from answers.formulas.parameters import gpt_non_embedding_parameters
from answers.formulas.training import kaplan_loss
from answers.gpt3_parameter_count import GPT3
from answers.gpt_family_numbers import GPT1, GPT2_XL

ALPHA = 0.076  # Kaplan et al. (2020), section 1.2, eq. (1.1), with N_c = 8.8e13 (the default of kaplan_loss)
# Kaplan et al. (2020), section 4, Table 2: the joint fit L(N, D) = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D, fitted
# separately from eq. (1.1); with unlimited data (D → ∞) it reduces to (N_c/N)^α_N with its own N_c.
JOINT_FIT = {"n_c": 6.4e13, "alpha_n": 0.076, "alpha_d": 0.103}
ALPHA_D = 0.095  # Kaplan et al. (2020), eq. (1.2): the exponent of the data law L(D), often confused with α_N
SMALL_RUNS = [10 ** (6 + k / 8) for k in range(17)]  # 1M … 100M non-embedding parameters
RUN_NOISE = 0.005  # 0.5 % multiplicative scatter per run


def _sizes() -> dict[str, int]:
    """Non-embedding parameters (Kaplan's N) of GPT-1, GPT-2 XL and GPT-3 from their configurations."""
    return {
        name: gpt_non_embedding_parameters(c["layers"], c["d_model"])
        for name, c in (("GPT-1", GPT1), ("GPT-2", GPT2_XL), ("GPT-3", GPT3))
    }


def _joint_fit_loss(params: float) -> float:
    """Kaplan's joint L(N, D) fit (section 4, Table 2) in the limit of unlimited data."""
    return (JOINT_FIT["n_c"] / params) ** JOINT_FIT["alpha_n"]


def _extrapolated_gpt3_loss(log_log: bool, seed: int = 0) -> float:
    """Fit noisy losses of small runs (drawn around Kaplan's law) with numpy's least-squares polyfit, either
    log L against log N (a power law) or L against log N (a straight line in loss), and extrapolate to GPT-3."""
    rng = np.random.default_rng(seed)
    log_n = np.log(SMALL_RUNS)
    loss = np.array([kaplan_loss(n) for n in SMALL_RUNS]) * np.exp(rng.normal(0, RUN_NOISE, len(SMALL_RUNS)))
    target = math.log(_sizes()["GPT-3"])
    if log_log:
        slope, intercept = np.polyfit(log_n, np.log(loss), 1)
        return float(math.exp(intercept + slope * target))
    slope, intercept = np.polyfit(log_n, loss, 1)
    return float(intercept + slope * target)


def a_power_law_fitted_on_small_runs_predicts_the_large_one(seed: int = 0) -> Evidence:
    """Fitted on log-log axes, 17 noisy runs from 1M to 100M parameters predict the loss at GPT-3's size
    (1,700× beyond the largest run) within 3 %; fitting loss as a straight line in log N misses by 40-50 %.
    The runs are simulated from the law itself: what this shows is the fitting procedure, not the law."""
    return Evidence(
        measured=_extrapolated_gpt3_loss(log_log=True, seed=seed),
        expected=kaplan_loss(_sizes()["GPT-3"]),
        comparison="rel",
        tolerance=0.03,  # slope error 0.005/(√17·sd(log N)) ≈ 9e-4, times 9.8 e-folds beyond the mean: ≈ 0.9 % (1σ)
        derivation="the law the runs were drawn from, L = (N_c/N)^α, evaluated at GPT-3's 1.74e11",
        counterfactual="a straight line fitted to L against log N (semi-log), extrapolated the same way",
        counterfactual_measured=_extrapolated_gpt3_loss(log_log=False, seed=seed),
        unit="nats",
    )


def two_of_kaplans_fits_give_the_same_absolute_losses() -> Evidence:
    """Kaplan's L(N) = (8.8e13/N)^0.076 (eq. 1.1) and his joint L(N, D) fit with unlimited data (Table 2),
    fitted separately, predict GPT-1's to GPT-3's losses within 3 % of each other: about 2.9 down to 1.6
    nats, a 1.79× fall for 2,048× the non-embedding parameters."""
    sizes = _sizes()

    def worst_gap(loss) -> float:
        return max(abs(loss(n) / _joint_fit_loss(n) - 1) for n in sizes.values())

    n1, n3 = sizes["GPT-1"], sizes["GPT-3"]
    return Evidence(
        measured=worst_gap(kaplan_loss),
        expected=0.03,
        comparison="at_most",
        derivation="Kaplan et al. (2020), section 4, Table 2: N_c = 6.4e13, α_N = 0.076 (vs eq. 1.1's 8.8e13)",
        counterfactual="eq. (1.1) with the data exponent α_D = 0.095 in place of α_N",
        counterfactual_measured=worst_gap(lambda n: kaplan_loss(n, alpha=ALPHA_D)),
        unit="ratio",
        details={
            **{f"L({name}) nats": kaplan_loss(n) for name, n in sizes.items()},
            "N(GPT-3) / N(GPT-1)": n3 / n1,
            "L(GPT-1) / L(GPT-3)": kaplan_loss(n1) / kaplan_loss(n3),
            "'proportional to size' (α = 1) ratio": n3 / n1,
        },
    )


def figure_kaplan_loss_curve():
    """Kaplan et al.'s L(N) = (8.8·10¹³/N)^0.076 on log-log axes: a straight line, with GPT-1, GPT-2 XL and
    GPT-3 marked at their non-embedding sizes. Each 10× in parameters lowers the loss by only ≈ 16 %."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = [10 ** (7 + k / 10) for k in range(51)]  # 10⁷ … 10¹²
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.loglog(grid, [kaplan_loss(n) for n in grid], label="power law (N_c/N)^0.076")
    for name, n in _sizes().items():
        ax.scatter([n], [kaplan_loss(n)], zorder=3)
        ax.annotate(name, (n, kaplan_loss(n)), textcoords="offset points", xytext=(5, 5))
    ax.set_xlabel("non-embedding parameters N")
    ax.set_ylabel("predicted test loss (nats/token)")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
