"""Reading typed numeric answers, checking them against a tolerance, and showing values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quiz.numeric import AnswerFormatError, close_enough, format_quantity, parse_quantity


@pytest.mark.parametrize(
    "text, unit, value",
    [
        ("2 GiB", "bytes", 2 * 2**30),
        ("2147483648", "bytes", 2**31),
        ("2.0e9 B", "bytes", 2e9),
        ("2 GB", "bytes", 2e9),
        ("512 KiB", "bytes", 512 * 1024),
        ("1.5 MB", "bytes", 1.5e6),
        ("1,024 bytes", "bytes", 1024),
        ("2^31", "bytes", 2**31),
        ("3 × 10^9 B", "bytes", 3e9),
        ("175B params", "parameters", 175e9),
        ("175B", "parameters", 175e9),
        ("175 billion", "parameters", 175e9),
        ("6.7e9", "parameters", 6.7e9),
        ("124M", "parameters", 124e6),
        ("3.1e23 FLOPs", "FLOPs", 3.1e23),
        ("312 TFLOPs", "FLOPs", 312e12),
        ("1.4T tokens", "tokens", 1.4e12),
        ("16K", "count", 16e3),
        ("4x", "ratio", 4),
        ("25%", "ratio", 0.25),
        ("-0.5", "nats", -0.5),
    ],
)
def test_quantities_are_read_in_the_questions_unit(text, unit, value):
    assert parse_quantity(text, unit) == pytest.approx(value)


@pytest.mark.parametrize(
    "text, unit, message",
    [
        ("", "bytes", "type a number"),
        ("lots", "bytes", "cannot read"),
        ("2 GiB", "FLOPs", "size in bytes"),
        ("3 params", "bytes", "unit of parameters"),
        ("2 zorks", "count", "unknown multiplier"),
        ("2 XB", "bytes", "unknown size"),
        ("50%", "bytes", "only makes sense for a ratio"),
    ],
)
def test_unreadable_answers_say_what_would_be_understood(text, unit, message):
    with pytest.raises(AnswerFormatError, match=message):
        parse_quantity(text, unit)


def test_the_tolerance_is_relative_to_the_expected_value():
    assert close_enough(101, 100, 0.01)
    assert not close_enough(102, 100, 0.01)
    assert close_enough(0.001, 0, 0.01)  # a zero answer: the tolerance is absolute
    assert not close_enough(float("nan"), 100, 0.5)


def test_binary_and_decimal_prefixes_differ_by_enough_to_matter():
    assert not close_enough(parse_quantity("2 GB", "bytes"), parse_quantity("2 GiB", "bytes"), 0.05)


@given(st.integers(min_value=0, max_value=10**15))
def test_a_plain_integer_with_separators_reads_back_exactly(n):
    assert parse_quantity(f"{n:,}", "count") == n


@given(st.floats(min_value=1, max_value=1e18, allow_nan=False))
def test_the_exact_figure_shown_for_bytes_reads_back_within_a_byte(value):
    shown = format_quantity(value, "bytes")
    exact = shown.split("(")[-1].rstrip(")") if "(" in shown else shown
    assert abs(parse_quantity(exact, "bytes") - value) <= 0.5 + value * 1e-15


def test_values_are_shown_as_an_interviewer_would_say_them():
    assert format_quantity(2**31, "bytes") == "2 GiB (2,147,483,648 B)"
    assert format_quantity(175e9, "parameters") == "175B parameters (175,000,000,000)"
    assert format_quantity(4, "ratio") == "4×"
