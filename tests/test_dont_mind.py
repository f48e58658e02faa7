"""'I don't mind' is no NO (it was read as one: it starts 'I don't').

On a yes/no question 'I don't mind' ('either is fine', 'dim ots') means either answer will do,
and which one that is turns on how the question was put ('Can we call you?' or 'Would you mind
a call?'), so it is asked again with the hint, unless a yes comes with it ('yes, I don't mind').
At a consent step it is no YES either: consent needs a clear one. 'Don't know', 'not sure' and
'no idea' are no NO; 'no problem', 'no worries' and 'why not' are yes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import select

from bot.service import ConversationService, ReceiveResult
from flows.engine import Engine, TextInput
from flows.events import RecordAnswer, SessionEnded
from flows.model import Flow
from flows.parsing import parse_yes_no
from storage.database import Database
from storage.tables import AnswerRow

NOW = datetime(2030, 1, 1, 10, tzinfo=UTC)
EITHER = [
    "I don't mind", "i dont mind", "don't mind", "I don't mind at all", "I really don't mind", "I don't mind either way",
    "either is fine", "either's fine", "either way", "either will do", "no preference", "whatever", "whichever",
    "up to you", "not bothered", "I'm not fussed", "I don't care", "doesn't matter", "it does not matter", "I'm easy",
    "dim ots", "dim ots gen i", "sdim ots", "dim gwahaniaeth", "I wouldn't mind", "no, I don't mind", "I don't mind, no",
]
UNSURE = ["don't know", "I don't know", "dont know", "not sure", "I'm not sure", "no idea", "no idea sorry", "dunno",
          "ddim yn gwybod", "dim syniad"]
YES = ["no problem", "no problem at all", "no worries", "why not", "sure, why not", "no bother", "not a problem",
       "yes, I don't mind", "yeah I don't mind", "I don't mind, yes please", "dim problem"]


@pytest.mark.parametrize("reply", EITHER + UNSURE)
def test_either_or_unsure_is_neither_yes_nor_no(reply: str) -> None:
    assert parse_yes_no(reply) is None


@pytest.mark.parametrize("reply", YES)
def test_no_problem_and_why_not_are_yes(reply: str) -> None:
    assert parse_yes_no(reply) is True


@pytest.mark.parametrize("reply", ["no", "no thanks", "I don't want to", "I'd rather not", "nope", "nac ydw"])
def test_a_no_is_still_a_no(reply: str) -> None:
    assert parse_yes_no(reply) is False


def _first_reply(step: dict[str, Any], reply: str) -> tuple[list[Any], list[str], bool]:
    engine = Engine(Flow.model_validate({"flow": "f", "steps": [step, {"id": "bye", "type": "end", "text": "Bye."}]}))
    sprint = engine.handle(engine.start(NOW, seed=1).state, TextInput(reply), NOW)
    recorded = [e.value for e in sprint.events if isinstance(e, RecordAnswer)]
    ended = any(isinstance(e, SessionEnded) for e in sprint.events)
    return recorded, [m.text for m in sprint.messages()], ended


@pytest.mark.parametrize("reply", ["I don't mind", "either is fine", "dim ots", "don't know", "no preference"])
def test_a_yes_no_question_asks_again(reply: str) -> None:
    step = {"id": "later", "type": "yesno", "text": "Can we message you in 4 weeks?"}
    assert _first_reply(step, reply) == ([], ["Please reply YES or NO."], False)


@pytest.mark.parametrize(("reply", "stored"), [("yes I don't mind", "yes"), ("no worries", "yes"), ("why not", "yes"), ("no", "no")])
def test_a_yes_no_question_stores_a_clear_answer(reply: str, stored: str) -> None:
    step = {"id": "later", "type": "yesno", "text": "Can we message you in 4 weeks?"}
    assert _first_reply(step, reply)[0] == [stored]


@pytest.mark.parametrize("reply", ["I don't mind", "don't mind", "I don't care", "not bothered", "dim ots", "not sure"])
def test_a_consent_step_asks_again_neither_declined_nor_consented(reply: str) -> None:
    step = {"id": "consent", "type": "consent", "text": "Reply YES to take part or NO to stop."}
    recorded, said, ended = _first_reply(step, reply)
    assert recorded == [] and not ended
    assert said == ["Please reply YES or NO."]


def test_i_dont_mind_at_the_example_consent_stores_nothing_until_a_yes(
        say: Callable[..., ReceiveResult], service: ConversationService, database: Database) -> None:
    joined = say("WAIT")
    assert joined.participant_id is not None
    say("I don't mind")
    assert service.outbox_for(joined.participant_id)[-1].text == "Please reply YES or NO."
    with database.reading() as session:
        assert session.exec(select(AnswerRow).where(AnswerRow.participant_id == joined.participant_id)).all() == []
    say("yes")
    assert service.outbox_for(joined.participant_id)[-1].text.startswith("Which best describes you?")
    with database.reading() as session:
        rows = session.exec(select(AnswerRow).where(AnswerRow.participant_id == joined.participant_id)).all()
    assert [(row.step_id, row.value) for row in rows] == [("consent", "yes")]
