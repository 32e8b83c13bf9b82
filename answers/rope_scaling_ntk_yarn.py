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


def ntk_scaling_leaves_the_fastest_pair_untouched() -> Evidence:
    """With the NTK base, neighbouring tokens still differ by 1 rad in the fastest pair (θ_0 = base⁰ = 1
    whatever the base); position interpolation shrinks that step to 1/s."""
    ntk_base = ntk_scaled_base(BASE, SCALE, HEAD_DIM)
    return Evidence(
        measured=_rope_angle(1.0, 0, base=ntk_base),
        expected=1.0,
        comparison="rel",
        tolerance=1e-12,  # float64 rounding
        unit="radians",
        derivation="theory: θ_0 = base^0 = 1 for any base",
        counterfactual="position interpolation (position 1 → 1/4)",
        counterfactual_measured=_rope_angle(1.0 / SCALE, 0, base=BASE),
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


def yarn_leaves_high_frequency_pairs_untouched() -> Evidence:
    """Pairs completing more than 32 turns within the training length keep their exact frequency under
    YaRN; position interpolation divides them by s like every other pair."""
    theta = _frequencies("plain")
    fast = TRAIN_LEN * theta / (2 * math.pi) > YARN_BETA

    def largest_change(scheme: str) -> float:
        return (_frequencies(scheme)[fast] / theta[fast] - 1).abs().max().item()

    return Evidence(
        measured=largest_change("yarn"),
        expected=0.0,
        comparison="abs",
        tolerance=1e-15,  # γ = 1 exactly, so the frequency is copied
        derivation="definition: the ramp γ is 1 above β = 32 turns",
        counterfactual="position interpolation",
        counterfactual_measured=largest_change("pi"),
        details={"pairs above 32 turns": int(fast.sum())},
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
