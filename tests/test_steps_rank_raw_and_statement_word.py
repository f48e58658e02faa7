"""What a participant sent stays with each ranking place: a ranking tapped or typed one
pick at a time records each place with the reply that picked it (not the last reply on every
row), and a ranking given at once keeps that whole reply. The statements step's word for
proposing a statement is Welsh in Welsh (YCHWANEGU), as the pairwise step's is."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from flows.engine import Engine, SessionState, TextInput
from flows.events import AnswersWithdrawn, RecordAnswer, SendMessage
from flows.model import Flow
from flows.population import SUBMISSION_ITEM

NOW = datetime(2030, 1, 1, tzinfo=UTC)
OPTIONS = [
    {"value": "waits", "label": "Shorter waits"},
    {"value": "informed", "label": "Being kept informed"},
    {"value": "pain", "label": "Pain relief"},
    {"value": "comfort", "label": "A comfortable place to wait"},
]
STATEMENTS = ["Visits should be at a set time.", "Carers are not given enough information.", "Staff spend too long on paperwork."]


def engine_for(step: dict[str, Any]) -> Engine:
    return Engine(Flow.model_validate({"flow": "f", "steps": [step]}))


def rank(*replies: str | tuple[str, str], top: int | None = None, max_tries: int | None = None) -> list[Any]:
    """The events of a rank step answered with ``replies``: text, or ("tap", value) for a button tapped."""
    step: dict[str, Any] = {"id": "matters", "type": "rank", "text": "Put these in order", "options": OPTIONS}
    step |= {"top": top} if top is not None else {}
    step |= {"max_tries": max_tries} if max_tries is not None else {}
    engine = engine_for(step)
    state, events = engine.start(NOW).state, list[Any]()
    for reply in replies:
        given = TextInput("", button=reply[1], source="button") if isinstance(reply, tuple) else TextInput(reply)
        sprint = engine.handle(state, given, NOW)
        state, events = sprint.state, events + list(sprint.events)
    return events


def places(events: list[Any]) -> list[tuple[str | None, Any, str]]:
    return [(e.item, e.value, e.raw) for e in events if isinstance(e, RecordAnswer) and e.item is not None]


def test_each_tapped_place_keeps_the_button_tapped_for_it() -> None:
    events = rank(("tap", "2"), ("tap", "3"), ("tap", "4"), top=3)
    assert places(events) == [("1", "informed", "2"), ("2", "pain", "3"), ("3", "comfort", "4")]


def test_each_typed_pick_keeps_its_own_reply_and_the_last_place_goes_with_the_last_pick() -> None:
    events = rank("3", "one", "2")
    assert places(events) == [("1", "pain", "3"), ("2", "waits", "one"), ("3", "informed", "2"), ("4", "comfort", "2")]
    assert [e.value for e in events if isinstance(e, RecordAnswer) and e.item is None] == [["pain", "waits", "informed", "comfort"]]


def test_a_ranking_given_at_once_keeps_the_whole_reply_on_every_place() -> None:
    assert places(rank("3 1 2")) == [("1", "pain", "3 1 2"), ("2", "waits", "3 1 2"), ("3", "informed", "3 1 2"), ("4", "comfort", "3 1 2")]


def test_part_at_once_then_the_rest_keeps_each_reply() -> None:
    events = rank("C, A", "comfortable place")
    assert places(events) == [("1", "pain", "C, A"), ("2", "waits", "C, A"), ("3", "comfort", "comfortable place"),
                              ("4", "informed", "comfortable place")]


def test_back_withdraws_the_last_pick_and_the_new_pick_is_recorded_once() -> None:
    events = rank(("tap", "2"), ("tap", "3"), "back", ("tap", "1"), ("tap", "4"), top=3)
    withdrawn = [e for e in events if isinstance(e, AnswersWithdrawn)]
    assert [w.items for w in withdrawn] == [("2",)]
    recorded = places(events)
    assert recorded == [("1", "informed", "2"), ("2", "pain", "3"), ("2", "waits", "1"), ("3", "comfort", "4")]


def test_places_picked_before_giving_up_are_recorded_once_with_their_replies() -> None:
    events = rank(("tap", "2"), "banana", "banana", top=3, max_tries=2)
    assert places(events) == [("1", "informed", "2")]
    assert [e.value for e in events if isinstance(e, RecordAnswer) and e.item is None] == [["informed"]]


# ---------------------------------------------------------------- the statements step's ADD


def start(language: str, **step: Any) -> tuple[Engine, SessionState, str]:
    engine = engine_for({"id": "views", "type": "statements", "text": "What do you think?", "statements": STATEMENTS, **step})
    sprint = engine.start(NOW, language=language, seed=1)
    return engine, sprint.state, sprint.messages()[-1].text


def submitted(engine: Engine, state: SessionState, text: str) -> tuple[list[SendMessage], list[RecordAnswer]]:
    sprint = engine.handle(state, TextInput(text), NOW)
    return sprint.messages(), [e for e in sprint.events if isinstance(e, RecordAnswer) and e.item == SUBMISSION_ITEM]


def test_the_welsh_prompt_names_the_welsh_word() -> None:
    _, _, prompt = start("cy")
    assert "(Neu atebwch YCHWANEGU a datganiad eich hun.)" in prompt and "ADD" not in prompt


@pytest.mark.parametrize("word", ["YCHWANEGU", "ychwanegu", "ADD", "add"])
def test_either_word_proposes_a_statement_in_welsh(word: str) -> None:
    engine, state, _ = start("cy")
    said, statements = submitted(engine, state, f"{word} Dylai parcio fod am ddim")
    assert [s.value for s in statements] == [{"kind": "statement", "text": "Dylai parcio fod am ddim"}]
    assert said[0].text.startswith("Diolch. Bydd eich datganiad")


def test_the_welsh_word_alone_is_explained_with_the_welsh_word() -> None:
    engine, state, _ = start("cy")
    said, statements = submitted(engine, state, "YCHWANEGU")
    assert not statements
    assert said[0].text == "Beth yw eich datganiad? Anfonwch ef fel eich neges nesaf."


@pytest.mark.parametrize("word", ["ADD", "YCHWANEGU"])
def test_english_shows_add_and_reads_both_words(word: str) -> None:
    engine, state, prompt = start("en")
    assert "(Or reply ADD and a statement of your own.)" in prompt
    assert [s.value["text"] for s in submitted(engine, state, f"{word} Free parking for carers")[1]] == ["Free parking for carers"]


def test_a_steps_own_word_is_shown_in_every_language_and_the_built_in_word_is_not_read() -> None:
    engine, state, prompt = start("cy", add_word="BARN")
    assert "(Neu atebwch BARN a datganiad eich hun.)" in prompt
    assert submitted(engine, state, "BARN Parcio am ddim")[1]
    assert not submitted(engine, state, "YCHWANEGU Parcio am ddim")[1], "the built-in word only stands in for ADD"
