"""LayerNorm vs BatchNorm in sequence models, proved on a batch.

LayerNorm normalises each token over its own features; BatchNorm normalises each feature over every token
of the batch (all sequences, all positions). So BatchNorm's output for one token depends on the other
tokens: on padding, on the batch, on training vs eval mode, and in a causal model on *future* tokens.
"""

from __future__ import annotations

import torch
from torch import nn

from answers.evidence import Evidence
from answers.reference import attend, causal_mask, randn

B, N, D = 4, 6, 8


class _TokenNorm(nn.Module):
    """A norm applied to (B, n, d): LayerNorm over d, or BatchNorm1d over the B·n tokens of each feature."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.norm = nn.LayerNorm(D) if kind == "layer" else nn.BatchNorm1d(D)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "layer":
            return self.norm(x)
        return self.norm(x.transpose(1, 2)).transpose(1, 2)  # BatchNorm1d wants (B, d, n)


def _norm(kind: str, train: bool) -> _TokenNorm:
    return _TokenNorm(kind).double().train(train)


def _causal_block(norm: _TokenNorm, x: torch.Tensor) -> torch.Tensor:
    h = norm(x)
    return h + attend(h, h, h, causal_mask(x.shape[1]))  # position i reads only positions j ≤ i


def _leak_into_the_past(kind: str, seed: int) -> float:
    """Change the last token of sequence 0; the largest change at any earlier position of any sequence."""
    x = randn(B, N, D, seed=seed)
    y = x.clone()
    y[0, -1] += 3.0 * randn(D, seed=seed + 100)
    with torch.no_grad():
        before, after = (_causal_block(_norm(kind, train=True), t) for t in (x, y))
    return (before[:, :-1] - after[:, :-1]).abs().max().item()


def batchnorm_leaks_future_tokens_into_the_past(seed: int = 0) -> Evidence:
    """In a causal block (norm, then causally masked attention) in training mode, changing the last token of
    one sequence leaves every earlier position exactly unchanged with LayerNorm; with BatchNorm the change
    reaches earlier positions through the batch mean and variance — future information leaks."""
    return Evidence(
        measured=_leak_into_the_past("layer", seed),
        expected=0.0,
        comparison="abs",
        tolerance=0.0,
        derivation="theory: LayerNorm uses one token's features; the causal mask hides j > i",
        counterfactual="BatchNorm1d in training mode (statistics over all B·n tokens)",
        counterfactual_measured=_leak_into_the_past("batch", seed),
    )


def _padding_effect(kind: str, seed: int) -> float:
    """Outputs on the same real tokens, batched with 2 vs 10 zero-padding positions."""
    real = randn(2, N, D, seed=seed) + 1.0
    outputs = []
    for pad in (2, 10):
        x = torch.cat([real, torch.zeros(2, pad, D, dtype=real.dtype)], dim=1)
        with torch.no_grad():
            outputs.append(_norm(kind, train=True)(x)[:, :N])
    return (outputs[0] - outputs[1]).abs().max().item()


def padding_changes_batchnorm_statistics(seed: int = 0) -> Evidence:
    """The same real tokens padded to two different lengths get identical LayerNorm outputs; BatchNorm's
    outputs change, because the pad zeros enter its per-feature mean and variance."""
    return Evidence(
        measured=_padding_effect("layer", seed),
        expected=0.0,
        comparison="abs",
        tolerance=0.0,
        derivation="theory: a token's LayerNorm output depends on that token only",
        counterfactual="BatchNorm1d in training mode over the padded batch",
        counterfactual_measured=_padding_effect("batch", seed),
    )


def _train_eval_gap(kind: str, seed: int) -> float:
    """Outputs of one module on one batch in training mode vs eval mode, after a few training batches."""
    norm = _norm(kind, train=True)
    with torch.no_grad():
        for step in range(3):  # BatchNorm's running statistics move towards, never reach, the batch's
            norm(randn(B, N, D, seed=seed + 10 + step) * 2.0 + 1.0)
        x = randn(B, N, D, seed=seed)
        train_out = norm(x)
        eval_out = norm.eval()(x)
    return (train_out - eval_out).abs().max().item()


def batchnorm_differs_between_training_and_inference(seed: int = 0) -> Evidence:
    """LayerNorm gives bit-identical outputs in train and eval mode; BatchNorm switches from batch statistics
    to running averages at eval, so the same batch gets different outputs."""
    return Evidence(
        measured=_train_eval_gap("layer", seed),
        expected=0.0,
        comparison="abs",
        tolerance=0.0,
        derivation="theory: LayerNorm has no running statistics; train and eval compute the same thing",
        counterfactual="BatchNorm1d: batch statistics in training, running averages in eval",
        counterfactual_measured=_train_eval_gap("batch", seed),
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
