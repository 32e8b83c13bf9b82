"""Vocabulary size against sequence length against the V·d embedding parameters.

A bigger vocabulary merges more, so the same text becomes fewer tokens (shorter sequences, less attention
and KV cache per document) but the embedding table (V·d) and the output projection (another V·d unless
tied, and 2·V·d FLOPs per token for the logits) grow. Measured with the byte-level BPE of the
bpe-wordpiece-sentencepiece card, at several vocabulary sizes, and with instantiated nn.Embedding layers.
"""

from __future__ import annotations

import itertools

from torch import nn

from answers.bpe_wordpiece_sentencepiece import CORPUS, encode, train_bpe
from answers.evidence import Evidence
from answers.formulas.tokenization import bpe_vocabulary_size, embedding_parameters

__all__ = ["bpe_vocabulary_size", "embedding_parameters"]

MERGES = (0, 20, 60, 180)  # the toy corpus runs out of pairs after about 240 merges
D_MODEL = 64
# Held-out English in the style of the training corpus, and a Russian sentence (no Cyrillic in training).
HELD_OUT = (
    "the dog and the cat sat in the summer sun. the farm sold more strawberry jam than raspberry jam. "
    "the tokens are numbers, and the model reads every token before it."
)
RUSSIAN = "собака и кошка сидели на солнце летом."


def _merges(k: int) -> tuple:
    """The first k merges: BPE training is greedy, so a smaller vocabulary's merges are a prefix."""
    return train_bpe(CORPUS, MERGES[-1])[0][:k]


def _vocabulary(merges: int) -> set[bytes]:
    learned = _merges(merges)
    return {bytes([b]) for b in range(256)} | {a + b for a, b in learned}  # type: ignore[operator]


def _embedding_and_head(vocab: int, tied: bool) -> tuple[nn.Embedding, nn.Linear]:
    embed = nn.Embedding(vocab, D_MODEL)
    head = nn.Linear(D_MODEL, vocab, bias=False)
    if tied:
        head.weight = embed.weight
    return embed, head


def _distinct_parameters(*modules: nn.Module) -> int:
    """Parameters of the modules together, a tied matrix counted once."""
    return sum(p.numel() for p in {id(p): p for m in modules for p in m.parameters()}.values())


def embedding_parameters_are_vocabulary_times_width() -> Evidence:
    """For the tokenizer with 180 merges (vocabulary counted from its distinct tokens: 256 + 180), an
    instantiated input embedding plus untied output projection holds 2·V·d parameters, and V·d when the head
    is tied to the embedding (one shared matrix). The usual slip is to count only the input embedding module
    (what `get_input_embeddings()` reports): right for the tied model, half the total of the untied one."""
    vocab = len(_vocabulary(MERGES[-1]))
    models = [_embedding_and_head(vocab, tied=tied) for tied in (False, True)]
    return Evidence(
        measured=tuple(_distinct_parameters(embed, head) for embed, head in models),
        expected=tuple(
            embedding_parameters(bpe_vocabulary_size(MERGES[-1]), D_MODEL, tied=tied) for tied in (False, True)
        ),
        comparison="equal",
        derivation="formulas bpe_vocabulary_size (256 + merges) and embedding_parameters (2·V·d untied, V·d tied)",
        counterfactual="the same untied and tied models, counting only the input embedding module's parameters",
        counterfactual_measured=tuple(_distinct_parameters(embed) for embed, _ in models),
        unit="parameters",
        details={
            "distinct tokens counted": vocab,
            "GPT-2 small V·d (50,257 × 768)": embedding_parameters(50257, 768),
        },
    )


def _shrinks_with_diminishing_returns(text: str) -> tuple[bool, tuple[int, ...]]:
    counts = tuple(len(encode(text, _merges(k))) for k in MERGES)
    added = [b - a for a, b in itertools.pairwise(MERGES)]
    saved_per_token = [(c0 - c1) / n for c0, c1, n in zip(counts, counts[1:], added, strict=False)]
    decreasing = all(c1 < c0 for c0, c1 in itertools.pairwise(counts))
    diminishing = all(s1 < s0 for s0, s1 in itertools.pairwise(saved_per_token))
    return decreasing and diminishing, counts


def more_merges_shorten_text_with_diminishing_returns() -> Evidence:
    """On held-out English, each larger vocabulary (256 + 0, 20, 60, 180 merges) gives strictly fewer
    tokens, and each added vocabulary entry saves fewer tokens than the one before; on a Russian sentence
    (no Cyrillic in training) more merges save nothing: the gain comes from the training distribution."""
    holds, counts = _shrinks_with_diminishing_returns(HELD_OUT)
    russian_holds, russian = _shrinks_with_diminishing_returns(RUSSIAN)
    return Evidence(
        measured=holds,
        expected=True,
        comparison="equal",
        derivation="theory: frequent pairs are merged first, so later merges cover rarer strings",
        counterfactual="the same tokenizers on Russian text, whose bytes never occurred in training",
        counterfactual_measured=russian_holds,
        details={
            "UTF-8 bytes (English)": len(HELD_OUT.encode()),
            **{f"tokens with {k} merges": c for k, c in zip(MERGES, counts, strict=True)},
            "bytes per token at 180 merges": round(len(HELD_OUT.encode()) / counts[-1], 3),
            "Russian tokens (0 → 180 merges)": f"{russian[0]} → {russian[-1]}",
        },
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
