"""What fills memory when training a Transformer with Adam.

Before any activation is stored, training keeps the weights, their gradients and the optimiser state.
Adam keeps two running averages per parameter (m and v) — 2× the parameter count, whatever the
precision. In mixed precision with fp32 master weights that is 2 + 2 + 4 + 4 + 4 = 16 bytes per
parameter: 112 GB for a 7B model, before activations.
"""

from __future__ import annotations

import torch

# torch.optim imports torch._dynamo on first use (~1 s): load it with the module, not inside a claim.
import torch._dynamo
from torch import nn

from answers.evidence import Evidence
from answers.formulas.training import adam_state_elements, training_bytes_per_parameter, training_memory_bytes
from answers.reference import DecoderBlock, count_parameters, randn, seeded_module


def _model(dtype: torch.dtype = torch.float32) -> nn.Module:
    return seeded_module(lambda: DecoderBlock(32, 4, 128), dtype=dtype).train()


def _one_step(model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
    x = randn(2, 8, 32, dtype=next(model.parameters()).dtype)
    model(x).pow(2).mean().backward()
    optimizer.step()


def _state_tensors(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    """Per-parameter state tensors (Adam's scalar step counters excluded)."""
    return [t for s in optimizer.state.values() for k, t in s.items() if k != "step"]


def adam_keeps_two_states_per_parameter() -> Evidence:
    """After one torch.optim.Adam step the optimiser holds exactly 2 numbers per parameter (m and v)."""
    model = _model()
    adam = torch.optim.Adam(model.parameters(), lr=1e-3)
    _one_step(model, adam)
    momentum_model = _model()
    sgd = torch.optim.SGD(momentum_model.parameters(), lr=1e-3, momentum=0.9)
    _one_step(momentum_model, sgd)
    return Evidence(
        measured=sum(t.numel() for t in _state_tensors(adam)),
        expected=adam_state_elements(count_parameters(model)),
        comparison="equal",
        derivation="theory: Adam stores m and v, each shaped like its parameter",
        counterfactual="SGD with momentum (one buffer per parameter)",
        counterfactual_measured=sum(t.numel() for t in _state_tensors(sgd)),
        unit="count",
        details={
            "parameters": count_parameters(model),
            "Adam state keys": tuple(sorted(adam.state[model.norm1.weight])),
        },
    )


def mixed_precision_adam_costs_16_bytes_per_parameter() -> Evidence:
    """bf16 weights + bf16 gradients + fp32 master copy + fp32 Adam m and v: 16 bytes per parameter,
    measured on real tensors."""
    half = _model(torch.bfloat16)
    master = [p.detach().float().requires_grad_() for p in half.parameters()]  # fp32 copy the update is applied to
    adam = torch.optim.Adam(master, lr=1e-3)
    x = randn(2, 8, 32, dtype=torch.bfloat16)
    half(x).float().pow(2).mean().backward()
    for p32, p16 in zip(master, half.parameters(), strict=True):
        p32.grad = p16.grad.float()
    adam.step()

    def nbytes(tensors) -> int:
        return sum(t.numel() * t.element_size() for t in tensors)

    n = count_parameters(half)
    grads16 = [p.grad for p in half.parameters()]
    measured = (nbytes(half.parameters()) + nbytes(grads16) + nbytes(master) + nbytes(_state_tensors(adam))) / n
    # Natural shortcut: run Adam on the bf16 weights directly (no master copy, half-precision m and v).
    direct = torch.optim.Adam(half.parameters(), lr=1e-3)
    direct.step()
    shortcut = (nbytes(half.parameters()) + nbytes(grads16) + nbytes(_state_tensors(direct))) / n
    return Evidence(
        measured=measured,
        expected=training_bytes_per_parameter(mixed_precision=True),
        comparison="equal",
        derivation="theory: 2 (bf16 weight) + 2 (bf16 grad) + 4 (fp32 master) + 4 (m) + 4 (v)",
        counterfactual="Adam on the bf16 weights directly (no fp32 master, bf16 states)",
        counterfactual_measured=shortcut,
        unit="bytes",
        details={"7B model, weights+grads+Adam (GB)": training_memory_bytes(7e9) / 1e9},
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
