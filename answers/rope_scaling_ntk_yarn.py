"""RoPE context extension: which frequencies position interpolation, NTK-aware scaling and YaRN compress.

To run a RoPE model s times longer than it was trained, position interpolation (PI) divides every pair's
frequency by s — the fast pairs included, which blurs neighbouring tokens. NTK-aware scaling raises the
base to base·s^(d/(d−2)) instead: the fastest pair is untouched and the slowest is slowed exactly s times,
with a smooth change in between. YaRN's "NTK-by-parts" decides per pair: pairs that complete many turns
within the training length keep their frequency, pairs that never complete one are interpolated fully.
"""

from __future__ import annotations

import functools
import math

import torch

from answers.evidence import Evidence
from answers.formulas.positional import ntk_scaled_base, rope_slowest_pair_angle
from answers.reference import apply_rope, rope_frequencies

HEAD_DIM, BASE, TRAIN_LEN, SCALE = 128, 10000.0, 2048, 4.0  # stretch a 2k model to 8k
LONG_LEN = int(TRAIN_LEN * SCALE)
YARN_ALPHA, YARN_BETA = 1.0, 32.0  # YaRN's ramp: < 1 turn → interpolate fully, > 32 turns → keep


def _frequencies(scheme: str) -> torch.Tensor:
    """(HEAD_DIM/2,) per-pair angle per position under each extension scheme."""
    theta = rope_frequencies(HEAD_DIM, BASE)
    if scheme == "plain":
        return theta
    if scheme == "pi":
        return theta / SCALE
    if scheme == "ntk":
        return rope_frequencies(HEAD_DIM, ntk_scaled_base(BASE, SCALE, HEAD_DIM))
    if scheme == "yarn":
        turns = TRAIN_LEN * theta / (2 * math.pi)  # r_i: full turns within the training length
        keep = ((turns - YARN_ALPHA) / (YARN_BETA - YARN_ALPHA)).clamp(0, 1)  # γ: 0 → interpolate, 1 → keep
        return (1 - keep) * theta / SCALE + keep * theta
    raise ValueError(scheme)


def _rope_angle(position: float, pair: int, *, base: float) -> float:
    """Angle of one pair read off ``apply_rope``'s output for a vector whose pairs are all (1, 0)."""
    x = torch.zeros(1, HEAD_DIM, dtype=torch.float64)
    x[:, 0::2] = 1.0
    rotated = apply_rope(x, torch.tensor([position], dtype=torch.float64), base)
    return math.atan2(rotated[0, 2 * pair + 1].item(), rotated[0, 2 * pair].item())


def _steps(base: float, position_scale: float = 1.0) -> torch.Tensor:
    """(pairs,) angle between two neighbouring tokens in every pair, read off ``apply_rope``."""
    x = torch.zeros(2, HEAD_DIM, dtype=torch.float64)
    x[:, 0::2] = 1.0
    rotated = apply_rope(x, torch.tensor([100.0, 101.0], dtype=torch.float64) * position_scale, base)
    first = torch.complex(rotated[0, 0::2], rotated[0, 1::2])
    second = torch.complex(rotated[1, 0::2], rotated[1, 1::2])
    return torch.angle(second / first)  # every step is below π, so no wrap-around


