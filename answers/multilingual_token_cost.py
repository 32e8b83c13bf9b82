"""The multilingual cost of a tokenizer: UTF-8 spends 1–4 bytes per character depending on the script, and
a byte-level BPE trained on English has no merges for other scripts, so their text costs one token per byte.
"""

from __future__ import annotations

from answers.bpe_wordpiece_sentencepiece import CORPUS, encode, train_bpe
from answers.evidence import Evidence
from answers.formulas.tokenization import utf8_bytes

__all__ = ["utf8_bytes"]

# One sample per script, each a single UTF-8 width: ASCII, Cyrillic, Greek, Devanagari, CJK, emoji.
SCRIPTS = {
    "English": "cat",
    "Russian": "кошка",
    "Greek": "γάτα",
    "Hindi": "बिल्ली",
    "Chinese": "猫咪",
    "emoji": "🐈🍓",
}
# "The dog and the cat sat in the sun." in English and Russian.
ENGLISH = "the dog and the cat sat in the sun."
RUSSIAN = "собака и кошка сидели на солнце."
MERGES = 200


def _sizes(count: str) -> tuple[int, ...]:
    """The size of each script's sample: by the code-point formula, by Python's encoder, or by len()."""
    if count == "formula":
        return tuple(sum(utf8_bytes(ord(c)) for c in text) for text in SCRIPTS.values())
    if count == "encoder":
        return tuple(len(text.encode("utf-8")) for text in SCRIPTS.values())
    return tuple(len(text) for text in SCRIPTS.values())  # the slip: a string's length taken for its size


def utf8_bytes_per_character_depend_on_the_script() -> Evidence:
    """Python's UTF-8 encoder spends 1 byte per character on English, 2 on Russian and Greek, 3 on Hindi and
    Chinese, 4 on emoji — exactly the code-point ranges of the UTF-8 formula; len(text), the usual stand-in
    for a text's size, matches only the English sample."""
    return Evidence(
        measured=_sizes("encoder"),
        expected=_sizes("formula"),
        comparison="equal",
        derivation="formula utf8_bytes from the code-point ranges (U+0080, U+0800, U+10000), summed per sample",
        counterfactual="len(text) (characters) taken as the size in bytes",
        counterfactual_measured=_sizes("length"),
        unit="bytes",
        details={name: f"{len(text.encode())} bytes / {len(text)} characters" for name, text in SCRIPTS.items()},
    )


# The last and first code point of each UTF-8 width (U+D800–U+DFFF are surrogates, not encodable, and lie
# inside the 3-byte range), and the last code point Unicode has.
BOUNDARIES = (0x00, 0x7F, 0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF)


def utf8_widths_change_exactly_at_u0080_u0800_u10000() -> Evidence:
    """At the edges of the ranges Python's encoder gives U+0000 and U+007F 1 byte, U+0080 and U+07FF 2, U+0800
    and U+FFFF 3, U+10000 and U+10FFFF 4, as the formula does. The bytes needed to
    write the code point's number, ⌈bits/8⌉, are fewer at every new width: UTF-8 spends bits on marking the
    length and the continuation bytes."""
    return Evidence(
        measured=tuple(len(chr(c).encode("utf-8")) for c in BOUNDARIES),
        expected=tuple(utf8_bytes(c) for c in BOUNDARIES),
        comparison="equal",
        derivation="Python's UTF-8 encoder on each boundary code point",
        counterfactual="the bytes of the code point's number, max(1, ⌈bit_length/8⌉)",
        counterfactual_measured=tuple(max(1, -(-c.bit_length() // 8)) for c in BOUNDARIES),
        unit="bytes",
    )


def _tokens(text: str, corpus: str) -> int:
    return len(encode(text, train_bpe(corpus, MERGES)[0]))


def english_trained_bpe_spends_a_token_per_byte_on_russian() -> Evidence:
    """A byte-level BPE trained on English encodes a Russian sentence at exactly one token per UTF-8 byte
    (≈ 2 per letter): no merge ever saw Cyrillic bytes. Trained on English plus that Russian text, the same
    number of merges compresses it below its byte count."""
    bilingual = CORPUS + (RUSSIAN + " ") * 20
    english_tokens = _tokens(ENGLISH, CORPUS)
    russian_tokens = _tokens(RUSSIAN, CORPUS)
    return Evidence(
        measured=russian_tokens,
        expected=len(RUSSIAN.encode("utf-8")),
        comparison="equal",
        derivation="Python's UTF-8 encoder: the sentence's byte count",
        counterfactual="the same merge budget trained on English plus Russian",
        counterfactual_measured=_tokens(RUSSIAN, bilingual),
        unit="tokens",
        details={
            "English sentence: characters, tokens": f"{len(ENGLISH)}, {english_tokens}",
            "Russian sentence: characters, tokens": f"{len(RUSSIAN)}, {russian_tokens}",
            "Russian / English tokens": round(russian_tokens / english_tokens, 2),
        },
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
