"""What scaling laws say, and why "GPT-3 is 100× better than GPT-1" is not one of them.

Kaplan et al. (2020) fit the test loss of language models as a power law in the non-embedding
parameter count N: L(N) = (N_c / N)^α with N_c = 8.8·10¹³ and α = 0.076 (nats per token). A power law is
a straight line on log-log axes, so improvements are predictable — and slow: 1,000× more parameters
divides the loss by 1000^0.076 ≈ 1.69.
"""

from __future__ import annotations

import math

from answers.evidence import Evidence
from answers.formulas.parameters import gpt_non_embedding_parameters
from answers.formulas.training import kaplan_loss
from answers.gpt3_parameter_count import GPT3
from answers.gpt_family_numbers import GPT1, GPT2_XL

ALPHA = 0.076  # Kaplan et al. (2020), eq. 1.1
CHINCHILLA_E = 1.69  # irreducible loss in Hoffmann et al. (2022)'s fit, nats


def _sizes() -> dict[str, int]:
    """Non-embedding parameters (Kaplan's N) of GPT-1, GPT-2 XL and GPT-3 from their configurations."""
    return {
        name: gpt_non_embedding_parameters(c["layers"], c["d_model"])
        for name, c in (("GPT-1", GPT1), ("GPT-2", GPT2_XL), ("GPT-3", GPT3))
    }


def _with_floor(params: float) -> float:
    """A law with an irreducible term, L = E + (N_c/N)^α: not a pure power law."""
    return CHINCHILLA_E + kaplan_loss(params)


def _log_log_slopes(loss) -> tuple[float, float]:
    """d log L / d log N between GPT-1 and GPT-2, and between GPT-2 and GPT-3."""
    n = list(_sizes().values())
    return tuple(
        (math.log(loss(n[i + 1])) - math.log(loss(n[i]))) / (math.log(n[i + 1]) - math.log(n[i])) for i in (0, 1)
    )


def loss_is_a_straight_line_on_log_log_axes() -> Evidence:
    """log L falls with log N at the same slope −α from GPT-1 to GPT-2 as from GPT-2 to GPT-3."""
    low, high = _log_log_slopes(kaplan_loss)
    floor_low, floor_high = _log_log_slopes(_with_floor)
    return Evidence(
        measured=high - low,
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 logs of the same power law
        derivation="theory: log L = α·log N_c − α·log N is linear in log N",
        counterfactual="a law with an irreducible loss, L = 1.69 + (N_c/N)^α",
        counterfactual_measured=floor_high - floor_low,
        details={"slope GPT-1→2": low, "slope GPT-2→3": high, "−α": -ALPHA},
    )


def two_thousand_times_the_parameters_lowers_loss_under_twofold() -> Evidence:
    """From GPT-1 to GPT-3 the predicted loss falls by (N₃/N₁)^0.076 — under 2× for ~2,000× the parameters."""
    sizes = _sizes()
    n1, n3 = sizes["GPT-1"], sizes["GPT-3"]
    return Evidence(
        measured=kaplan_loss(n1) / kaplan_loss(n3),
        expected=(n3 / n1) ** ALPHA,
        comparison="rel",
        tolerance=1e-12,  # float64 evaluation of the same closed form
        derivation=f"theory: L₁/L₃ = (N₃/N₁)^α = {n3 / n1:.0f}^{ALPHA}",
        counterfactual="'performance proportional to size': loss ∝ 1/N (α = 1)",
        counterfactual_measured=kaplan_loss(n1, alpha=1.0) / kaplan_loss(n3, alpha=1.0),
        unit="ratio",
        details={f"L({name}) nats": kaplan_loss(n) for name, n in sizes.items()},
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
