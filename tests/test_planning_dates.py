"""Dates a participant gives, read generously (bot/planning.py), and a flag for the coordinator
when one still cannot be read (storage/due_tasks.add): a follow-up counted from an unreadable
discharge date used to be skipped without anyone being told."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.firing import task_row
from bot.planning import Person, participant_date, plan_person
from flows.model import Study
from storage import due_tasks
from storage.database import Database
from storage.tables import FLAGS

LONDON = ZoneInfo("Europe/London")
GIVEN = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)  # a Thursday


def _day(found: datetime | None) -> str | None:
    return None if found is None else f"{found.astimezone(LONDON):%Y-%m-%d %H:%M}"


@pytest.mark.parametrize("given", [
    "24/11/2026.", "on 24/11/2026", "24 November", "24 Nov 2026", "11/24/2026", "24th of November 2026",
    "November 24th, 2026", "I left on the 24th Nov", "24 Tachwedd", "last tuesday", "Tuesday", "2 days ago",
    "the day before yesterday", "24.11.26",
])
def test_dates_written_many_ways_are_read(given: str) -> None:
    assert _day(participant_date(given, LONDON, GIVEN)) == "2026-11-24 09:00"


@pytest.mark.parametrize(("given", "expected"), [
    ("yesterday", "2026-11-25 09:00"), ("today", "2026-11-26 09:00"), ("ddoe", "2026-11-25 09:00"),
    ("3/4/2026", "2026-04-03 09:00"),
])
def test_relative_words_count_back_from_when_the_answer_was_given(given: str, expected: str) -> None:
    assert _day(participant_date(given, LONDON, GIVEN)) == expected


def test_without_the_answer_time_relative_words_are_not_guessed() -> None:
    assert participant_date("yesterday", LONDON) is None
    assert participant_date("24 November", LONDON) is None, "no year and nothing to take it from"


def test_a_date_without_a_year_is_the_one_nearest_when_it_was_given() -> None:
    early_january = datetime(2027, 1, 3, 12, 0, tzinfo=UTC)
    assert _day(participant_date("24 December", LONDON, early_january)) == "2026-12-24 09:00"


@pytest.mark.parametrize("given", ["sometime soon", "not sure", "31/02/2026", "1 2 3"])
def test_what_is_not_a_date_is_not_read_as_one(given: str) -> None:
    assert participant_date(given, LONDON, GIVEN) is None


def _study() -> Study:
    return Study.model_validate({
        "study": "s", "title": "S", "timezone": "Europe/London", "groups": ["patient"],
        "join": {"start_flow": "welcome"},
        "schedule": [{"flow": "fft", "after": "28d", "relative_to": "participant.discharge_date"}],
    })


def _person(**fields: Any) -> Person:
    return Person("p-1", "s", datetime(2026, 11, 25, 10, 0, tzinfo=UTC), "patient", fields)


def test_a_year_less_date_is_planned_from_the_enrolment_year() -> None:
    plan = plan_person(_study(), _person(discharge_date="24 November."), GIVEN)
    assert [f"{t.due_at.astimezone(LONDON):%Y-%m-%d}" for t in plan.tasks] == ["2026-12-22"]
    assert not plan.flags


def test_a_date_that_cannot_be_read_raises_a_flag_instead_of_nothing() -> None:
    plan = plan_person(_study(), _person(discharge_date="sometime soon"), GIVEN)
    assert not plan.tasks and len(plan.flags) == 1
    assert "not a date" in plan.flags[0].payload["flag"] and "sometime soon" in plan.flags[0].payload["flag"]


def test_the_flag_withholds_what_an_identifying_field_holds() -> None:
    """A birth date is personal: the coordinator is told it could not be read, not what it says."""
    study = Study.model_validate({
        "study": "s", "title": "S", "timezone": "Europe/London", "groups": ["patient"],
        "join": {"start_flow": "welcome"},
        "schedule": [{"flow": "birthday", "after": "0d", "relative_to": "participant.birth_date"}],
    })
    plan = plan_person(study, _person(birth_date="13/13/1985 at St Mary's"), GIVEN)
    message = plan.flags[0].payload["flag"]
    assert "birth_date is not a date" in message and "withheld" in message
    assert "1985" not in message and "Mary" not in message


def test_the_flag_reaches_the_coordinator_once(database: Database) -> None:
    from storage import repository

    with database.transaction() as connection:
        pid = repository.create_participant(connection, "sms", database.sealer.seal("+447700900123"), "h-dates", GIVEN).participant_id
    person = Person(pid, "s", GIVEN, "patient", {"discharge_date": "sometime soon"})
    rows = [task_row(task) for task in plan_person(_study(), person, GIVEN).flags]
    with database.transaction() as connection:
        assert due_tasks.add(connection, rows, GIVEN) == 1
        assert due_tasks.add(connection, rows, GIVEN) == 0, "planning again does not flag again"
        flags = list(connection.execute(select(FLAGS.c.kind, FLAGS.c.message, FLAGS.c.participant_id)))
    assert [(f.kind, f.participant_id) for f in flags] == [("planning", pid)]
    assert "sometime soon" in flags[0].message
