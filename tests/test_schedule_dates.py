"""A follow-up timed from a date the participant gives in words ("yesterday", "3 days ago",
"last tuesday", "tri diwrnod yn ôl") is planned from the day the answer was given: the
planner is told when that was (the answer's stored time, storage/due_tasks.with_given_at).
It used to read such answers as no date at all, and plan nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.planning import participant_date
from storage.database import Database
from storage.tables import FLAGS
from tests.db_fixtures import FakeClock
from tests.test_scheduler import Clinic, local, task_of

LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def clinic(database: Database) -> Clinic:
    return Clinic(database, FakeClock(MONDAY))


def _patient(clinic: Clinic, address: str, discharged: str, answered_after: timedelta = timedelta(0)) -> str:
    pid = clinic.say("RATE", address)
    clinic.say("YES", address)
    clinic.say("1", address)
    clinic.at(clinic.clock.now + answered_after)
    clinic.say(discharged, address)
    return pid


@pytest.mark.parametrize(("said", "left_on"), [
    ("yesterday", "2026-03-01"), ("3 days ago", "2026-02-27"), ("two weeks ago", "2026-02-16"),
    ("last tuesday", "2026-02-24"), ("tri diwrnod yn ôl", "2026-02-27"), ("ddoe", "2026-03-01"),
    ("dydd Sadwrn diwethaf", "2026-02-28"), ("a fortnight ago", "2026-02-16"),
])
def test_a_date_said_in_words_is_counted_from_when_it_was_said(clinic: Clinic, said: str, left_on: str) -> None:
    pid = _patient(clinic, "+447700900201", said)
    clinic.tick()
    fft = task_of(clinic, pid, "follow_up", "fft")
    expected = datetime.fromisoformat(left_on).replace(hour=9, tzinfo=LONDON) + timedelta(days=28)
    assert local(fft.due_at) == local(expected), "28 days after the day they left, at 09:00"


def test_the_answer_time_counts_not_the_day_they_joined(clinic: Clinic) -> None:
    address = "+447700900202"
    pid = clinic.say("RATE", address)
    clinic.say("YES", address)
    clinic.tick()  # planned before their date: the planner looks again hourly
    clinic.say("1", address)
    clinic.at(clinic.clock.now + timedelta(days=3))  # Thursday
    clinic.say("yesterday", address)
    clinic.at(clinic.clock.now + timedelta(hours=1, minutes=1))
    clinic.tick()
    assert local(task_of(clinic, pid, "follow_up", "fft").due_at) == "2026-04-01 09:00 BST", "Wednesday 4 March + 28 days"


def test_a_date_nobody_can_read_still_tells_the_coordinator(clinic: Clinic) -> None:
    pid = _patient(clinic, "+447700900203", "the day after my operation")
    clinic.tick()
    assert [t for t in clinic.tasks(pid) if t.flow_id == "fft"] == []
    with clinic.database.transaction() as connection:
        flags = connection.execute(select(FLAGS.c.kind, FLAGS.c.participant_id, FLAGS.c.message)).all()
    assert [(kind, who) for kind, who, _ in flags] == [("planning", pid)]
    assert "the day after my operation" in flags[0].message


def test_the_standing_answer_gives_the_time_not_one_taken_back(clinic: Clinic) -> None:
    from storage import due_tasks
    from tests.desk_helpers import add_answers

    pid = _patient(clinic, "+447700900204", "yesterday")
    answered = clinic.clock.now
    version = clinic.registry.current("evaluation", "welcome").id
    row = {"participant_id": pid, "study_id": "evaluation", "flow_id": "welcome", "flow_version_id": version,
           "flow_version": "test", "step_id": "discharge_date", "value": "yesterday"}
    add_answers(clinic.database, [{**row, "answered_at": answered + timedelta(days=5), "withdrawn_at": answered + timedelta(days=5)},
                                  {**row, "step_id": "role", "answered_at": answered + timedelta(days=6)}])
    steps = clinic.registry.anchor_steps()
    assert steps == {"evaluation": {("welcome", "discharge_date"): "discharge_date"}}

    def given() -> datetime:
        with clinic.database.transaction() as connection:
            found = due_tasks.people(connection, {(pid, "evaluation")})
            return due_tasks.with_given_at(connection, list(found.values()), steps)[0].given_at["discharge_date"]

    assert abs(given() - answered) < timedelta(seconds=5)
    add_answers(clinic.database, [{**row, "answered_at": answered + timedelta(days=7)}])
    assert given() == answered + timedelta(days=7), "the latest standing answer is the one the field holds"


GIVEN = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)  # a Thursday


@pytest.mark.parametrize(("said", "day"), [
    ("yesterday afternoon", "2026-11-25"), ("last night", "2026-11-25"), ("this morning", "2026-11-26"),
    ("neithiwr", "2026-11-25"), ("bore ddoe", "2026-11-25"), ("wythnos yn ôl", "2026-11-19"),
    ("pythefnos yn ôl", "2026-11-12"), ("dau ddiwrnod yn ôl", "2026-11-24"), ("12 days ago", "2026-11-14"),
    ("a week ago.", "2026-11-19"), ("I left 3 days ago", "2026-11-23"), ("next tuesday", "2026-12-01"),
    ("tomorrow", "2026-11-27"), ("yfory", "2026-11-27"), ("dydd Llun", "2026-11-23"), ("Mawrth nesaf", "2026-12-01"),
])
def test_relative_words_in_english_and_welsh(said: str, day: str) -> None:
    found = participant_date(said, LONDON, GIVEN)
    assert found is not None and f"{found.astimezone(LONDON):%Y-%m-%d %H:%M}" == f"{day} 09:00"


@pytest.mark.parametrize("said", ["", "the", "days ago", "soon", "last week sometime", "the morning after"])
def test_what_only_looks_relative_is_not_read(said: str) -> None:
    assert participant_date(said, LONDON, GIVEN) is None
