"""Answers BACK withdraws from a many-part step: the step's own answer, and a Delphi reason.

BACK from the question after a Delphi round, pairs, statements or a ranking goes to the step's
last part. The step's own answer (the row without an item: "3 of 3 rated", the votes, a
ranking's order) stood as well, so once the step was finished again it had two, and exports
showed the old one; a ranking was withdrawn whole to get rid of its own, and every place
recorded again. Now the last part's answers and the step's own answer go, nothing more.

A Delphi item's reason is recorded after its score, under the same item: BACK to "Why did you
give that score?" withdrew the score with the reason, so a NO then left the item unscored. A
withdrawal of a part now takes each item's latest answer only: the reason, and the score stands.
Through the engine, and through the service on SQLite and PostgreSQL, one message at a time and
as the inbox worker's quick batch.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.service import ConversationService
from bot.studies import StudyRegistry
from channels.base import InboundMessage
from flows.events import AnswersWithdrawn, RecordAnswer
from storage.database import Database
from storage.tables import ANSWERS
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock
from tests.test_delphi_back_and_break import ITEMS, OPEN, RANKING, Chat, delphi

WHY = "Why did you give that score?"


def standing(events: list[Any], step: str) -> list[tuple[str | None, str, Any]]:
    """The step's answers left standing, as storage/repository.py::withdraw_answers leaves them:
    (item, raw, value) in the order given."""
    rows: list[list[Any]] = []
    for event in events:
        if isinstance(event, RecordAnswer):
            rows.append([event, True])
        elif isinstance(event, AnswersWithdrawn):
            hit = [r for r in rows if r[1] and r[0].step_id in event.step_ids and (r[0].path_position or 0) >= event.from_position]
            if event.items or event.own_answer:
                latest = {(r[0].step_id, r[0].item): r for r in hit
                          if r[0].item in event.items or (event.own_answer and r[0].item is None)}
                hit = list(latest.values())
            for row in hit:
                row[1] = False
    return [(r.item, r.raw, r.value) for r, up in rows if up and r.step_id == step and not r.skipped]


def scores(events: list[Any]) -> list[tuple[str | None, Any]]:
    return [(item, value if item is None else value.get("score")) for item, _, value in standing(events, "rate")]


# ----------------------------------------------------------------------------- the step's own answer


def test_back_into_a_finished_delphi_withdraws_its_own_answer_with_the_last_score() -> None:
    chat = Chat(delphi(), OPEN)
    chat.send("yes", "5", "6", "7", "back")
    assert chat.prompt().startswith(f"3/3: {ITEMS[2]}")
    assert chat.withdrawn("rate") == [AnswersWithdrawn(("rate",), (ITEMS[2],), from_position=2, own_answer=True)]
    chat.send("3")
    assert chat.prompt() == "Anything else?"
    assert scores(chat.events) == [(ITEMS[0], 5), (ITEMS[1], 6), (ITEMS[2], 3), (None, {ITEMS[0]: 5, ITEMS[1]: 6, ITEMS[2]: 3})]


@pytest.mark.parametrize("step", [
    {"id": "views", "type": "pairwise", "ideas": ["Tea", "Parking", "Quiet room", "Wifi"], "pairs": 2, "submissions": False},
    {"id": "views", "type": "statements", "statements": ["Visits on time", "More carers"], "per_session": 2,
     "submissions": False},
], ids=["pairs", "statements"])
def test_back_into_finished_pairs_or_statements_leaves_one_own_answer_once_finished_again(step: dict[str, Any]) -> None:
    chat = Chat(step, OPEN)
    chat.send("yes", "A" if step["type"] == "pairwise" else "agree")
    chat.send("B" if step["type"] == "pairwise" else "disagree")
    last = [e.item for e in chat.last.events if isinstance(e, RecordAnswer) and e.item]
    chat.send("back")
    assert chat.withdrawn("views") == [AnswersWithdrawn(("views",), tuple(last), from_position=2, own_answer=True)]
    chat.send("A" if step["type"] == "pairwise" else "agree")
    own = [value for item, _, value in standing(chat.events, "views") if item is None]
    assert own == [chat.state.values["views"]], "the answer given again, not beside the old one"


def test_back_into_a_ranking_withdraws_only_its_last_pick_and_its_order() -> None:
    chat = Chat(RANKING, OPEN)
    chat.send("yes", "2", "1")
    asked = chat.prompt()
    chat.send("4", "back")
    assert chat.prompt() == asked, "the third pick again"
    assert chat.withdrawn("fix") == [AnswersWithdrawn(("fix",), ("3",), from_position=2, own_answer=True)]
    chat.send("3")
    # the first two places stand as they were picked (with the replies that picked them)
    assert standing(chat.events, "fix") == [
        ("1", "2", "phone"), ("2", "1", "waits"), ("3", "3", "nurse"), (None, "3", ["phone", "waits", "nurse"])]


def test_backs_within_a_reopened_ranking_withdraw_one_pick_each() -> None:
    chat = Chat(RANKING, OPEN)
    chat.send("yes", "2", "1", "4", "back", "back")
    assert "(So far: phone)" in chat.prompt()
    assert chat.withdrawn("fix") == [AnswersWithdrawn(("fix",), ("2",), from_position=2)]
    chat.send("3", "1")
    assert standing(chat.events, "fix") == [
        ("1", "2", "phone"), ("2", "3", "nurse"), ("3", "1", "waits"), (None, "1", ["phone", "nurse", "waits"])]


# ----------------------------------------------------------------------------- a Delphi reason


def test_back_from_the_question_after_into_a_reason_not_given_withdraws_only_the_own_answer() -> None:
    chat = Chat(delphi(ask_reason=True, items=ITEMS[:2]), OPEN)
    chat.send("yes", "5", "no", "6", "no", "back")
    assert chat.prompt().startswith(WHY)
    # the reason part recorded nothing: the round's own answer goes, the scores stand
    assert chat.withdrawn("rate") == [AnswersWithdrawn(("rate",), (), from_position=2, own_answer=True)]
    assert scores(chat.events) == [(ITEMS[0], 5), (ITEMS[1], 6)]
    chat.send("the car park is full")
    assert chat.prompt() == "Anything else?"
    rows = standing(chat.events, "rate")
    assert [(item, value.get("reason")) for item, _, value in rows if item] == [
        (ITEMS[0], None), (ITEMS[1], None), (ITEMS[1], "the car park is full")]
    assert [value for item, _, value in rows if item is None] == [{ITEMS[0]: 5, ITEMS[1]: 6}]


# ----------------------------------------------------------------------------- through the service

STUDY = """\
study: panel
title: Panel
languages: [en]
groups: [patient]
join:
  start_flow: round1
  keyword: PANEL
