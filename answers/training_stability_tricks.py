"""What keeps Transformer training stable: gradient clipping and learning-rate warm-up.

Residual connections and normalisation keep activations and gradients in range at initialisation;
two training-loop tricks handle the rest. Clipping rescales the whole gradient when its global norm
exceeds a threshold, keeping its direction. Warm-up raises the learning rate gradually, because Adam's
first updates move every weight by about the full learning rate whatever the gradient's size.
"""

from __future__ import annotations

import math

import torch

# torch.optim imports torch._dynamo on first use (~1 s): load it with the module, not inside a claim.
import torch._dynamo
import torch.nn.functional as F
from torch import nn

from answers.evidence import Evidence
from answers.formulas.training import noam_learning_rate
from answers.reference import DecoderBlock, randn, seeded_module

D_MODEL, WARMUP = 512, 4000  # the 2017 paper's base setting


def _block_with_gradient(loss_scale: float, seed: int = 0) -> nn.Module:
    block = seeded_module(lambda: DecoderBlock(32, 4, 128), seed=seed).train()
    (block(randn(2, 8, 32, seed=seed)).pow(2).mean() * loss_scale).backward()
    return block


def _global_norm(module: nn.Module) -> float:
    return torch.cat([p.grad.flatten() for p in module.parameters()]).norm().item()


def _flat_grad(module: nn.Module) -> torch.Tensor:
    return torch.cat([p.grad.flatten() for p in module.parameters()])


def clipping_caps_the_global_gradient_norm(max_norm: float = 1.0, seed: int = 0) -> Evidence:
    """clip_grad_norm_ turns a gradient spike into exactly max_norm · g/‖g‖: norm 1.0, direction unchanged.
    Clipping each element instead (clip_grad_value_) bends the direction."""
    block = _block_with_gradient(loss_scale=1e4, seed=seed)  # a spike: the loss suddenly 10⁴× larger
    before = _flat_grad(block)
    target = max_norm * before / before.norm()  # theory: same direction, length max_norm
    reported = torch.nn.utils.clip_grad_norm_(block.parameters(), max_norm).item()
    after = _flat_grad(block)
    # The element-wise alternative, with the threshold that caps the norm at max_norm just the same.
    by_value = _block_with_gradient(loss_scale=1e4, seed=seed)
    torch.nn.utils.clip_grad_value_(by_value.parameters(), max_norm / math.sqrt(before.numel()))
    by_value_grad = _flat_grad(by_value)
    return Evidence(
        measured=(after - target).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-6,  # torch divides by (‖g‖ + 1e-6), so each entry is off by at most ≈ 1e-6·|g_i|/‖g‖
        derivation="theory: g ← g · max_norm / ‖g‖ when ‖g‖ > max_norm",
        counterfactual="element-wise clipping (clip_grad_value_ at max_norm/√n, which also caps the norm)",
        counterfactual_measured=(by_value_grad - target).abs().max().item(),
        details={
            "norm before (returned by torch)": reported,
            "norm after": after.norm().item(),
            "cosine(before, after)": torch.cosine_similarity(before, after, dim=0).item(),
            "cosine(before, element-wise clipped)": torch.cosine_similarity(before, by_value_grad, dim=0).item(),
        },
    )


def _peak_step(lr) -> int:
    steps = range(1, 5 * WARMUP + 1)
    return max(steps, key=lr)


def _tensor2tensor_noam(step: int, d_model: int, warmup: int) -> float:
    """The same schedule as tensor2tensor factors it (constant · linear_warmup · rsqrt_decay ·
    rsqrt_hidden_size): d^-0.5 · min(1, s/w) / √max(s, w). An independent expression of section 5.3."""
    return d_model**-0.5 * min(1.0, step / warmup) / math.sqrt(max(step, warmup))


# Hand-computed from section 5.3 with d = 512, w = 4000: step 100 → 512^-0.5 · 100 · 4000^-1.5,
# step 4000 → (512 · 4000)^-0.5, step 100,000 → 512^-0.5 · 100,000^-0.5.
PAPER_VALUES = {100: 1.746928e-05, 4000: 6.987712e-04, 100_000: 1.397542e-04}


NUMERIC_STEPS = (100, 1000, 4000, 10_000, 100_000)  # the steps the numeric question asks about


