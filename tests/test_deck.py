"""Every deck rule, each with a bad card and the exact line a user sees."""

from __future__ import annotations

from conftest import VALID_CARD, VALID_MODULE


def with_line(old: str, new: str) -> str:
    assert old in VALID_CARD
    return VALID_CARD.replace(old, new)


def test_valid_deck_loads_with_its_cards(valid_deck):
    deck = valid_deck.load()
    assert list(deck.cards) == ["tiny-card"]
    assert deck.get("tiny-card").claims[1].proof == "two_times_two_is_four"


def test_yaml_syntax_error_names_the_line(deck_builder, problems_of):
    deck_builder.card(VALID_CARD + "tags: [unclosed\n", name="tiny-card")
    deck_builder.module()
    [line] = problems_of()
    assert line.startswith("questions/scale/tiny-card.yaml:15: YAML syntax error: ") and line.endswith(" [YAML001]")


def test_unknown_field_is_reported_with_its_line(deck_builder, problems_of):
    deck_builder.card(VALID_CARD + "colour: blue\n")
    deck_builder.module()
    assert problems_of() == [
        "questions/scale/tiny-card.yaml:14: colour: unknown field 'colour'; remove it or fix its spelling [FIELD002]"
    ]


def test_missing_required_field_points_at_the_card(deck_builder, problems_of):
    deck_builder.card(with_line("answer: Two.\n", ""))
    deck_builder.module()
    assert problems_of() == ["questions/scale/tiny-card.yaml:1: answer: required field is missing; add it [FIELD001]"]


def test_missing_nested_field_points_at_its_parent_line(deck_builder, problems_of):
    deck_builder.card(with_line("    proof: two_times_two_is_four\n", ""))
    deck_builder.module()
    assert problems_of() == [
        "questions/scale/tiny-card.yaml:12: claims.1.proof: required field is missing; add it [FIELD001]",
    ]


def test_badly_formed_id_says_what_an_id_looks_like(deck_builder, problems_of):
    deck_builder.card(with_line("id: tiny-card", "id: Tiny_Card"), name="tiny-card")
    deck_builder.module()
    assert problems_of() == [
        "questions/scale/tiny-card.yaml:1: id: must be lowercase words joined by hyphens, like "
        "'causal-masking' [FIELD003]"
    ]


def test_file_name_must_equal_the_id(deck_builder, problems_of):
    deck_builder.card(name="other-name")
    deck_builder.module()
    assert problems_of() == [
        "questions/scale/other-name.yaml:1: id: 'tiny-card' differs from the file name; rename one to match [CARD001]"
    ]


def test_topic_must_match_the_folder(deck_builder, problems_of):
    deck_builder.card(topic="masking")
    deck_builder.module()
    assert problems_of() == [
        "questions/masking/tiny-card.yaml:3: topic: 'scale' but the card is in folder 'masking'; "
        "move it or fix the topic [CARD002]"
    ]


def test_unknown_topic_lists_the_allowed_ones(deck_builder, problems_of):
    deck_builder.card(with_line("topic: scale", "topic: vibes"), topic="vibes")
    deck_builder.module()
    [line] = problems_of()
    assert line.startswith("questions/vibes/tiny-card.yaml:3: topic: input should be 'attention-core', 'multi-head'")
    assert line.endswith(" [FIELD006]")


def test_a_deck_written_for_the_retired_scaling_topic_still_loads_into_attention_core(deck_builder):
    # Version one had a "scaling" topic (the √d_k card alone); decks that name it, in the field and the folder,
    # keep working, their cards counted where that card went.
    deck_builder.card(with_line("topic: scale", "topic: scaling"), topic="scaling")
    deck_builder.module()
    [card] = list(deck_builder.load())
    assert card.topic == "attention-core"


def test_a_retired_topic_in_one_place_and_another_topic_in_the_other_is_still_a_mismatch(deck_builder, problems_of):
    deck_builder.card(with_line("topic: scale", "topic: scaling"), topic="masking")
    deck_builder.module()
    assert problems_of() == [
        "questions/masking/tiny-card.yaml:3: topic: 'attention-core' but the card is in folder 'masking'; "
        "move it or fix the topic [CARD002]"
    ]


