"""Tokenisation arithmetic: vocabulary sizes, embedding parameters, UTF-8 bytes."""

from __future__ import annotations


def bpe_vocabulary_size(merges: int, base_symbols: int = 256) -> int:
    """Byte-level BPE starts from the 256 byte values and adds one token per merge."""
    return base_symbols + merges


def embedding_parameters(vocab: int, d_model: int, tied: bool = True) -> int:
    """The input embedding is a V×d table; an untied output projection (d→V, no bias) adds another V·d."""
    return vocab * d_model * (1 if tied else 2)


def utf8_bytes(code_point: int) -> int:
    """Bytes UTF-8 needs for one code point: 1 below U+0080 (ASCII), 2 below U+0800 (Latin accents, Greek,
    Cyrillic, Hebrew, Arabic), 3 below U+10000 (Devanagari, Thai, CJK), 4 above (emoji, rare CJK)."""
    if code_point < 0x80:
        return 1
    if code_point < 0x800:
        return 2
    if code_point < 0x10000:
        return 3
    return 4
