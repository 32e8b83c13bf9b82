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


def _model(dtype: torch.dtype = torch.float32, seed: int = 0) -> nn.Module:
    return seeded_module(lambda: DecoderBlock(32, 4, 128), seed=seed, dtype=dtype).train()


def _one_step(model: nn.Module, optimizer: torch.optim.Optimizer, seed: int = 0) -> None:
    x = randn(2, 8, 32, seed=seed, dtype=next(model.parameters()).dtype)
    model(x).pow(2).mean().backward()
    optimizer.step()


def _state_tensors(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    """Per-parameter state tensors (Adam's scalar step counters excluded)."""
    return [t for s in optimizer.state.values() for k, t in s.items() if k != "step"]


def adam_keeps_two_states_per_parameter(seed: int = 0) -> Evidence:
    """After one torch.optim.Adam step the optimiser holds exactly 2 numbers per parameter (m and v)."""
    model = _model(seed=seed)
    adam = torch.optim.Adam(model.parameters(), lr=1e-3)
    _one_step(model, adam, seed)
    momentum_model = _model(seed=seed)
    sgd = torch.optim.SGD(momentum_model.parameters(), lr=1e-3, momentum=0.9)
    _one_step(momentum_model, sgd, seed)
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


def _nbytes(tensors) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def _training_state_bytes(model: nn.Module, optimizer: torch.optim.Optimizer) -> int:
    """Every per-parameter tensor the training loop keeps between steps: weights, gradients, optimiser state."""
    params = list(model.parameters())
    return _nbytes(params) + _nbytes(p.grad for p in params) + _nbytes(_state_tensors(optimizer))


def torch_amp_adamw_holds_16_bytes_per_parameter(seed: int = 0) -> Evidence:
    """torch's own mixed-precision recipe (fp32 weights, a forward and backward under
    torch.autocast(bfloat16), torch.optim.AdamW) holds 16 bytes per parameter between steps: the total
    that ZeRO's 2 + 2 + 12 accounting and the formula give."""
    model = _model(seed=seed)
    adamw = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = randn(2, 8, 32, seed=seed, dtype=torch.float32)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = model(x).float().pow(2).mean()
        matmul_dtype = str(model.ffn.up(x).dtype)  # what autocast made of an fp32 Linear
    loss.backward()
    adamw.step()
    n = count_parameters(model)

    # The ZeRO paper's layout rebuilt by hand: bf16 weights and gradients, an fp32 master copy and
    # fp32 Adam states on the master.
    half = _model(torch.bfloat16, seed=seed)
    master = [p.detach().float().requires_grad_() for p in half.parameters()]
    adam = torch.optim.Adam(master, lr=1e-3)
    half(x.bfloat16()).float().pow(2).mean().backward()
    for p32, p16 in zip(master, half.parameters(), strict=True):
        p32.grad = p16.grad.float()
    adam.step()
    zero_layout = (_nbytes(half.parameters()) + _nbytes(p.grad for p in half.parameters())) / n
    zero_layout += (_nbytes(master) + _nbytes(_state_tensors(adam))) / n

    # Natural shortcut: Adam run on the bf16 weights directly (no master copy, bf16 m and v).
    direct = torch.optim.Adam(half.parameters(), lr=1e-3)
    direct.step()
    return Evidence(
        measured=_training_state_bytes(model, adamw),
        expected=training_memory_bytes(n, training_bytes_per_parameter(mixed_precision=True)),
        comparison="equal",
        derivation="formula N · (2 + 2 + 4 + 4 + 4); ZeRO (Rajbhandari et al. 2020), section 3.1: 2Ψ + 2Ψ + 12Ψ",
        counterfactual="Adam on bf16 weights directly (no fp32 master, bf16 m and v)",
        counterfactual_measured=_training_state_bytes(half, direct),
        unit="bytes",
        details={
            "parameters": n,
            "bytes per parameter, torch AMP (fp32 w and g + AdamW m, v)": _training_state_bytes(model, adamw) / n,
            "bytes per parameter, bf16 copy + fp32 master + Adam": zero_layout,
            "7B model, weights + grads + Adam (GB)": training_memory_bytes(7e9) / 1e9,
            "dtype of a Linear's output under autocast": matmul_dtype,
        },
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)


def pure_fp32_adamw_holds_16_bytes_per_parameter_too(seed: int = 0) -> Evidence:
    """Without mixed precision, a torch.optim.AdamW step on fp32 weights also leaves 16 bytes per parameter:
    4 (weight) + 4 (gradient) + 4 (m) + 4 (v). Mixed precision saves activation memory and time, not this."""
    model = _model(seed=seed)
    adamw = torch.optim.AdamW(model.parameters(), lr=1e-3)
    _one_step(model, adamw, seed=seed)
    n = count_parameters(model)
    params = list(model.parameters())
    return Evidence(
        measured=_training_state_bytes(model, adamw),
        expected=training_memory_bytes(n, training_bytes_per_parameter(mixed_precision=False)),
        comparison="equal",
        derivation="formula N · (4 + 4 + 4 + 4): fp32 weight, gradient and Adam's two moments",
        counterfactual="the count that forgets the gradients (weights + Adam state only, the usual 12 B slip)",
        counterfactual_measured=_nbytes(params) + _nbytes(_state_tensors(adamw)),
        unit="bytes",
        details={"parameters": n, "bytes per parameter": _training_state_bytes(model, adamw) / n},
    )
