"""BPE, WordPiece, SentencePiece (unigram) and byte-level BPE, implemented small and run.

BPE learns an ordered list of merges: start from single symbols (characters, or the 256 byte values for
byte-level BPE), repeatedly merge the most frequent adjacent pair. Encoding replays the merges in the
learned order. WordPiece encodes by greedy longest match against its vocabulary; SentencePiece's unigram
model keeps a probability per piece and picks the most probable segmentation (Viterbi).

The BPE here is the one the other tokenisation cards reuse (vocabulary size, letter counting, multilingual
cost): pure Python, deterministic (ties broken by the pair itself), fast enough for a few hundred merges.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

from answers.evidence import Evidence
from answers.formulas.tokenization import bpe_vocabulary_size

__all__ = ["bpe_vocabulary_size"]

Symbol = bytes | str
Merge = tuple[Symbol, Symbol]
UNK = "[UNK]"

# A toy English corpus. Pre-tokenisation splits it into words that keep their leading space (GPT-2 style),
# so merges never cross a word boundary.
CORPUS = (
    "the cat sat on the mat. the dog sat on the log. the cat and the dog are friends. "
    "a lower tower is not the lowest tower, and the newest tower is the widest. "
    "low, lower, lowest; new, newer, newest; wide, wider, widest. "
    "she picked strawberries and raspberries, then a straw hat, then more berries. "
    "the berry farm sells strawberry jam and raspberry jam in the summer. "
    "in 2023 the farm sold 1000 jars, in 2024 it sold 1200 jars and in 2025 about 1500 jars. "
    "the model reads the text as tokens, and the tokens are numbers to the model. "
    "training the tokenizer on text means counting pairs and merging the most frequent pair. "
    "there are 365 days in a year, 24 hours in a day, 60 minutes in an hour and 100 cents in a dollar. "
    "the transformer attends to every token, and every token attends to the tokens before it. "
)

# Unseen characters: accents, CJK, an emoji. A character vocabulary built from CORPUS has none of them.
UNSEEN_TEXT = "the café in 東京 sells crème brûlée 🍓"

PRETOKEN = re.compile(r" ?[^\s]+|\s+")


def pretokenize(text: str) -> list[str]:
    return PRETOKEN.findall(text)


def initial_symbols(word: str, byte_level: bool) -> tuple[Symbol, ...]:
    if byte_level:
        return tuple(bytes([b]) for b in word.encode("utf-8"))
    return tuple(word)


def merge_pair(symbols: Sequence[Symbol], pair: Merge) -> tuple[Symbol, ...]:
    """Replace every non-overlapping occurrence of ``pair``, left to right."""
    out: list[Symbol] = []
    i = 0
    while i < len(symbols):
        if i + 1 < len(symbols) and symbols[i] == pair[0] and symbols[i + 1] == pair[1]:
            out.append(symbols[i] + symbols[i + 1])  # type: ignore[operator]
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return tuple(out)


@lru_cache(maxsize=32)
def train_bpe(text: str, merges: int, byte_level: bool = True) -> tuple[tuple[Merge, ...], dict]:
    """The learned merges, and the training words as the training loop left them (word → symbols)."""
    counts = Counter(pretokenize(text))
    words = {w: initial_symbols(w, byte_level) for w in counts}
    learned: list[Merge] = []
    for _ in range(merges):
        pairs: Counter[Merge] = Counter()
        for w, symbols in words.items():
            for pair in itertools.pairwise(symbols):
                pairs[pair] += counts[w]
        if not pairs:
            break
        best = max(pairs, key=lambda p: (pairs[p], p))  # most frequent; ties broken by the pair itself
        learned.append(best)
        words = {w: merge_pair(s, best) for w, s in words.items()}
    return tuple(learned), words


@lru_cache(maxsize=32)
def _ranks(merges: tuple[Merge, ...]) -> dict[Merge, int]:
    return {pair: i for i, pair in enumerate(merges)}


def encode_word(word: str, merges: Sequence[Merge], byte_level: bool = True) -> tuple[Symbol, ...]:
    """GPT-2 / tiktoken style: repeatedly apply the adjacent pair with the lowest merge rank."""
    rank = _ranks(tuple(merges))
    symbols = initial_symbols(word, byte_level)
    while len(symbols) > 1:
        ranked = [(rank[p], p) for p in itertools.pairwise(symbols) if p in rank]
        if not ranked:
            break
        symbols = merge_pair(symbols, min(ranked)[1])
    return symbols


def encode(text: str, merges: Sequence[Merge], byte_level: bool = True) -> list[Symbol]:
    return [t for w in pretokenize(text) for t in encode_word(w, merges, byte_level)]


def _replay(word: str, merges: Sequence[Merge], byte_level: bool) -> tuple[Symbol, ...]:
    """Apply each merge once over the whole word, in the given order."""
    symbols = initial_symbols(word, byte_level)
    for pair in merges:
        symbols = merge_pair(symbols, pair)
    return symbols


def _longest_match_bytes(word: str, vocab: set[bytes]) -> tuple[bytes, ...]:
    """WordPiece-style encoding of a word's bytes: the longest vocabulary token at each position."""
    data, out, i = word.encode("utf-8"), [], 0
    while i < len(data):
        end = max(e for e in range(i + 1, len(data) + 1) if data[i:e] in vocab)
        out.append(data[i:end])
        i = end
    return tuple(out)


