"""RoPE: rotate queries and keys by their position, and the score depends only on the offset.

Rotary position embedding splits q and k into 2-D pairs and rotates pair i of a token at position m by
the angle m·θ_i, θ_i = base^(−2i/d). Rotations are orthogonal, so ⟨R_m q, R_n k⟩ = ⟨q, R_(n−m) k⟩: the
attention score sees only the offset n − m, norms are unchanged, and since values are not rotated, the
whole attention output is the same if every position is shifted by a constant.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from answers.evidence import Evidence
from answers.reference import apply_rope, attend, causal_mask, randn, rope_frequencies, sinusoidal_encoding

# The mechanism a claim proves, with the apply-rope exercise's signature: rope(x, positions, base=10000.0)
# (quiz code check passes the learner's).
Rope = Callable[..., torch.Tensor]

D_HEAD = 64
PAIRS = ((5, 2), (105, 102), (1005, 1002), (10005, 10002))  # (query position, key position), offset 3


def _score(
    q: torch.Tensor, k: torch.Tensor, m: int, n: int, *, additive: bool = False, rope: Rope = apply_rope
) -> float:
    """Score of query q at position m against key k at position n: RoPE, or (counterfactual) the
    absolute sinusoidal code added to both vectors before the dot product."""
    if additive:
        return ((q + _sinusoidal_row(m)) @ (k + _sinusoidal_row(n))).item()
    return (rope(q[None], torch.tensor([m])) @ rope(k[None], torch.tensor([n])).T).item()


def _sinusoidal_row(position: int) -> torch.Tensor:
    omega = rope_frequencies(D_HEAD)
    row = torch.empty(D_HEAD, dtype=torch.float64)
    row[0::2], row[1::2] = torch.sin(position * omega), torch.cos(position * omega)
    return row


def _offset_score(q: torch.Tensor, k: torch.Tensor, query_minus_key: int) -> float:
    """The score theory predicts for any query/key pair that far apart, without ``apply_rope``: with each
    pair read as a complex number, Re Σ_i q̃_i · conj(k̃_i) · e^(i·(m − n)·θ_i)."""
    q_complex, k_complex = torch.complex(q[0::2], q[1::2]), torch.complex(k[0::2], k[1::2])
    phase = torch.polar(torch.ones(D_HEAD // 2, dtype=torch.float64), query_minus_key * rope_frequencies(D_HEAD))
    return (q_complex * k_complex.conj() * phase).sum().real.item()


def rope_scores_depend_only_on_the_offset(seed: int = 0, rope: Rope = apply_rope) -> Evidence:
    """Positions (5, 2), (105, 102), (1005, 1002) and (10005, 10002) give the same score, the one the
    complex form predicts for an offset of 3; adding absolute sinusoidal codes to q and k instead gives a
    different score for each pair."""
    q, k = randn(D_HEAD, seed=2 * seed), randn(D_HEAD, seed=2 * seed + 1)
    theory = _offset_score(q, k, 3)  # key 3 positions before the query

    def spread(additive: bool) -> float:
        return max(abs(_score(q, k, m, n, additive=additive, rope=rope) - theory) for m, n in PAIRS)

    return Evidence(
        measured=spread(additive=False),
        expected=0.0,
        comparison="abs",
        tolerance=1e-10,  # float64 angles up to 10⁴ rad carry ~1e-12 rounding
        derivation="theory: ⟨Rₘq, Rₙk⟩ = Re Σ q̃ conj(k̃) e^(i(m−n)θ), computed in complex float64",
        counterfactual="absolute sinusoidal code added to q and k",
        counterfactual_measured=spread(additive=True),
        details={f"RoPE score at {m}, {n}": _score(q, k, m, n, rope=rope) for m, n in PAIRS[:2]},
    )


def rope_preserves_vector_norms(seed: int = 0, rope: Rope = apply_rope) -> Evidence:
    """‖RoPE(x, m)‖ = ‖x‖ at every position: a rotation changes direction, never length; adding a
    position vector changes the length."""
    x, positions = randn(200, D_HEAD, seed=seed + 2), torch.arange(200) * 37

    def norm_change(rotated: torch.Tensor) -> float:
        return (rotated.norm(dim=-1) - x.norm(dim=-1)).abs().max().item()

    additive = x + sinusoidal_encoding(200 * 37, D_HEAD)[positions]
    return Evidence(
        measured=norm_change(rope(x, positions)),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding
        derivation="theory: each 2×2 block is orthogonal",
        counterfactual="absolute sinusoidal code added instead",
        counterfactual_measured=norm_change(additive),
    )


def _complex_rope(x: torch.Tensor, positions: torch.Tensor, *, interleaved: bool = True) -> torch.Tensor:
    """RoPE as complex multiplication: pair (x_2i, x_2i+1) is x_2i + i·x_2i+1, times e^(i·m·θ_i).
    With ``interleaved=False`` the pairs are (x_i, x_i+d/2), the "rotate half" layout."""
    d = x.shape[-1]
    if interleaved:
        z = torch.view_as_complex(x.reshape(*x.shape[:-1], d // 2, 2).contiguous())
    else:
        z = torch.complex(x[..., : d // 2], x[..., d // 2 :])
    z = z * torch.polar(torch.ones(1, dtype=torch.float64), positions[:, None] * rope_frequencies(d))
    return torch.view_as_real(z).flatten(-2) if interleaved else torch.cat([z.real, z.imag], -1)


def complex_multiplication_is_the_same_rotation(seed: int = 0, rope: Rope = apply_rope) -> Evidence:
    """Multiplying each pair, read as a complex number, by e^(i·m·θ) is exactly ``apply_rope``; pairing
    dimension i with i + d/2 ("rotate half") instead is a different layout that needs permuted weights."""
    x, positions = randn(3, 10, D_HEAD, seed=seed + 3), torch.arange(10) * 11  # (B, n, d)
    reference = apply_rope(x, positions)
    return Evidence(
        measured=(_complex_rope(x, positions) - rope(x, positions)).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding
        derivation="theory: (a + ib)(cos φ + i sin φ) = (a cos φ − b sin φ) + i(a sin φ + b cos φ)",
        counterfactual="pairs (i, i + d/2) instead of (2i, 2i + 1)",
        counterfactual_measured=(_complex_rope(x, positions, interleaved=False) - reference).abs().max().item(),
    )


def _shifted_output_change(*, rotate_values: bool, seed: int, shift: int = 1000, rope: Rope = apply_rope) -> float:
    """Causal attention with RoPE at positions 0 … n−1 vs shift … shift+n−1: largest output change."""
    q, k, v = (randn(1, 8, D_HEAD, seed=3 * seed + s) for s in (4, 5, 6))

    def run(start: int) -> torch.Tensor:
        positions = torch.arange(start, start + 8)
        values = rope(v, positions) if rotate_values else v
        return attend(rope(q, positions), rope(k, positions), values, causal_mask(8))

    return (run(shift) - run(0)).abs().max().item()


def rope_attention_is_unchanged_by_a_global_shift(seed: int = 0, rope: Rope = apply_rope) -> Evidence:
    """Rotating q and k only, a whole causal attention output is identical whether the sequence starts at
    position 0 or 1000; rotating the values as well would make the output depend on absolute position."""
    return Evidence(
        measured=_shifted_output_change(rotate_values=False, seed=seed, rope=rope),
        expected=0.0,
        comparison="abs",
        tolerance=1e-10,  # float64 rounding of angles up to ~1000 rad
        derivation="theory: every score depends only on n − m, and the values carry no position",
        counterfactual="values rotated too",
        counterfactual_measured=_shifted_output_change(rotate_values=True, seed=seed),
    )


def _score_curve(start: int, offsets: torch.Tensor, *, additive: bool) -> list[float]:
    q, k = randn(D_HEAD, seed=0), randn(D_HEAD, seed=1)
    return [_score(q, k, start + int(o), start, additive=additive) for o in offsets]


def figure_score_depends_only_on_offset():
    """The q·k score against the query–key offset, for the same q and k placed at three absolute
    positions. With RoPE (left) the three curves coincide; with absolute codes added (right) they do not."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    offsets = torch.arange(0, 48)
    fig, axes = plt.subplots(1, 2, figsize=(7, 3.5), sharey=True)
    for ax, additive, title in zip(axes, (False, True), ("RoPE", "absolute sinusoidal, added"), strict=True):
        for start, style in ((0, "-"), (100, "--"), (1000, ":")):
            ax.plot(offsets, _score_curve(start, offsets, additive=additive), style, label=f"key at {start}")
        ax.set_title(title)
        ax.set_xlabel("offset m − n (query m after key n)")
    axes[0].set_ylabel("score q·k")
    axes[0].legend()
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
