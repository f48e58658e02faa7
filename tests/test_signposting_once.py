"""Safeguarding false alarms on plain answers, and the signposting sent once, not again and again.

Found by exploratory testing: "feet, eyes and diet", the options of a "pick your worries"
question in the participant's own words, was read by the embedding check as a possible
medical emergency and the crisis signposting was sent; the same words to the next question
sent it again twelve seconds later."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.concerns import NOT_SENT_AGAIN, SIGNPOSTING_INTERVAL, names_options
from bot.safeguarding import Concern, SafetyChecks, checks_from_env
from bot.service import ConversationService, ReceiveResult
from flows.engine import Engine, SessionState
from flows.model import Flow
from storage.database import Database
from storage.tables import FLAGS
from tests.db_fixtures import FakeClock

Say = Callable[..., ReceiveResult]
NOW = datetime(2030, 5, 1, 10, 0, tzinfo=UTC)
STORY = "Honestly I can't go on like this, I just want to end my life"


def _flags(database: Database) -> list[Any]:
    with database.transaction() as connection:
        return list(connection.execute(select(FLAGS.c.message).where(FLAGS.c.kind == "safeguarding").order_by(FLAGS.c.id)).scalars())


def _signposted(service: ConversationService, result: ReceiveResult) -> int:
    return sum(row.kind == "signposting" for row in service.outbox_for(result.participant_id or ""))


def _flags_everything(service: ConversationService) -> None:
    service.safety = SafetyChecks(quick=lambda text: Concern("medical", "a check that flags everything"))


# ----------------------------------------------------------------------------- a list of the question's options


def worries(languages: list[str] | None = None) -> tuple[Engine, SessionState]:
    flow = Flow.model_validate({"flow": "f", "languages": languages or ["en"], "steps": [
        {"id": "worries", "type": "choice", "multiple": True, "text": {"en": "Pick your worries", "cy": "Dewiswch"},
         "options": [{"value": "feet", "label": {"en": "Feet", "cy": "Traed"}},
                     {"value": "eyes", "label": {"en": "Eyes", "cy": "Llygaid"}},
                     {"value": "diet", "label": {"en": "Diet", "cy": "Deiet"}},
                     {"value": "food", "label": {"en": "Cost of food", "cy": "Cost bwyd"}}]},
        {"id": "bye", "type": "end", "text": "Bye."},
    ]})
    engine = Engine(flow)
    return engine, engine.start(NOW, language=(languages or ["en"])[-1]).state


@pytest.mark.parametrize("text", [
    "feet, eyes and diet", "Feet & Eyes", "my feet and my eyes", "feet, eyes, and diet.", "Cost of food or diet",
    "eyes / diet", "Eyes\nFeet", "both feet and eyes",
])
def test_a_list_of_the_questions_options_names_only_options(text: str) -> None:
    engine, state = worries()
    assert names_options(engine, state, text, NOW)


@pytest.mark.parametrize("text", [
    "feet, eyes and I can't go on", "feet and hands", "diet, the cost of everything", "my feet are going black", "feet eyes diet",
])
def test_a_reply_with_words_of_its_own_is_not_taken_for_options(text: str) -> None:
    engine, state = worries()
    assert not names_options(engine, state, text, NOW)


def test_options_are_named_in_the_language_the_participant_speaks() -> None:
    engine, state = worries(["en", "cy"])
    assert names_options(engine, state, "traed a llygaid", NOW) and names_options(engine, state, "Deiet neu cost bwyd", NOW)


def test_a_typed_list_of_options_raises_no_alarm_and_anything_more_still_does(
    service: ConversationService, say: Say, database: Database,
) -> None:
    _flags_everything(service)
    for text in ("WAIT", "yes", "3"):  # staff: "Which shifts do you usually work?" (Days, Nights, Weekends)
        say(text)
    result = say("days, nights and weekends")
    assert _signposted(service, result) == 0 and _flags(database) == []
    result = say("nights and weekends, and I can't breathe")  # (the story question: anything is words of their own)
    assert _signposted(service, result) == 1 and len(_flags(database)) == 1


# ----------------------------------------------------------------------------- the signposting, once an hour


def _reach_the_story(say: Say) -> None:
    for text in ("WAIT", "yes", "1", "2"):
        say(text)


def test_the_signposting_goes_once_an_hour_while_every_concern_is_flagged(
    service: ConversationService, say: Say, database: Database, clock: FakeClock,
) -> None:
    service.safety = checks_from_env({"CHORUS_SAFEGUARDING": "patterns"})
    _reach_the_story(say)
    first = say(STORY)
    assert [row.kind for row in service.outbox_for(first.participant_id or "")][-2:] == ["signposting", "prompt"]
    second = say("I took all my tablets an hour ago")  # to the next question, moments later
    assert _signposted(service, second) == 1, "not sent again"
    flags = _flags(database)
    assert len(flags) == 2 and NOT_SENT_AGAIN not in flags[0] and NOT_SENT_AGAIN in flags[1], "the coordinator hears of both"
    clock.advance(SIGNPOSTING_INTERVAL)
    third = say("I took all my tablets an hour ago")
    assert _signposted(service, third) == 2, "an hour on, a new concern is signposted again"
    assert NOT_SENT_AGAIN not in _flags(database)[2]


def test_the_background_check_sends_the_signposting_once_too(
    service: ConversationService, say: Say, database: Database, clock: FakeClock,
) -> None:
    def model(texts: list[str]) -> list[Concern | None]:
        return [Concern("medical", "reads like an emergency") if "dizzy" in text else None for text in texts]

    _reach_the_story(say)
    service.safety = SafetyChecks(thorough_batch=model)
    result = say("so dizzy and strange since this morning")
    service.wait_for_safeguarding()
    assert _signposted(service, result) == 1
    say("still dizzy, it is hard to think")
    service.wait_for_safeguarding()
    assert _signposted(service, result) == 1 and len(_flags(database)) == 2 and NOT_SENT_AGAIN in _flags(database)[1]
    clock.advance(timedelta(hours=2))
    say("dizzy again tonight, worse than before")
    service.wait_for_safeguarding()
    assert _signposted(service, result) == 2


def test_after_a_failed_signposting_text_the_next_concern_sends_it_again(
    service: ConversationService, say: Say, database: Database,
) -> None:
    service.safety = checks_from_env({"CHORUS_SAFEGUARDING": "patterns"})
    _reach_the_story(say)
    result = say(STORY)
    signposting = next(row for row in service.outbox_for(result.participant_id or "") if row.kind == "signposting")
    service.mark_failed(signposting.id, "the number is not in service", retryable=False)
    say("I took all my tablets an hour ago")
    assert _signposted(service, result) == 2


# ----------------------------------------------------------------------------- with the embedding model


def test_the_reported_list_raises_no_alarm_with_the_model_on(service: ConversationService, say: Say, database: Database) -> None:
    """The exploratory tester's replies, to a number question and to a choice, with the full check."""
    service.safety = checks_from_env({"CHORUS_SAFEGUARDING": "full"})
    for text in ("WAIT", "yes", "1"):
        say(text)
    for text in ("feet, eyes and diet", "pain, sleep and mood", "feet, eyes and diet"):  # to "How many times...?"
        result = say(text)
    service.wait_for_safeguarding(timeout=300)
    assert _signposted(service, result) == 0 and _flags(database) == []
