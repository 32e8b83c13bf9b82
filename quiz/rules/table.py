"""The card rules as one table (code, stage, check), and ``check``, which runs one stage of it on a card.

A rule's place in ``RULES`` is the order its problems are found in; a rule that ``keeps_out`` a card stops
the rules after it in its stage."""

from __future__ import annotations

from collections.abc import Mapping

from quiz.models import Card, Location
from quiz.paths import shown_path
from quiz.rules.card import (
    at_most_ten_choices,
    claims_name_distinct_functions,
    id_is_file_name,
    id_is_not_reserved,
    id_is_unique,
    not_related_to_itself,
    one_correct_choice,
    pitfalls_name_claims,
    related_cards_exist,
    topic_is_folder,
    wrong_choices_say_why,
)
from quiz.rules.codes import Problem, field_name, line_of
from quiz.rules.numeric import (
    every_combination_computes,
    formula_exists,
    params_are_formula_arguments,
    params_have_values,
    placeholders_are_params,
    placeholders_are_plain,
    required_arguments_given,
)
from quiz.rules.proof import (
    claim_functions_exist,
    claim_functions_return_evidence,
    evidence_functions_are_claims,
    module_exists,
    module_is_small,
)
from quiz.rules.scope import Finding, Rule, Scope, Stage

RULES: tuple[Rule, ...] = (
    Rule("CARD006", Stage.ALONE, not_related_to_itself),
    Rule("CARD007", Stage.ALONE, claims_name_distinct_functions),
    Rule("CARD008", Stage.ALONE, pitfalls_name_claims),
    Rule("CARD009", Stage.ALONE, one_correct_choice),
    Rule("CARD010", Stage.ALONE, wrong_choices_say_why),
    Rule("CARD011", Stage.ALONE, at_most_ten_choices),
    Rule("NUM003", Stage.ALONE, placeholders_are_params),
    Rule("NUM004", Stage.ALONE, params_have_values),
    Rule("NUM005", Stage.ALONE, placeholders_are_plain),
    Rule("CARD001", Stage.PLACED, id_is_file_name),
    Rule("CARD002", Stage.PLACED, topic_is_folder),
    Rule("CARD003", Stage.PLACED, id_is_not_reserved, keeps_out=True),
    Rule("CARD004", Stage.PLACED, id_is_unique, keeps_out=True),
    Rule("CARD005", Stage.LINKED, related_cards_exist),
    Rule("PROOF006", Stage.LINKED, module_is_small),
    Rule("PROOF001", Stage.LINKED, module_exists),
    Rule("PROOF002", Stage.LINKED, claim_functions_exist),
    Rule("PROOF003", Stage.LINKED, claim_functions_return_evidence),
    Rule("PROOF004", Stage.LINKED, evidence_functions_are_claims),
    Rule("NUM001", Stage.LINKED, formula_exists),
    Rule("NUM002", Stage.LINKED, params_are_formula_arguments),
    Rule("NUM006", Stage.LINKED, required_arguments_given),
    Rule("NUM007", Stage.LINKED, every_combination_computes),
)


def check(card: Card, stage: Stage, scope: Scope, lines: Mapping[Location, int]) -> tuple[list[Problem], bool]:
    """Run one stage's rules on a card: the problems found, and whether the card is kept in the deck."""
    problems: list[Problem] = []
    shown = shown_path(scope.path)
    for rule in RULES:
        if rule.stage is not stage:
            continue
        found = [_problem(rule.code, finding, shown, lines) for finding in rule.check(card, scope)]
        problems.extend(found)
        if found and rule.keeps_out:
            return problems, False
    return problems, True


def _problem(code: str, finding: Finding, shown: str, lines: Mapping[Location, int]) -> Problem:
    if finding.file is not None:
        return Problem(shown_path(finding.file), finding.line, field_name(finding.loc), finding.message, code)
    return Problem(shown, line_of(lines, finding.loc), field_name(finding.loc), finding.message, code)
