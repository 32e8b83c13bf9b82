"""What a progress database is opened with: the clock, where the file is, and which deck's rows are ours."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from quiz.paths import APP_NAME, DEFAULT_QUESTIONS
from quiz.store.records import StoreError

DB_ENV = "QUIZ_DB"
NOW_ENV = "QUIZ_NOW"
MEMORY = ":memory:"  # SQLite's name for a database that lives in memory only: nothing is saved
OWN_DECK = ""  # the project's own deck, in the deck column
# The schedule looks up to FSRS's maximum interval (100 years) ahead, and the forecast a week: a clock set
# closer than that to the end of the calendar cannot be scheduled from.
_EARLIEST_YEAR, _LATEST_YEAR = 1900, 9000


def now_utc() -> datetime:
    """Now, or the moment in $QUIZ_NOW (ISO 8601) so tests and demos can move the clock."""
    fixed = os.environ.get(NOW_ENV)
    if fixed:
        try:
            moment = datetime.fromisoformat(fixed)
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            moment.astimezone(UTC)  # an offset can push a moment off the calendar
        except (ValueError, OverflowError):
            raise StoreError(f"${NOW_ENV} is '{fixed}', not an ISO 8601 time like 2026-01-31T18:00") from None
        if not _EARLIEST_YEAR <= moment.astimezone(UTC).year <= _LATEST_YEAR:
            raise StoreError(
                f"${NOW_ENV} is '{fixed}', outside the years {_EARLIEST_YEAR} to {_LATEST_YEAR} that a schedule "
                "can be planned in; set a time like 2026-01-31T18:00"
            )
        # fsrs wants UTC: an offset given in $QUIZ_NOW (…+09:00) is converted, not kept.
        return moment.astimezone(UTC)
    return datetime.now(UTC)


def default_db_path() -> Path:
    if os.environ.get(DB_ENV):
        return Path(os.environ[DB_ENV])
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False)) / "progress.sqlite3"


def deck_key(questions: Path) -> str:
    """The deck column for a deck's questions folder: '' for the project's own, else the folder's full path."""
    folder = Path(os.path.realpath(questions))
    return OWN_DECK if folder == Path(os.path.realpath(DEFAULT_QUESTIONS)) else str(folder)
