"""The formulas of answers/formulas translated to JavaScript (quiz.site.formulas_js) give Python's values in a real
browser (Debian's chromium through playwright): every generated question's formula on 200 seeded draws of its
parameters, the prompt filled as Python fills it, the answer shown as Python shows it, and Python's operator
semantics (// and % toward −∞, int / int, **, round half to even) on the cases where JavaScript's differ."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from answers.formulas import FORMULAS
from quiz.deck import load_deck
from quiz.numeric import format_param, format_quantity
from quiz.site.formulas_js import encode_value, export, translate_sources
from quiz.site.graded import _html, browser_drawn, fill_html
from quiz.site.options import STATIC_ASSETS

CHROMIUM = Path("/usr/bin/chromium")
DRAWS = 200
RELATIVE = 1e-12
# Formulas a generated question uses that the translator refuses, and why: the browser keeps build-time draws.
NOT_TRANSLATED = {"expected_dropped_fraction_uniform": "math.lgamma"}


@pytest.fixture(scope="module")
def deck():
    return load_deck()


@pytest.fixture(scope="module")
def generated(deck) -> list[tuple[str, object]]:
    return [(f"{card.id}#{i}", q) for card in deck for i, q in enumerate(card.numeric) if q.generated]


@pytest.fixture(scope="module")
def page():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.set_content("<!doctype html><html><body></body></html>")
        page.add_script_tag(content="window.document$ = { subscribe: function () {} };")  # MkDocs Material's
        for script in ((STATIC_ASSETS / "pyrt.js").read_text(), export().script):
            page.add_script_tag(content=script)
        page.add_script_tag(content=(STATIC_ASSETS / "interactive.js").read_text())
        yield page
        browser.close()


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
    assert len(exported) == len(FORMULAS) - len(export().refused) and len(export().refused) <= len(NOT_TRANSLATED)


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


def test_the_browser_gives_the_python_formulas_value_prompt_and_answer_on_every_draw(page, generated):
    compared = 0
    for where, question in generated:
        drawn = browser_drawn(question, [])
        if drawn is None:
            continue
        configurations = _draws(question, where)
        got = page.evaluate(
            """([question, configurations]) => configurations.map(function (c) {
                var params = {};
                Object.keys(c).forEach(function (k) { params[k] = typeof c[k] === "string" ? BigInt(c[k]) : c[k]; });
                var i = QuizSite.instanceFor(question, params);
                return [i.expected, i.prompt, i.html, i.shown];
            })""",
            [drawn, [_encode(c) for c in configurations]],
        )
        names = drawn["parts"][1::2]
        for params, (value, prompt, html, shown) in zip(configurations, got, strict=True):
            expected = float(FORMULAS[question.formula](**params))
            assert math.isclose(value, expected, rel_tol=RELATIVE, abs_tol=0 if expected else 1e-300), (where, params)
            filled = {k: format_param(v) for k, v in params.items()}
            assert prompt == question.prompt.format(**filled), where
            assert html == fill_html(drawn["html"], names, filled), where
            assert shown == format_quantity(value, str(question.unit)), (where, value)
            compared += 1
    assert compared >= 90 * DRAWS


def test_the_browser_draws_one_uniform_value_per_parameter(page):
    question = {"params": {"a": ["1", "2", "3", "4"], "b": [0.5], "c": [True, False]}}
    counts = page.evaluate(
        """(question) => {
            var seed = 7, counts = {};
            var pick = function (n) { seed = (seed * 16807) % 2147483647; return seed % n; };
            for (var i = 0; i < 4000; i++) {
                var p = QuizSite.drawParams(question, pick);
                var key = p.a.toString() + "/" + p.b + "/" + p.c + "/" + typeof p.a;
                counts[key] = (counts[key] || 0) + 1;
            }
            return counts;
        }""",
        question,
    )
    assert len(counts) == 8 and all(key.endswith("/0.5/true/bigint") or "/false/" in key for key in counts)
    assert all(400 <= n <= 600 for n in counts.values()), counts


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


def test_python_arithmetic_where_javascript_differs(page):
    def arg(v):  # playwright carries inf as Infinity; an int goes as its digits
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v

    cases = [[op, arg(a), arg(b)] for op, a, b in ARITHMETIC]
    got = page.evaluate(
        """(cases) => cases.map(function (c) {
            var d = function (v) { return typeof v === "string" ? BigInt(v) : v; };
            var r = PyRT[c[0]](d(c[1]), d(c[2]));
            return typeof r === "bigint" ? ["int", r.toString()] : ["float", r];
        })""",
        cases,
    )
    ops = {
        "floordiv": lambda a, b: a // b,
        "mod": lambda a, b: a % b,
        "truediv": lambda a, b: a / b,
        "pow": lambda a, b: a**b,
        "mul": lambda a, b: a * b,
        "add": lambda a, b: a + b,
        "sub": lambda a, b: a - b,
    }
    for (op, a, b), (kind, value) in zip(ARITHMETIC, got, strict=True):
        expected = ops[op](a, b)
        if isinstance(expected, int):
            assert (kind, int(value)) == ("int", expected), (op, a, b)
        else:
            assert kind == "float" and float(value) == expected, (op, a, b, value, expected)
    rounded = page.evaluate("(xs) => xs.map((x) => PyRT.round(x).toString())", ROUNDING)
    assert [int(r) for r in rounded] == [round(x) for x in ROUNDING]
    errors = page.evaluate(
        """() => [[1n, 0n], [1.0, 0.0]].map(function (c) {
            try { PyRT.truediv(c[0], c[1]); return "no error"; } catch (e) { return e.kind; }
        })"""
    )
    assert errors == ["ZeroDivisionError", "ZeroDivisionError"]


def _values() -> list[float]:
    rng = random.Random(3)
    values = [0.0, 1000.125, 0.125, 2.5, 1e-5, 1.5e20, 999999.5, 9.9995, 0.0001, 123456.5, 2**60, 1e16, 7e9]
    values += [rng.uniform(-1, 1) * 10 ** rng.randint(-8, 25) for _ in range(600)]
    values += [round(rng.uniform(0, 1e6)) / 8 for _ in range(200)]  # exact halves and eighths: ties at a digit
    return values


def test_python_number_formatting_in_the_browser(page):
    values = _values()
    specs = ["g", ".3g", ".4g", ".3e", ",.0f"]
    got = page.evaluate("([xs, specs]) => xs.map((x) => specs.map((s) => PyRT.format(x, s)))", [values, specs])
    for x, shown in zip(values, got, strict=True):
        assert shown == [format(x, s) for s in specs], x
    params = [5, 100000, 123456789, 2**62, 0.5, 4096.0, 1e-5, 3.14159265, True, False, 1e20, -7]
    got = page.evaluate(
        """(ps) => ps.map((p) => PyRT.formatParam(typeof p === "string" ? BigInt(p) : p))""",
        [encode_value(p) for p in params],
    )
    assert got == [format_param(p) for p in params]
    units = ["bytes", "FLOPs", "parameters", "tokens", "count", "ratio", "nats", "radians"]
    got = page.evaluate(
        "([xs, units]) => xs.map((x) => units.map((u) => PyRT.formatQuantity(x, u)))", [values[:300], units]
    )
    for x, shown in zip(values[:300], got, strict=True):
        assert shown == [format_quantity(x, u) for u in units], x
