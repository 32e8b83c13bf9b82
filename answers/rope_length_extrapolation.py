"""RoPE does not extrapolate by itself: past the training length, slow pairs see angles never trained on.

Pair i of a RoPE head turns by θ_i = base^(−2i/d) per position. The fast pairs wrap around their circle
many times within the training length, so any later position only revisits angles they have seen. The
slow pairs never complete a turn: a longer context pushes them to angles outside the trained range.
Position interpolation (positions × L_train/L_new) squeezes every angle back into that range, at the
price of a finer step between neighbours, which is why it is followed by fine-tuning. (YaRN does
not change the base: it interpolates only the slow pairs; see rope_scaling_ntk_yarn.)
"""

from __future__ import annotations

import math

import torch

from answers.evidence import Evidence
from answers.formulas.positional import ntk_scaled_base, rope_pairs_completing_a_turn, rope_slowest_pair_angle
from answers.reference import apply_rope, rope_frequencies

HEAD_DIM, TRAIN_LEN, LONG_LEN = 128, 2048, 8192  # Llama-1-like head, trained at 2k, asked for 8k
INTERPOLATION = TRAIN_LEN / LONG_LEN  # position interpolation scale (Chen et al. 2023)


def _angles(positions: torch.Tensor) -> torch.Tensor:
    """(n, head_dim/2) rotation angle in [0, 2π) of every pair, read off apply_rope's output for a vector
    whose every pair is (1, 0)."""
    x = torch.zeros(len(positions), HEAD_DIM, dtype=torch.float64)
    x[:, 0::2] = 1.0
    rotated = apply_rope(x, positions)
    return torch.atan2(rotated[:, 1::2], rotated[:, 0::2]) % (2 * math.pi)


def _unseen_pairs(eval_positions: torch.Tensor) -> int:
    """Pairs for which some evaluated position has an angle more than one step θ_i away from every angle
    seen at the training positions 0 … TRAIN_LEN − 1."""
    trained = _angles(torch.arange(TRAIN_LEN)).T.contiguous()  # (pairs, n_train)
    evaluated = _angles(eval_positions).T.contiguous()  # (pairs, n_eval)
    seen = torch.sort(trained, dim=-1).values
    seen = torch.cat([seen[:, -1:] - 2 * math.pi, seen, seen[:, :1] + 2 * math.pi], dim=-1)  # wrap the circle
    slot = torch.searchsorted(seen, evaluated).clamp(1, seen.shape[1] - 1)
    gap = torch.minimum(evaluated - seen.gather(1, slot - 1), seen.gather(1, slot) - evaluated)
    step = rope_frequencies(HEAD_DIM)[:, None]  # one training step per pair
    return int((gap > step + 1e-12).any(dim=-1).sum())  # pairs more than one step from any seen angle


def _long_positions(*, interpolate: bool) -> torch.Tensor:
    """Every 8th position down from 8,191 (the angles grow monotonically, so the sample keeps the extremes
    and a fully turning pair has no gap to fall into; every position would cost 8× the time)."""
    positions = torch.arange(LONG_LEN - 1, -1, -8, dtype=torch.float64)
    return positions * INTERPOLATION if interpolate else positions


def slow_pairs_see_unseen_angles_past_the_training_length() -> Evidence:
    """At 8,192 tokens, exactly the pairs that never completed a turn within 2,048 (23 of 64 for a
    128-wide head, base 10⁴) reach angles no training position produced; with interpolation none do."""
    expected = HEAD_DIM // 2 - rope_pairs_completing_a_turn(TRAIN_LEN, HEAD_DIM)
    return Evidence(
        measured=_unseen_pairs(_long_positions(interpolate=False)),
        expected=expected,
        comparison="equal",
        derivation="theory: pairs with 2047·θ_i < 2π only ever saw the arc [0, 2047·θ_i]",
        counterfactual="position interpolation, positions × 2048/8192",
        counterfactual_measured=_unseen_pairs(_long_positions(interpolate=True)),
        details={"pairs completing a turn within 2,048 tokens": rope_pairs_completing_a_turn(TRAIN_LEN, HEAD_DIM)},
    )


def slowest_pair_angle_grows_with_the_position() -> Evidence:
    """The slowest pair's angle read off ``apply_rope`` at position 8,191 matches the whiteboard formula
    position·base^(−(d−2)/d) — four times the largest angle it reached in training."""
    measured = _angles(torch.tensor([LONG_LEN - 1]))[0, -1].item()  # < π, so no wrap-around ambiguity
    return Evidence(
        measured=measured,
        expected=rope_slowest_pair_angle(LONG_LEN - 1, HEAD_DIM),
        comparison="rel",
        tolerance=1e-12,  # float64 rounding
        unit="radians",
        derivation="formula rope_slowest_pair_angle(8191, 128)",
        counterfactual="position interpolation (position 8,191 × 1/4)",
        counterfactual_measured=_angles(torch.tensor([(LONG_LEN - 1) * INTERPOLATION]))[0, -1].item(),
        details={"largest angle in training (position 2,047)": rope_slowest_pair_angle(TRAIN_LEN - 1, HEAD_DIM)},
    )


def position_interpolation_keeps_every_angle_in_the_trained_range() -> Evidence:
    """Scaling positions by 2048/8192 keeps every pair within one step of an angle seen in training, for
    positions up to 8,191; plain RoPE does not."""
    return Evidence(
        measured=_unseen_pairs(_long_positions(interpolate=True)),
        expected=0,
        comparison="equal",
        derivation="theory: m·2048/8192 ≤ 2047.75, within one step of the trained range [0, 2047]",
        counterfactual="plain RoPE positions 0 … 8,191",
        counterfactual_measured=_unseen_pairs(_long_positions(interpolate=False)),
    )


