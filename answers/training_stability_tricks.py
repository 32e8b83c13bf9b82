"""What keeps Transformer training stable: gradient clipping and learning-rate warm-up.

Residual connections and normalisation keep activations and gradients in range at initialisation;
two training-loop tricks handle the rest. Clipping rescales the whole gradient when its global norm
exceeds a threshold, keeping its direction. Warm-up raises the learning rate gradually, because Adam's
first updates move every weight by about the full learning rate whatever the gradient's size.
"""

from __future__ import annotations

import torch

# torch.optim imports torch._dynamo on first use (~1 s): load it with the module, not inside a claim.
import torch._dynamo
from torch import nn

from answers.evidence import Evidence
from answers.formulas.training import noam_learning_rate
from answers.reference import DecoderBlock, randn, seeded_module

D_MODEL, WARMUP = 512, 4000  # the 2017 paper's base setting


def _block_with_gradient(loss_scale: float) -> nn.Module:
    block = seeded_module(lambda: DecoderBlock(32, 4, 128)).train()
    (block(randn(2, 8, 32)).pow(2).mean() * loss_scale).backward()
    return block


def _global_norm(module: nn.Module) -> float:
    return torch.cat([p.grad.flatten() for p in module.parameters()]).norm().item()


def clipping_caps_the_global_gradient_norm(max_norm: float = 1.0) -> Evidence:
    """clip_grad_norm_ rescales a gradient spike to norm 1.0 (direction unchanged); without it the spike stays."""
    block = _block_with_gradient(loss_scale=1e4)  # a spike: the loss suddenly 10⁴× larger
    before = torch.cat([p.grad.flatten() for p in block.parameters()])
    reported = torch.nn.utils.clip_grad_norm_(block.parameters(), max_norm).item()
    after = torch.cat([p.grad.flatten() for p in block.parameters()])
    return Evidence(
        measured=after.norm().item(),
        expected=max_norm,
        comparison="abs",
        tolerance=1e-6,  # torch divides by (norm + 1e-6), so the clipped norm is max_norm·norm/(norm + 1e-6)
        derivation="torch.nn.utils.clip_grad_norm_: g ← g · max_norm / ‖g‖ when ‖g‖ > max_norm",
        counterfactual="no clipping",
        counterfactual_measured=before.norm().item(),
        details={
            "norm before (returned by torch)": reported,
            "cosine(before, after)": torch.cosine_similarity(before, after, dim=0).item(),
        },
    )


def _peak_step(lr) -> int:
    steps = range(1, 5 * WARMUP + 1)
    return max(steps, key=lr)


def noam_schedule_peaks_at_the_end_of_warm_up() -> Evidence:
    """lr = d^-0.5·min(s^-0.5, s·w^-1.5) rises linearly for w = 4000 steps, peaks there, then decays as 1/√s."""
    return Evidence(
        measured=_peak_step(lambda s: noam_learning_rate(s, D_MODEL, WARMUP)),
        expected=WARMUP,
        comparison="equal",
        derivation="theory: s^-0.5 = s·w^-1.5 exactly at s = w",
        counterfactual="no warm-up: lr = d^-0.5·s^-0.5",
        counterfactual_measured=_peak_step(lambda s: D_MODEL**-0.5 * s**-0.5),
        unit="count",
        details={
            "peak lr (d·w)^-0.5": (D_MODEL * WARMUP) ** -0.5,
            "lr at step 100": noam_learning_rate(100, D_MODEL, WARMUP),
            "lr at step 100,000": noam_learning_rate(100_000, D_MODEL, WARMUP),
        },
    )


def _first_step_move(optimizer_class, loss_scale: float = 1.0, lr: float = 1e-3) -> float:
    """Median |Δθ| / lr over all parameters after one optimiser step."""
    block = _block_with_gradient(loss_scale)
    before = [p.detach().clone() for p in block.parameters()]
    optimizer_class(block.parameters(), lr=lr).step()
    moves = torch.cat([(p.detach() - b).flatten() for p, b in zip(block.parameters(), before, strict=True)])
    return moves.abs().median().item() / lr


def adams_first_step_moves_weights_by_the_full_learning_rate() -> Evidence:
    """Adam's first update is m̂/√v̂ = g/|g| per weight: a typical weight moves by the full lr however
    small the gradient — the reason a large initial learning rate is dangerous and warm-up helps."""
    return Evidence(
        measured=_first_step_move(torch.optim.Adam),
        expected=1.0,
        comparison="rel",
        tolerance=1e-3,  # Adam's ε = 1e-8 next to a median |g| far above 1e-5 shifts it by < 0.1 %
        derivation="theory: after one step m̂ = g and v̂ = g², so the update is lr·g/(|g| + ε)",
        counterfactual="plain SGD (the update scales with the gradient)",
        counterfactual_measured=_first_step_move(torch.optim.SGD),
        details={"Adam, gradient 100× smaller": _first_step_move(torch.optim.Adam, loss_scale=1e-2)},
    )


def figure_noam_schedule():
    """The original Transformer learning-rate schedule for d_model = 512: linear warm-up over 4,000 steps
    to (d·w)^-0.5 ≈ 7·10⁻⁴, then decay as 1/√step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = list(range(1, 40_001, 50))
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(steps, [noam_learning_rate(s, D_MODEL, WARMUP) for s in steps], label="warm-up 4,000 steps")
    ax.plot(steps, [noam_learning_rate(s, D_MODEL, 8000) for s in steps], "--", label="warm-up 8,000 steps")
    ax.axvline(WARMUP, color="grey", linewidth=0.8)
    ax.set_xlabel("training step")
    ax.set_ylabel("learning rate")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
