"""The 2017 Transformer's regularisers against LLM pre-training's.

Vaswani et al. (section 5.4) regularise with dropout 0.1 (on every sub-layer output before the residual add, and
on the sum of embeddings and positional encodings) and label smoothing ε = 0.1. LLM pre-training (GPT-3, PaLM,
Llama 2) uses no dropout, decoupled weight decay 0.1, and about one pass over the data. The proofs cover what the
mechanisms do: inverted dropout's scaling, the train/eval mismatch it leaves after a nonlinearity, and the loss
floor label smoothing puts under the 2017 model's training loss.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from answers.evidence import Evidence
from answers.formulas.dropout import inverted_dropout_scale
from answers.formulas.regularisation import label_smoothing_loss_floor
from answers.reference import F64, generator

__all__ = ["inverted_dropout_scale"]

P_DROP, EPSILON_LS = 0.1, 0.1  # Vaswani et al. 2017, section 5.4
VOCAB_2017 = 37000  # section 5.1: a shared source-target byte-pair vocabulary of about 37,000 tokens (EN-DE)


def _dropout(x: torch.Tensor, seed: int, p: float = P_DROP) -> torch.Tensor:
    """torch's nn.Dropout in training mode, its mask drawn from ``seed``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Dropout(p).train()(x)


def kept_activations_are_scaled_by_one_over_one_minus_p(seed: int = 0) -> Evidence:
    """torch's nn.Dropout(0.1) in training mode multiplies every activation it keeps by exactly 1/(1 − p) = 1.111
    (inverted dropout), so nothing needs rescaling at inference. The 2014 formulation (Srivastava et al.) keeps
    activations unscaled in training and multiplies the weights by (1 − p) at test time."""
    x = 1 + torch.rand(100_000, generator=generator(seed), dtype=F64)  # positive, so ratios are defined
    y = _dropout(x, seed)
    kept = y != 0
    unscaled = x * kept  # the 2014 training-time mask
    return Evidence(
        measured=(y[kept] / x[kept]).max().item(),
        expected=inverted_dropout_scale(P_DROP),
        comparison="abs",
        tolerance=1e-12,
        derivation="formula inverted_dropout_scale: 1/(1 − p)",
        counterfactual="the 2014 training mask without scaling",
        counterfactual_measured=(unscaled[kept] / x[kept]).max().item(),
        unit="",
        details={
            "fraction dropped": 1 - kept.double().mean().item(),
            "eval mode returns x unchanged": bool(nn.Dropout(P_DROP).eval()(x).equal(x)),
        },
    )


def inverted_dropout_preserves_the_expectation(seed: int = 0) -> Evidence:
    """Averaged over 10⁶ activations of 1, training-mode nn.Dropout(0.1) gives 1 within 4 standard errors
    (σ = √(p/(1 − p)) = 0.333 per activation), so the next layer sees the same mean in training and evaluation.
    An unscaled mask gives 1 − p = 0.9: the mismatch the 2014 test-time weight scaling had to undo."""
    n = 1_000_000
    y = _dropout(torch.ones(n, dtype=F64), seed)
    standard_error = math.sqrt(P_DROP / (1 - P_DROP) / n)
    return Evidence(
        measured=y.mean().item(),
        expected=1.0,
        comparison="abs",
        tolerance=4 * standard_error,
        derivation="theory: E[m/(1 − p)] = (1 − p)/(1 − p) = 1; 4 standard errors √(p/(1 − p)/n)",
        counterfactual="an unscaled mask (m instead of m/(1 − p))",
        counterfactual_measured=(y != 0).double().mean().item(),
        unit="",
    )


def _post_norm_outputs(seed: int, normalise: bool, draws: int = 20_000) -> tuple[torch.Tensor, torch.Tensor]:
    """A 2017 post-norm step LayerNorm(x + Dropout(sublayer)) for one 64-d token: ``draws`` training-mode outputs
    (one dropout mask each) and the evaluation-mode output. Without ``normalise`` the step is the bare sum."""
    g, d = generator(seed), 64
    x, sublayer = torch.randn(d, generator=g, dtype=F64), 3 * torch.randn(d, generator=g, dtype=F64)
    masks = (torch.rand(draws, d, generator=g, dtype=F64) >= P_DROP).to(F64) * inverted_dropout_scale(P_DROP)
    train, evaluation = x + masks * sublayer, x + sublayer
    if normalise:
        train, evaluation = (nn.functional.layer_norm(t, (d,)) for t in (train, evaluation))
    return train, evaluation


def _bias_in_standard_errors(seed: int, normalise: bool) -> float:
    train, evaluation = _post_norm_outputs(seed, normalise)
    standard_error = train.std(0) / math.sqrt(len(train))
    return ((train.mean(0) - evaluation).abs() / standard_error).max().item()


def dropout_before_a_layernorm_shifts_the_eval_output(seed: int = 0) -> Evidence:
    """Inverted dropout keeps expectations only through linear maps. In the 2017 block LayerNorm(x + Dropout(s)),
    the training-mode output averaged over 20,000 masks differs from the evaluation-mode output by far more than
    5 standard errors (tens of them): LayerNorm divides by a standard deviation that dropout inflates. The same
    average before the LayerNorm (x + Dropout(s), linear) matches evaluation within sampling error."""
    return Evidence(
        measured=_bias_in_standard_errors(seed, normalise=True),
        expected=5.0,
        comparison="at_least",
        derivation="bound: 5 standard errors of the mean over 20,000 masks, largest of 64 coordinates",
        counterfactual="the linear part alone, x + Dropout(s), before the LayerNorm",
        counterfactual_measured=_bias_in_standard_errors(seed, normalise=False),
        unit="standard errors",
    )


def label_smoothing_puts_a_floor_under_the_2017_training_loss() -> Evidence:
    """With ε = 0.1 over the 2017 model's ~37,000-token vocabulary, torch's cross-entropy with
    label_smoothing=0.1 at the best possible prediction (the smoothed target itself) is 1.377 nats, the entropy of
    the target: the logged training loss can never go below it. Plain cross-entropy of that same prediction is
    −ln(0.9 + 0.1/V) = 0.105 nats: the two numbers are not comparable."""
    top, rest = 1 - EPSILON_LS + EPSILON_LS / VOCAB_2017, EPSILON_LS / VOCAB_2017
    best = torch.full((1, VOCAB_2017), rest, dtype=F64)
    best[0, 0] = top
    logits, target = best.log(), torch.tensor([0])
    return Evidence(
        measured=nn.functional.cross_entropy(logits, target, label_smoothing=EPSILON_LS).item(),
        expected=label_smoothing_loss_floor(VOCAB_2017, EPSILON_LS),
        comparison="abs",
        tolerance=1e-9,
        derivation="formula label_smoothing_loss_floor: the entropy of the smoothed target",
        counterfactual="plain cross-entropy (no smoothing) of the same prediction",
        counterfactual_measured=nn.functional.cross_entropy(logits, target).item(),
        unit="nats",
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
