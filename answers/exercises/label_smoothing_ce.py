"""Exercise label-smoothing-ce: cross-entropy against (1 − ε)·onehot + ε/V, PyTorch's convention."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from answers.exercises._kit import Case, Misconception, randn

ID = "label-smoothing-ce"
CARD = "label-smoothing"
DIFFICULTY = "medium"
TITLE = "Label-smoothed cross-entropy"
FUNCTION = "label_smoothed_ce"
IMPORTS = "import torch\n"
FORBIDDEN = {
    "torch.nn.functional.cross_entropy": "it computes the smoothed loss for you (label_smoothing=)",
    "torch.nn.CrossEntropyLoss": "it computes the smoothed loss for you (label_smoothing=)",
}

_torch_cross_entropy = F.cross_entropy


def label_smoothed_ce(logits, target, epsilon: float):
    """Mean cross-entropy of logits against the smoothed target q = (1 − ε)·onehot(target) + ε/V.

    logits: (N, V) float; target: (N,) int64 class ids; epsilon: ε in [0, 1). The smoothing mass ε is spread
    over all V classes, the true one included (PyTorch's F.cross_entropy(label_smoothing=ε), Szegedy et al.
    2016), so the true class gets 1 − ε + ε/V and every other class ε/V. The loss per row is
    −Σ_c q_c · log softmax(logits)_c, and the result is their mean over the N rows, a 0-dim tensor in
    logits' dtype. Logits may be far apart (gaps of 1000): take log-probabilities with a stable log-softmax.
    ε = 0 is the ordinary cross-entropy. Do not call F.cross_entropy or nn.CrossEntropyLoss.

    Example: logits = [[0., ln 3]] (probabilities 1/4, 3/4), target = [1], ε = 0.2, V = 2
        q = [0.1, 0.9];  loss = −(0.1·log(1/4) + 0.9·log(3/4)) = 0.398
    """
    log_p = torch.log_softmax(logits, dim=-1)
    nll = -log_p.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    uniform = -log_p.mean(dim=-1)
    return ((1 - epsilon) * nll + epsilon * uniform).mean()


# ------------------------------------------------------------------------------------------ the checks


def _loop(logits: Tensor, target: Tensor, epsilon: float) -> Tensor:
    """The smoothed target written out per row, in Python floats."""
    losses = []
    for row, t in zip(logits.tolist(), target.tolist(), strict=True):
        top = max(row)
        log_z = top + math.log(sum(math.exp(v - top) for v in row))
        q = [epsilon / len(row) + (1 - epsilon) * (c == t) for c in range(len(row))]
        losses.append(-sum(qc * (v - log_z) for qc, v in zip(q, row, strict=True)))
    return torch.tensor(sum(losses) / len(losses), dtype=logits.dtype)


def _targets(n: int, vocab: int, seed: int) -> Tensor:
    return torch.randint(0, vocab, (n,), generator=torch.Generator().manual_seed(seed))


def cases() -> list[Case]:
    names = ("logits", "target", "epsilon")
    example = (torch.tensor([[0.0, math.log(3)]], dtype=torch.float64), torch.tensor([1]), 0.2)
    batch = (randn(6, 5, seed=1), _targets(6, 5, seed=2), 0.1)
    wide = (2 * randn(4, 11, seed=3), _targets(4, 11, seed=4), 0.3)
    far = (torch.tensor([[1000.0, 0.0, -1000.0], [0.0, 800.0, 0.0]], dtype=torch.float64), torch.tensor([0, 2]), 0.1)
    f32 = (randn(5, 7, seed=5, dtype=torch.float32), _targets(5, 7, seed=6), 0.1)
    plain = (randn(3, 4, seed=7), _targets(3, 4, seed=8), 0.0)
    return [
        Case("the worked example, V = 2, ε = 0.2", example, _loop(*example), "the smoothed target", arg_names=names),
        Case("6 rows, V = 5, ε = 0.1", batch, _torch_cross_entropy(batch[0], batch[1], label_smoothing=0.1),
             "equals F.cross_entropy(label_smoothing=0.1)", arg_names=names),
        Case("4 rows, V = 11, ε = 0.3", wide, _torch_cross_entropy(wide[0], wide[1], label_smoothing=0.3),
             "a larger ε and an odd V", arg_names=names),
        Case("logit gaps of 1000", far, _loop(*far),
             "ε/V of the mass sits on classes whose probability underflows to 0: log(softmax) gives −∞ there",
             arg_names=names),
        Case("ε = 0 is the plain cross-entropy", plain, _torch_cross_entropy(plain[0], plain[1]), "no smoothing",
             arg_names=names),
        Case("float32 in, float32 out", f32, _torch_cross_entropy(f32[0], f32[1], label_smoothing=0.1),
             "the dtype is kept", atol=1e-6, rtol=1e-5, arg_names=names),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------- the misconceptions


def _smoothed(logits: Tensor, target: Tensor, on: float, off: float) -> Tensor:
    log_p = torch.log_softmax(logits, dim=-1)
    q = torch.full_like(log_p, off).scatter(-1, target.unsqueeze(-1), on)
    return -(q * log_p).sum(-1).mean()


def over_the_other_classes(logits, target, epsilon: float):
    return _smoothed(logits, target, 1 - epsilon, epsilon / (logits.shape[-1] - 1))


def true_class_not_discounted(logits, target, epsilon: float):
    vocab = logits.shape[-1]
    return _smoothed(logits, target, 1 + epsilon / vocab, epsilon / vocab)


def log_of_softmax(logits, target, epsilon: float):
    log_p = torch.softmax(logits, dim=-1).log()
    q = torch.full_like(log_p, epsilon / logits.shape[-1])
    q = q.scatter(-1, target.unsqueeze(-1), 1 - epsilon + epsilon / logits.shape[-1])
    return -(q * log_p).sum(-1).mean()


def smoothing_ignored(logits, target, epsilon: float):
    return _smoothed(logits, target, 1.0, 0.0)


MISCONCEPTIONS = [
    Misconception("ε spread over the V − 1 other classes", over_the_other_classes,
                  "you give the true class 1 − ε and each other class ε/(V − 1). That is a real convention (fairseq's "
                  "label_smoothed_nll_loss uses it), but PyTorch's label_smoothing, asked for here, spreads ε over "
                  "all V classes: the true class gets 1 − ε + ε/V",
                  "label-smoothing: smoothing_raises_the_perplexity_of_the_true_label (its 1 − ε + ε/V)"),
    Misconception("the true class not discounted", true_class_not_discounted,
                  "you add ε/V to every class without taking ε off the true one, so the target sums to 1 + ε "
                  "and is no distribution: q = (1 − ε)·onehot + ε/V",
                  "label-smoothing: smoothed_loss_has_a_floor_of_the_target_entropy"),
    Misconception("log of the softmax", log_of_softmax,
                  "you take log(softmax(logits)): a class whose probability underflows to 0 has log-probability "
                  "−∞, and with smoothing every class carries weight ε/V, so the loss is inf. Use log_softmax",
                  "softmax-numerical-stability: the_shifted_softmax_survives_logits_that_overflow_exp"),
    Misconception("ε ignored", smoothing_ignored,
                  "your loss is the plain cross-entropy whatever ε is: the target must be smoothed",
                  "label-smoothing: “With label smoothing the training loss can still go to zero if the model fits "
                  "the data.”"),
]  # fmt: skip
