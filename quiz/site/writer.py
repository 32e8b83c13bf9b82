"""Writing the docs folder: every page, figure, asset and the self-test data, each file only when its content
changes."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quiz.deck import Deck, load_deck
from quiz.exercises import Exercise
from quiz.models import Card, Topic
from quiz.proofs import ProofCache
from quiz.site.errata import errata_page
from quiz.site.exercises import INDEX as EXERCISE_INDEX
from quiz.site.exercises import deck_exercises, exercise_page, exercise_path
from quiz.site.exercises import index_page as exercise_index
from quiz.site.formulas_js import formulas_script
from quiz.site.guide import guide_nav, guide_pages
from quiz.site.katex import KATEX_FILES, fetch_iframe_worker, fetch_katex
from quiz.site.options import STATIC_ASSETS, Options
from quiz.site.pages import (
    card_page,
    card_path,
    selftest_data,
    selftest_page,
    tags_page,
    topic_page,
)
from quiz.site.proving import CardProof, ProofStats, prove_deck
from quiz.site.safe import deck_markdown as _md
from quiz.site.sources import REFERENCE, function_sources


@dataclass
class Report:
    """What one generation wrote and proved."""

    cards: int
    claims: int
    proved: int
    pitfalls: int
    figures: int
    pages: list[str]
    nav: list[Any]
    stats: ProofStats
    written: int = 0  # files whose content changed in this generation
    failures: list[str] = field(default_factory=list)
    mkdocs: bool = False  # whether MkDocs ran (``build_site`` sets it)


class Writer:
    """Writes files only when their content changes, and removes stale ones: ``mkdocs serve`` watches the
    docs folder, so rewriting identical files would make it rebuild for ever."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.kept: set[Path] = set()
        self.written = 0

    def bytes(self, relative: str, data: bytes) -> None:
        path = self.root / relative
        self.kept.add(path)
        if path.is_file() and path.read_bytes() == data:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.written += 1

    def text(self, relative: str, text: str) -> None:
        self.bytes(relative, text.encode("utf-8"))

    def copy_tree(self, source: Path, relative: str, pattern: re.Pattern[str] | None = None) -> None:
        for path in sorted(source.rglob("*")):
            if path.is_file() and (pattern is None or pattern.fullmatch(path.relative_to(source).as_posix())):
                self.bytes(f"{relative}/{path.relative_to(source).as_posix()}", path.read_bytes())

    def remove_stale(self) -> None:
        for path in sorted(self.root.rglob("*"), reverse=True):
            if path.is_file() and path not in self.kept:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()


