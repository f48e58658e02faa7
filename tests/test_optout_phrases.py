"""Opting out in one's own words. A whole reply that asks in so many words to be sent nothing
more ('stop texting me', 'take me off your list', 'no more messages', 'leave me alone',
'peidiwch anfon negeseuon', 'gadewch lonydd i mi') is a STOP: the same reply, the same
opt-out on every channel. One that may ask to stop or may answer ('I want out', "I don't want
to do this anymore") is asked which, and nothing is kept as its answer. A story that only has
such words in it is an answer. The engine on the example study, and the conversation service on
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.service import ConversationService, ReceiveResult
from flows.engine import Engine, Sprint, TextInput
from flows.events import OptedOut, RecordAnswer
from flows.inputs import spoken_as_typed
from flows.loader import LoadedStudy, load_flow, load_study
from flows.opt_out_phrases import asks_to_opt_out, may_ask_to_opt_out
from flows.words import Words, built_in
from storage.database import Database
from storage.tables import ANSWERS, AUDIT_EVENTS, ENROLMENTS, OUTBOUND

EXAMPLE = Path(__file__).resolve().parent.parent / "flows" / "examples" / "ae-waiting"
NOW = datetime(2001, 2, 3, 10, 0, tzinfo=UTC)
STOPPED = built_in("stopped")
ASKED = built_in("stop_confirm")

OPT_OUTS = [
    "no more messages", "leave me alone", "stop texting me", "stop sending me these", "take me off your list",
    "dont message me again", "unsubscribe me", "Please take me off your list x", "Leave me alone!! 😡", "ok leave me alone now xx",
    "Don’t text me again.", "can you stop messaging me please", "STOP SENDING ME THESE MESSAGES", "remove my number please",
    "I want to unsubscribe", "i no longer want to receive these messages", "take me out of this study", "i said stop texting me",
]
WELSH_OPT_OUTS = ["peidiwch anfon negeseuon", "gadewch lonydd i mi", "Peidiwch â anfon negeseuon ataf i eto", "stopiwch decstio fi",
                  "gad lonydd i fi plis x", "dim mwy o negeseuon", "Tynnwch fi o'r rhestr"]
MAYBE = ["i want out", "i dont want to do this anymore", "I don't want to do this any more.", "i quit", "not interested",
         "count me out"]
WELSH_MAYBE = ["dw i eisiau gadael", "dwi ddim isio gwneud hyn mwyach", "dim diddordeb"]
STORIES = [
    "my mum said leave me alone when she was ill", "no more pain after the second visit", "i want to leave hospital sooner",
    "i quit smoking", "stop sending me to different wards", "they should stop texting reminders at 6am", "leave me to rest", "dont call me",
    "the nurse told me to leave me alone", "i dont want to do this treatment", "dont call me love", "stop calling me",
]


class Chat:
    """One participant's conversation: start it, then feed it typed replies; keeps the latest state."""

    def __init__(self, engine: Engine, language: str | None = None) -> None:
        self.engine = engine
        self.state = engine.start(NOW, language=language).state

    def send(self, text: str, **given: Any) -> Sprint:
        sprint = self.engine.handle(self.state, TextInput(text, **given), NOW)
        self.state = sprint.state
        return sprint


def texts(sprint: Sprint) -> list[str]:
    return [message.text for message in sprint.messages()]


def answers(sprint: Sprint) -> list[RecordAnswer]:
    return [event for event in sprint.events if isinstance(event, RecordAnswer)]


def opted_out(sprint: Sprint) -> bool:
    return any(isinstance(event, OptedOut) for event in sprint.events)


@pytest.fixture(scope="module")
def study() -> LoadedStudy:
    return load_study(EXAMPLE)


def at_the_story(study: LoadedStudy, language: str | None = None, kind: type[Chat] = Chat) -> Chat:
    """The example's free-text question, 'What was waiting like?', waiting for an answer, in a
    conversation of ``kind`` (this module's :class:`Chat`, or one that extends it)."""
    loaded = study.flows["understand"]
    chat = kind(Engine(loaded.flow, study.study, loaded.version), language)
    for reply in ("yes", "1", "3"):
        chat.send(reply)
    assert chat.state.step == "story"
    return chat


# ----------------------------------------------------------------------------- the words


@pytest.mark.parametrize("said", OPT_OUTS + WELSH_OPT_OUTS)
def test_a_request_in_words_to_be_sent_nothing_more_is_stop(said: str) -> None:
    assert Words().command(said) == "stop"
    assert not may_ask_to_opt_out(said)


@pytest.mark.parametrize("said", MAYBE + WELSH_MAYBE)
def test_a_reply_that_may_ask_to_stop_or_may_answer_is_no_stop(said: str) -> None:
    assert Words().command(said) is None and may_ask_to_opt_out(said)


@pytest.mark.parametrize("said", [*STORIES, "no", "yes", "leave", "no more", "stop making us wait", "take me home"])
def test_a_story_with_those_words_in_it_is_neither(said: str) -> None:
    assert Words().command(said) is None
    assert not asks_to_opt_out(said) and not may_ask_to_opt_out(said)


