"""Exercise sinusoidal-encoding: the fixed positional encoding of "Attention Is All You Need", section 3.5."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from answers.exercises._kit import Case, Misconception

ID = "sinusoidal-encoding"
CARD = "sinusoidal-encoding-properties"
DIFFICULTY = "easy"
TITLE = "The sinusoidal positional encoding"
FUNCTION = "sinusoidal_encoding"
IMPORTS = "import torch\n"
FORBIDDEN: dict[str, str] = {}


def sinusoidal_encoding(n_positions: int, d_model: int) -> torch.Tensor:
    """The sinusoidal positional encoding table: float32 (n_positions, d_model), row p the code of position p.

    PE[p, 2i] = sin(p / 10000^(2i/d_model)),  PE[p, 2i+1] = cos(p / 10000^(2i/d_model)),
    for positions p = 0 … n_positions − 1 and pairs i = 0 … d_model/2 − 1: dimensions 2i and 2i + 1 share
    one frequency, sin on the even dimension and cos on the odd one (interleaved, as in the paper, not
    all sines then all cosines). d_model is even, n_positions ≥ 1. dtype torch.float32.

    Example: sinusoidal_encoding(2, 4)
        = [[0.,     1.,     0.,     1.    ],      p = 0: sin 0, cos 0, sin 0, cos 0
           [0.8415, 0.5403, 0.0100, 0.99995]]     p = 1: sin 1, cos 1, sin 0.01, cos 0.01
    """
    positions = torch.arange(n_positions, dtype=torch.float64)[:, None]  # (n, 1)
    frequencies = 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)  # (d/2,)
    table = torch.zeros(n_positions, d_model, dtype=torch.float64)
    table[:, 0::2] = torch.sin(positions * frequencies)
    table[:, 1::2] = torch.cos(positions * frequencies)
    return table.float()


def _loop(n_positions: int, d_model: int) -> Tensor:
    """The paper's formula, one entry at a time in Python floats: dimension j belongs to pair i = j // 2."""
    rows = []
    for p in range(n_positions):
        row = []
        for j in range(d_model):
            angle = p / 10000 ** (2 * (j // 2) / d_model)
            row.append(math.sin(angle) if j % 2 == 0 else math.cos(angle))
        rows.append(row)
    return torch.tensor(rows, dtype=torch.float32)


def cases() -> list[Case]:
    return [
        # float32 rounding of an angle near 50 rad is about 4e-6 after the sine
        Case(f"n_positions = {n}, d_model = {d}", (n, d), _loop(n, d), why, atol=1e-5, rtol=1e-5,
             arg_names=("n_positions", "d_model"))
        for n, d, why in [
            (2, 4, "the worked example"),
            (7, 6, "an odd number of positions, three frequency pairs"),
            (50, 16, "positions far enough for the slow frequencies to show"),
            (1, 10, "position 0 alone: sin 0 = 0, cos 0 = 1"),
        ]
    ]  # fmt: skip


# ---------------------------------------------------------------------------------- the misconceptions


def _table(n_positions: int, d_model: int, exponents: Tensor, first: int = 0) -> Tensor:
    positions = torch.arange(first, first + n_positions, dtype=torch.float64)[:, None]
    return positions * 10000.0 ** (-exponents.to(torch.float64))


def one_frequency_per_dimension(n_positions: int, d_model: int) -> Tensor:
    angles = _table(n_positions, d_model, torch.arange(d_model) / d_model)
    table = torch.where(torch.arange(d_model) % 2 == 0, torch.sin(angles), torch.cos(angles))
    return table.float()


def sines_then_cosines(n_positions: int, d_model: int) -> Tensor:
    angles = _table(n_positions, d_model, torch.arange(0, d_model, 2) / d_model)
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1).float()


def cos_on_even(n_positions: int, d_model: int) -> Tensor:
    angles = _table(n_positions, d_model, torch.arange(0, d_model, 2) / d_model)
    return torch.stack([torch.cos(angles), torch.sin(angles)], dim=-1).flatten(-2).float()


def positions_from_one(n_positions: int, d_model: int) -> Tensor:
    angles = _table(n_positions, d_model, torch.arange(0, d_model, 2) / d_model, first=1)
    return torch.stack([torch.sin(angles), torch.cos(angles)], dim=-1).flatten(-2).float()


MISCONCEPTIONS = [
    Misconception("one frequency per dimension", one_frequency_per_dimension,
                  "you give dimension j the frequency 1/10000^(j/d_model); in the paper the exponent is 2i/d_model "
                  "with i the *pair*: dimensions 2i (sin) and 2i + 1 (cos) share a frequency, which is what makes "
                  "a shift a rotation of each pair",
                  "sinusoidal-encoding-properties: “Each dimension j uses its own frequency 10000^(j/d).”"),
    Misconception("all sines, then all cosines", sines_then_cosines,
                  "you concatenate [sin | cos] (the tensor2tensor layout); the paper interleaves them, sin on even "
                  "and cos on odd dimensions. Both encode the same information, but not the same table",
                  "sinusoidal-encoding-properties: table_matches_the_papers_formula"),
    Misconception("cos on the even dimensions", cos_on_even,
                  "you put cos at 2i and sin at 2i + 1; the paper has sin at 2i, so position 0 is [0, 1, 0, 1, …]",
                  "sinusoidal-encoding-properties: table_matches_the_papers_formula"),
    Misconception("positions counted from 1", positions_from_one,
                  "your first row is position 1; positions start at 0, whose code is sin 0 = 0, cos 0 = 1",
                  "sinusoidal-encoding-properties: table_matches_the_papers_formula"),
]  # fmt: skip
