"""Exercise next-token-loss: the language-model loss, with the shift by one and the ignored positions."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from answers.exercises._kit import Case, Misconception, randn

ID = "next-token-loss"
CARD = "next-token-loss-shift"
DIFFICULTY = "easy"
TITLE = "Next-token cross-entropy: the shift and ignore_index"
FUNCTION = "next_token_loss"
IMPORTS = "import torch\nimport torch.nn.functional as F\n"
# The exercise is the shift and the masking, not the cross-entropy: F.cross_entropy may be used.
FORBIDDEN: dict[str, str] = {}


def next_token_loss(logits, tokens, ignore_index: int = -100):
    """Mean cross-entropy of predicting each next token: the logits at position t score tokens[t + 1].

    logits: (batch, seq, vocab) float; tokens: (batch, seq) int64, the same sequence the model read.
    The last position has no next token and the first token is never a target, so there are seq − 1
    predictions per row. A target equal to ignore_index (padding, a prompt that is not trained on) adds
    nothing, and the mean is over the remaining targets of the whole batch (every kept token weighs the
    same, whatever its row). ignore_index may be any id, e.g. a pad id 0. At least one target is kept.
    Returns a 0-dim tensor in logits' dtype. F.cross_entropy may be used.

    Example: batch 1, seq 3, vocab 2, logits = [[[0, 0], [ln 3, 0], [5, 5]]], tokens = [[1, 0, 1]]
        position 0 scores token 0: −log(1/2) = 0.693;  position 1 scores token 1: −log(1/4) = 1.386
        the logits at position 2 score nothing; loss = (0.693 + 1.386) / 2 = 1.040
        with ignore_index = 1 only position 0 counts: loss = 0.693
    """
    targets = tokens[:, 1:]
    scored = logits[:, :-1]
    return F.cross_entropy(scored.reshape(-1, scored.shape[-1]), targets.reshape(-1), ignore_index=ignore_index)


# ------------------------------------------------------------------------------------------ the checks


def _loop(logits: Tensor, tokens: Tensor, ignore_index: int) -> Tensor:
    """Every (row, position) pair in Python floats: −log softmax(logits[b, t])[tokens[b, t + 1]]."""
    total, count = 0.0, 0
    for b in range(tokens.shape[0]):
        for t in range(tokens.shape[1] - 1):
            target = int(tokens[b, t + 1])
            if target == ignore_index:
                continue
            row = logits[b, t].tolist()
            top = max(row)
            total += top + math.log(sum(math.exp(v - top) for v in row)) - row[target]
            count += 1
    return torch.tensor(total / count, dtype=logits.dtype)


def _hand_shifted(logits: Tensor, tokens: Tensor, ignore_index: int) -> Tensor:
    """torch's cross-entropy on targets shifted by hand: next[:, t] = tokens[:, t + 1], a trailing ignore."""
    following = torch.cat([tokens[:, 1:], torch.full_like(tokens[:, :1], ignore_index)], dim=1)
    return F.cross_entropy(logits.transpose(1, 2), following, ignore_index=ignore_index)


def _tokens(batch: int, seq: int, vocab: int, seed: int) -> Tensor:
    return torch.randint(1, vocab, (batch, seq), generator=torch.Generator().manual_seed(seed))