@pytest.mark.parametrize("said", OPT_OUTS + WELSH_OPT_OUTS)
def test_no_opt_out_at_once_is_words_the_safeguarding_patterns_read_as_risk(said: str) -> None:
    """A STOP is never checked for risk (bot/service.py): no phrase read as one may be risk."""
    from nlp.safety import lexicon_match

    assert not lexicon_match(said)


@pytest.mark.parametrize("said", ["i cant do this anymore", "i dont want to be here anymore", "I can't go on"])
def test_words_of_distress_are_neither_and_stay_answers_the_safeguarding_check_reads(said: str) -> None:
    assert Words().command(said) is None and not may_ask_to_opt_out(said)


# ----------------------------------------------------------------------------- the engine


@pytest.mark.parametrize("said", OPT_OUTS)
def test_an_opt_out_in_words_to_a_free_text_question_stops_as_stop_does(study: LoadedStudy, said: str) -> None:
    stop, chat = at_the_story(study), at_the_story(study)
    plain = stop.send("STOP")
    sprint = chat.send(said)
    assert opted_out(sprint) and texts(sprint) == texts(plain) == [STOPPED]
    assert answers(sprint) == [] and sprint.command == "stop"
    assert chat.state == stop.state, "the same state as STOP leaves"
    assert chat.send("It was a long wait").events == [] and chat.send("hello?").events == []


@pytest.mark.parametrize("said", ["take me off your list", "leave me alone", "no more messages"])
def test_an_opt_out_in_words_to_a_choice_or_a_scale_stops_too(study: LoadedStudy, said: str) -> None:
    loaded = study.flows["understand"]
    chat = Chat(Engine(loaded.flow, study.study, loaded.version))
    chat.send("yes")
    assert chat.state.step == "role"
    sprint = chat.send(said)
    assert opted_out(sprint) and texts(sprint) == [STOPPED] and chat.state.status == "stopped"


@pytest.mark.parametrize("said", WELSH_OPT_OUTS)
def test_a_welsh_opt_out_in_words_gets_the_welsh_stop_reply(study: LoadedStudy, said: str) -> None:
    chat = at_the_story(study, "cy")
    sprint = chat.send(said)
    assert opted_out(sprint) and texts(sprint) == [built_in("stopped", "cy")] and answers(sprint) == []


def test_an_opt_out_said_in_a_voice_note_is_honoured_as_a_spoken_stop_is(study: LoadedStudy) -> None:
    chat = at_the_story(study)
    spoken = TextInput("Leave me alone.", source="voice")
    sprint = chat.engine.handle(chat.state, spoken_as_typed(spoken, chat.engine.words.command(spoken.text)), NOW)
    assert opted_out(sprint) and texts(sprint) == [STOPPED] and answers(sprint) == []


@pytest.mark.parametrize("said", STORIES)
def test_a_story_with_those_words_in_it_is_the_answer(study: LoadedStudy, said: str) -> None:
    chat = at_the_story(study)
    sprint = chat.send(said)
    assert not opted_out(sprint) and ASKED not in texts(sprint)
    assert [(a.step_id, a.raw) for a in answers(sprint)] == [("story", said)]


@pytest.mark.parametrize("said", MAYBE)
def test_a_reply_that_may_ask_to_stop_is_asked_which_and_kept_nowhere(study: LoadedStudy, said: str) -> None:
    chat = at_the_story(study)
    sprint = chat.send(said)
    assert texts(sprint) == [ASKED]
    assert answers(sprint) == [] and not opted_out(sprint) and sprint.command is None
    assert chat.state.step == "story" and chat.state.status == "waiting" and chat.state.tries == 0
    stopped = chat.send("yes")
    assert opted_out(stopped) and texts(stopped) == [STOPPED] and stopped.command == "stop"
    assert chat.state.status == "stopped"


def test_the_same_again_after_being_asked_is_a_stop(study: LoadedStudy) -> None:
    chat = at_the_story(study)
    chat.send("i dont want to do this anymore")
    again = chat.send("I want out")
    assert opted_out(again) and texts(again) == [STOPPED]


@pytest.mark.parametrize("carry_on", ["no", "No thanks", "carry on", "continue please"])
def test_no_after_being_asked_gets_the_question_again_and_then_the_answer_counts(study: LoadedStudy, carry_on: str) -> None:
    chat = at_the_story(study)
    chat.send("i want out")
    again = chat.send(carry_on)
    assert texts(again) == ["OK, let's carry on.", "What was waiting like? Type, or send a voice note."]
    assert answers(again) == [] and not opted_out(again)
    answered = chat.send("Four hours on a trolley")
    assert [(a.step_id, a.raw) for a in answers(answered)] == [("story", "Four hours on a trolley")]


