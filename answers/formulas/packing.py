"""How many attention scores survive the masks of packed rows."""

from __future__ import annotations


def document_masked_score_count(tokens: int, documents: int) -> int:
    """Scores a block-diagonal causal mask keeps when ``documents`` equal documents of l = n/k tokens are
    packed into one row of n tokens: k · l(l+1)/2, about 1/k of the causal n(n+1)/2."""
    length = tokens // documents
    return documents * length * (length + 1) // 2