def test_ids_must_be_unique_across_folders(deck_builder, problems_of):
    deck_builder.card(topic="scale")
    deck_builder.card(with_line("topic: scale", "topic: masking"), topic="masking")
    deck_builder.module()
    assert problems_of() == [
        "questions/scale/tiny-card.yaml:1: id: 'tiny-card' is already used by "
        "questions/masking/tiny-card.yaml [CARD004]"
    ]


def test_claim_must_name_a_function_of_the_module(deck_builder, problems_of):
    deck_builder.card(with_line("proof: one_plus_one_is_two", "proof: one_plus_one_is_three"))
    deck_builder.module()
    assert problems_of() == [
        "answers/tiny_card.py:6: one_plus_one_is_two: returns Evidence but card 'tiny-card' names no claim "
        "for it; "
        "add one or remove it [PROOF004]",
        "questions/scale/tiny-card.yaml:11: claims.0.proof: function 'one_plus_one_is_three' is not defined "
        "in "
        "answers/tiny_card.py [PROOF002]",
    ]


def test_claim_function_must_be_annotated_to_return_evidence(deck_builder, problems_of):
    deck_builder.card()
    deck_builder.module(
        text=VALID_MODULE.replace("def two_times_two_is_four() -> Evidence:", "def two_times_two_is_four():")
    )
    assert problems_of() == [
        "questions/scale/tiny-card.yaml:13: claims.1.proof: 'two_times_two_is_four' must be annotated "
        "'-> Evidence' in answers/tiny_card.py [PROOF003]"
    ]


def test_a_module_outline_read_from_the_cache_is_the_modules_own_and_follows_an_edit(tmp_path):
    from answers.protocol import outline
    from quiz.deck import module_outline
    from quiz.paths import cache_dir

    module = tmp_path / "m.py"
    module.write_text(VALID_MODULE)
    first = module_outline(module)
    assert first == outline(module) and "two_times_two_is_four" in first.functions
    (stored,) = (cache_dir() / "outlines").glob("*.json")
    stored.write_text('{"planted": [1, [], true]}')  # what the cache says is what is answered: it is read
    assert list(module_outline(module).functions) == ["planted"]
    module.write_text(VALID_MODULE.replace("def two_times_two_is_four() -> Evidence:", "def two_times_two():"))
    edited = module_outline(module)
    assert "two_times_two" in edited.functions and "two_times_two_is_four" not in edited.functions
    module.write_text(VALID_MODULE)
    stored.write_text('{"two_times_two_is_four": "not an outline"}')  # a damaged entry is parsed again
    assert module_outline(module) == outline(module)


def test_card_without_a_proof_module_is_reported(valid_deck, problems_of):
    valid_deck.card(with_line("id: tiny-card", "id: second-card"), name="second-card")
    assert problems_of() == [
        "questions/scale/second-card.yaml:9: claims: proof module answers/second_card.py is missing or "
        "unreadable; create it with the claim functions [PROOF001]"
    ]


def test_an_answers_folder_with_none_of_the_decks_proofs_is_one_line(deck_builder, problems_of):
    deck_builder.card()
    assert problems_of() == [
        "answers: holds no proof module for any of the 1 cards; point --answers at this deck's proofs [DECK005]"
    ]


def test_proof_module_without_a_card_is_reported_when_the_deck_owns_the_answers(valid_deck, problems_of):
    valid_deck.module("stray_proof")
    assert problems_of(owns_answers=False) == []
    assert problems_of(owns_answers=True) == [
        "answers/stray_proof.py:1: proof module has no card; add questions/<topic>/<id>.yaml or remove it [PROOF005]"
    ]


def test_related_ids_must_exist(deck_builder, problems_of):
    deck_builder.card(VALID_CARD + "related: [no-such-card]\n")
    deck_builder.module()
    assert problems_of() == [
        "questions/scale/tiny-card.yaml:14: related.0: no card 'no-such-card' in this deck [CARD005]"
    ]


def test_pitfall_must_name_one_of_the_cards_claims(deck_builder, problems_of):
    pitfall = (
        "pitfalls:\n  - myth: One plus one is three.\n    truth: It is two.\n    verdict: false\n"
        "    proof: not_a_claim\n"
    )
    deck_builder.card(VALID_CARD + pitfall)
    deck_builder.module()
    assert problems_of() == [
        "questions/scale/tiny-card.yaml:18: pitfalls.0.proof: 'not_a_claim' is not one of this card's "
        "claims; "
        "name one of them [CARD008]"
    ]