def _neighbour_steps(positions: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    """(pairs,) angle between two neighbouring tokens in every pair, read off ``apply_rope``: the rotation
    that takes the first token's pair to the second's (no wrap-around: every step is below π)."""
    x = torch.zeros(2, HEAD_DIM, dtype=torch.float64)
    x[:, 0::2] = 1.0
    rotated = apply_rope(x, positions, base)
    first = torch.complex(rotated[0, 0::2], rotated[0, 1::2])
    second = torch.complex(rotated[1, 0::2], rotated[1, 1::2])
    return torch.angle(second / first)


def interpolation_shrinks_the_step_between_neighbours() -> Evidence:
    """The price of interpolation: in every one of the 64 pairs, neighbouring tokens now differ by a
    quarter of the trained step (0.25 rad instead of 1 rad in the fastest one), a resolution the model
    never saw. The NTK-aware base, the alternative, keeps the fastest pair's step at 1 rad."""
    theta = rope_frequencies(HEAD_DIM)

    def largest_departure(steps: torch.Tensor) -> float:
        return (steps / theta - INTERPOLATION).abs().max().item()

    neighbours = torch.tensor([100.0, 101.0])
    ntk_base = ntk_scaled_base(10000.0, 1 / INTERPOLATION, HEAD_DIM)
    return Evidence(
        measured=largest_departure(_neighbour_steps(neighbours * INTERPOLATION)),
        expected=0.0,
        comparison="abs",
        tolerance=1e-9,  # float64 rounding of angles up to 100 rad
        derivation="theory: positions m·s and (m + 1)·s differ by s·θ_i in pair i, s = 2048/8192",
        counterfactual="NTK-aware base 10⁴·4^(128/126) instead of interpolated positions",
        counterfactual_measured=largest_departure(_neighbour_steps(neighbours, ntk_base)),
        details={
            "fastest pair's step under interpolation (rad)": _neighbour_steps(neighbours * INTERPOLATION)[0].item()
        },
    )


def figure_angle_ranges_at_2k_and_8k():
    """Largest rotation angle reached by each RoPE pair (head size 128, base 10⁴) within 2,048 tokens, at
    8,192 tokens, and at 8,192 tokens with position interpolation; the dashed line is one full turn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    theta = rope_frequencies(HEAD_DIM)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    curves = (
        ("2,048 (trained)", TRAIN_LEN - 1, {"linewidth": 4, "alpha": 0.5}),
        ("8,192", LONG_LEN - 1, {}),
        ("8,192, interpolated", (LONG_LEN - 1) * INTERPOLATION, {"linestyle": ":", "color": "black"}),
    )
    for label, last, style in curves:
        ax.semilogy(last * theta.numpy(), label=label, **style)
    ax.axhline(2 * math.pi, color="grey", linestyle="--")
    ax.set_xlabel("pair index i (slower to the right)")
    ax.set_ylabel("largest angle reached (rad)")
    ax.legend()
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)


# The numeric question's configurations, plus the two contexts between which the fastest pair (θ = 1)
# completes its first turn: positions 0 … 6 reach 6 rad < 2π, positions 0 … 7 reach 7 rad.
TURN_CONFIGS = [(n, d, 10000.0) for n in (2048, 4096, 8192) for d in (64, 128)] + [(7, 8, 10000.0), (8, 8, 10000.0)]


def _turns_completed(tokens: int, head_dim: int, base: float, first_position: int = 0) -> int:
    """Pairs whose rotation, accumulated step by step from apply_rope's outputs over the context's positions,
    reaches a full turn. Each step turns a pair by θ_i ≤ 1 < π, so the wrapped steps add up without ambiguity."""
    positions = torch.arange(first_position, first_position + tokens)
    x = torch.zeros(tokens, head_dim, dtype=torch.float64)
    x[:, 0::2] = 1.0
    rotated = apply_rope(x, positions, base)
    angles = torch.atan2(rotated[:, 1::2], rotated[:, 0::2])  # (tokens, pairs), wrapped to (−π, π]
    steps = torch.remainder(angles.diff(dim=0) + math.pi, 2 * math.pi) - math.pi
    start = torch.atan2(rotated[0, 1::2], rotated[0, 0::2]).clamp(min=0)  # a context starting past 0
    return int(((start + steps.sum(dim=0)) >= 2 * math.pi).sum())


def pairs_completing_a_turn_match_the_rotations_apply_rope_makes() -> Evidence:
    """For every configuration the numeric question asks (2k–8k tokens, head sizes 64 and 128) and at the
    boundary where the fastest pair first completes a turn (7 vs 8 tokens), the whiteboard count of pairs with
    (n − 1)·θ_i ≥ 2π equals the count read off apply_rope's rotations."""
    return Evidence(
        measured=tuple(_turns_completed(n, d, base) for n, d, base in TURN_CONFIGS),
        expected=tuple(rope_pairs_completing_a_turn(n, d, base) for n, d, base in TURN_CONFIGS),
        comparison="equal",
        derivation="formula rope_pairs_completing_a_turn: pairs with (n − 1)·base^(−2i/d) ≥ 2π",
        counterfactual="positions counted from 1 (1 … n), the off-by-one of 1-indexed positions",
        counterfactual_measured=tuple(_turns_completed(n, d, base, first_position=1) for n, d, base in TURN_CONFIGS),
        unit="count",
        details={f"{n} tokens, head {d}": rope_pairs_completing_a_turn(n, d, base) for n, d, base in TURN_CONFIGS},
    )