def _words_matching_training(order: str) -> float:
    merges, trained = train_bpe(CORPUS, 120)
    vocab = {bytes([b]) for b in range(256)} | {a + b for a, b in merges}  # type: ignore[operator]
    sequence = list(reversed(merges)) if order == "reversed" else list(merges)
    matches = 0
    for word, symbols in trained.items():
        if order == "rank":
            encoded = encode_word(word, merges)
        elif order == "longest":
            encoded = _longest_match_bytes(word, vocab)
        else:
            encoded = _replay(word, sequence, True)
        matches += encoded == symbols
    return matches / len(trained)


def bpe_encoding_replays_merges_in_learned_order() -> Evidence:
    """Encoding a training word by merge rank (lowest rank first, as GPT-2 and tiktoken do) reproduces the
    segmentation the training loop produced for every word. Greedy longest match over the same vocabulary
    (WordPiece's encoder) is a different algorithm and disagrees on some words (" tower," is " to" + "wer,"
    for BPE, " tower" + "," for longest match); replaying the merges in reverse order fails on most, because
    later merges are built from the tokens earlier merges create."""
    merges, trained = train_bpe(CORPUS, 120)
    vocab = {bytes([b]) for b in range(256)} | {a + b for a, b in merges}  # type: ignore[operator]
    differ = [w for w, sym in trained.items() if _longest_match_bytes(w, vocab) != sym]
    return Evidence(
        measured=_words_matching_training("rank"),
        expected=1.0,
        comparison="equal",
        derivation="theory: the training loop itself applied the merges in this order to every word",
        counterfactual="greedy longest match over the same byte-level vocabulary (WordPiece's encoder)",
        counterfactual_measured=_words_matching_training("longest"),
        unit="fraction of training words",
        details={
            "training words": len(trained),
            "words where longest match differs": ", ".join(repr(w) for w in differ),
            "merges replayed in reverse order (fraction matching)": _words_matching_training("reversed"),
            "in-order replay (fraction)": _words_matching_training("replay"),
            "merges learned": len(merges),
            "vocabulary (256 bytes + merges)": bpe_vocabulary_size(len(merges)),
        },
    )


def _char_vocabulary_encode(text: str, merges: Sequence[Merge], alphabet: frozenset[str]) -> list[str]:
    """Character-level BPE: characters outside the training alphabet become [UNK] before merging."""
    out: list[str] = []
    for word in pretokenize(text):
        symbols = tuple(c if c in alphabet else UNK for c in word)
        for pair in merges:
            symbols = merge_pair(symbols, pair)  # a merge never involves [UNK]: it never occurred in training
        out.extend(symbols)  # type: ignore[arg-type]
    return out


def _unknowns(byte_level: bool) -> int:
    merges, _ = train_bpe(CORPUS, 120, byte_level)
    if byte_level:
        tokens = encode(UNSEEN_TEXT, merges)
        vocab = {bytes([b]) for b in range(256)} | {a + b for a, b in merges}
        return sum(t not in vocab for t in tokens)
    tokens = _char_vocabulary_encode(UNSEEN_TEXT, merges, frozenset(CORPUS))
    return sum(t == UNK for t in tokens)


