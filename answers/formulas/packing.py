"""How many attention scores survive the masks of packed and prefix-LM rows."""

from __future__ import annotations


def document_masked_score_count(tokens: int, documents: int) -> int:
    """Scores a block-diagonal causal mask keeps when ``documents`` equal documents of l = n/k tokens are
    packed into one row of n tokens: k · l(l+1)/2, about 1/k of the causal n(n+1)/2."""
    length = tokens // documents
    return documents * length * (length + 1) // 2


def prefix_lm_score_count(tokens: int, prefix: int) -> int:
    """Scores a prefix-LM mask keeps: the p × p bidirectional prefix block, then each target i = p … n−1
    sees keys 0 … i: p² + (n(n+1) − p(p+1))/2."""
    return prefix * prefix + (tokens * (tokens + 1) - prefix * (prefix + 1)) // 2
