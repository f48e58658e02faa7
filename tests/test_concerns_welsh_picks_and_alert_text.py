"""Safeguarding: picks by place in either language raise no alarm, and an alert quotes what was written.

Found by exploratory testing: "y cyntaf, yr ail, y trydydd" (the first, the second, the third),
a Welsh participant's correct answer to a ranking, read to the embedding model like "I think
I'm having a stroke": the desk had a medical-emergency alert and the participant, in a
mental-health study, was sent the crisis signposting. And an alert said only "possible abuse
(inbound 15): ... reads like 'I'm going to hurt him badly'", with no step: no desk page lists
inbound 15, so the coordinator could not read what raised it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.concerns import names_options, no_words_of_its_own
from bot.safeguarding import Concern, SafetyChecks
from bot.service import ConversationService, ReceiveResult
from channels.base import InboundMessage
from flows.engine import Engine, SessionState
from flows.model import Flow
from storage.database import Database
from storage.tables import ANSWERS, FLAGS
from tests.desk_helpers import Desk, desk_app

Say = Callable[..., ReceiveResult]
NOW = datetime(2030, 5, 1, 10, 0, tzinfo=UTC)
WELSH_PICKS = ["y cyntaf, yr ail, y trydydd", "y trydydd, y cyntaf, yr ail", "yr ail un a'r olaf", "yr ail un a’r olaf",
               "y drydedd a'r gyntaf", "y cyntaf yr ail y trydydd", "yr ail, diolch"]
ENGLISH_PICKS = ["the first, the second, the third", "first then third", "the second one and the last", "3 1 2", "B and A",
                 "I'd go for the second and the first"]
WORDS_OF_THEIR_OWN = ["y cyntaf, mae gen i boen yn fy mrest", "the first, I can't breathe", "yr ail a dw i eisiau marw",
                      "dead", "I have had 20", "first and I can't go on", "999 999"]
PHONE = "07700 900123"
HURT = f"My son Will barely leaves his room and I'm scared he'll hurt himself, ring me on {PHONE}"
STORY = f"My son Will is scared. Honestly I can't go on like this, I just want to end my life. Ring me on {PHONE}"


def _ranking() -> tuple[Engine, SessionState]:
    """The tester's ranking, asked in Welsh."""
    flow = Flow.model_validate({"flow": "f", "languages": ["en", "cy"], "steps": [
        {"id": "rank", "type": "rank", "top": 3, "text": {"en": "Your top 3?", "cy": "Eich 3 uchaf?"},
         "options": [{"value": "info", "label": {"en": "Information", "cy": "Gwybodaeth"}},
                     {"value": "checkin", "label": {"en": "A check-in call", "cy": "Galwad i holi"}},
                     {"value": "groups", "label": {"en": "Groups", "cy": "Grwpiau"}},
                     {"value": "phone", "label": {"en": "Phone calls", "cy": "Galwad ffon"}}]},
        {"id": "bye", "type": "end", "text": "Bye."},
    ]})
    engine = Engine(flow)
    return engine, engine.start(NOW, language="cy").state


@pytest.mark.parametrize("text", WELSH_PICKS + ENGLISH_PICKS + ["Grwpiau a'r cyntaf", "y cyntaf, Gwybodaeth"])
def test_picks_by_place_in_either_language_name_only_options(text: str) -> None:
    engine, state = _ranking()
    assert names_options(engine, state, text, NOW)


@pytest.mark.parametrize("text", WORDS_OF_THEIR_OWN)
def test_picks_with_words_of_their_own_are_still_read(text: str) -> None:
    engine, state = _ranking()
    assert not names_options(engine, state, text, NOW)
    assert not no_words_of_its_own(text)


@pytest.mark.parametrize("text", ["I want the first", "I'd like the second one and the third one please", "the 2nd then the 3rd"])
def test_a_reply_of_picks_and_little_words_has_no_words_of_its_own(text: str) -> None:
    assert no_words_of_its_own(text)


def test_no_words_of_its_own_needs_a_pick() -> None:
    assert not no_words_of_its_own("I want to be with them"), "little words alone can still say something"


# ----------------------------------------------------------------------------- through the service


def _flags(database: Database) -> list[Any]:
    with database.transaction() as connection:
        query = select(FLAGS.c.message, FLAGS.c.flow_id, FLAGS.c.step_id).where(FLAGS.c.kind == "safeguarding").order_by(FLAGS.c.id)
        return list(connection.execute(query).all())


def _signposted(service: ConversationService, result: ReceiveResult) -> int:
    return sum(row.kind == "signposting" for row in service.outbox_for(result.participant_id or ""))


def _everything_worries(texts: list[str]) -> list[Concern | None]:
    return [Concern("medical", "possible medical emergency: reads like 'I think I'm having a stroke'") for _ in texts]


def _at_the_shifts(say: Say, address: str) -> None:
    """A staff member at "Which shifts do you usually work?" (Days, Nights, Weekends)."""
    for text in ("WAIT", "yes", "3"):
        say(text, address=address)


