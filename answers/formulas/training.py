"""What training costs: optimiser state, memory per parameter, FLOPs, scaling laws and LoRA sizes."""

from __future__ import annotations

from answers.formulas._trace import sqrt  # math.sqrt that also records the working


def adam_state_elements(params: int) -> int:
    """Adam keeps two running averages per parameter (first moment m, second moment v): 2·N numbers."""
    return 2 * params


def training_bytes_per_parameter(mixed_precision: bool = True) -> int:
    """Bytes per parameter for weights, gradients and Adam state, before activations.

    Mixed precision (fp16/bf16 compute, fp32 master): 2 (half weights) + 2 (half gradients)
    + 4 (fp32 master) + 4 (m) + 4 (v) = 16. Pure fp32: 4 + 4 + 4 + 4 = 16 as well — mixed precision
    saves activation memory and time, not weight-state memory.
    """
    return 2 + 2 + 4 + 4 + 4 if mixed_precision else 4 + 4 + 4 + 4


def training_memory_bytes(params: float, bytes_per_parameter: int = 16) -> float:
    """Weights + gradients + Adam state for ``params`` parameters: N · bytes per parameter."""
    return params * bytes_per_parameter


def forward_flops(params: float, tokens: float) -> float:
    """A forward pass costs ≈ 2 FLOPs (a multiply and an add) per parameter per token: 2·N·D."""
    return 2 * params * tokens


def training_flops(params: float, tokens: float) -> float:
    """Forward 2·N·D plus backward ≈ 2× forward (gradients w.r.t. inputs and weights): C ≈ 6·N·D."""
    return 6 * params * tokens


def kaplan_loss(params: float, n_c: float = 8.8e13, alpha: float = 0.076) -> float:
    """Kaplan et al. (2020) L(N) = (N_c / N)^α in nats per token, N = non-embedding parameters."""
    return (n_c / params) ** alpha


def chinchilla_tokens(params: float, tokens_per_parameter: float = 20.0) -> float:
    """Compute-optimal training tokens (Hoffmann et al. 2022 rule of thumb): D ≈ 20·N."""
    return tokens_per_parameter * params


def chinchilla_parameters(compute_flops: float, tokens_per_parameter: float = 20.0) -> float:
    """Compute-optimal size for a FLOP budget: C = 6·N·(20·N) ⇒ N = √(C / 120)."""
    return sqrt(compute_flops / (6 * tokens_per_parameter))


def lora_parameters(d_in: int, d_out: int, rank: int) -> int:
    """Trainable parameters of a rank-r LoRA adapter on a d_in→d_out weight: A (r×d_in) + B (d_out×r)."""
    return rank * (d_in + d_out)


def noam_learning_rate(step: int, d_model: int = 512, warmup: int = 4000) -> float:
    """The 2017 schedule: lr = d^-0.5 · min(s^-0.5, s · w^-1.5); linear warm-up, then 1/√s decay,
    peaking at s = w with lr = (d·w)^-0.5."""
    return d_model**-0.5 * min(step**-0.5, step * warmup**-1.5)
