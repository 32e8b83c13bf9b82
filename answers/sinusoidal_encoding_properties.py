"""The sinusoidal position encoding: a fixed table whose offsets are rotations.

PE(pos, 2i) = sin(pos·ω_i), PE(pos, 2i+1) = cos(pos·ω_i) with ω_i = 10000^(−2i/d). Each (sin, cos) pair is
a point on a circle turning at its own speed, the speeds forming a geometric sequence. The table is
deterministic and bounded, no two practical positions share a code, and moving k positions ahead is the
same rotation R_k for every position — so the offset is a linear function of the code.
"""

from __future__ import annotations

import math

import torch

from answers.evidence import Evidence
from answers.formulas.positional import sinusoidal_wavelength
from answers.reference import randn, sinusoidal_encoding

N_POS, D = 2000, 64  # positions 0 … 1999, the d_model used throughout
OFFSET = 7


def _loop_table(n: int, d: int, *, exponent_uses_dimension: bool = False) -> torch.Tensor:
    """(n, d) float64 table from the paper's formula, written as a loop over pairs. With the common slip
    ``exponent_uses_dimension``, column j uses 10000^(j/d) instead of the pair's 10000^(2i/d)."""
    table = torch.zeros(n, d, dtype=torch.float64)
    pos = torch.arange(n, dtype=torch.float64)
    for i in range(d // 2):
        for column, wave in ((2 * i, torch.sin), (2 * i + 1, torch.cos)):
            wavelength = 2 * math.pi * 10000 ** (column / d) if exponent_uses_dimension else sinusoidal_wavelength(i, d)
            table[:, column] = wave(2 * math.pi * pos / wavelength)
    return table


def _learned_like_table(seed: int, n: int = N_POS, d: int = D) -> torch.Tensor:
    """What a learned position table looks like at initialisation: free N(0, 1) entries."""
    return randn(n, d, seed=seed)


def _rotation(k: int, d: int = D) -> torch.Tensor:
    """(d, d) block-diagonal R_k with PE(pos + k) = PE(pos) @ R_k for every pos: on each (sin, cos) pair,
    sin(a + b) = sin a cos b + cos a sin b and cos(a + b) = cos a cos b − sin a sin b."""
    omega = 10000 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    c, s = torch.cos(k * omega), torch.sin(k * omega)
    r = torch.zeros(d, d, dtype=torch.float64)
    r[0::2, 0::2], r[1::2, 0::2] = torch.diag(c), torch.diag(s)  # new sin column
    r[0::2, 1::2], r[1::2, 1::2] = torch.diag(-s), torch.diag(c)  # new cos column
    return r


def _shift_error(table: torch.Tensor, k: int = OFFSET) -> float:
    """max |table[:-k] @ R_k − table[k:]| over all positions."""
    return (table[:-k] @ _rotation(k, table.shape[1]) - table[k:]).abs().max().item()


def table_matches_the_papers_formula() -> Evidence:
    """``sinusoidal_encoding`` equals a float64 loop over the formula sin/cos(2π·pos/λ_i) with the
    wavelength λ_i = 2π·10000^(2i/d) of ``sinusoidal_wavelength``; the exponent 2i/d is shared by the
    sin and cos of a pair."""
    reference = sinusoidal_encoding(N_POS, D)
    return Evidence(
        measured=(reference - _loop_table(N_POS, D)).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-10,  # angles up to 2000 rad lose ~1e-13 to rounding in float64
        derivation="float64 loop over the paper's formula, with λ_i from answers.formulas",
        counterfactual="exponent j/d with the column index j (sin and cos of a pair get different speeds)",
        counterfactual_measured=(reference - _loop_table(N_POS, D, exponent_uses_dimension=True)).abs().max().item(),
        details={"PE(1, 0) = sin 1": reference[1, 0].item(), "PE(1, 1) = cos 1": reference[1, 1].item()},
    )


def _sin_only_table(n: int, d: int) -> torch.Tensor:
    """The copy-paste slip: ``sin`` written into the odd columns too, so no pair is a (sin, cos) point."""
    table = sinusoidal_encoding(n, d)
    table[:, 1::2] = table[:, 0::2]
    return table


def _norm_spread(table: torch.Tensor) -> float:
    """max over positions of |‖PE(p)‖² − d/2|."""
    return (table.pow(2).sum(-1) - table.shape[1] / 2).abs().max().item()


def every_code_has_the_same_norm() -> Evidence:
    """Every one of the 2,000 codes has squared norm exactly d/2 = 32 (each pair is a point on the unit
    circle, sin² + cos² = 1), and every entry lies in [−1, 1]: no position is louder than another, and
    the encoding cannot swamp embeddings of comparable scale. Writing sin into the cos columns, a
    copy-paste slip, makes the norm swing with the position."""
    table = sinusoidal_encoding(N_POS, D)
    return Evidence(
        measured=_norm_spread(table),
        expected=0.0,
        comparison="abs",
        tolerance=1e-10,  # float64 rounding of 32 squares
        derivation="theory: Σ_i (sin² + cos²)(p·ω_i) = d/2 for every p",
        counterfactual="sin in every column (the cos half forgotten)",
        counterfactual_measured=_norm_spread(_sin_only_table(N_POS, D)),
        details={"largest |entry|": table.abs().max().item()},
    )


def offset_is_a_fixed_rotation_of_the_code(seed: int = 0) -> Evidence:
    """One closed-form block rotation R_k, built without looking at any position, maps PE(pos) to
    PE(pos + k) for all 2,000 positions: the offset is a linear function of the code."""
    return Evidence(
        measured=_shift_error(sinusoidal_encoding(N_POS, D)),
        expected=0.0,
        comparison="abs",
        tolerance=1e-10,  # float64 rounding of angles up to ~2000 rad
        derivation="theory: the angle-addition formulas, pair by pair",
        counterfactual="the same R_k applied to a learned-like random table",
        counterfactual_measured=_shift_error(_learned_like_table(seed)),
    )


def dot_product_depends_only_on_the_offset(seed: int = 0) -> Evidence:
    """PE(p)·PE(p + k) = Σ_i cos(k·ω_i) for every p: the similarity of two codes is a function of their
    distance only (and is symmetric in ±k)."""
    table, k = sinusoidal_encoding(N_POS, D), OFFSET
    omega = 10000 ** (-torch.arange(0, D, 2, dtype=torch.float64) / D)
    theory = torch.cos(k * omega).sum().item()

    def spread(t: torch.Tensor) -> float:
        return ((t[:-k] * t[k:]).sum(-1) - theory).abs().max().item()

    return Evidence(
        measured=spread(table),
        expected=0.0,
        comparison="abs",
        tolerance=1e-10,  # float64 rounding
        derivation="theory: sin a sin b + cos a cos b = cos(a − b), summed over pairs",
        counterfactual="learned-like random table",
        counterfactual_measured=spread(_learned_like_table(seed)),
        details={f"Σ cos({k}·ω_i)": theory},
    )


def _close_pairs(table: torch.Tensor, threshold: float = 0.1) -> int:
    """Number of position pairs whose codes are closer than ``threshold``."""
    squared = table.pow(2).sum(-1)
    distance2 = squared[:, None] + squared[None, :] - 2 * table @ table.T  # (n, n) squared distances
    distance2.fill_diagonal_(math.inf)
    return int((distance2 < threshold**2).sum().item()) // 2


def every_position_gets_a_distinct_code(n: int = 1000) -> Evidence:
    """No two of the first 1,000 positions have codes closer than 0.1, whereas the fastest pair alone
    (period 2π) keeps coming back near old positions."""
    table = sinusoidal_encoding(n, D)
    # Adjacent positions already differ by 2·sin(1/2) ≈ 0.96 in pair 0 alone, so 0.1 is a tenth of the
    # smallest step; a close pair would mean two positions are practically the same code.
    return Evidence(
        measured=_close_pairs(table),
        expected=0,
        comparison="equal",
        derivation="theory: codes coincide only if every pair's angle agrees modulo 2π",
        counterfactual="only the fastest pair (ω = 1), whose angle wraps every 2π positions",
        counterfactual_measured=_close_pairs(table[:, :2]),
        details={"slowest wavelength, positions": sinusoidal_wavelength(D // 2 - 1, D)},
    )


def figure_encoding_matrix():
    """The sinusoidal encoding for 128 positions and d_model = 64: fast-turning pairs on the left,
    slow ones on the right, every row a different pattern."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    image = ax.imshow(sinusoidal_encoding(128, D).numpy(), aspect="auto", cmap="RdBu", vmin=-1, vmax=1)
    ax.set_xlabel("dimension (sin, cos pairs; frequency falls to the right)")
    ax.set_ylabel("position")
    fig.colorbar(image, ax=ax, label="PE value")
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
