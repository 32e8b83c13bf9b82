"""The units a numeric answer is given in, and the words and prefixes a person may type after the number."""

from __future__ import annotations

# Units as they appear in NumericQuestion.unit, with the words a person may type after the number.
UNIT_WORDS: dict[str, tuple[str, ...]] = {
    "bytes": ("b", "byte", "bytes"),
    "FLOPs": ("flop", "flops"),
    "parameters": ("param", "params", "parameter", "parameters", "weights"),
    "count": (),
    "ratio": ("x", "×", "times", "flops/byte", "flop/byte", "flops/b", "flop/b", "flops per byte"),
    "nats": ("nat", "nats"),
    "radians": ("rad", "rads", "radian", "radians"),
    "tokens": ("tok", "toks", "token", "tokens"),
}
ALL_WORDS = {word: unit for unit, words in UNIT_WORDS.items() for word in words}
# What the hint under a question offers, per unit: only forms that fit.
EXAMPLES = {
    "bytes": "2 GiB, 64 KiB, 1.5e9 B or 2 gigabytes",
    "FLOPs": "3.1e23, 310 ZFLOPs, 6 × 10^21 or 2^40",
    "parameters": "175B, 7 billion, 1.3e9 or 124M",
    "count": "96, 1,024, 2^10 or 16K",
    "ratio": "2.3, 16/7, 4x or 25%",
    "nats": "2.83 or ~3.1",
    "radians": "0.52, 1e-3 or 2^-10",
    "tokens": "8192, 8Ki, 1.4T or 300B",
}

BINARY = {"ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40, "pi": 2**50, "ei": 2**60}
DECIMAL = {"k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "p": 1e15, "e": 1e18, "z": 1e21, "y": 1e24}
BYTE_WORDS = {
    "kilobyte": 1e3,
    "megabyte": 1e6,
    "gigabyte": 1e9,
    "terabyte": 1e12,
    "petabyte": 1e15,
    "kibibyte": 2**10,
    "mebibyte": 2**20,
    "gibibyte": 2**30,
    "tebibyte": 2**40,
    "pebibyte": 2**50,
}
FLOP_WORDS = {"kilo": 1e3, "mega": 1e6, "giga": 1e9, "tera": 1e12, "peta": 1e15, "exa": 1e18, "zetta": 1e21}
# For counts (parameters, tokens, FLOPs) "B" is a billion, as in "175B params"; for bytes it is the byte.
COUNT_SUFFIXES = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mn": 1e6,
    "million": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "g": 1e9,
    "billion": 1e9,
    "t": 1e12,
    "trillion": 1e12,
    "p": 1e15,
    "quadrillion": 1e15,
    "ki": 2**10,
    "mi": 2**20,
    "gi": 2**30,
}

# K = 10³ and Ki = 2¹⁰, M = 10⁶ and Mi = 2²⁰ …: a prefix read in one convention, mapped to the other.
OTHER_CONVENTION = {**{10.0 ** (3 * n): float(2 ** (10 * n)) for n in range(1, 7)}}
OTHER_CONVENTION.update({v: k for k, v in list(OTHER_CONVENTION.items())})
