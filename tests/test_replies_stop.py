"""STOP from someone who never joined is kept, as a participant's is: nothing more is sent them,
on any channel, whatever they write (the join keyword too), until START, UNSTOP or their Welsh
words. Through the conversation service, one message at a time and in webhook batches, on
SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.safeguarding import checks_from_env
from bot.service import STOPPED_BEFORE_JOINING, ConversationService, ReceiveResult
from bot.studies import StudyRegistry
from channels.base import InboundMessage, Media
from flows.loader import load_study
from storage import repository
from storage.database import Database
from storage.tables import AUDIT_EVENTS, ENROLMENTS, OUTBOUND
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

Say = Callable[..., ReceiveResult]
STRANGER = "+447700900061"
INVITATION = "Hello. To take part in Waiting in A&E, reply WAIT."
EXAMPLES = Path(__file__).resolve().parent.parent / "flows" / "examples"


def texts(service: ConversationService, result: ReceiveResult) -> list[str]:
    assert result.participant_id is not None
    return [row.text for row in service.outbox_for(result.participant_id) if row.id in result.outbox_ids]


def outbox_of(database: Database, pid: str) -> list[tuple[str, str]]:
    with database.transaction() as connection:
        query = select(OUTBOUND.c.kind, OUTBOUND.c.status).where(OUTBOUND.c.participant_id == pid).order_by(OUTBOUND.c.id)
        return [(row[0], row[1]) for row in connection.execute(query)]


def audited(database: Database, pid: str) -> list[str]:
    with database.transaction() as connection:
        query = select(AUDIT_EVENTS.c.action).where(AUDIT_EVENTS.c.subject == pid).order_by(AUDIT_EVENTS.c.id)
        return list(connection.execute(query).scalars())


@pytest.mark.parametrize(("stop", "start"), [("STOP", "START"), ("stop please", "unstop"), ("STOPIO", "dechrau"),
                                              ("Unsubscribe", "ailddechrau")])
def test_a_strangers_stop_holds_until_start(service: ConversationService, database: Database, say: Say, stop: str, start: str) -> None:
    stopped = say(stop, address=STRANGER)
    assert stopped.status == "not_enrolled" and stopped.outbox_ids == (), "a STOP is never answered"
    pid = stopped.participant_id
    assert pid is not None
    for later in ("hello?", "WAIT", "join wait", "help", "", "yes"):
        result = say(later, address=STRANGER)
        assert result.status == "not_enrolled" and result.outbox_ids == (), f"{later!r} was answered after STOP"
    assert texts(service, say(start, address=STRANGER)) == [INVITATION]
    joined = say("WAIT", address=STRANGER)
    assert joined.status == "joined" and "Reply YES to take part" in texts(service, joined)[0]
    assert audited(database, pid)[:2] == ["opted_out", "opted_in"]


def test_the_stop_is_kept_on_the_participant_with_when_it_was_said(service: ConversationService, database: Database, say: Say) -> None:
    pid = say("STOP", address=STRANGER).participant_id
    assert pid is not None
    with database.transaction() as connection:
        assert STOPPED_BEFORE_JOINING in repository.load_participant(connection, pid).fields
    say("START", address=STRANGER)
    with database.transaction() as connection:
        assert repository.load_participant(connection, pid).fields == {}


def test_an_invitation_still_queued_when_a_stranger_says_stop_is_never_sent(service: ConversationService, database: Database,
                                                                          say: Say) -> None:
    pid = say("hello", address=STRANGER).participant_id
    assert pid is not None and outbox_of(database, pid) == [("help", "queued")]
    say("STOP", address=STRANGER)
    assert outbox_of(database, pid) == [("help", "held")]
    assert service.pending_outbox() == []


def test_a_stranger_may_still_have_their_data_deleted_after_stop(service: ConversationService, database: Database, say: Say) -> None:
    pid = say("STOP", address=STRANGER).participant_id
    assert pid is not None
    asked = say("delete my data", address=STRANGER)
    assert texts(service, asked)[0].startswith("Reply YES to delete everything")
    assert say("yes", address=STRANGER).status == "erased"
    assert service.participant_for("sms", STRANGER) is None


def test_a_batch_of_webhooks_keeps_a_strangers_stop_too(service: ConversationService, database: Database) -> None:
    ids = itertools.count(1)

    def burst(*replies: str) -> list[ReceiveResult]:
        return service.accept_many([InboundMessage("whatsapp", STRANGER, f"wa-{next(ids)}", text) for text in replies], process=True)

    first = burst("hi", "STOP")
    assert [r.status for r in first] == ["not_enrolled", "not_enrolled"] and first[1].outbox_ids == ()
    assert [r.outbox_ids for r in burst("WAIT")] == [()]
    again = burst("START", "WAIT")
    assert [r.status for r in again] == ["not_enrolled", "joined"]
    assert texts(service, again[0]) == [INVITATION] and again[1].outbox_ids


def test_a_telegram_link_after_stop_is_a_start_and_joins(service: ConversationService, say: Say) -> None:
    say("/stop", address="6060", channel="telegram")
    joined = say("START", address="6060", channel="telegram", start_param="wait")
    assert joined.status == "joined" and joined.outbox_ids


def test_a_voice_note_from_a_stranger_who_said_stop_is_not_answered(service: ConversationService, say: Say) -> None:
    say("STOP", address=STRANGER, channel="whatsapp")
    note = say("", address=STRANGER, channel="whatsapp", media=(Media("https://example.org/v.ogg", "audio/ogg"),))
    assert note.status == "awaiting_transcript" and note.inbound_id is not None
    assert service.answer_stranger(note.inbound_id) == ()


def test_a_coordinator_adding_a_stranger_who_said_stop_sends_nothing(service: ConversationService, database: Database,
                                                                    say: Say) -> None:
    pid = say("STOP", address=STRANGER, channel="whatsapp").participant_id
    assert service.join("whatsapp", STRANGER, "ae-waiting").status == "opted_out"
    assert pid is not None and outbox_of(database, pid) == []
    with database.transaction() as connection:
        assert connection.execute(select(ENROLMENTS.c.opted_out).where(ENROLMENTS.c.participant_id == pid)).scalar_one() is True


@pytest.fixture
def two_studies(database: Database, clock: FakeClock) -> ConversationService:
    registry = StudyRegistry([load_study(EXAMPLES / "ae-waiting"), load_study(EXAMPLES / "evaluation")])
    return ConversationService(database, registry, clock, address_key=TEST_ADDRESS_KEY,
                               safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))


def test_someone_who_stopped_joins_no_other_study_until_start(two_studies: ConversationService, database: Database) -> None:
    ids = itertools.count(1)

    def say(text: str) -> ReceiveResult:
        return two_studies.receive(InboundMessage("sms", STRANGER, f"sms-{next(ids)}", text))

    say("WAIT")
    say("STOP")
    other = say("RATE")
    assert other.status == "processed" and other.outbox_ids == ()
    with database.transaction() as connection:
        assert list(connection.execute(select(ENROLMENTS.c.study_id)).scalars()) == ["ae-waiting"]
    assert texts(two_studies, say("START"))[0] == "Welcome back."
    assert say("RATE").status == "joined"