def test_choices_need_one_correct_answer_and_a_reason_for_each_wrong_one(deck_builder, problems_of):
    choices = "choices:\n  - text: Two\n  - text: Three\n    why: No.\n  - text: Four\n"
    deck_builder.card(VALID_CARD + choices)
    deck_builder.module()
    assert problems_of() == [
        "questions/scale/tiny-card.yaml:14: choices: need exactly one correct answer among 3 or more choices "
        "(found 0 of 3) [CARD009]",
        "questions/scale/tiny-card.yaml:15: choices.0.why: a wrong choice needs a 'why' saying what is wrong "
        "with it [CARD010]",
        "questions/scale/tiny-card.yaml:18: choices.2.why: a wrong choice needs a 'why' saying what is wrong "
        "with it [CARD010]",
    ]


def test_duplicate_yaml_keys_are_not_silently_dropped(deck_builder, problems_of):
    deck_builder.card(VALID_CARD + "title: A second title\n")
    deck_builder.module()
    assert problems_of() == ["questions/scale/tiny-card.yaml:14: title: appears twice; keep one [YAML004]"]


def test_numeric_question_must_use_a_known_formula_and_its_arguments(deck_builder, problems_of):
    numeric = (
        "numeric:\n"
        "  - prompt: How many scores for {tokens} tokens?\n    formula: attention_score_count\n"
        "    params: {tokens: [8, 16], colour: [1]}\n    unit: count\n"
        "  - prompt: How many?\n    formula: no_such_formula\n    params: {tokens: [8]}\n    unit: count\n"
    )
    deck_builder.card(VALID_CARD + numeric)
    deck_builder.module()
    formulas = deck_builder.answers / "formulas"
    formulas.mkdir()
    (formulas / "attention.py").write_text("def attention_score_count(tokens, causal=False):\n    return tokens\n")
    assert problems_of() == [
        "questions/scale/tiny-card.yaml:17: numeric.0.params.colour: 'attention_score_count' takes no "
        "argument "
        "'colour' [NUM002]",
        "questions/scale/tiny-card.yaml:20: numeric.1.formula: no formula 'no_such_formula' in "
        "answers/formulas [NUM001]",
    ]


def test_numeric_prompt_placeholders_must_be_parameters(deck_builder, problems_of):
    numeric = (
        "numeric:\n  - prompt: For {tokens} and {heads}?\n    formula: attention_score_count\n"
        "    params: {tokens: [8]}\n    unit: count\n"
    )
    deck_builder.card(VALID_CARD + numeric)
    deck_builder.module()
    assert problems_of() == [
        "questions/scale/tiny-card.yaml:15: numeric.0: prompt uses {heads} but params do not define it [NUM003]"
    ]


def test_a_card_that_is_not_a_mapping_is_reported(deck_builder, problems_of):
    deck_builder.card("- just\n- a list\n", name="tiny-card")
    assert problems_of() == [
        "questions/scale/tiny-card.yaml:1: a card must be a YAML mapping of fields, found a list [YAML005]"
    ]


def test_an_empty_file_is_reported(deck_builder, problems_of):
    deck_builder.card("", name="tiny-card")
    assert problems_of() == [
        "questions/scale/tiny-card.yaml:1: a card must be a YAML mapping of fields, found an empty file [YAML005]"
    ]


def test_non_utf8_bytes_are_reported(deck_builder, problems_of):
    path = deck_builder.card(name="tiny-card")
    path.write_bytes(b"id: tiny-card\ntitle: caf\xe9\n")
    assert problems_of() == [
        "questions/scale/tiny-card.yaml:1: file is not valid UTF-8 text; save it as UTF-8 [FILE003]"
    ]


def test_empty_deck_is_one_clear_error(deck_builder, problems_of):
    assert problems_of() == ["questions: no cards found; a deck holds <topic>/<card-id>.yaml files [DECK003]"]


def test_missing_folder_is_one_clear_error(tmp_path, monkeypatch):
    from quiz.deck import DeckError, load_deck

    monkeypatch.chdir(tmp_path)
    try:
        load_deck(tmp_path / "nowhere")
    except DeckError as error:
        assert error.lines() == ["nowhere: no such folder; point --questions at a folder of cards [DECK001]"]
    else:
        raise AssertionError("a missing folder must not load")


