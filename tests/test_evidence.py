"""The Evidence record: the claim and its counterfactual are judged by the same comparison."""

from __future__ import annotations

import math

import pytest

from answers.evidence import Evidence, format_value, satisfies


@pytest.mark.parametrize(
    ("measured", "expected", "comparison", "tolerance", "result"),
    [
        (1.05, 1.0, "abs", 0.1, True),
        (1.2, 1.0, "abs", 0.1, False),
        (104.0, 100.0, "rel", 0.05, True),
        (106.0, 100.0, "rel", 0.05, False),
        (0.5, 1.0, "at_most", 0.0, True),
        (1.5, 1.0, "at_most", 0.0, False),
        (1.5, 1.0, "at_least", 0.0, True),
        (0.5, 1.0, "at_least", 0.0, False),
        ((2, 3), (2, 3), "equal", 0.0, True),
        (7, 8, "equal", 0.0, False),
    ],
)
def test_each_comparison_accepts_and_rejects(measured, expected, comparison, tolerance, result):
    assert satisfies(measured, expected, comparison, tolerance) is result


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_never_pass_a_numeric_check(bad):
    assert not satisfies(bad, 0.0, "abs", 1e9)
    assert not satisfies(bad, 0.0, "at_most", 0.0)


def test_a_boolean_is_not_a_number_to_compare():
    assert not satisfies(True, 1.0, "abs", 0.5)


def test_counterfactual_is_judged_against_the_same_expected_value():
    ev = Evidence(
        measured=0.0,
        expected=0.0,
        tolerance=1e-9,
        derivation="theory",
        counterfactual="no mask",
        counterfactual_measured=0.3,
    )
    assert ev.holds and not ev.counterfactual_holds and ev.proved


def test_a_counterfactual_that_also_holds_means_not_proved():
    ev = Evidence(
        measured=1.0,
        expected=1.0,
        tolerance=0.5,
        derivation="theory",
        counterfactual="too gentle a break",
        counterfactual_measured=1.2,
    )
    assert ev.holds and ev.counterfactual_holds and not ev.proved


def test_numeric_comparison_refuses_a_negative_tolerance():
    with pytest.raises(ValueError, match="non-negative tolerance"):
        Evidence(
            measured=1.0, expected=1.0, tolerance=-1.0, derivation="", counterfactual="", counterfactual_measured=0.0
        )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (262144, "262,144"),
        (0.5, "0.5"),
        (1e-12, "1e-12"),
        (2.5e9, "2,500,000,000"),
        (2.5e9 + 0.5, "2.5e+09"),
        (3.0, "3"),
        (True, "yes"),
        ((3, 7), "(3, 7)"),
    ],
)
def test_values_are_formatted_for_people(value, text):
    assert format_value(value) == text
