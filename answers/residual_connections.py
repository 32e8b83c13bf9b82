"""Residual connections: an identity path for the signal and the gradient.

A residual block computes x + f(x), so its Jacobian is I + ∂f/∂x: the gradient from above reaches the block's
input unchanged plus whatever f contributes. Stacked, the identity paths carry gradient to the first layer
however deep the network is; without them the gradient is multiplied by one small Jacobian per layer and
vanishes geometrically with depth.
"""

from __future__ import annotations

import torch
from torch import nn

from answers.evidence import Evidence
from answers.reference import randn, seeded_module

D, DEPTH = 64, 32


def _gradient_norms(residual: bool, depth: int = DEPTH) -> list[float]:
    """‖∂L/∂x_l‖ at the input of every layer l = 0 … depth of a tanh MLP stack (default nn.Linear init),
    for a loss L = ⟨r, x_depth⟩ with a fixed random read-out r."""
    layers = [seeded_module(lambda: nn.Linear(D, D), seed=layer) for layer in range(depth)]
    x = randn(8, D, seed=100).requires_grad_()
    states = [x]
    for layer in layers:
        block = torch.tanh(layer(states[-1]))
        states.append(states[-1] + block if residual else block)
        states[-1].retain_grad()
    (states[-1] * randn(8, D, seed=101)).sum().backward()
    return [s.grad.norm().item() for s in states]


def residuals_keep_the_gradient_from_vanishing_with_depth() -> Evidence:
    """Through 32 residual blocks the gradient at the input is at least as large as at the top; through the
    same 32 layers without the skip connections it all but vanishes."""

    def bottom_over_top(residual: bool, depth: int = DEPTH) -> float:
        norms = _gradient_norms(residual, depth)
        return norms[0] / norms[-1]

    return Evidence(
        measured=bottom_over_top(residual=True),
        expected=1.0,
        comparison="at_least",
        derivation="theory: E‖(I + J)ᵀg‖² = ‖g‖² + E‖Jᵀg‖² ≥ ‖g‖² for zero-mean random J",
        counterfactual="the same 32 layers without skip connections",
        counterfactual_measured=bottom_over_top(residual=False),
        details={f"without skips, {k} layers": bottom_over_top(residual=False, depth=k) for k in (4, 16)},
    )


def _jacobian_minus_identity_gap(residual: bool, d: int = 8) -> float:
    """‖J_block − I − J_f‖ for a block built on f = tanh∘Linear: zero exactly when the block is x + f(x)."""
    layer = seeded_module(lambda: nn.Linear(d, d), seed=7)
    f = lambda x: torch.tanh(layer(x))  # noqa: E731
    block = (lambda x: x + f(x)) if residual else f
    x = randn(d, seed=8)
    jacobian_block = torch.autograd.functional.jacobian(block, x)
    jacobian_f = torch.autograd.functional.jacobian(f, x)
    return (jacobian_block - torch.eye(d, dtype=torch.float64) - jacobian_f).norm().item()


def a_residual_block_jacobian_is_identity_plus_the_sublayers() -> Evidence:
    """The Jacobian of x + f(x) is exactly I + ∂f/∂x: the upstream gradient passes through untouched, plus
    f's contribution."""
    return Evidence(
        measured=_jacobian_minus_identity_gap(residual=True),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding only
        derivation="theory: ∂(x + f(x))/∂x = I + ∂f/∂x",
        counterfactual="the block without its skip connection, f(x)",
        counterfactual_measured=_jacobian_minus_identity_gap(residual=False),
    )


def figure_gradient_norm_by_depth():
    """Gradient norm at the input of each layer of a 32-layer tanh stack, with and without residual
    connections (log scale). With skips it stays of the same order all the way down (growing slightly, as
    each block adds its own path); without them it shrinks by a roughly constant factor per layer."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for residual, label in ((True, "with residual connections"), (False, "without")):
        ax.semilogy(range(DEPTH + 1), _gradient_norms(residual), "o-", ms=3, label=label)
    ax.set_xlabel("layer l (0 = input, 32 = top)")
    ax.set_ylabel("‖∂L/∂x_l‖")
    ax.set_title("Gradient reaching each layer, 32 tanh layers")
    ax.legend()
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
