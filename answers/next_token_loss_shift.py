"""The next-token loss: logits at position t are scored against token t + 1.

The language-model loss is cross_entropy(logits[:, :-1], tokens[:, 1:]). Because the causal mask keeps
the diagonal, position t sees token t; without the shift, the target is visible and copying the input
drives the loss to zero. A model that knows nothing (uniform logits) scores exactly ln V.
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import nn

from answers.evidence import Evidence
from answers.reference import DecoderBlock, generator, randn, seeded_module

V, D, N = 16, 16, 12


def _tokens() -> torch.Tensor:
    return torch.randint(V, (1, N), generator=generator(1))  # (1, N)


def _loss(logits: torch.Tensor, tokens: torch.Tensor, shift: bool) -> torch.Tensor:
    if shift:  # position t predicts token t + 1
        return F.cross_entropy(logits[:, :-1].reshape(-1, V), tokens[:, 1:].reshape(-1))
    return F.cross_entropy(logits.reshape(-1, V), tokens.reshape(-1))  # position t "predicts" token t


def uniform_model_scores_ln_v() -> Evidence:
    """Equal logits over 16 tokens give a loss of exactly ln 16 nats (perplexity 16), the baseline any
    trained model must beat."""
    tokens = _tokens()
    uniform = torch.zeros(1, N, V, dtype=torch.float64)
    confident_random = randn(1, N, V, seed=2) * 5.0  # an untrained model with large logits
    return Evidence(
        measured=_loss(uniform, tokens, shift=True).item(),
        expected=math.log(V),
        comparison="abs",
        tolerance=1e-12,  # float64 log-sum-exp of equal values
        unit="nats",
        derivation="theory: −ln(1/V) at every position",
        counterfactual="random logits of scale 5 (an over-confident untrained model)",
        counterfactual_measured=_loss(confident_random, tokens, shift=True).item(),
    )


def _copy_logits(tokens: torch.Tensor, sharpness: float = 30.0) -> torch.Tensor:
    """A trivial 'model' that copies its input: logit `sharpness` on the token it sees at position t."""
    return F.one_hot(tokens, V).to(torch.float64) * sharpness  # (1, N, V)


def unshifted_loss_is_solved_by_copying() -> Evidence:
    """Without the shift, copying the current token (visible through the causal mask's diagonal) drives
    the loss to about (V − 1)e^(−30); with the shift, the same copier is useless."""
    tokens = _tokens()
    logits = _copy_logits(tokens)
    return Evidence(
        measured=_loss(logits, tokens, shift=False).item(),
        expected=math.log1p((V - 1) * math.exp(-30.0)),
        comparison="abs",
        tolerance=1e-13,  # log-sum-exp around 30 rounds at ~4e−15 per operation
        unit="nats",
        derivation="theory: −ln p = ln(1 + (V − 1)e^(−30)) at every position",
        counterfactual="the same copier scored with the shift (predict token t + 1)",
        counterfactual_measured=_loss(logits, tokens, shift=True).item(),
    )


@functools.cache  # a fixed seeded model, never modified
def _language_model() -> nn.ModuleDict:
    return seeded_module(
        lambda: nn.ModuleDict({"embed": nn.Embedding(V, D), "block": DecoderBlock(D, 2, 32), "head": nn.Linear(D, V)}),
        seed=3,
    )


def _label_visibility(shift: bool) -> float:
    """Change each target token and measure how much the logits scored against it move (worst case)."""
    model, tokens = _language_model(), _tokens()

    def logits(t: torch.Tensor) -> torch.Tensor:
        return model["head"](model["block"](model["embed"](t)))  # (1, N, V), causal

    worst = 0.0
    with torch.no_grad():
        base = logits(tokens)
        for t in range(1, N):
            changed = tokens.clone()
            changed[0, t] = (changed[0, t] + 1) % V
            row = t - 1 if shift else t  # the logits row whose label is token t
            worst = max(worst, (logits(changed) - base)[0, row].abs().max().item())
    return worst


def shifted_labels_are_invisible_to_the_logits_they_score() -> Evidence:
    """In a causal model, the logits at t − 1 (scored against token t) do not change when token t does;
    unshifted, the logits at t see their own label."""
    return Evidence(
        measured=_label_visibility(shift=True),
        expected=0.0,
        comparison="abs",
        tolerance=0.0,  # masked weights are exactly 0
        derivation="theory: the causal mask hides token t from every position before t",
        counterfactual="labels not shifted (logits at t scored against token t)",
        counterfactual_measured=_label_visibility(shift=False),
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
