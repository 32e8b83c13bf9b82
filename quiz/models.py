"""The card format: closed pydantic models for one YAML question card. No I/O here.

This module checks each field on its own; every rule that relates fields to each other, to the file system or
to other cards (unique ids, file names, answer modules, related ids, numeric placeholders) is in ``quiz.rules``,
with its code.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, field_validator

from quiz.vocab import RETIRED_TOPICS, TOPIC_TITLES, Difficulty, Topic, Unit  # noqa: F401  (re-exported)

CardId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)]
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]*$", max_length=100)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
# One point of an interview rubric: a short phrase a strong spoken answer must contain.
Point = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=90)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Claim(Strict):
    statement: Text
    proof: Identifier = Field(description="a function in the card's answer module that returns Evidence")


class Pitfall(Strict):
    """A common answer that is wrong or loose, and what is true instead."""

    myth: Text = Field(description="what is commonly said, quoted or paraphrased")
    truth: Text = Field(description="what is true, with the numbers that show it")
    source: str | None = Field(default=None, description="where the myth appears: document title and section")
    # The id of the statement in the audit of the study documents. Never shown to a reader: it lets the bank's
    # coverage test check that every statement the audit marks false or imprecise has a pitfall.
    audit: str | None = Field(default=None, pattern=r"^C\d+$", description="id in the study documents' audit")
    verdict: str = Field(default="false", pattern=r"^(false|imprecise)$")
    proof: Identifier = Field(description="the claim of this card that refutes or sharpens the myth")

    @field_validator("verdict", mode="before")
    @classmethod
    def _yaml_false_is_the_word(cls, value: object) -> object:
        return "false" if value is False else value  # YAML reads a bare `false` as a boolean


class Reference(Strict):
    title: Text
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")] | None = None


class Choice(Strict):
    text: Text
    correct: bool = False
    why: str | None = Field(default=None, description="why this choice is right or wrong, shown when picked")


class NumericQuestion(Strict):
    """A question whose answer a formula computes. With one value per parameter it is a fixed question;
    with several, the quiz draws a fresh configuration each time."""

    prompt: Text = Field(description="text with {parameter} placeholders")
    formula: Identifier = Field(description="a function in answers.formulas")
    params: dict[Identifier, list[int | float | bool]] = Field(min_length=1)
    unit: Unit
    tolerance: float = Field(default=0.01, gt=0, le=0.5, description="relative tolerance")

    @property
    def generated(self) -> bool:
        return any(len(values) > 1 for values in self.params.values())


class AskedIn(Strict):
    """An interview question one of the study documents asks, which this card answers."""

    document: Text = Field(description="the study document's title")
    question: Text


def _current_topic(name: object) -> object:
    """A retired topic's name as the topic that took it in (anything else is left for the enum to judge)."""
    return RETIRED_TOPICS.get(name, name) if isinstance(name, str) else name


class Card(Strict):
    id: CardId
    title: Text
    topic: Annotated[Topic, BeforeValidator(_current_topic)]
    difficulty: Difficulty
    tags: list[CardId] = Field(min_length=1)
    question: Text
    answer: Text = Field(description="what you would say in the interview: a few sentences")
    # Optional; when given, 2 to 5 points. A default is not validated, so an absent rubric is simply empty.
    must_say: list[Point] = Field(
        default_factory=list,
        min_length=2,
        max_length=5,
        description="the points a strong spoken answer must make, for self-grading in `quiz interview`",
    )
    explanation: Text = Field(description="markdown, math between $…$ or $$…$$")
    pitfalls: list[Pitfall] = Field(default_factory=list)
    claims: list[Claim] = Field(min_length=1)
    related: list[CardId] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    asked_in: list[AskedIn] = Field(default_factory=list, description="study-document questions it answers")
    choices: list[Choice] = Field(default_factory=list)
    choice_question: Text | None = Field(
        default=None, description="the question the choices answer, when `question` asks more than they cover"
    )
    numeric: list[NumericQuestion] = Field(default_factory=list)
    unmeasured: str | None = Field(default=None, description="what this card says but cannot measure here")
    # Words a reader types for this card that its text spells otherwise ("sqrt" for √d_k, "gqa" for grouped-query
    # attention). The site boosts them in search and shows them under the card's title.
    keywords: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]] = Field(
        default_factory=list
    )

    @property
    def module(self) -> str:
        """The proof module's name inside the answers package."""
        return self.id.replace("-", "_")


Location = tuple[str | int, ...]
