"""Reading a pair, a 'no one' and a PASS:

- a letter with a negation is the pair's letter even where both ideas' texts begin with 'A'
  ('not A' of "A 24-hour collection locker" and "A monthly long-term conditions clinic" is B);
- 'no one', 'no-one', 'not one of them' and Welsh 'dim un', 'pob un', 'yr un' are no number 1, so
  a story that holds them is kept as a comment, not taken for a try at option 1; Welsh 'dim un'
  (none) is nought as a count, as 'none' is, and never picks the first option;
- PASS on a pair lets it go: recorded as skipped, no comparison and no tie, so the analysis
  counts neither idea as compared nor tied (a "can't decide" still is a tie). Through the engine,
  and through the conversation service on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.api import methods
from bot.api.answers import load_answers
from bot.population import load_population
from bot.service import ConversationService
from channels.base import InboundMessage
from flows.analysis.pairwise import score_items
from flows.analysis.records import comparisons
from flows.events import RecordAnswer, RecordComment
from flows.parsing import (
    match_option,
    numbers_said,
    parse_number,
    read_number,
    rejected_options,
    remaining_option,
)
from flows.population import ItemRecord, comparisons_in
from storage.database import Database
from storage.tables import ANSWERS
from tests.db_fixtures import FakeClock
from tests.engine_chat import Chat
from tests.test_pair_variety import ideas_service

MESSAGES = itertools.count(1)

END = {"id": "end", "type": "end", "text": "Bye"}
BOTH_A = [{"id": "locker", "text": "A 24-hour collection locker"}, {"id": "clinic", "text": "A monthly long-term conditions clinic"}]
"""Two ideas of tests/data/pharmacy-ltc/codesign.yaml, each beginning with the word 'A'."""


def pair_step(ideas: list[Any], pairs: int = 1, **more: Any) -> dict[str, Any]:
    return {"id": "pick", "type": "pairwise", "text": "Which matters more?", "ideas": ideas, "pairs": pairs, **more}


def recorded(sprint: Any) -> list[RecordAnswer]:
    return [e for e in sprint.events if isinstance(e, RecordAnswer) and e.item is not None]


def comments(sprint: Any) -> list[RecordComment]:
    return [e for e in sprint.events if isinstance(e, RecordComment)]


# ----------------------------------------------------------------------------- a letter is a letter


@pytest.mark.parametrize(("reply", "winner"), [
    ("not A", "B"), ("not a", "B"), ("NOT A", "B"), ("definitely not A", "B"), ("not A please", "B"), ("anything but A", "B"),
    ("A no way", "B"), ("nid A", "B"), ("dim A", "B"), ("not B", "A"), ("A not B", "A"), ("a, not b", "A"), ("B not A", "B"),
    ("not a, b", "B"), ("b rather than a", "B"),
])
def test_a_letter_with_a_negation_is_the_pairs_letter_when_both_ideas_begin_with_a(reply: str, winner: str) -> None:
    chat = Chat(pair_step(BOTH_A), END)
    a, b = shown(chat)
    answers = recorded(chat.send(reply))
    won, lost = (a, b) if winner == "A" else (b, a)
    assert [x.value for x in answers] == [{"winner": won, "loser": lost, "tie": False}], reply


def shown(chat: Chat) -> tuple[str, str]:
    """The ids of the ideas shown as A and B."""
    ids = {idea["text"]: idea["id"] for idea in BOTH_A}
    lines = [m.text for m in chat.last.messages()][-1].splitlines()
    return ids[lines[1].removeprefix("A) ")], ids[lines[2].removeprefix("B) ")]


@pytest.mark.parametrize("options", [
    [["a", "A 24-hour collection locker"], ["b", "A monthly long-term conditions clinic"]],
    [["a", "B road works"], ["b", "A lift to the pharmacy"]],  # each letter begins the other's text
    [["a", "A carers card"], ["b", "B12 injections at the pharmacy"]],
])
def test_a_letter_named_explicitly_is_read_as_that_letter_whatever_the_texts_begin_with(options: list[list[str]]) -> None:
    assert rejected_options("not a", options) == [0] and remaining_option("not a", options) == 1
    assert rejected_options("not b", options) == [1] and remaining_option("not b", options) == 0
    assert match_option("a not b", options) == 0 and match_option("b, not a", options) == 1
    assert match_option("a", options) == 0 and match_option("definitely b", options) == 1


def test_part_of_an_options_name_still_rejects_nothing() -> None:
    options = [["patient", "Patient or carer"], ["staff", "NHS staff"]]
    assert rejected_options("not a patient", options) == []  # the participant may be a carer
    assert rejected_options("not patient", options) == []


# ----------------------------------------------------------------------------- 'no one' is no number


@pytest.mark.parametrize("reply", ["no-one", "noone", "no one", "not one of them", "pob un", "unrhyw un", "yr un", "yr un fath", "un arall", "neb"])
def test_one_that_stands_for_a_person_or_thing_is_no_number(reply: str) -> None:
    assert parse_number(reply) is None, reply
    assert read_number(f"{reply} at the desk could tell us anything", "How many times?") is None


@pytest.mark.parametrize(("reply", "value"), [
    ("one", 1), ("number one", 1), ("un", 1), ("rhif un", 1), ("yr un cyntaf", 1), ("dim un", 0), ("dim un waith", 0),
    ("none", 0), ("dim", 0),
])
def test_one_said_as_a_number_is_still_one_and_welsh_dim_un_is_none(reply: str, value: int) -> None:
    assert parse_number(reply) == value, reply


def test_welsh_dim_un_never_picks_the_first_option_and_none_of_them_still_picks_none_of_these() -> None:
    english = [["Text"], ["Phone"], ["None of these"]]
    bilingual = [["Text", "Neges"], ["Phone", "Ffôn"], ["None of these", "Dim un o'r rhain"]]
    assert match_option("dim un", english) is None
    assert match_option("dim un", bilingual) == 2 and match_option("none of them", english) == 2
    assert match_option("one", english) == 0 and match_option("un", english) == 0


def test_numbers_said_leave_out_one_for_a_person_and_welsh_dim_for_no() -> None:
    assert numbers_said("no one at the desk, nobody rang, no-one cared") == []
    assert numbers_said("dim un ohonyn nhw wedi dweud dim byd") == []
    assert numbers_said("we waited six hours, one of us twice") == ["six", "one", "twice"]
    assert numbers_said("dim 1 plis") == ["dim", "1"]


CHOICE = {"id": "role", "type": "choice", "text": "Who are you?", "options": ["Patient", "Carer", "NHS staff"]}
SCALE = {"id": "rate", "type": "scale", "text": "How was it?", "min": 1, "max": 5}
YESNO = {"id": "seen", "type": "yesno", "text": "Were you seen within 4 hours?"}
NUMBER = {"id": "count", "type": "number", "text": "How many medicines do you take?", "min": 0, "max": 40}
STORIES = [
    "there was no one at the desk to ask and we waited ages",
    "honestly no one ever rings back when you leave a message",
    "no-one at the desk to ask so we waited ages in the corridor",
    "noone at the desk to ask so we waited ages in the corridor",
    "not one of them told us about the new tablets for weeks",
    "dim un ohonyn nhw wedi dweud dim byd wrthon ni am wythnosau",
    "doedd neb wrth y ddesg i ofyn a buon ni'n aros am oriau",
]


@pytest.mark.parametrize("step", [CHOICE, SCALE, YESNO, NUMBER, pair_step(BOTH_A)], ids=["choice", "scale", "yesno", "number", "pairwise"])
@pytest.mark.parametrize("story", STORIES)
def test_a_story_with_no_one_in_it_is_kept_as_a_comment(step: dict[str, Any], story: str) -> None:
    chat = Chat({**step, "max_tries": 1}, END)
    sprint = chat.send(story)
    assert [c.text for c in comments(sprint)] == [story]
    assert not recorded(sprint) and chat.state.tries == 0


def test_one_said_as_a_number_inside_a_sentence_is_still_a_try() -> None:
    chat = Chat(CHOICE, END)
    assert comments(chat.send("one i think but it is hard to say really")) == []


# ----------------------------------------------------------------------------- PASS lets a pair go


@pytest.mark.parametrize("reply", ["pass", "PASS", "Pass please", "skip", "skip this one", "pasio", "pasio plis", "hepgor"])
def test_pass_on_a_pair_is_recorded_as_skipped_not_as_a_tie(reply: str) -> None:
    chat = Chat(pair_step(BOTH_A), END)
    a, b = shown(chat)
    sprint = chat.send(reply)
    assert [(x.item, x.value, x.skipped, x.raw) for x in recorded(sprint)] == [(f"{a} vs {b}", None, True, reply)]
    step_answer = next(e for e in sprint.events if isinstance(e, RecordAnswer) and e.item is None)
    assert step_answer.value == [] and step_answer.display == "0 pairs"
    assert chat.state.status == "ended"  # the pair counts towards 'pairs', as a pair left after its last try does


def test_a_pass_shows_the_next_pair_and_cant_decide_is_still_a_tie() -> None:
    chat = Chat(pair_step(["Alpha", "Bravo", "Charlie", "Delta"], pairs=2), END)
    passed = recorded(chat.send("pass"))
    assert passed[0].value is None and passed[0].skipped
    assert "Which matters more?" in chat.last.messages()[-1].text
    tied = recorded(chat.send("can't decide"))
    assert tied[0].value["tie"] is True and not tied[0].skipped


def test_with_skip_allowed_pass_leaves_the_whole_step_as_skip_does() -> None:
    chat = Chat(pair_step(BOTH_A, pairs=3, skip=True), END)
    sprint = chat.send("pass")
    skipped = [e for e in sprint.events if isinstance(e, RecordAnswer)]
    assert [(e.item, e.skipped) for e in skipped] == [(None, True)] and chat.state.status == "ended"


def _answers(replies: list[str]) -> list[ItemRecord]:
    chat = Chat(pair_step(["Alpha", "Bravo", "Charlie", "Delta"], pairs=len(replies)), END)
    found = []
    for reply in replies:
        found += [ItemRecord("p", "patient", a.step_id, str(a.item), a.value) for a in recorded(chat.send(reply))]
    return found


def test_a_pass_is_no_comparison_for_the_analysis_while_a_tie_is_counted_as_one() -> None:
    passed, tied = _answers(["A", "pass"]), _answers(["A", "can't decide"])
    assert len(comparisons(passed)) == 1 and len(comparisons(tied)) == 2
    assert sum(comparisons_in(passed).values()) == 2 and sum(comparisons_in(tied).values()) == 4
    ideas = ["Alpha", "Bravo", "Charlie", "Delta"]
    assert sum(s.ties for s in score_items([c for _, c in comparisons(passed)], ideas)) == 0
    assert sum(s.ties for s in score_items([c for _, c in comparisons(tied)], ideas)) == 2


# ----------------------------------------------------------------------------- through the service

@pytest.fixture
def service(database: Database, tmp_path: Path, clock: FakeClock) -> ConversationService:
    return ideas_service(database, tmp_path / "ideas", clock, ["Alpha", "Bravo", "Charlie", "Delta"])


def test_a_pass_through_the_service_is_stored_skipped_and_left_out_of_the_pairwise_report(
        service: ConversationService, database: Database) -> None:
    for reply in ("IDEAS", "pass", "can't decide", "A"):
        service.receive(InboundMessage("sms", "+447700900123", f"sms-{next(MESSAGES)}", reply))
    with database.read_transaction() as connection:
        rows = connection.execute(select(ANSWERS.c.raw, ANSWERS.c.value, ANSWERS.c.skipped)
                                  .where(ANSWERS.c.step_id == "pick", ANSWERS.c.item.is_not(None)).order_by(ANSWERS.c.id)).all()
        compared = load_population(connection, "ideas").compared("pick")
    assert [(raw, skipped) for raw, _, skipped in rows] == [("pass", True), ("can't decide", False), ("A", False)]
    assert rows[0][1] is None and rows[1][1]["tie"] is True
    assert sum(compared.values()) == 4, "the passed pair is no comparison: two pairs, two ideas each"
    frame, _ = load_answers(database, service.studies.get("ideas"))
    scores = methods.pairwise_report(frame)["groups"]["all"]
    assert sum(s["ties"] for s in scores) == 2 and sum(s["comparisons"] for s in scores) == 2


def test_a_reply_naming_an_ideas_words_is_a_try_at_the_pair_not_a_comment() -> None:
    """The ideas shown on the question's lines ('A) A 24-hour collection locker') are the pair's
    options, as a button's label is: a reply that names one tries the question."""
    chat = Chat(pair_step(BOTH_A), END)
    sprint = chat.send("I would never use a locker at night on my own anyway")
    assert comments(sprint) == [] and chat.state.tries == 1
