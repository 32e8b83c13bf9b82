"""Compute-optimal training: the Chinchilla rule of about 20 tokens per parameter.

For a fixed budget C ≈ 6·N·D FLOPs, Hoffmann et al. (2022) found that loss is lowest when parameters and
tokens grow together, N ∝ √C and D ∝ √C, which works out to roughly 20 training tokens per parameter
(Chinchilla: 70B parameters on 1.4T tokens). Kaplan et al. (2020) had put most extra compute into
parameters (N ∝ C^0.73), which is why GPT-3 — 175B parameters on 300B tokens — was under-trained.
"""

from __future__ import annotations

import math

from answers.evidence import Evidence
from answers.formulas.training import chinchilla_parameters, chinchilla_tokens, training_flops

# Hoffmann et al. (2022), Table 3 (approach 1): compute-optimal parameters → training tokens.
CHINCHILLA_TABLE = {
    400e6: 8.0e9,
    1e9: 20.2e9,
    10e9: 205.1e9,
    67e9: 1.5e12,
    175e9: 3.7e12,
    280e9: 5.9e12,
    520e9: 11.0e12,
    1e12: 21.2e12,
    10e12: 216.2e12,
}
KAPLAN_EXPONENT = 0.73  # Kaplan et al. (2020), section 6: N_opt ∝ C^0.73
GPT3_N, GPT3_D = 175e9, 300e9


def _log_log_slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of log y against log x."""
    xs, ys = [math.log(x) for x, _ in points], [math.log(y) for _, y in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def optimal_tokens_are_about_20_per_parameter() -> Evidence:
    """Across Chinchilla's table of compute-optimal models, from 400M to 10T parameters, D/N stays within
    10 % of 20 on average; GPT-3 trained on 1.7 tokens per parameter."""
    ratios = [d / n for n, d in CHINCHILLA_TABLE.items()]
    return Evidence(
        measured=sum(ratios) / len(ratios),
        expected=chinchilla_tokens(1.0),
        comparison="rel",
        tolerance=0.1,  # the table's ratio ranges from 20.0 to 22.4 across five orders of magnitude
        derivation="rule of thumb D ≈ 20·N (Hoffmann et al. 2022)",
        counterfactual="GPT-3's allocation (175B parameters, 300B tokens)",
        counterfactual_measured=GPT3_D / GPT3_N,
        unit="ratio",
        details={"smallest ratio": min(ratios), "largest ratio": max(ratios)},
    )


def optimal_size_grows_as_the_square_root_of_compute() -> Evidence:
    """With C = 6·N·D for each row of Chinchilla's table, log N against log C has slope ≈ 0.5; Kaplan's
    allocation would give 0.73."""
    rows = [(training_flops(n, d), n) for n, d in CHINCHILLA_TABLE.items()]
    kaplan = [(c, c**KAPLAN_EXPONENT) for c, _ in rows]  # Kaplan's rule on the same budgets
    return Evidence(
        measured=_log_log_slope(rows),
        expected=0.5,
        comparison="abs",
        tolerance=0.02,  # the table's D/N drifts slowly upward (20 → 21.6 above 100B), tilting the slope slightly
        derivation="theory: D = 20·N ⇒ C = 120·N² ⇒ N = √(C/120)",
        counterfactual="Kaplan et al.'s allocation N ∝ C^0.73 on the same budgets",
        counterfactual_measured=_log_log_slope(kaplan),
    )


def gpt3_budget_was_best_spent_on_a_smaller_model() -> Evidence:
    """GPT-3's compute (6·175B·300B) would, by the Chinchilla rule, train a ~51B model on ~1T tokens:
    GPT-3 had over 3× too many parameters for its data."""
    budget = training_flops(GPT3_N, GPT3_D)
    optimal_n = chinchilla_parameters(budget)
    chinchilla_budget = training_flops(70e9, 1.4e12)
    return Evidence(
        measured=GPT3_N / optimal_n,
        expected=3.0,
        comparison="at_least",
        derivation="theory: N_opt = √(C/120) for C = 6·N·D and D = 20·N",
        counterfactual="Chinchilla's own allocation (70B on 1.4T tokens)",
        counterfactual_measured=70e9 / chinchilla_parameters(chinchilla_budget),
        unit="ratio",
        details={
            "compute-optimal N for GPT-3's budget": optimal_n,
            "its tokens": chinchilla_tokens(optimal_n),
            "Chinchilla budget / GPT-3 budget": chinchilla_budget / budget,
        },
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
