"""START after STOP sends again what the pause dropped, from now on (bot/opt_in_resume.py).
A follow-up that fell due while someone had opted out was dropped, and a weekly schedule plans
its next send only when one is sent or missed: one STOP during a weekly pulse ended it for
good, however soon they came back. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.evaluation import followups
from storage.database import Database
from tests.test_schedule_replan import JOINED, _clinic

ADDRESS = "+447700900601"


def _sent(clinic, pid: str) -> list[int]:  # type: ignore[no-untyped-def]
    return [t.payload["occurrence"] for t in clinic.follow_ups(pid, "check") if t.done and not t.error]


def test_a_weekly_series_goes_on_after_stop_and_start(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path, "  - flow: check\n    every: 7d\n    times: 6\n")
    pid = clinic.join(ADDRESS)
    clinic.tick_at(JOINED + timedelta(days=7, hours=1))
    clinic.say("YES", ADDRESS)
    clinic.tick_at(JOINED + timedelta(days=10))
    clinic.say("STOP", ADDRESS)
    for week in (2, 3):
        clinic.tick_at(JOINED + timedelta(days=7 * week, hours=1))
    assert _sent(clinic, pid) == [1], "nothing goes while they have opted out"
    clinic.clock.now = JOINED + timedelta(days=23)
    clinic.say("START", ADDRESS)
    for week in range(4, 9):
        clinic.tick_at(JOINED + timedelta(days=7 * week, hours=1))
        clinic.say("YES", ADDRESS)
    assert _sent(clinic, pid) == [1, 4, 5, 6], "weeks 2 and 3 missed (and counted towards times: 6), then on to the end"
    [everyone] = [row for row in followups(database, "clinic").responses if row["group"] == "all"]
    assert (everyone["asked"], everyone["answered"]) == (4, 4)


def test_a_one_off_dropped_while_stopped_goes_after_start_within_its_grace(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path, "  - flow: check\n    after: 14d\n    grace: 3d\n")
    pid = clinic.join(ADDRESS)
    clinic.tick_at(JOINED + timedelta(days=10))
    clinic.say("STOP", ADDRESS)
    clinic.tick_at(JOINED + timedelta(days=14, hours=1))
    assert clinic.sessions(pid, "check") == 0
    clinic.clock.now = JOINED + timedelta(days=15)
    clinic.say("START", ADDRESS)
    clinic.tick_at(JOINED + timedelta(days=15, minutes=5))
    assert clinic.sessions(pid, "check") == 1, "a day late, inside its grace of 3 days"
    clinic.tick_at(JOINED + timedelta(days=40))
    assert clinic.sessions(pid, "check") == 1, "and once"


def test_start_past_the_grace_sends_nothing_old(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path, "  - flow: check\n    after: 14d\n    grace: 3d\n")
    pid = clinic.join(ADDRESS)
    clinic.tick_at(JOINED + timedelta(days=10))
    clinic.say("STOP", ADDRESS)
    clinic.tick_at(JOINED + timedelta(days=14, hours=1))
    clinic.clock.now = JOINED + timedelta(days=20)
    clinic.say("START", ADDRESS)
    clinic.tick_at(JOINED + timedelta(days=40))
    assert clinic.sessions(pid, "check") == 0, "six days late is past its grace: not sent"
