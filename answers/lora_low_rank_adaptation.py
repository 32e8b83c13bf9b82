"""LoRA: fine-tuning a frozen weight through a trainable low-rank update.

LoRA keeps a pretrained weight W (d_out × d_in) frozen and learns ΔW = (α/r)·B·A with A of r × d_in and
B of d_out × r: r·(d_in + d_out) trainable numbers instead of d_in·d_out, and an update of rank r where
full fine-tuning's is full rank.
B starts at zero, so the adapted model is exactly the pretrained one at step 0; after training, ΔW can
be merged into W, so inference costs nothing extra.
"""

from __future__ import annotations

import torch
from torch import nn

from answers.evidence import Evidence
from answers.formulas.training import lora_parameters
from answers.reference import generator, randn, seeded_module

D_IN, D_OUT, RANK, ALPHA = 256, 128, 4, 8.0


class _LoRALinear(nn.Module):
    """y = W x + b + (α/r)·B A x with W, b frozen."""

    def __init__(
        self, base: nn.Linear, rank: int = RANK, alpha: float = ALPHA, *, zero_b: bool = True, seed: int = 0
    ) -> None:
        super().__init__()
        self.base, self.scale = base, alpha / rank  # Hu et al.'s α/r; rsLoRA uses α/√r
        base.requires_grad_(False)
        g = generator(seed + 1)
        self.a = nn.Parameter(torch.randn(rank, base.in_features, generator=g, dtype=base.weight.dtype) * 0.01)
        b = torch.randn(base.out_features, rank, generator=g, dtype=base.weight.dtype) * 0.01
        self.b = nn.Parameter(torch.zeros_like(b) if zero_b else b)

    def delta(self) -> torch.Tensor:
        return self.scale * self.b @ self.a  # (d_out, d_in)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + self.scale * (x @ self.a.T) @ self.b.T


def _base(seed: int = 0) -> nn.Linear:
    return seeded_module(lambda: nn.Linear(D_IN, D_OUT), seed=seed)


def _trainable(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def _trained(seed: int = 0) -> _LoRALinear:
    """A LoRA layer after 'training': B given non-zero values."""
    lora = _LoRALinear(_base(seed), seed=seed)
    with torch.no_grad():
        lora.b.copy_(randn(D_OUT, RANK, seed=seed + 2))
    return lora


def lora_trains_r_times_d_in_plus_d_out_parameters() -> Evidence:
    """A rank-4 adapter on a 256 → 128 layer trains 4·(256 + 128) = 1,536 numbers; full fine-tuning
    trains all 32,896."""
    return Evidence(
        measured=_trainable(_LoRALinear(_base())),
        expected=lora_parameters(D_IN, D_OUT, RANK),
        comparison="equal",
        derivation="theory: A is r × d_in, B is d_out × r; W and b are frozen",
        counterfactual="full fine-tuning (every weight and bias trainable)",
        counterfactual_measured=_trainable(_base()),
        unit="parameters",
    )


TRAIN_STEPS, BATCH = 10, 256


def _fine_tune_update(mode: str, seed: int) -> torch.Tensor:
    """Fine-tune a frozen 256 → 128 layer towards a teacher whose weight differs from it by a full-rank matrix,
    with Adam for 10 steps, and return the change of the (merged) weight matrix. ``mode`` is "lora" (rank-4
    adapter, B = 0), "full" (every weight trained) or "lora-both-zero" (A and B both initialised to zero)."""
    base = _base(seed)
    teacher = base.weight.detach() + 0.1 * randn(D_OUT, D_IN, seed=seed + 6)  # generically rank 128
    x = randn(BATCH, D_IN, seed=seed + 7)
    y = x @ teacher.T + base.bias.detach()
    before = base.weight.detach().clone()
    if mode == "full":
        model, params = base, list(base.parameters())
    else:
        model = _LoRALinear(base, seed=seed)
        if mode == "lora-both-zero":
            with torch.no_grad():
                model.a.zero_()
        params = [model.a, model.b]
    optimiser = torch.optim.Adam(params, lr=1e-2)
    for _ in range(TRAIN_STEPS):
        optimiser.zero_grad()
        (model(x) - y).pow(2).mean().backward()
        optimiser.step()
    with torch.no_grad():
        merged = base.weight + model.delta() if mode != "full" else base.weight
        return merged - before


def _rank(mode: str, seed: int) -> int:
    return int(torch.linalg.matrix_rank(_fine_tune_update(mode, seed)))


def trained_lora_update_has_rank_exactly_r(seed: int = 0) -> Evidence:
    """After 10 Adam steps towards a teacher that differs by a full-rank matrix, the merged weight has moved by a
    matrix of rank exactly r = 4 (torch.linalg.matrix_rank). Full fine-tuning on the same data moves it by a
    matrix of rank min(d_in, d_out) = 128: the low rank is LoRA's constraint, not a property of fine-tuning."""
    return Evidence(
        measured=_rank("lora", seed),
        expected=RANK,
        comparison="equal",
        derivation="theory: rank(B·A) ≤ r, with equality once training has made B (d_out × r) and A (r × d_in) "
        "full rank",
        counterfactual="full fine-tuning of the same layer on the same data and steps",
        counterfactual_measured=_rank("full", seed),
        unit="rank",
        details={"rank with A and B both initialised to zero": _rank("lora-both-zero", seed)},
    )


def zero_initialised_b_leaves_the_model_unchanged(seed: int = 0) -> Evidence:
    """With B = 0 the adapted layer's output equals the pretrained layer's exactly at step 0."""
    x = randn(8, D_IN, seed=seed + 4)
    base = _base(seed)
    with torch.no_grad():
        zero_b = (_LoRALinear(_base(seed), seed=seed)(x) - base(x)).abs().max().item()
        random_b = (_LoRALinear(_base(seed), zero_b=False, seed=seed)(x) - base(x)).abs().max().item()
    return Evidence(
        measured=zero_b,
        expected=0.0,
        comparison="abs",
        tolerance=0.0,  # adding an exact zero changes no bit
        derivation="theory: B = 0 ⇒ B·A·x = 0",
        counterfactual="B initialised randomly like A",
        counterfactual_measured=random_b,
    )


def merged_weights_give_identical_outputs(seed: int = 0) -> Evidence:
    """Folding W + (α/r)·B·A into one Linear gives the adapter's outputs to float64 rounding, so
    inference needs no extra matmul; forgetting the α/r factor does not."""
    lora, x = _trained(seed), randn(8, D_IN, seed=seed + 5)

    def merged_output(scale: float) -> torch.Tensor:
        merged = nn.Linear(D_IN, D_OUT).double()
        merged.weight.copy_(lora.base.weight + scale * lora.b @ lora.a)
        merged.bias.copy_(lora.base.bias)
        return merged(x)

    with torch.no_grad():
        adapter = lora(x)
        right = (merged_output(lora.scale) - adapter).abs().max().item()
        unscaled = (merged_output(1.0) - adapter).abs().max().item()
    return Evidence(
        measured=right,
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64: the same sums in a different order
        derivation="the unmerged adapter's own forward pass",
        counterfactual="merge B·A without the α/r scale",
        counterfactual_measured=unscaled,
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