def test_an_answer_after_being_asked_is_the_answer_and_a_later_yes_is_no_stop(study: LoadedStudy) -> None:
    chat = at_the_story(study)
    chat.send("i dont want to do this anymore")
    answered = chat.send("It was chaotic and nobody told us anything")
    assert [(a.step_id, a.raw) for a in answers(answered)] == [("story", "It was chaotic and nobody told us anything")]
    assert chat.state.step == "informed"
    later = chat.send("yes")  # to the next question: the question about stopping was the one before
    assert not opted_out(later) and chat.state.status == "waiting"


def test_a_welsh_reply_that_may_ask_to_stop_is_asked_in_welsh(study: LoadedStudy) -> None:
    chat = at_the_story(study, "cy")
    asked = chat.send("dw i eisiau gadael")
    assert texts(asked) == [built_in("stop_confirm", "cy")] and answers(asked) == []
    stopped = chat.send("ydw")
    assert opted_out(stopped) and texts(stopped) == [built_in("stopped", "cy")]


NOT_INTERESTED = """\
flow: offer
steps:
  - id: group
    type: choice
    text: Would you join a group that meets monthly?
    options: [{value: keen, label: Interested}, {value: not_keen, label: Not interested}]
  - id: bye
    type: end
    text: Thank you.
"""


def test_an_option_of_the_question_is_its_answer_and_not_asked_about(tmp_path: Path) -> None:
    path = tmp_path / "offer.yaml"
    path.write_text(NOT_INTERESTED)
    chat = Chat(Engine(load_flow(path).flow))
    sprint = chat.send("not interested")
    assert [(a.step_id, a.value) for a in answers(sprint)] == [("group", "not_keen")] and ASKED not in texts(sprint)


# ----------------------------------------------------------------------------- through the service


Say = Callable[..., ReceiveResult]


def sent_kinds(database: Database, pid: str | None) -> list[tuple[str, str]]:
    with database.transaction() as connection:
        query = select(OUTBOUND.c.kind, OUTBOUND.c.status).where(OUTBOUND.c.participant_id == pid).order_by(OUTBOUND.c.id)
        return [(str(kind), str(status)) for kind, status in connection.execute(query)]


def enrolment_opted_out(database: Database, pid: str | None) -> bool:
    with database.transaction() as connection:
        return bool(connection.execute(select(ENROLMENTS.c.opted_out).where(ENROLMENTS.c.participant_id == pid)).scalar_one())


def test_an_opt_out_in_words_is_a_real_stop_on_every_channel(service: ConversationService, database: Database, say: Say) -> None:
    """'take me off your list' on SMS to the free-text question: 'stopped' is the last thing
    sent, nothing is kept as the answer, the enrolment is opted out and audited as a STOP, the
    same number on WhatsApp is stopped too, and nothing more is sent whatever they write."""
    number = "+447700900071"
    on_whatsapp = say("WAIT", address=number, channel="whatsapp").participant_id
    pid = say("WAIT", address=number).participant_id
    for reply in ("yes", "1", "3"):
        say(reply, address=number)
    result = say("take me off your list", address=number)
    assert [row.text for row in service.outbox_for(str(pid)) if row.id in result.outbox_ids] == [STOPPED]
    with database.transaction() as connection:
        steps = list(connection.execute(select(ANSWERS.c.step_id).where(ANSWERS.c.participant_id == pid)).scalars())
        audit = connection.execute(select(AUDIT_EVENTS.c.action, AUDIT_EVENTS.c.detail)
                                   .where(AUDIT_EVENTS.c.subject == on_whatsapp, AUDIT_EVENTS.c.action == "opted_out")).all()
    assert "story" not in steps
    assert enrolment_opted_out(database, pid) and enrolment_opted_out(database, on_whatsapp)
    assert [(action, (detail or {}).get("reason")) for action, detail in audit] == [("opted_out", "STOP on sms")]
    before = sent_kinds(database, pid)
    for later in ("It was a long wait", "hello?", "i want out"):
        assert say(later, address=number).outbox_ids == (), f"{later!r} was answered after the opt-out"
    assert sent_kinds(database, pid) == before and before[-1][0] == "stopped"
    assert all(message.participant_id not in (pid, on_whatsapp) or message.text == STOPPED for message in service.pending_outbox())


def test_a_reply_that_may_ask_to_stop_is_asked_then_yes_stops_through_the_service(service: ConversationService, database: Database,
                                                                                 say: Say) -> None:
    number = "+447700900072"
    pid = say("WAIT", address=number).participant_id
    for reply in ("yes", "1", "3"):
        say(reply, address=number)
    asked = say("i dont want to do this anymore", address=number)
    assert [row.text for row in service.outbox_for(str(pid)) if row.id in asked.outbox_ids] == [ASKED]
    assert not enrolment_opted_out(database, pid)
    stopped = say("yes", address=number)
    assert [row.text for row in service.outbox_for(str(pid)) if row.id in stopped.outbox_ids] == [STOPPED]
    assert enrolment_opted_out(database, pid)
    with database.transaction() as connection:
        assert "story" not in list(connection.execute(select(ANSWERS.c.step_id).where(ANSWERS.c.participant_id == pid)).scalars())
