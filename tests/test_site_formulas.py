"""The formulas of answers/formulas translated to JavaScript (quiz.site.formulas_js): which are translated, what
refuses a formula, and the browser-drawn prompt's HTML. The runs in a real browser (every generated question's
formula on 200 seeded draws, the prompt and answer as Python shows them, Python's operator semantics where
JavaScript's differ) are in tests/test_site_browser.py, which owns the one chromium a session may start; they use
the cases and helpers defined here."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from answers.formulas import FORMULAS
from quiz.deck import load_deck
from quiz.models import NumericQuestion
from quiz.numeric import format_param
from quiz.site.formulas_js import encode_value, export, translate_sources
from quiz.site.graded import _html, browser_drawn, fill_html

CHROMIUM = Path("/usr/bin/chromium")
DRAWS = 200
RELATIVE = 1e-12
# Formulas a generated question uses that the translator refuses, and why: the browser keeps build-time draws.
NOT_TRANSLATED = {"expected_dropped_fraction_uniform": "math.lgamma"}


@pytest.fixture(scope="module")
def deck():
    return load_deck()


def generated_questions(deck) -> list[tuple[str, NumericQuestion]]:
    return [(f"{card.id}#{i}", q) for card in deck for i, q in enumerate(card.numeric) if q.generated]


@pytest.fixture(scope="module")
def generated(deck) -> list[tuple[str, NumericQuestion]]:
    return generated_questions(deck)


def _encode(params: dict) -> dict:
    return {k: encode_value(v) for k, v in params.items()}


def _draws(question, seed: str) -> list[dict]:
    """Configurations as quiz.numeric.draw makes them: one uniform choice per parameter."""
    rng = random.Random(seed)
    return [
        {name: values[0] if len(values) == 1 else rng.choice(values) for name, values in question.params.items()}
        for _ in range(DRAWS)
    ]


def test_every_formula_a_generated_question_uses_is_translated_but_the_named_ones(generated):
    used = {q.formula for _, q in generated}
    exported = export().exported
    missing = {name: export().refused[name] for name in used if name not in exported}
    print(f"{len(used & set(exported))} of {len(used)} formulas used by generated questions are translated")
    assert set(missing) == set(NOT_TRANSLATED), missing
    for name, why in NOT_TRANSLATED.items():
        assert why in missing[name]
    assert set(exported) | set(export().refused) == set(FORMULAS)  # a formula no question uses may be refused


def test_a_construct_it_cannot_translate_refuses_the_function_and_its_callers():
    code, refused = translate_sources(
        {
            "m": "import math\n"
            "def first(x):\n    return x[0]\n"  # a subscript
            "def uses_first(x):\n    return first(x) + 1\n"
            "def gamma(x):\n    return math.lgamma(x)\n"
            "def loop(x):\n    while x:\n        x -= 1\n    return x\n"
            "def fine(x, y=2):\n    return x // y if x > 0 else -x % y\n"
        }
    )
    assert set(code) == {"m.fine"}
    assert "Subscript" in refused["m.first"] and "first()" in refused["m.uses_first"]
    assert "math.lgamma" in refused["m.gamma"] and "While" in refused["m.loop"]


def test_the_browser_drawn_prompt_renders_as_the_filled_in_prompt(generated):
    checked = 0
    for where, question in generated:
        drawn = browser_drawn(question, [])
        if drawn is None:
            assert question.formula in NOT_TRANSLATED, where
            continue
        names = drawn["parts"][1::2]
        for params in _draws(question, where)[:40]:
            shown = {k: format_param(v) for k, v in params.items()}
            assert fill_html(drawn["html"], names, shown) == _html(question.prompt.format(**shown)), where
            checked += 1
    assert checked > 1000


# Cases where JavaScript's own operators would give another value than Python's.
ARITHMETIC = [
    ("floordiv", -7, 2),
    ("floordiv", 7, -2),
    ("floordiv", 1.0, 0.1),
    ("floordiv", -1.0, 3),
    ("floordiv", 2**80 + 1, 3),
    ("mod", -7, 3),
    ("mod", 7, -3),
    ("mod", -7.5, 2),
    ("mod", 5.0, -3),
    ("mod", 2**70 + 5, 7),
    ("truediv", 2**70 + 1, 3),
    ("truediv", 10**30 + 7, 10**15 + 3),
    ("truediv", 7, 2),
    ("pow", 2, -2),
    ("pow", 2, 64),
    ("pow", 3, 40),
    ("pow", 2.0, -1074),
    ("pow", 1.0, float("inf")),
    ("pow", -8.0, 3),
    ("mul", 2**53 + 1, 3),
    ("add", 2**53, 1),
    ("add", True, True),
    ("sub", 2**60, 1.5),
]
ROUNDING = [0.5, 1.5, 2.5, -0.5, -1.5, 2.675, 1e15 + 0.5, 3.4999999999999996, -2.5, 7]


def _values() -> list[float]:
    rng = random.Random(3)
    values = [0.0, 1000.125, 0.125, 2.5, 1e-5, 1.5e20, 999999.5, 9.9995, 0.0001, 123456.5, 2**60, 1e16, 7e9]
    values += [rng.uniform(-1, 1) * 10 ** rng.randint(-8, 25) for _ in range(600)]
    values += [round(rng.uniform(0, 1e6)) / 8 for _ in range(200)]  # exact halves and eighths: ties at a digit
    return values
