"""The response rate's denominator is the sends made; the follow-ups planned for someone but
not sent stand beside it, so a coordinator sees whom the rate leaves out: still to come,
dropped while they had opted out (STOP), missed past the schedule's grace, or closed first.
They used to be counted nowhere: a weekly pulse nobody got for three weeks looked the same as
one that was never planned. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.evaluation import followups
from flows.analysis.evaluation_paired import Asked, NotSent, response_rows
from storage.database import Database
from tests.test_schedule_replan import JOINED, _clinic


def test_sends_not_made_are_counted_beside_the_rate(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path, "  - flow: check\n    every: 7d\n    times: 4\n")
    answers, stops = "+447700900701", "+447700900702"
    clinic.join(answers)
    clinic.join(stops)
    clinic.tick_at(JOINED + timedelta(days=7, hours=1))
    clinic.say("YES", answers)
    clinic.tick_at(JOINED + timedelta(days=8))
    clinic.say("STOP", stops)  # week 1 sent to them and not answered: stopped
    clinic.tick_at(JOINED + timedelta(days=14, hours=1))
    clinic.say("YES", answers)
    [everyone] = [row for row in followups(database, "clinic").responses if row["group"] == "all"]
    assert (everyone["asked"], everyone["answered"], everyone["response_rate"]) == (3, 2, 100 * 2 / 3)
    assert everyone["not_answered_stopped"] == 1
    assert (everyone["to_come"], everyone["not_sent_stopped"], everyone["not_sent_missed"]) == (1, 1, 0), \
        "week 3 is still to come for the one who answers; week 2 went to nobody who had stopped"
    # Chorus is down for weeks 3 and 4: the one still in misses both (the series ends at 4)
    clinic.tick_at(JOINED + timedelta(days=30))
    [everyone] = [row for row in followups(database, "clinic").responses if row["group"] == "all"]
    assert (everyone["asked"], everyone["to_come"], everyone["not_sent_missed"]) == (3, 0, 1)


def test_a_follow_up_only_planned_has_a_row_with_no_rate() -> None:
    rows = response_rows([Asked("p-1", "patient", "wk2", "ended", True)], [NotSent("p-2", "patient", "wk6", "to_come")])
    later = next(row for row in rows if row["flow"] == "wk6" and row["group"] == "all")
    assert (later["asked"], later["response_rate"], later["to_come"]) == (0, None, 1)
