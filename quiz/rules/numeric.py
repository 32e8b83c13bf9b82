"""NUM rules: a numeric question against the formulas (``answers/formulas``) and its own prompt."""

from __future__ import annotations

import itertools
import string
from collections.abc import Iterator

from quiz.models import Card
from quiz.rules.codes import MAX_COMBINATIONS
from quiz.rules.scope import Finding, Scope


def formula_exists(card: Card, scope: Scope) -> Iterator[Finding]:
    for i, numeric in enumerate(card.numeric):
        if numeric.formula not in scope.formulas:
            yield Finding(("numeric", i, "formula"), f"no formula '{numeric.formula}' in answers/formulas")


def params_are_formula_arguments(card: Card, scope: Scope) -> Iterator[Finding]:
    for i, numeric in enumerate(card.numeric):
        if numeric.formula in scope.formulas:
            unknown = sorted(set(numeric.params) - set(scope.formulas[numeric.formula]))
            if unknown:
                message = f"'{numeric.formula}' takes no argument '{unknown[0]}'"
                yield Finding(("numeric", i, "params", unknown[0]), message)


def _fields(prompt: str) -> list[tuple[str | None, str | None, str | None]]:
    """The replacement fields of a prompt as (name, format spec, conversion); [] when it does not parse."""
    try:
        return [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(prompt)]
    except ValueError:
        return []


def required_arguments_given(card: Card, scope: Scope) -> Iterator[Finding]:
    for i, numeric in enumerate(card.numeric):
        missing = [name for name in scope.required.get(numeric.formula, ()) if name not in numeric.params]
        if missing:
            yield Finding(("numeric", i, "params"), f"'{numeric.formula}' needs '{missing[0]}'; give it values")


def every_combination_computes(card: Card, scope: Scope) -> Iterator[Finding]:
    for i, numeric in enumerate(card.numeric):
        known = scope.formulas.get(numeric.formula)
        if known is None or set(numeric.params) - set(known) or not all(numeric.params.values()):
            continue  # NUM001, NUM002 or NUM004 already says what is wrong
        if any(name not in numeric.params for name in scope.required.get(numeric.formula, ())):
            continue  # NUM006
        names = list(numeric.params)
        for values in itertools.islice(itertools.product(*numeric.params.values()), MAX_COMBINATIONS):
            wrong = scope.evaluate(numeric.formula, dict(zip(names, values, strict=True)))
            if wrong:
                yield Finding(("numeric", i, "params"), wrong)
                break


def placeholders_are_plain(card: Card, scope: Scope) -> Iterator[Finding]:
    # The values are formatted by the quiz (format_param): a spec, a conversion, an index or an attribute is
    # never needed, and each is a way to crash `take` (`{}`, `{x:{y}}`) or make it allocate (`{x:>999999999}`).
    for i, numeric in enumerate(card.numeric):
        try:
            fields = list(string.Formatter().parse(numeric.prompt))
        except ValueError as exc:
            yield Finding(("numeric", i, "prompt"), f"prompt does not parse ({exc}); write a literal brace as {{{{")
            continue
        for _, name, spec, conversion in fields:
            if name is None:
                continue
            if not name.isidentifier() or spec or conversion:
                shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
                message = f"prompt uses {shown}; a placeholder is a parameter's name alone, like {{tokens}}"
                yield Finding(("numeric", i, "prompt"), message)
                break


def placeholders_are_params(card: Card, scope: Scope) -> Iterator[Finding]:
    for i, numeric in enumerate(card.numeric):
        names = {name for name, _, _ in _fields(numeric.prompt) if name and name.isidentifier()}
        unknown = sorted(names - set(numeric.params))
        if unknown:
            yield Finding(("numeric", i), f"prompt uses {{{unknown[0]}}} but params do not define it")


def params_have_values(card: Card, scope: Scope) -> Iterator[Finding]:
    for i, numeric in enumerate(card.numeric):
        empty = sorted(name for name, values in numeric.params.items() if not values)
        if empty:
            yield Finding(("numeric", i), f"parameter '{empty[0]}' has no values")