def ntk_scaling_leaves_the_fastest_pair_untouched() -> Evidence:
    """With the NTK base, pair i turns s^(−2i/(d−2)) times as fast as before, read off ``apply_rope`` for
    all 64 pairs: the fastest pair keeps exactly 1 rad per token, the slowest is slowed s times. Position
    interpolation slows every pair s times, the fastest included."""
    pair = torch.arange(HEAD_DIM // 2, dtype=torch.float64)
    theory = SCALE ** (-2 * pair / (HEAD_DIM - 2))  # (b·s^(d/(d−2)))^(−2i/d) = b^(−2i/d)·s^(−2i/(d−2))
    plain = rope_frequencies(HEAD_DIM, BASE)

    def error(steps: torch.Tensor) -> float:
        return (steps / plain - theory).abs().max().item()

    ntk_steps = _steps(ntk_scaled_base(BASE, SCALE, HEAD_DIM))
    return Evidence(
        measured=error(ntk_steps),
        expected=0.0,
        comparison="abs",
        tolerance=1e-9,  # float64 rounding of angles up to 100 rad
        derivation="theory: θ'_i = (b·s^(d/(d−2)))^(−2i/d) = θ_i·s^(−2i/(d−2)); 1 at i = 0, 1/s at 2i = d − 2",
        counterfactual="position interpolation (positions × 1/4)",
        counterfactual_measured=error(_steps(BASE, 1 / SCALE)),
        details={"fastest pair's step under NTK (rad)": ntk_steps[0].item()},
    )


def ntk_base_slows_the_slowest_pair_exactly_like_interpolation() -> Evidence:
    """At position 8,191, the slowest pair under the NTK base (read off ``apply_rope``) has the angle
    position interpolation gives it — a quarter of plain RoPE's — which is how the base formula is chosen."""
    ntk_base = ntk_scaled_base(BASE, SCALE, HEAD_DIM)
    last = HEAD_DIM // 2 - 1
    return Evidence(
        measured=_rope_angle(LONG_LEN - 1, last, base=ntk_base),
        expected=rope_slowest_pair_angle((LONG_LEN - 1) / SCALE, HEAD_DIM, BASE),
        comparison="rel",
        tolerance=1e-10,  # float64 rounding of a power with a fractional exponent
        unit="radians",
        derivation="theory: (base·s^(d/(d−2)))^(−(d−2)/d) = base^(−(d−2)/d)/s; formula rope_slowest_pair_angle",
        counterfactual="the original base",
        counterfactual_measured=_rope_angle(LONG_LEN - 1, last, base=BASE),
    )


@functools.cache
def _seen_angles() -> torch.Tensor:
    """(pairs, n_train + 2) sorted angles of the trained positions under plain RoPE, wrapped at both ends."""
    trained = (torch.arange(TRAIN_LEN, dtype=torch.float64)[:, None] * _frequencies("plain")) % (2 * math.pi)
    seen = torch.sort(trained.T.contiguous(), dim=-1).values  # (pairs, n_train)
    return torch.cat([seen[:, -1:] - 2 * math.pi, seen, seen[:, :1] + 2 * math.pi], dim=-1)


def _unseen_pairs(scheme: str) -> int:
    """Pairs whose angle, somewhere in positions 0 … 8,191, is more than one step from every angle seen
    at the trained positions 0 … 2,047 under plain RoPE (what the weights were trained on)."""
    positions = torch.arange(LONG_LEN - 1, -1, -8, dtype=torch.float64)  # every 8th: angles are monotone
    evaluated = (positions[:, None] * _frequencies(scheme)) % (2 * math.pi)
    seen, evaluated = _seen_angles(), evaluated.T.contiguous()
    slot = torch.searchsorted(seen, evaluated).clamp(1, seen.shape[1] - 1)
    gap = torch.minimum(evaluated - seen.gather(1, slot - 1), seen.gather(1, slot) - evaluated)
    return int((gap > _frequencies("plain")[:, None] + 1e-12).any(dim=-1).sum())


def yarn_by_parts_keeps_every_angle_in_range_while_ntk_does_not() -> Evidence:
    """YaRN interpolates exactly the pairs that never completed a turn in training, so no pair leaves the
    angles it was trained on; NTK's smooth base change under-compresses the middle pairs, most of the
    non-turning ones still overshoot their trained arc at 8k (the slowest ones only slightly)."""
    return Evidence(
        measured=_unseen_pairs("yarn"),
        expected=0,
        comparison="equal",
        derivation="theory: pairs with < 1 turn are divided by s (as PI); the rest already saw every angle",
        counterfactual="NTK-aware base change",
        counterfactual_measured=_unseen_pairs("ntk"),
        details={"plain RoPE": _unseen_pairs("plain"), "position interpolation": _unseen_pairs("pi")},
    )


def _authors_yarn_frequencies() -> torch.Tensor:
    """YaRN as the authors' code computes it (jquesnelle/yarn, ``find_correction_range`` and
    ``_yarn_linear_ramp_mask``; Hugging Face copies it): the cut-offs are pair indices found from the
    rotation counts, rounded outwards, with a linear ramp over the pair index between them."""

    def correction_pair(turns: float) -> float:  # the pair i whose frequency completes `turns` in TRAIN_LEN
        return HEAD_DIM * math.log(TRAIN_LEN / (turns * 2 * math.pi)) / (2 * math.log(BASE))

    low = max(math.floor(correction_pair(YARN_BETA)), 0)
    high = min(math.ceil(correction_pair(YARN_ALPHA)), HEAD_DIM - 1)
    ramp = ((torch.arange(HEAD_DIM // 2, dtype=torch.float64) - low) / (high - low)).clamp(0, 1)
    extrapolate = 1 - ramp  # 1: keep the trained frequency, 0: interpolate
    theta = BASE ** (-torch.arange(0, HEAD_DIM, 2, dtype=torch.float64) / HEAD_DIM)
    return theta / SCALE * (1 - extrapolate) + theta * extrapolate


def _pairs_kept_exactly(frequencies: torch.Tensor) -> int:
    return int((frequencies == _frequencies("plain")).sum())


def yarn_leaves_high_frequency_pairs_untouched() -> Evidence:
    """YaRN keeps the frequency of every pair that turns more than 32 times within the training length: 17
    of 64 pairs at d = 128, trained on 2,048, the same 17 the authors' code keeps. NTK-aware scaling, the
    method it refines, keeps only the fastest pair; the others up to i = 16 turn up to 1.42× slower."""
    theta = _frequencies("plain")
    fast = TRAIN_LEN * theta / (2 * math.pi) > YARN_BETA
    ntk = _frequencies("ntk")
    return Evidence(
        measured=_pairs_kept_exactly(_frequencies("yarn")),
        expected=_pairs_kept_exactly(_authors_yarn_frequencies()),
        comparison="equal",
        derivation="the authors' implementation (cut-offs as pair indices, rounded outwards), re-typed here",
        counterfactual="NTK-aware base change",
        counterfactual_measured=_pairs_kept_exactly(ntk),
        details={
            "pairs above 32 turns": int(fast.sum()),
            "largest slow-down of those pairs under NTK": (theta[fast] / ntk[fast]).max().item(),
            "largest relative gap in the ramp, paper's γ(r) vs the code's ramp over i": (
                (_frequencies("yarn") / _authors_yarn_frequencies() - 1).abs().max().item()
            ),
        },
    )


def figure_compression_per_pair():
    """How many times each RoPE pair's frequency is divided when a 2k model (head size 128) is stretched
    to 8k: position interpolation divides all by 4, NTK-aware scaling from 1 (fast) to 4 (slow), YaRN keeps
    fast pairs and interpolates slow ones fully."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    theta = _frequencies("plain")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for scheme, label in (("pi", "position interpolation"), ("ntk", "NTK-aware base"), ("yarn", "YaRN by parts")):
        ax.plot((theta / _frequencies(scheme)).numpy(), label=label)
    ax.set_xlabel("pair index i (slower to the right)")
    ax.set_ylabel("frequency divided by")
    ax.legend()
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
