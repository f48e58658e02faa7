"""A repeating schedule that starts later: ``after: 21d`` with ``every: 7d`` sends on days 21,
28, 35, ... after what it counts from. It used to be refused ("a schedule needs exactly one of
'at', 'after' or 'every'") with no word of how a weekly series starting in week 3 is written."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.planning import Person, after_sending, describe_schedule, plan_person
from flows.loader import Problem
from flows.model import Schedule
from flows.validate import validate_paths
from storage.database import Database
from tests.test_schedule_replan import JOINED, _clinic
from tests.test_schedule_times_s19 import NOW, STUDY, _sends, _study


def test_the_first_send_is_after_and_the_rest_every_apart() -> None:
    sends = _sends(_study(after="21d", every="7d", times=4))
    assert [task.payload["occurrence"] for task in sends] == [1, 2, 3, 4]
    assert [task.due_at.date() for task in sends] == [date(2026, 3, 23), date(2026, 3, 30), date(2026, 4, 6), date(2026, 4, 13)]
    assert [t.due_at.date() for t in _sends(_study(every="7d", times=2))] == [date(2026, 3, 9), date(2026, 3, 16)], "every alone as before"


def test_until_still_counts_from_enrolment() -> None:
    sends = _sends(_study(after="21d", every="7d", until="6w"))
    assert [task.due_at.date() for task in sends] == [date(2026, 3, 23), date(2026, 3, 30), date(2026, 4, 6), date(2026, 4, 13)]


def test_it_counts_from_the_date_field_too() -> None:
    study = _study(after="2d", every="7d", times=2, relative_to="participant.discharge_date")
    who = Person("p-1", "s", NOW, fields={"discharge_date": "2026-04-01"})
    [first] = plan_person(study, who, NOW).tasks
    [second] = [t for t in after_sending(study, first, who, first.due_at, None) if t.kind == "follow_up"]
    assert (first.due_at.date(), second.due_at.date()) == (date(2026, 4, 3), date(2026, 4, 10))


def test_sends_missed_past_their_grace_are_skipped_and_counted() -> None:
    study = _study(after="21d", every="7d", times=4)
    late = NOW + timedelta(days=30)  # days 21 and 28 missed (past their grace of a day): day 35 is the third
    [task] = plan_person(study, Person("p-1", "s", NOW), late).tasks
    assert (task.payload["occurrence"], task.due_at.date()) == (3, date(2026, 4, 6))
    assert plan_person(study, Person("p-1", "s", NOW), NOW + timedelta(days=20)).tasks[0].payload["occurrence"] == 1


def test_the_schedule_is_described_with_its_start() -> None:
    said = describe_schedule(0, Schedule(flow="pulse", after="21d", every="7d", times=6))
    assert said == "schedule 1 (pulse, every 7 days, the first 21 days after enrolment, 6 times)"
    assert describe_schedule(0, Schedule(flow="pulse", after="21d")) == "schedule 1 (pulse, 21 days after enrolment)"


@pytest.mark.parametrize(("entry", "said"), [
    ({"at": "2026-04-01T09:00", "every": "7d"}, "'at' sends the flow once at a date, so it cannot go with 'every'"),
    ({"at": "2026-04-01T09:00", "after": "7d"}, "'at' sends the flow once at a date, so it cannot go with 'after'"),
    ({"after": "21d", "every": "7d", "until": "20d"}, "until: 20 days ends before the first send, 21 days after enrolment"),
    ({}, "a schedule needs one of 'at'"),
])
def test_what_cannot_work_is_still_an_error(entry: dict[str, Any], said: str) -> None:
    with pytest.raises(ValidationError, match=said):
        Schedule(flow="pulse", **entry)


def _validate(tmp_path: Path, rest: str) -> list[Problem]:
    folder = tmp_path / "pulse"
    folder.mkdir(exist_ok=True)
    (folder / "study.yaml").write_text(STUDY.format(end=rest), encoding="utf-8")
    (folder / "welcome.yaml").write_text("flow: welcome\nsteps:\n  - id: hi\n    type: message\n    text: Hello.\n", encoding="utf-8")
    (folder / "pulse.yaml").write_text("flow: pulse\nsteps:\n  - id: ok\n    type: yesno\n    text: All well?\n", encoding="utf-8")
    return validate_paths([folder], now=datetime(2026, 5, 1, tzinfo=UTC))[0]


def test_validate_takes_it_and_warns_of_a_series_that_ends_after_its_first_send(tmp_path: Path) -> None:
    assert _validate(tmp_path, "    after: 21d\n    times: 6\n") == []
    [once] = _validate(tmp_path, "    after: 21d\n    until: 25d\n")
    assert once.severity == "warning" and once.message == (
        "the flow 'pulse' repeats every 7 days, but until: 25 days ends it after the first send, 21 days after enrolment: it is sent once")
    assert once.hint.startswith("to send it once, remove 'every:'")
    assert _validate(tmp_path, "    after: 21d\n    until: 28d\n") == [], "day 28 is the second send"


def test_validate_says_how_to_start_a_series_later_beside_an_at(tmp_path: Path) -> None:
    [problem] = _validate(tmp_path, "    at: 2026-06-01T09:00\n")
    assert problem.severity == "error" and "'at' sends the flow once at a date" in problem.message
    assert "'after: 21d' with 'every: 7d' (days 21, 28, 35, ...)" in problem.hint


def test_the_scheduler_sends_from_the_third_week(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path, "  - flow: check\n    after: 21d\n    every: 7d\n    times: 2\n")
    pid = clinic.join("+447700900611")
    clinic.tick_at(JOINED + timedelta(days=20, hours=1))
    assert clinic.sessions(pid, "check") == 0, "nothing in the first three weeks"
    for day in (21, 28, 35, 42):
        clinic.tick_at(JOINED + timedelta(days=day, hours=1))
    assert clinic.sessions(pid, "check") == 2
    assert [t.due_at.date() for t in clinic.follow_ups(pid, "check")] == [date(2026, 3, 23), date(2026, 3, 30)]