def noam_learning_rate_matches_the_paper_at_every_step() -> Evidence:
    """noam_learning_rate agrees with tensor2tensor's factored form of the 2017 schedule at every step
    1 … 40,000 and at the numeric question's steps, for d ∈ {512, 1024} and w ∈ {4000, 8000} (the
    question's grid), and with the hand-computed values; it peaks at s = w."""
    grid = [(d, w) for d in (512, 1024) for w in (4000, 8000)]
    steps = sorted({*range(1, 40_001), *NUMERIC_STEPS})

    def worst(lr) -> float:
        t2t = max(abs(lr(s, d, w) / _tensor2tensor_noam(s, d, w) - 1) for d, w in grid for s in steps)
        by_hand = max(abs(lr(s, D_MODEL, WARMUP) / v - 1) for s, v in PAPER_VALUES.items())
        return max(t2t, by_hand)

    return Evidence(
        measured=worst(noam_learning_rate),
        expected=0.0,
        comparison="abs",
        # The two expressions agree to float64 rounding (~1e-16); the hand values are rounded to 7 significant
        # digits, ≤ 5e-7 relative.
        tolerance=1e-6,
        derivation="tensor2tensor's linear_warmup · rsqrt_decay · rsqrt_hidden_size (Vaswani et al. 2017, §5.3),"
        " and values computed by hand from §5.3",
        counterfactual="a slip the argmax cannot see: d^-1 instead of d^-0.5 (same shape, same peak step)",
        counterfactual_measured=worst(lambda s, d, w: d**-1 * min(s**-0.5, s * w**-1.5)),
        details={
            **{
                f"lr at step {s:,} (hand-computed {v:.6g})": noam_learning_rate(s, D_MODEL, WARMUP)
                for s, v in PAPER_VALUES.items()
            },
            "peak step (argmax)": _peak_step(lambda s: noam_learning_rate(s, D_MODEL, WARMUP)),
        },
    )


def z_loss_pins_the_softmax_normaliser(seed: int = 0) -> Evidence:
    """Cross-entropy is blind to adding a constant to every logit (its gradient sums to 0 per row), so
    nothing stops log Z from drifting; PaLM's z-loss 1e-4 · (log Z)² adds a pull of exactly
    2·10⁻⁴ · log Z along that direction."""
    g = torch.Generator().manual_seed(seed)
    logits = (torch.randn(64, 1000, generator=g, dtype=torch.float64) * 3 + 8).requires_grad_()  # log Z ≫ 0
    targets = torch.randint(1000, (64,), generator=g)
    log_z = torch.logsumexp(logits, -1)
    (F.cross_entropy(logits, targets, reduction="sum") + 1e-4 * (log_z**2).sum()).backward()
    with_z = (logits.grad.sum(-1) - 2e-4 * log_z.detach()).abs().max().item()
    logits.grad = None
    F.cross_entropy(logits, targets, reduction="sum").backward()
    without_z = (logits.grad.sum(-1) - 2e-4 * log_z.detach()).abs().max().item()
    return Evidence(
        measured=with_z,
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64
        derivation="theory: ∂(log Z)²/∂z_i = 2·log Z·softmax_i, whose sum over i is 2·log Z; CE's gradient sums to 0",
        counterfactual="cross-entropy alone (no z-loss): the shift direction gets no gradient",
        counterfactual_measured=without_z,
        details={"mean log Z": log_z.mean().item()},
    )


def _first_step_move(optimizer_class, loss_scale: float = 1.0, lr: float = 1e-3, seed: int = 0) -> float:
    """Median |Δθ| / lr over all parameters after one optimiser step."""
    block = _block_with_gradient(loss_scale, seed)
    before = [p.detach().clone() for p in block.parameters()]
    optimizer_class(block.parameters(), lr=lr).step()
    moves = torch.cat([(p.detach() - b).flatten() for p, b in zip(block.parameters(), before, strict=True)])
    return moves.abs().median().item() / lr


def adams_first_step_moves_weights_by_the_full_learning_rate(seed: int = 0) -> Evidence:
    """Adam's first update is m̂/√v̂ = g/|g| per weight: a typical weight moves by the full lr however
    small the gradient — the reason a large initial learning rate is dangerous and warm-up helps."""
    moves = {scale: _first_step_move(torch.optim.Adam, loss_scale=scale, seed=seed) for scale in (1.0, 1e-2)}
    return Evidence(
        # The scale farther from the full-lr move: the statement is "whatever the gradient's size".
        measured=max(moves.values(), key=lambda m: abs(m - 1)),
        expected=1.0,
        comparison="rel",
        # Adam's ε = 1e-8 shifts the median move by ε/|g|: the median |g| is ≈ 2e-3 at full scale and still
        # ≳ 1e-5 at 1/100, so the shift stays < 0.1 %.
        tolerance=1e-3,
        derivation="theory: after one step m̂ = g and v̂ = g², so the update is lr·g/(|g| + ε)",
        counterfactual="plain SGD (the update scales with the gradient)",
        counterfactual_measured=_first_step_move(torch.optim.SGD, seed=seed),
        details={"Adam, full gradient": moves[1.0], "Adam, gradient 100× smaller": moves[1e-2]},
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
