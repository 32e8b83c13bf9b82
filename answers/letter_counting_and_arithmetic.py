"""Why models fail at counting letters and at arithmetic: tokens hide characters, and BPE chunks digits
by corpus frequency rather than by place value.

Measured with the byte-level BPE of the bpe-wordpiece-sentencepiece card (200 merges on its toy corpus).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache, lru_cache

from answers.bpe_wordpiece_sentencepiece import CORPUS, encode_word, train_bpe
from answers.evidence import Evidence

MERGES = 200
NUMBERS = range(1000, 10000, 3)  # every third four-digit number: 3,000 of them
WORD, LETTER = " strawberry", "r"
DIGIT_SPLIT = re.compile(r"\d| ?[^\s\d]+|\s+")  # every digit its own pre-token (Llama, PaLM, DeepSeek)


@lru_cache(maxsize=1)
def _merges() -> tuple:
    return train_bpe(CORPUS, MERGES)[0]


def _letter_tokens(merges: tuple) -> int:
    """How many of the word's tokens *are* the letter: what a model can count without knowing spellings."""
    return sum(token == LETTER.encode() for token in encode_word(WORD, merges))


def counting_letter_tokens_works_only_on_characters() -> Evidence:
    """With characters as tokens, " strawberry" shows its 3 r's as 3 separate tokens; after 200 BPE merges
    the whole word is a single token, and no token is an r: the count exists only in the token's spelling,
    which the model has to have memorised."""
    tokens = encode_word(WORD, _merges())
    return Evidence(
        measured=_letter_tokens(()),
        expected=WORD.count(LETTER),
        comparison="equal",
        derivation="str.count on the characters of the word",
        counterfactual="the same count over the word's BPE tokens (200 merges)",
        counterfactual_measured=_letter_tokens(_merges()),
        unit="letters",
        details={
            "BPE tokens of ' strawberry'": " | ".join(t.decode() for t in tokens),
            "BPE tokens of ' raspberry' (2 r's)": " | ".join(t.decode() for t in encode_word(" raspberry", _merges())),
        },
    )


@cache
def _pretoken_lengths(piece: str) -> tuple[int, ...]:
    """Token lengths of one pre-token under the trained merges (digit pre-tokens repeat: encode each once)."""
    return tuple(len(t) for t in encode_word(piece, _merges()))


def _segmentation(number: int, digit_split: bool) -> tuple[int, ...]:
    """Token lengths of ' <number>' under the trained merges, with GPT-2-style or digit-split pre-tokens."""
    text = f" {number}"
    if not digit_split:
        return _pretoken_lengths(text)
    return tuple(n for piece in DIGIT_SPLIT.findall(text) if not piece.isspace() for n in _pretoken_lengths(piece))


def _patterns(digit_split: bool) -> Counter:
    return Counter(_segmentation(n, digit_split) for n in NUMBERS)


def bpe_chunks_digits_by_frequency_not_place_value() -> Evidence:
    """Over 3,000 four-digit numbers (every third from 1000), splitting digits before BPE gives one
    segmentation (one token per digit, so a token's position is its digit's place value); plain byte-level
    BPE gives a dozen, with the thousands digit sometimes alone (" 1" + "200") and sometimes inside a
    chunk (" 100" + "0")."""
    bpe = _patterns(digit_split=False)
    return Evidence(
        measured=len(_patterns(digit_split=True)),
        expected=1,
        comparison="equal",
        derivation="theory: with one pre-token per digit, no merge can join two digits",
        counterfactual="the same merges with GPT-2-style pre-tokens (a number is one pre-token)",
        counterfactual_measured=len(bpe),
        unit="distinct segmentations",
        details={
            "BPE: most common segmentation, share": round(bpe.most_common(1)[0][1] / len(NUMBERS), 3),
            "BPE: token counts seen": ", ".join(str(n) for n in sorted({len(p) for p in bpe})),
            "' 1000'": " | ".join(t.decode() for t in encode_word(" 1000", _merges())),
            "' 1200'": " | ".join(t.decode() for t in encode_word(" 1200", _merges())),
            "' 2024'": " | ".join(t.decode() for t in encode_word(" 2024", _merges())),
        },
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
