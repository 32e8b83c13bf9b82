"""Serial depth of generation: how many layers lie on the longest chain of dependent computation."""

from __future__ import annotations


def cot_serial_layers(layers: int, thought_tokens: int) -> int:
    """Layers on the longest dependent path to the answer when ``thought_tokens`` generated tokens are fed
    back first: each one is the output of a full pass that the next pass reads, so L · (k + 1). Filler tokens
    given as input add none."""
    return layers * (thought_tokens + 1)
