"""The proof cache: each card's claim results and figures under its key, and ``prove``, which answers from
it or runs. Only a card whose every claim passed is cached: a failure may be an accident of the run."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from quiz.paths import DEFAULT_ANSWERS, cache_dir
from quiz.proofs.key import proof_key
from quiz.proofs.run import ClaimResult, ProvableCard, check_trust
from quiz.proofs.workers import Job, prove_in_workers

# The cache


class ProofCache:
    """``<root>/proofs/<card>/<key>/``: ``claims.json``, and ``figures.json`` with the figure files."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else cache_dir()

    def folder(self, card_id: str, key: str) -> Path:
        return self.root / "proofs" / card_id / key

    def _read(self, card_id: str, key: str, name: str) -> Any:
        try:
            return json.loads((self.folder(card_id, key) / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _write(self, card_id: str, key: str, name: str, data: Any) -> None:
        folder = self.folder(card_id, key)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".{name}.{os.getpid()}.tmp"
            tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, folder / name)  # a reader sees the old record or the new, never half
            for old in folder.parent.iterdir():
                if old != folder and old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass  # the cache only saves time; a read-only cache folder must not stop a proof

    def claims(self, card: ProvableCard, key: str) -> list[ClaimResult] | None:
        records = self._read(card.id, key, "claims.json")
        if not isinstance(records, list) or len(records) != len(card.claims):
            return None
        try:
            return [ClaimResult.from_record(r, c.statement) for r, c in zip(records, card.claims, strict=True)]
        except (KeyError, TypeError):
            return None

    def save_claims(self, card: ProvableCard, key: str, results: list[ClaimResult]) -> None:
        if results and all(r.passed for r in results):
            self._write(card.id, key, "claims.json", [r.record() for r in results])

    def figures(self, card_id: str, key: str) -> list[dict[str, str]] | None:
        return self._read(card_id, key, "figures.json")

    def save_figures(self, card_id: str, key: str, figures: list[dict[str, str]]) -> None:
        self._write(card_id, key, "figures.json", figures)


def prove(
    cards: Iterable[ProvableCard],
    answers_dir: Path = DEFAULT_ANSWERS,
    *,
    trusted: bool = False,
    cache: ProofCache | None = None,
    fresh: bool = False,
    on_result: Callable[[ClaimResult], None] | None = None,
    workers: int | None = None,
) -> list[ClaimResult]:
    """Every claim of ``cards``, in order: from ``cache`` where a card's key is unchanged (unless ``fresh``),
    run in worker processes otherwise (see ``workers``), and cached when every claim of the card passed."""
    workers = workers or default_workers()
    check_trust(answers_dir, trusted)
    cards = list(cards)
    found: dict[int, list[ClaimResult]] = {}
    jobs: dict[int, tuple[Job, str]] = {}
    for number, card in enumerate(cards):
        key = proof_key(card, answers_dir)
        cached = None if cache is None or fresh else cache.claims(card, key)
        if cached is None:
            jobs[number] = (Job(card, answers_dir, trusted), key)
        else:
            found[number] = cached
            for result in cached if on_result else ():
                on_result(result)
    numbers = {id(job): number for number, (job, _) in jobs.items()}
    for job, results, _ in prove_in_workers([job for job, _ in jobs.values()], workers, on_result=on_result):
        number = numbers[id(job)]
        found[number] = results or []
        if cache is not None:
            cache.save_claims(job.card, jobs[number][1], found[number])
    return [result for number in range(len(cards)) for result in found[number]]


def default_workers() -> int:
    """Two workers where there are two cores: each proves a card while the other does."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(2, cores))