def byte_level_bpe_has_no_unknown_token() -> Evidence:
    """Every token byte-level BPE emits on text with accents, CJK and an emoji is in its vocabulary (the 256
    bytes cover every UTF-8 string); a BPE over the training corpus's characters maps each unseen character
    to [UNK]."""
    return Evidence(
        measured=_unknowns(byte_level=True),
        expected=0,
        comparison="equal",
        derivation="theory: UTF-8 turns any string into bytes 0–255, all in the base vocabulary",
        counterfactual="character vocabulary taken from the training corpus ([UNK] for unseen characters)",
        counterfactual_measured=_unknowns(byte_level=False),
        unit="unknown tokens",
        details={"characters in the text": len(UNSEEN_TEXT), "UTF-8 bytes": len(UNSEEN_TEXT.encode())},
    )


def _round_trips(byte_level: bool) -> bool:
    merges, _ = train_bpe(CORPUS, 120, byte_level)
    if byte_level:
        return b"".join(encode(UNSEEN_TEXT, merges)).decode("utf-8") == UNSEEN_TEXT  # type: ignore[arg-type]
    return "".join(_char_vocabulary_encode(UNSEEN_TEXT, merges, frozenset(CORPUS))) == UNSEEN_TEXT


def byte_level_bpe_decodes_back_to_the_exact_text() -> Evidence:
    """Concatenating byte-level tokens and decoding UTF-8 gives back the input string exactly (lossless);
    a character vocabulary with [UNK] cannot recover what it replaced."""
    return Evidence(
        measured=_round_trips(byte_level=True),
        expected=True,
        comparison="equal",
        derivation="theory: the tokens partition the UTF-8 bytes of the text",
        counterfactual="character vocabulary with [UNK] for unseen characters",
        counterfactual_measured=_round_trips(byte_level=False),
    )


# A toy SentencePiece unigram vocabulary: log-probabilities of pieces. Greedy longest match (WordPiece's
# encoder) takes "unrel" first; the unigram model's most probable segmentation is "un" + "related".
UNIGRAM = {
    **{c: math.log(0.01) for c in "unrelatd"},
    "un": math.log(0.05),
    "re": math.log(0.03),
    "unrel": math.log(0.002),
    "ated": math.log(0.01),
    "related": math.log(0.02),
    "lated": math.log(0.005),
}
WORD = "unrelated"


def _viterbi(word: str, pieces: dict[str, float]) -> tuple[float, list[str]]:
    best: list[tuple[float, list[str]]] = [(0.0, [])] + [(-math.inf, [])] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(end):
            piece = word[start:end]
            if piece in pieces and best[start][0] + pieces[piece] > best[end][0]:
                best[end] = (best[start][0] + pieces[piece], best[start][1] + [piece])
    return best[-1]


def _all_segmentations(word: str, pieces: dict[str, float]) -> list[list[str]]:
    if not word:
        return [[]]
    return [
        [word[:k], *rest]
        for k in range(1, len(word) + 1)
        if word[:k] in pieces
        for rest in _all_segmentations(word[k:], pieces)
    ]


def _longest_match(word: str, pieces: dict[str, float]) -> list[str]:
    """WordPiece's encoder: take the longest vocabulary piece at each position."""
    out, i = [], 0
    while i < len(word):
        end = max(e for e in range(i + 1, len(word) + 1) if word[i:e] in pieces)
        out.append(word[i:end])
        i = end
    return out


def unigram_picks_the_most_probable_segmentation() -> Evidence:
    """SentencePiece's unigram model encodes with Viterbi: its segmentation's log-probability equals the
    best over all segmentations enumerated by brute force; WordPiece-style greedy longest match on the
    same vocabulary scores lower."""
    score, pieces = _viterbi(WORD, UNIGRAM)
    brute = max(sum(UNIGRAM[p] for p in seg) for seg in _all_segmentations(WORD, UNIGRAM))
    greedy = _longest_match(WORD, UNIGRAM)
    return Evidence(
        measured=score,
        expected=brute,
        comparison="abs",
        tolerance=1e-12,
        derivation="brute force over every segmentation of the word into vocabulary pieces",
        counterfactual="greedy longest match (WordPiece's encoder) on the same pieces",
        counterfactual_measured=sum(UNIGRAM[p] for p in greedy),
        unit="log-probability",
        details={
            "Viterbi": " + ".join(pieces),
            "greedy longest match": " + ".join(greedy),
            "segmentations": len(_all_segmentations(WORD, UNIGRAM)),
        },
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
