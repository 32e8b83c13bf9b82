"""The recovery file: answers the database would not take, kept beside it until a later session saves them.

A plain JSON list of ``Unsaved`` records, written by replacing the file whole, so a crash mid-write leaves the
previous list; when the database's folder cannot be written either, the system's temporary folder is used.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from quiz.store.records import StoreError, Unsaved


def recovery_path(db_path: Path) -> Path:
    """Where answers that could not be written are kept: beside the database."""
    return Path(f"{db_path}.unsaved.json")


def keep(path: Path, unsaved: list[Unsaved]) -> Path:
    """Write answers to the recovery file ``path`` (added to any already there); returns where they went."""
    kept = _kept(path) + [asdict(a) for a in unsaved]
    text = json.dumps(kept, indent=1, ensure_ascii=False)
    for candidate in (path, Path(tempfile.gettempdir()) / f"quiz-unsaved-{os.getpid()}.json"):
        try:
            temp = candidate.with_name(candidate.name + ".tmp")
            temp.write_text(text, encoding="utf-8")
            os.replace(temp, candidate)
            return candidate
        except OSError:
            continue
    raise StoreError(f"could not write the recovery file {path}")


def kept_answers(path: Path) -> list[Unsaved]:
    """The answers in the recovery file ``path`` (none if there is no file), or one StoreError."""
    kept = _kept(path)
    if not kept:
        return []
    try:
        answers = [Unsaved(**item) for item in kept]
        for answer in answers:
            datetime.fromisoformat(answer.answered_at)
    except (TypeError, ValueError):
        raise StoreError(f"{path} (answers kept from an earlier session) holds something else") from None
    return answers


def _kept(path: Path) -> list[dict]:
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise StoreError(f"{path} (answers kept from an earlier session) cannot be read: {exc}") from None
    if not isinstance(kept, list):
        raise StoreError(f"{path} (answers kept from an earlier session) is not a list of answers")
    return kept