@pytest.mark.parametrize("text", ["y cyntaf, yr ail, y trydydd", "yr ail un a'r olaf"])
def test_welsh_ordinals_answer_the_question_and_raise_no_alarm(
    service: ConversationService, say: Say, database: Database, text: str,
) -> None:
    service.safety = SafetyChecks(quick=lambda said: Concern("medical", "a check that flags everything"),
                                  thorough_batch=_everything_worries)
    _at_the_shifts(say, "+447700900301")
    result = say(text, address="+447700900301")
    service.wait_for_safeguarding()
    with database.transaction() as connection:
        answered = connection.execute(select(ANSWERS.c.step_id).where(ANSWERS.c.inbound_id == result.inbound_id)).scalars().all()
    assert "shift" in answered, "the reply answered the question"
    assert _flags(database) == [] and _signposted(service, result) == 0


def test_the_model_never_reads_a_reply_of_picks_and_little_words(service: ConversationService, say: Say, database: Database) -> None:
    service.safety = SafetyChecks(thorough_batch=_everything_worries)
    _at_the_shifts(say, "+447700900302")
    result = say("I want the first", address="+447700900302")
    service.wait_for_safeguarding()
    assert _flags(database) == [] and _signposted(service, result) == 0
    say("the first, I can't breathe", address="+447700900302")  # (the next question: free text)
    service.wait_for_safeguarding()
    assert len(_flags(database)) == 1, "words of their own are still read"


def test_the_models_alert_quotes_the_words_masked_at_the_step_they_came_in(
    service: ConversationService, say: Say, database: Database, caplog: pytest.LogCaptureFixture,
) -> None:
    def hurt(texts: list[str]) -> list[Concern | None]:
        return [Concern("abuse", "possible abuse or violence: reads like 'I'm going to hurt him badly'") if "hurt" in t else None
                for t in texts]

    service.safety = SafetyChecks(thorough_batch=hurt)
    caplog.set_level(logging.DEBUG)
    _at_the_shifts(say, "+447700900303")
    result = say(HURT, address="+447700900303")  # no answer to the shifts question: it is asked again
    service.wait_for_safeguarding()
    [(message, flow, step)] = _flags(database)
    assert (flow, step) == ("understand", "shift"), "the step the message came in at, though it answered none"
    assert "reads like 'I'm going to hurt him badly'" in message
    assert "barely leaves his room and I'm scared he'll hurt himself, ring me on [PHONE]" in message
    assert "My son [NAME]" in message and "Will" not in message and "900123" not in message
    assert "contains a name and a phone number" in message
    assert _signposted(service, result) == 1
    assert not [r for r in caplog.records if "barely" in r.getMessage() or "900123" in r.getMessage()], "never logged"


def test_the_patterns_alert_quotes_the_words_masked_at_the_step(
    service: ConversationService, say: Say, database: Database, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    for text in ("WAIT", "yes", "1", "2"):  # a patient at "What was waiting like?"
        say(text)
    say(STORY)
    [(message, flow, step)] = _flags(database)
    assert (flow, step) == ("understand", "story")
    assert 'they wrote: "My son [NAME] is scared. Honestly I can\'t go on like this' in message
    assert "Ring me on [PHONE]" in message and "900123" not in message
    assert not [r for r in caplog.records if "go on like this" in r.getMessage() or "900123" in r.getMessage()]


# ----------------------------------------------------------------------------- on the desk and in the API


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    monkeypatch.setenv("CHORUS_SAFEGUARDING", "patterns")
    with desk_app(tmp_path) as made:
        made.client.post("/login", data={"token": made.token("coordinator", ("ae-waiting",))})
        yield made


def test_the_desk_and_the_api_show_the_alerts_words_masked(desk: Desk) -> None:
    service: ConversationService = desk.app.state.chorus.service
    for number, text in enumerate(["WAIT", "yes", "1", "2", STORY]):
        result = service.receive(InboundMessage("sms", "+447700900304", f"SM{number}", text))
    pid = result.participant_id
    said = "I can&#39;t go on like this"  # (as the pages escape it)
    alerts = desk.client.get("/dashboard/studies/ae-waiting/alerts").text
    assert said in alerts and "Ring me on [PHONE]" in alerts and "900123" not in alerts and "understand / story" in alerts
    page = desk.client.get(f"/dashboard/studies/ae-waiting/participants/{pid}").text
    assert said in page and "Ring me on [PHONE]" in page and "900123" not in page
    bearer = {"Authorization": f"Bearer {desk.token('coordinator', ('ae-waiting',))}"}
    [flag] = desk.client.get("/api/v1/studies/ae-waiting/flags", headers=bearer).json()["items"]
    assert flag["step"] == "story" and "I can't go on like this" in flag["message"]
    assert "Ring me on [PHONE]" in flag["message"] and "900123" not in flag["message"]
