"""What the progress database holds, as records, and the errors it raises."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from quiz.errors import QuizError


class StoreError(QuizError):
    pass


@dataclass(frozen=True)
class Progress:
    card_id: str
    state: str
    due: datetime
    content_hash: str
    reviews: int
    lapses: int


@dataclass(frozen=True)
class Review:
    card_id: str
    topic: str
    kind: str
    grade: int
    correct: bool | None
    first: bool
    answered_at: datetime
    mode: str


_GRADE_NAMES = {1: "again", 2: "hard", 3: "good", 4: "easy"}


@dataclass(frozen=True)
class Unsaved:
    """An answer that could not be written yet: everything needed to write it later, exactly as given."""

    deck: str
    card_id: str
    topic: str
    content_hash: str
    kind: str
    grade: int
    answered_at: str  # ISO 8601 UTC
    correct: bool | None = None
    seconds: float | None = None
    mode: str = "take"
    detail: str | None = None

    def describe(self) -> str:
        when = self.answered_at.replace("T", " ").replace("+00:00", " UTC")
        return f"{self.card_id} ({self.kind}), graded {self.grade} {_GRADE_NAMES.get(self.grade, '?')}, at {when}"


class NotSavedError(StoreError):
    """An answer the database would not take; ``answer`` holds it, so nothing is lost."""

    def __init__(self, message: str, answer: Unsaved) -> None:
        super().__init__(message)
        self.answer = answer


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")
