"""The scheduler's set-based start (ConversationService.start_many_within), on SQLite and
PostgreSQL: a batch writes what starting each participant alone would, and a start it cannot
write in bulk goes the one-at-a-time way in the same transaction."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from sqlalchemy import select

import bot.service
from bot.service import ConversationService
from bot.studies import StudyRegistry
from channels.base import InboundMessage
from flows.loader import load_study
from storage import repository
from storage.database import Database
from storage.tables import OUTBOUND, SESSIONS
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

EVALUATION = Path(__file__).resolve().parent.parent / "flows" / "examples" / "evaluation"
ADDRESSES = [f"+44770090{n:04d}" for n in range(3)]


def joined(database: Database, clock: FakeClock) -> tuple[ConversationService, list[str]]:
    service = ConversationService(database, StudyRegistry([load_study(EVALUATION)]), clock, address_key=TEST_ADDRESS_KEY)
    ids = itertools.count(1)
    people = []
    for address in ADDRESSES:
        result = service.receive(InboundMessage("sms", address, f"in-{next(ids)}", "RATE"))
        assert result.status == "joined" and result.participant_id
        people.append(result.participant_id)
    return service, people


def start(service: ConversationService, people: list[str], flow_id: str = "fft") -> list[int]:
    with service.holding(people) as connection:
        starts = []
        for pid in people:
            enrolment = repository.enrolments_of(connection, pid)[0]
            contact = repository.contact_for(connection, pid, enrolment.channel)
            assert contact is not None
            starts.append((contact, enrolment, flow_id))
        return service.start_many_within(connection, starts, service.clock())


def written(database: Database, pid: str) -> list[tuple[object, ...]]:
    """The participant's sessions (flow, status) and messages (step, kind, text), in order."""
    with database.transaction() as connection:
        sessions = connection.execute(select(SESSIONS.c.flow_id, SESSIONS.c.status).where(SESSIONS.c.participant_id == pid)
                                      .order_by(SESSIONS.c.id)).all()
        messages = connection.execute(select(OUTBOUND.c.step_id, OUTBOUND.c.kind, OUTBOUND.c.text, OUTBOUND.c.status)
                                      .where(OUTBOUND.c.participant_id == pid).order_by(OUTBOUND.c.id)).all()
    return [tuple(row) for row in [*sessions, *messages]]


def test_a_batch_start_writes_what_starting_each_alone_writes(database: Database, clock: FakeClock) -> None:
    service, people = joined(database, clock)
    alone = people[0]
    with service.holding([alone]) as connection:
        enrolment = repository.enrolments_of(connection, alone)[0]
        contact = repository.contact_for(connection, alone, enrolment.channel)
        assert contact is not None
        service.start_within(connection, contact, enrolment, "fft", clock())
    sessions = start(service, people[1:])
    expected = written(database, alone)
    assert [row[:2] for row in expected[:2]] == [("welcome", "replaced"), ("fft", "waiting")]
    assert any(row[0] == "fft" and "overall how was your experience" in str(row[2]) for row in expected[2:])
    for pid, session_id in zip(people[1:], sessions, strict=True):
        assert written(database, pid) == expected
        with database.transaction() as connection:
            latest = repository.latest_session(connection, pid)
        assert latest is not None and latest.id == session_id and latest.flow_id == "fft"
        assert latest.state.get("step") == "fft"


def test_a_start_the_batch_cannot_write_in_bulk_is_started_alone_in_the_same_transaction(
    database: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    service, people = joined(database, clock)
    monkeypatch.setattr(bot.service, "plain_event", lambda event: False)
    sessions = start(service, people)
    monkeypatch.undo()
    for pid, session_id in zip(people, sessions, strict=True):
        with database.transaction() as connection:
            latest = repository.latest_session(connection, pid)
        assert latest is not None and latest.id == session_id and latest.flow_id == "fft"
    assert written(database, people[0])[2:] == written(database, people[2])[2:]