"""
FLOW = """\
flow: round1
steps:
  - id: rate
    type: delphi
    text: Score each from 1 to 9
    delphi: care
    round: 1
    items:
      - {id: parking, text: Parking near the clinic}
      - {id: waiting, text: Short waits}
      - {id: letters, text: Letters on time}
    ask_reason: true
  - id: fix
    type: rank
    text: What should we fix first?
    options: [waits, phone, nurse, carers]
    top: 3
  - id: why
    type: open
    text: Anything else?
  - id: done
    type: end
    text: Thank you.
"""
REPLIES = [
    "PANEL", "5", "no", "6", "why not", "back", "back",  # BACK to a reason, and to its score: both go
    "6", "why not", "back", "no",  # BACK to a reason, then no: the score stands
    "7", "no", "back", "no",  # BACK from the ranking's first pick into the round's last part
    "2", "1", "4", "back", "3",  # BACK from the question after the ranking into its last pick
    "fine",
]


@pytest.mark.parametrize("way", ["one_at_a_time", "quick_batch"])
def test_the_database_keeps_each_answer_once_and_withdraws_only_what_back_undid(
    database: Database, clock: FakeClock, tmp_path: Path, way: str,
) -> None:
    folder = tmp_path / "panel"
    folder.mkdir()
    (folder / "study.yaml").write_text(STUDY, encoding="utf-8")
    (folder / "round1.yaml").write_text(FLOW, encoding="utf-8")
    service = ConversationService(database, StudyRegistry.from_folder(folder), clock, address_key=TEST_ADDRESS_KEY)
    ids = itertools.count(1)
    messages = [InboundMessage("sms", "+447700900301", f"sms-{next(ids)}", text) for text in REPLIES]
    if way == "one_at_a_time":
        for message in messages:
            service.receive(message)
    else:  # the inbox worker's way: stored, then one batch (each message after the first reads what it wrote)
        service.receive(messages[0])
        stored = [service.accept(message) for message in messages[1:]]
        work = [(int(r.inbound_id or 0), str(r.participant_id)) for r in stored]
        assert [r.status for r in service.process_batch(work)] == ["processed"] * len(work)
    with database.read_transaction() as connection:
        rows = connection.execute(select(ANSWERS.c.step_id, ANSWERS.c.item, ANSWERS.c.display, ANSWERS.c.withdrawn_at)
                                  .where(ANSWERS.c.step_id.in_(["rate", "fix", "why"])).order_by(ANSWERS.c.id)).all()
    assert [(step, item, display) for step, item, display, gone in rows if gone is None] == [
        ("rate", "parking", "5"), ("rate", "waiting", "6"), ("rate", "letters", "7"), ("rate", None, "3 of 3 rated"),
        ("fix", "1", "phone"), ("fix", "2", "waits"), ("fix", "3", "nurse"), ("fix", None, "1. phone, 2. waits, 3. nurse"),
        ("why", None, "fine"),
    ]
    assert [(step, item, display) for step, item, display, gone in rows if gone is not None] == [
        ("rate", "waiting", "6"), ("rate", "waiting", "6: why not"), ("rate", "waiting", "6: why not"),
        ("rate", None, "3 of 3 rated"),
        ("fix", "3", "carers"), ("fix", None, "1. phone, 2. waits, 3. carers"),
    ]