def cases() -> list[Case]:
    names = ("logits", "tokens", "ignore_index")
    f64 = torch.float64
    example = (torch.tensor([[[0.0, 0.0], [math.log(3), 0.0], [5.0, 5.0]]], dtype=f64), torch.tensor([[1, 0, 1]]))
    plain = (randn(2, 5, 7, seed=1), _tokens(2, 5, 7, seed=2), -100)
    # Right-padded rows of different lengths (pad id 0), so a per-row mean and a mean over pads both differ.
    padded_tokens = _tokens(3, 6, 9, seed=4)
    padded_tokens[0, 4:] = 0
    padded_tokens[1, 2:] = 0
    padded = (randn(3, 6, 9, seed=3), padded_tokens, 0)
    # Prompt tokens marked −100 in the labels (an SFT batch): an ignored target inside the row.
    prompt_tokens = _tokens(2, 7, 5, seed=6)
    prompt_tokens[:, 1:3] = -100
    prompted = (randn(2, 7, 5, seed=5), prompt_tokens, -100)
    f32 = (randn(2, 4, 6, seed=7, dtype=torch.float32), _tokens(2, 4, 6, seed=8), -100)
    return [
        Case("the worked example", (*example, -100), _loop(*example, -100), "the shift by one", arg_names=names),
        Case("the worked example, ignore_index = 1", (*example, 1), _loop(*example, 1),
             "a target equal to ignore_index is skipped", arg_names=names),
        Case("batch 2, seq 5, vocab 7", plain, _hand_shifted(*plain), "the shift, checked against F.cross_entropy",
             arg_names=names),
        Case("right-padded rows of lengths 4, 2, 6, pad id 0", padded, _loop(*padded),
             "one mean over every kept target of the batch", arg_names=names),
        Case("prompt positions labelled −100", prompted, _hand_shifted(*prompted),
             "ignored targets inside a row, the default ignore_index", arg_names=names),
        Case("float32 in, float32 out", f32, _hand_shifted(*f32), "the dtype is kept", atol=1e-6, rtol=1e-5,
             arg_names=names),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------- the misconceptions


def _flat(logits: Tensor, targets: Tensor, ignore_index: int) -> Tensor:
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=ignore_index)


def no_shift(logits, tokens, ignore_index: int = -100):
    return _flat(logits, tokens, ignore_index)


def shifted_the_wrong_way(logits, tokens, ignore_index: int = -100):
    return _flat(logits[:, 1:], tokens[:, :-1], ignore_index)


def mean_over_ignored_positions(logits, tokens, ignore_index: int = -100):
    targets = tokens[:, 1:]
    keep = targets != ignore_index
    losses = F.cross_entropy(logits[:, :-1].transpose(1, 2), targets.masked_fill(~keep, 0), reduction="none")
    return (losses * keep).sum() / targets.numel()


def ignore_index_not_passed_on(logits, tokens, ignore_index: int = -100):
    return _flat(logits[:, :-1], tokens[:, 1:], -100)


def mean_of_row_means(logits, tokens, ignore_index: int = -100):
    targets = tokens[:, 1:]
    keep = targets != ignore_index
    losses = F.cross_entropy(logits[:, :-1].transpose(1, 2), targets.masked_fill(~keep, 0), reduction="none")
    return ((losses * keep).sum(1) / keep.sum(1)).mean()


MISCONCEPTIONS = [
    Misconception("no shift", no_shift,
                  "you score the logits at t against token t, the token the model was given at t: the residual "
                  "stream carries it to its own logits, so the model learns to copy. Score them against token t + 1",
                  "next-token-loss-shift: “The loss is cross_entropy(logits, tokens): the model predicts each token "
                  "from the sequence.”"),
    Misconception("shifted the wrong way", shifted_the_wrong_way,
                  "you pair logits[:, 1:] with tokens[:, :-1]: position t is scored against the token before it, "
                  "which it has already seen. Use logits[:, :-1] with tokens[:, 1:]",
                  "next-token-loss-shift: shifted_labels_are_invisible_to_the_logits_they_score"),
    Misconception("mean over ignored positions", mean_over_ignored_positions,
                  "you zero the ignored losses but still divide by every position: the padding dilutes the loss, "
                  "and a batch with more padding scores lower. Divide by the number of kept targets",
                  "next-token-loss-shift (no card pitfall yet: F.cross_entropy with ignore_index averages over the "
                  "kept targets only)"),
    Misconception("ignore_index not passed on", ignore_index_not_passed_on,
                  "your shift is right, but F.cross_entropy gets its default ignore_index = −100, so a pad id such "
                  "as 0 is trained on as a target. Pass ignore_index through",
                  "next-token-loss-shift (no card pitfall yet: F.cross_entropy's ignore_index defaults to −100)"),
    Misconception("mean of per-row means", mean_of_row_means,
                  "you average each row, then the rows: a token in a short row weighs more than one in a long row. "
                  "The mean is over all kept targets of the batch, as F.cross_entropy's reduction='mean' does",
                  "next-token-loss-shift (no card pitfall yet: reduction='mean' weighs every kept token alike)"),
]  # fmt: skip