def test_every_problem_in_every_file_is_reported_at_once(deck_builder, problems_of):
    deck_builder.card(with_line("difficulty: easy", "difficulty: trivial"))
    deck_builder.card(
        with_line("id: tiny-card", "id: second-card").replace("title: A tiny card\n", ""), name="second-card"
    )
    deck_builder.module()
    deck_builder.module("second_card")
    lines = problems_of()
    assert lines == [
        "questions/scale/second-card.yaml:1: title: required field is missing; add it [FIELD001]",
        "questions/scale/tiny-card.yaml:4: difficulty: input should be 'easy', 'medium' or 'hard' [FIELD006]",
    ]


def test_unknown_card_id_suggests_the_closest(valid_deck):
    from quiz.errors import QuizError

    deck = valid_deck.load()
    try:
        deck.get("tiny-crd")
    except QuizError as error:
        assert str(error) == "no card 'tiny-crd' in questions; did you mean 'tiny-card'?"
    else:
        raise AssertionError("an unknown id must raise")


def test_yaml_alias_bomb_is_refused_quickly(deck_builder, problems_of):
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"] + [
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)
    ]
    deck_builder.card(VALID_CARD + "\n".join(levels) + "\n")
    deck_builder.module()
    assert problems_of() == [
        "questions/scale/tiny-card.yaml:14: YAML anchors and aliases are not allowed in cards; write it out [YAML002]"
    ]


def test_yaml_tags_that_construct_objects_are_refused(deck_builder, problems_of):
    deck_builder.card(VALID_CARD + "title2: !!python/object/apply:os.system ['echo hi']\n")
    deck_builder.module()
    [line] = problems_of()
    assert line.startswith("questions/scale/tiny-card.yaml:14: YAML syntax error: could not determine a constructor")
    assert line.endswith(" [YAML001]")


def test_a_huge_file_is_refused_before_parsing(deck_builder, problems_of):
    deck_builder.card(VALID_CARD + "# " + "x" * 300_000 + "\n")
    deck_builder.module()
    assert problems_of() == [
        "questions/scale/tiny-card.yaml: is 293 KiB; a card must be under 256 KiB, split it [FILE002]"
    ]


def test_a_directory_named_like_a_card_is_reported(valid_deck, problems_of):
    (valid_deck.questions / "scale" / "folder.yaml").mkdir()
    assert problems_of() == [
        "questions/scale/folder.yaml: is not a regular file; a card must be a .yaml file [FILE001]"
    ]


def test_a_broken_symlink_card_is_reported(valid_deck, problems_of):
    (valid_deck.questions / "scale" / "loop.yaml").symlink_to("loop.yaml")
    [line] = problems_of()
    assert line.startswith("questions/scale/loop.yaml: ")


def test_ids_of_shared_modules_are_reserved(deck_builder, problems_of):
    deck_builder.card(with_line("id: tiny-card", "id: reference"), name="reference")
    assert problems_of() == [
        "questions/scale/reference.yaml:1: id: 'reference' is reserved for a shared module; choose another id [CARD003]"
    ]


def test_a_claim_cannot_name_a_module_path_or_dotted_escape(deck_builder, problems_of):
    deck_builder.card(with_line("proof: one_plus_one_is_two", "proof: os:system"))
    deck_builder.module()
    assert problems_of()[-1] == (
        "questions/scale/tiny-card.yaml:11: claims.0.proof: must be a Python function name, "
        "like 'mask_hides_only_the_future' [FIELD004]"
    )


def test_a_complex_yaml_key_is_refused(deck_builder, problems_of):
    deck_builder.card("? [a, b]\n: c\n", name="tiny-card")
    assert problems_of() == [
        "questions/scale/tiny-card.yaml:1: a key must be a plain word, not a list or mapping [YAML003]"
    ]


def test_a_field_name_with_a_newline_is_shown_on_one_line(deck_builder, problems_of):
    deck_builder.card(VALID_CARD + '"bad\\nkey": 1\n')
    deck_builder.module()
    assert problems_of() == [
        "questions/scale/tiny-card.yaml:14: bad\\nkey: unknown field 'bad\\nkey'; remove it or fix its "
        "spelling [FIELD002]"
    ]