def _code_digest() -> bytes:
    """Hash of every Python file of the quiz and answers packages: what a card page's text is computed by."""
    import answers
    import quiz

    digest = hashlib.sha256()
    for root in (Path(quiz.__file__).parent, Path(answers.__file__).parent):
        for path in sorted(root.rglob("*.py")):
            digest.update(path.relative_to(root.parent).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.digest()


class CardPages:
    """Card pages, kept in the cache folder by a hash of everything a page is made from (the card, its proof
    record, its module and answers.reference, the titles of the cards it links to, and the code that writes it),
    so an edit to one card writes that card's page without re-rendering the graded data and proof sources of the
    others."""

    def __init__(self, cache: Path) -> None:
        self.folder = Path(cache) / "site-pages"
        self.code = _code_digest()

    def card(self, card: Card, deck: Deck, proof: CardProof, exercises: tuple[tuple[str, str], ...] = ()) -> str:
        module = Path(deck.answers_dir) / f"{card.module}.py"
        related = [(o, deck.cards[o].title, deck.cards[o].topic.value) for o in card.related if o in deck.cards]
        digest = hashlib.sha256(self.code)
        parts = (card.model_dump_json(), proof.key, repr(proof.claims), repr(proof.figures), repr(related))
        parts += (repr(exercises),)
        for part in parts:
            digest.update(part.encode() + b"\0")
        for path in (module, REFERENCE):
            digest.update(path.read_bytes() if path.is_file() else b"-")
        key = digest.hexdigest()
        stored = self.folder / f"{card.id}.json"
        try:
            record = json.loads(stored.read_text(encoding="utf-8"))
            if record.get("key") == key:
                return record["page"]
        except (OSError, ValueError):
            pass
        sources = function_sources(module) if module.is_file() else {}
        page = card_page(card, deck, proof, sources, exercises)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            stored.write_text(json.dumps({"key": key, "page": page}, ensure_ascii=False), encoding="utf-8")
        except OSError:
            pass  # a read-only cache only costs time
        return page


def _write_topics(
    writer: Writer,
    deck: Deck,
    proofs: dict[str, CardProof],
    topics: list[Topic],
    pages: CardPages,
    exercises: list[Exercise],
) -> list[Any]:
    # Every entry has its title here, so a build that reads only the changed pages still names the others; the
    # topics sit in one group, so navigation.prune draws only the open topic's cards into a page.
    nav: list[Any] = [{"Home": "index.md"}, *guide_nav()]
    topic_nav: list[Any] = []
    for topic in topics:
        cards = sorted(deck.select(topic=topic.value), key=lambda c: (c.difficulty != "easy", c.title))
        writer.text(f"{topic.value}/index.md", topic_page(topic, cards, proofs))
        for card in cards:
            practise = tuple((e.title, exercise_path(e)) for e in exercises if e.card == card.id)
            writer.text(card_path(card), pages.card(card, deck, proofs[card.id], practise))
            for figure in proofs[card.id].figures:
                if "file" in figure:
                    data = (proofs[card.id].folder / figure["file"]).read_bytes()
                    writer.bytes(f"assets/figures/{card.id}/{figure['file']}", data)
        entries = [{topic.title: f"{topic.value}/index.md"}, *({_md(card.title): card_path(card)} for card in cards)]
        topic_nav.append({topic.title: entries})
    nav.append({"Topics": topic_nav})
    if exercises:
        writer.text(EXERCISE_INDEX, exercise_index(exercises, deck))
        for exercise in exercises:
            writer.text(exercise_path(exercise), exercise_page(exercise, deck))
        # inside a group of its own, so navigation.prune draws the exercises only into their own pages
        entries = [{"Exercises": EXERCISE_INDEX}, *({_md(e.title): exercise_path(e)} for e in exercises)]
        nav.append({"Practice": [{"Exercises": entries}]})
    return [*nav, {"Errata": "errata.md"}, {"Self-test": "self-test.md"}, {"Tags": "tags.md"}]


def generate(docs_dir: Path, options: Options | None = None, deck: Deck | None = None) -> Report:
    """Write the whole docs folder for ``options.questions``: pages, figures, assets, self-test data."""
    options = options or Options()
    if deck is None:
        deck = load_deck(options.questions, options.answers, trust_answers=options.trust_answers)
    docs_dir.mkdir(parents=True, exist_ok=True)
    proofs, stats = prove_deck(deck, ProofCache(options.cache), options.workers)
    writer = Writer(docs_dir)
    topics = [topic for topic in Topic if any(card.topic == topic for card in deck)]
    exercises = deck_exercises(deck, options.exercises)
    nav = _write_topics(writer, deck, proofs, topics, CardPages(options.cache), exercises)
    writer.text("errata.md", errata_page(deck, proofs))
    writer.text("self-test.md", selftest_page(selftest_data(deck)))
    writer.text("tags.md", tags_page(deck))
    for name, text in guide_pages(deck, proofs).items():
        writer.text(name, text)
    writer.copy_tree(STATIC_ASSETS, "assets")
    writer.text("assets/formulas.js", formulas_script())  # the formulas the browser draws questions with
    writer.copy_tree(fetch_katex(options.cache), "assets/katex", KATEX_FILES)
    writer.copy_tree(fetch_iframe_worker(options.cache), "assets/vendor/iframe-worker")
    writer.remove_stale()
    claims = [r for p in proofs.values() for r in p.claims]
    return Report(
        cards=len(deck),
        claims=len(claims),
        proved=sum(r.passed for r in claims),
        pitfalls=sum(len(card.pitfalls) for card in deck),
        figures=sum("file" in f for p in proofs.values() for f in p.figures),
        pages=sorted(p.relative_to(docs_dir).as_posix() for p in writer.kept if p.suffix == ".md"),
        nav=nav,
        stats=stats,
        written=writer.written,
        failures=[f"{r.card}: {r.claim}" for r in claims if not r.passed],
    )
