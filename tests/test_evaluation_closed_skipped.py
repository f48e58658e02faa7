"""Follow-ups that never went, counted beside the response rate: one whose fixed close came
before it was due for someone who joined late (planning used to skip it without a trace), and
the weeks of a weekly series skipped while someone had opted out (START goes on from now; the
weeks between used to be counted nowhere, so the rate over time counted only weeks sent)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.evaluation import followups
from flows.validate import validate_paths
from storage.database import Database
from tests.test_schedule_replan import FLOWS, JOINED, STUDY, _clinic


def _everyone(database: Database) -> dict[str, object]:
    [row] = [row for row in followups(database, "clinic").responses if row["group"] == "all"]
    return row


def test_a_follow_up_closed_before_it_was_due_is_recorded_and_counted(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path, "  - flow: check\n    after: 14d\n    closes: 2026-03-20T17:00\n")
    early, late = "+447700900801", "+447700900802"
    first = clinic.join(early)
    clinic.clock.now = JOINED + timedelta(days=8)  # due 24 March, after the close on the 20th
    second = clinic.join(late)
    clinic.tick_at(clinic.clock.now + timedelta(minutes=1))
    [record] = clinic.follow_ups(second, "check")
    assert record.done and (record.error or "").startswith("dropped: closed before due: closed 2026-03-20 17:00 UTC")
    clinic.tick_at(JOINED + timedelta(days=14, minutes=1))
    clinic.say("YES", early)
    assert [t.error for t in clinic.follow_ups(first, "check")] == [None]
    everyone = _everyone(database)
    assert (everyone["asked"], everyone["answered"], everyone["response_rate"]) == (1, 1, 100.0)
    assert (everyone["not_sent_closed_before_due"], everyone["not_sent_closed"], everyone["to_come"]) == (1, 0, 0)


def test_an_until_date_before_the_first_send_counts_as_closed_before_due(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path, "  - flow: check\n    every: 7d\n    until: 2026-03-12\n")
    clinic.join("+447700900803")  # first send on 9 March
    clinic.clock.now = JOINED + timedelta(days=6)  # first send on 15 March: after the end
    clinic.join("+447700900804")
    clinic.tick_at(clinic.clock.now + timedelta(minutes=1))
    assert _everyone(database)["not_sent_closed_before_due"] == 1
    assert _everyone(database)["to_come"] == 1


def test_weeks_skipped_while_opted_out_are_counted_week_by_week(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path, "  - flow: check\n    every: 7d\n    times: 8\n")
    address = "+447700900805"
    pid = clinic.join(address)  # Monday 2 March: sends on Mondays from the 9th
    clinic.tick_at(JOINED + timedelta(days=7, minutes=1))
    clinic.say("YES", address)
    clinic.tick_at(JOINED + timedelta(days=8))
    clinic.say("STOP", address)
    clinic.tick_at(JOINED + timedelta(days=14, minutes=1))  # week 2 dropped: they had opted out
    clinic.tick_at(datetime(2026, 4, 2, 9, 0, tzinfo=UTC))
    clinic.say("START", address)  # goes on with week 5 (6 April); weeks 3 and 4 were skipped
    clinic.tick_at(datetime(2026, 4, 6, 10, 1, tzinfo=UTC))
    errors = {int(t.payload["occurrence"]): t.error for t in clinic.follow_ups(pid, "check")}
    assert errors[3] == errors[4] == "dropped: skipped: the participant had opted out" and errors[5] is None
    weeks = [(row["week"], row["asked"], row["answered"], row["skipped"])
             for row in followups(database, "clinic").weeks if row["group"] == "all" and row["week"] <= "2026-04-06"]
    assert weeks == [("2026-03-09", 1, 1, 0), ("2026-03-16", 0, 0, 1), ("2026-03-23", 0, 0, 1),
                     ("2026-03-30", 0, 0, 1), ("2026-04-06", 1, 0, 0)]
    everyone = _everyone(database)
    assert (everyone["asked"], everyone["not_sent_stopped"]) == (2, 3)


def _validate(tmp_path: Path, schedule: str, now: datetime) -> list[str]:
    folder = tmp_path / "clinic"
    folder.mkdir(exist_ok=True)
    (folder / "study.yaml").write_text(STUDY.format(schedule=schedule), encoding="utf-8")
    for name, text in FLOWS.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return [f"{p.line} {p.severity}: {p.message}" for p in validate_paths([folder], now=now)[0]]


def test_validate_names_the_last_day_to_join_before_a_fixed_close(tmp_path: Path) -> None:
    problems = _validate(tmp_path, "  - flow: check\n    after: 14d\n    closes: 2026-03-20T17:00\n  - flow: extra\n    after: 1d\n",
                         datetime(2026, 3, 1, tzinfo=UTC))
    assert problems == ["12 warning: the flow 'check' closes 2026-03-20 17:00, but its first send is 14 days after enrolment: "
                        "anyone who joins after 2026-03-06 17:00 will never be sent it (counted as 'not sent: closed "
                        "before due' in the evaluation)"]


def test_validate_warns_when_nobody_joining_now_reaches_an_until_date(tmp_path: Path) -> None:
    schedule = "  - flow: check\n    every: 7d\n    until: 2026-03-12\n  - flow: extra\n    relative_to: participant.left\n    after: 28d\n    closes: 2026-03-20T17:00\n"
    problems = _validate(tmp_path, schedule, datetime(2026, 3, 10, tzinfo=UTC))
    assert [p for p in problems if "nobody who joins from now on will be sent it" in p and "'check' repeats until 2026-03-12" in p]
    assert [p for p in problems if "nobody whose left is today or later will be sent it" in p], problems
    assert _validate(tmp_path, "  - flow: check\n    every: 7d\n    closes: 7d\n  - flow: extra\n    after: 1d\n",
                     datetime(2026, 3, 10, tzinfo=UTC)) == [], "a close counted from each send never comes first"
