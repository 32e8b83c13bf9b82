"""What gradient checkpointing trades: stored activations for one extra forward pass.

Backward needs the intermediate activations of every layer. Checkpointing keeps only each block's input
during the forward pass and re-runs the block's forward inside backward to rebuild the rest. Memory for
saved activations drops to the block inputs, the gradients are exactly the same (the RNG state is
replayed so dropout draws the same mask), and every block runs forward twice.
"""

from __future__ import annotations

import torch

# torch.utils.checkpoint imports torch._dynamo on first use (~1 s): load it with the module, not in a claim.
import torch._dynamo
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

from answers.evidence import Evidence
from answers.reference import randn, seeded_module

BLOCKS, D, TOKENS = 8, 32, 64


class _Block(nn.Module):
    """Residual FFN block with dropout; counts its forward calls."""

    def __init__(self) -> None:
        super().__init__()
        self.up, self.down = nn.Linear(D, 4 * D), nn.Linear(4 * D, D)
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return x + self.down(F.dropout(F.gelu(self.up(x)), p=0.1, training=self.training))


def _run(checkpointed: bool, preserve_rng_state: bool = True, seed: int = 0) -> tuple[int, torch.Tensor, int]:
    """(activation bytes saved for backward, flattened parameter gradients, block forward calls) for one step."""
    blocks = seeded_module(lambda: nn.ModuleList(_Block() for _ in range(BLOCKS)), seed=seed).train()
    x = randn(TOKENS, D, seed=seed + 1)
    # Autograd also saves the weights a Linear's backward needs; they exist anyway, so they are not
    # activation memory and are left out of the count.
    weights = {p.data_ptr() for p in blocks.parameters()}
    saved = []

    def pack(t: torch.Tensor) -> torch.Tensor:
        if t.data_ptr() not in weights:
            saved.append(t.numel() * t.element_size())
        return t

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # dropout draws from the global RNG; fork_rng restores it afterwards
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            h = x
            for block in blocks:
                if checkpointed:
                    h = checkpoint(block, h, use_reentrant=False, preserve_rng_state=preserve_rng_state)
                else:
                    h = block(h)
        h.pow(2).sum().backward()
    grads = torch.cat([p.grad.flatten() for p in blocks.parameters()])
    return sum(saved), grads, sum(b.calls for b in blocks)


def checkpointing_keeps_only_block_inputs(seed: int = 0) -> Evidence:
    """With checkpointing, the activation bytes saved for backward are at most the 8 block inputs;
    without it, every intermediate of every block is kept (about 13× more)."""
    input_bytes = BLOCKS * TOKENS * D * 8  # one (TOKENS, D) float64 input per block
    return Evidence(
        measured=_run(checkpointed=True, seed=seed)[0],
        expected=input_bytes,
        comparison="at_most",
        derivation=f"theory: {BLOCKS} blocks × {TOKENS}·{D} float64 inputs = {input_bytes:,} B",
        counterfactual="no checkpointing (weights excluded from both counts)",
        counterfactual_measured=_run(checkpointed=False, seed=seed)[0],
        unit="bytes",
    )


def checkpointed_gradients_are_identical(seed: int = 0) -> Evidence:
    """Recomputing the blocks in backward gives bit-identical gradients, dropout included, because
    checkpoint replays the RNG state."""
    _, reference, _ = _run(checkpointed=False, seed=seed)
    _, replayed, _ = _run(checkpointed=True, seed=seed)
    _, fresh_rng, _ = _run(checkpointed=True, preserve_rng_state=False, seed=seed)
    return Evidence(
        measured=(replayed - reference).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=0.0,  # same ops, same inputs, same dropout masks: the same bits
        derivation="torch's own backward without checkpointing",
        counterfactual="recompute without replaying the RNG state (preserve_rng_state=False)",
        counterfactual_measured=(fresh_rng - reference).abs().max().item(),
    )


def checkpointing_runs_every_forward_twice(seed: int = 0) -> Evidence:
    """Each checkpointed block runs its forward once in the forward pass and once more in backward."""
    return Evidence(
        measured=_run(checkpointed=True, seed=seed)[2],
        expected=2 * BLOCKS,
        comparison="equal",
        derivation="theory: one forward + one recomputation per block",
        counterfactual="no checkpointing",
        counterfactual_measured=_run(checkpointed=False, seed=seed)[2],
        unit="count",
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
