"""The Anki export read back by Anki's own library (issue 12 item 9, quiz.md finding #3): a fresh collection imports
the package, holds one note per card plus one per numeric question, shows no card's right answer first on every
card, carries the why of each wrong choice, passes Anki's integrity check, and a second import updates, not adds."""

from __future__ import annotations

import html

import pytest

anki_collection = pytest.importorskip("anki.collection", reason="pip install -e '.[dev]' installs anki")

from quiz.anki import export, shuffled_choices  # noqa: E402
from quiz.deck import load_deck  # noqa: E402

CARDS = sorted(load_deck().cards.values(), key=lambda c: c.id)


def _import(collection, path) -> None:
    from anki.import_export_pb2 import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    request = ImportAnkiPackageRequest(package_path=str(path), options=ImportAnkiPackageOptions())
    collection.import_anki_package(request)


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("anki")
    apkg = folder / "deck.apkg"
    written = export(CARDS, apkg)
    collection = anki_collection.Collection(str(folder / "collection.anki2"))
    _import(collection, apkg)
    yield collection, apkg, written
    collection.close()


def test_every_card_and_every_numeric_question_is_one_note(imported):
    collection, _, written = imported
    expected = len(CARDS) + sum(len(c.numeric) for c in CARDS)
    assert written == expected
    assert collection.note_count() == expected


def test_the_fields_carry_shuffled_choices_and_the_why_of_each_wrong_one(imported):
    collection, _, _ = imported
    notes = {collection.get_note(nid)["Id"]: collection.get_note(nid) for nid in collection.find_notes("")}
    first_is_right = 0
    for card in CARDS:
        note = notes[card.id]
        if card.choices:
            first_is_right += shuffled_choices(card)[0].correct
            wrong = [c for c in card.choices if not c.correct and c.why]
            answer = html.unescape(note["Answer"])  # card text is escaped on its way into a note
            assert "Why the others are wrong" in answer
            assert all(w.why.split("$")[0][:15] in answer for w in wrong if "$" not in w.why[:15])
        for index in range(len(card.numeric)):
            numeric = notes[f"{card.id}#numeric-{index}"]
            assert "Working:" in numeric["Answer"] and "=" in numeric["Answer"]
    assert first_is_right < 0.5 * sum(bool(c.choices) for c in CARDS)  # 70 of 70 before


def test_the_collection_passes_ankis_integrity_check(imported):
    collection, _, _ = imported
    problems, ok = collection.fix_integrity()
    assert ok, problems


def test_reimporting_updates_the_notes_instead_of_duplicating(imported):
    collection, apkg, written = imported
    _import(collection, apkg)
    assert collection.note_count() == written
