"""A participant's contact hours against a schedule's window (bot/planning.placed), and what
``chorus schedule plan`` and ``explain`` say. A night-shift nurse who chose 19:00-07:00 was
messaged at 09:45 because the schedule's window (09:00-17:00) never meets their hours, and
nothing said so. Now their contact hours win over the window (the study's quiet hours still
hold), and plan and explain say what gave way. Also: ``explain`` no longer shows a finished
round's reminders as pending, and ``plan`` says when two flows fall due together."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from bot.commands.schedule import schedule as schedule_cli
from bot.planning import Person, placed
from bot.scheduler import Scheduler
from bot.service import ConversationService
from bot.studies import StudyRegistry
from channels.base import InboundMessage
from flows.loader import load_study
from flows.model import Schedule, Study
from storage import due_tasks
from storage.database import Database
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

ROOT = Path(__file__).resolve().parent.parent
LONDON = ZoneInfo("Europe/London")
STUDY = """study: wards
title: Ward staff wellbeing
languages: [en]
timezone: Europe/London
quiet_hours: "22:00-07:00"
join: {start_flow: join, keyword: WELL}
flows: [join.yaml, pulse.yaml, round1.yaml]
schedule:
  - flow: pulse
    after: 3d
    window: "09:00-17:00"
  - flow: round1
    after: 1d
    reminders: [2d]
"""
JOIN = """flow: join
steps:
  - id: shifts
    type: choice
    text: When do you work?
    options:
      - {value: "08:00-18:00", label: Day shifts}
      - {value: "19:00-07:00", label: Night shifts}
    save_to: participant.contact_hours
  - id: thanks
    type: end
    text: Thank you.
"""
PULSE = """flow: pulse
steps:
  - id: how
    type: scale
    text: How was this week?
    min: 1
    max: 5
"""
ROUND1 = """flow: round1
steps:
  - id: rate
    type: delphi
    delphi: wards
    round: 1
    items: [Breaks]
  - id: done
    type: end
    text: Thank you for round 1.
"""
JOINED = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)  # a Tuesday morning


def _folder(root: Path) -> Path:
    folder = root / "wards"
    folder.mkdir()
    for name, text in (("study.yaml", STUDY), ("join.yaml", JOIN), ("pulse.yaml", PULSE), ("round1.yaml", ROUND1)):
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _study(quiet: str = "22:00-07:00") -> Study:
    return Study.model_validate({"study": "s", "title": "S", "timezone": "Europe/London", "quiet_hours": quiet,
                                 "join": {"start_flow": "a"}, "flows": ["a.yaml"]})


def _local(moment: datetime) -> str:
    return f"{moment.astimezone(LONDON):%Y-%m-%d %H:%M}"


# ----------------------------------------------------------------------------- the rule


@pytest.mark.parametrize(("window", "contact", "quiet", "expected", "note"), [
    ("12:00-14:00", "08:00-18:00", "22:00-07:00", "2026-12-01 12:00", None),
    ("12:00-14:00", "19:00-07:00", "22:00-07:00", "2026-12-01 19:00",
     "contact hours 19:00-07:00 never meet the window 12:00-14:00: sent in the contact hours"),
    ("20:00-23:00", "21:00-07:00", "21:00-08:00", "2026-12-01 20:00",
     "contact hours 21:00-07:00 lie wholly in the quiet hours 21:00-08:00: sent in the window 20:00-23:00 instead"),
    (None, "23:00-05:00", "22:00-07:00", "2026-12-01 10:30",
     "contact hours 23:00-05:00 lie wholly in the quiet hours 22:00-07:00: sent outside the quiet hours instead"),
    ("21:00-23:00", "18:00-23:00", "21:00-08:00", "2026-12-01 18:00",
     "contact hours 18:00-23:00 meet the window 21:00-23:00 only in the quiet hours 21:00-08:00: sent in the contact hours"),
])
def test_contact_hours_win_over_a_window_they_never_meet_and_quiet_hours_always_hold(
    window: str | None, contact: str, quiet: str, expected: str, note: str | None,
) -> None:
    schedule = Schedule.model_validate({"flow": "a", "after": "3d", **({"window": window} if window else {})})
    person = Person("p-1", "s", JOINED, fields={"contact_hours": contact})
    moment, said = placed(JOINED, _study(quiet), schedule, person)
    assert (_local(moment), said) == (expected, note)


# ----------------------------------------------------------------------------- through the scheduler and the commands


class Wards:
    def __init__(self, database: Database, folder: Path) -> None:
        self.database, self.clock = database, FakeClock(JOINED)
        registry = StudyRegistry([load_study(folder)])
        self.service = ConversationService(database, registry, self.clock, address_key=TEST_ADDRESS_KEY)
        self.scheduler = Scheduler(database, self.service, registry, self.clock)
        self._ids = itertools.count(1)

    def say(self, text: str, address: str = "+447700900501") -> str:
        result = self.service.receive(InboundMessage("sms", address, f"in-{next(self._ids)}", text))
        assert result.participant_id is not None
        return result.participant_id

    def task(self, pid: str, kind: str, flow: str) -> due_tasks.TaskRow:
        with self.database.transaction() as connection:
            [found] = [t for t in due_tasks.listing(connection, None, pid, include_done=True) if t.kind == kind and t.flow_id == flow]
        return found


def test_a_night_nurse_gets_the_pulse_in_the_evening_and_explain_says_why(database: Database, tmp_path: Path) -> None:
    wards = Wards(database, _folder(tmp_path))
    nurse = wards.say("WELL")
    wards.say("Night shifts")
    wards.scheduler.tick()
    pulse = wards.task(nurse, "follow_up", "pulse")
    assert _local(pulse.due_at) == "2026-12-04 19:00", "three days after joining, in their hours, not at 10:30"
    explained = CliRunner().invoke(schedule_cli, ["explain", nurse, "--database", database.url])
    assert explained.exit_code == 0, explained.output
    assert "contact hours 19:00-07:00" in explained.output
    assert ("note: schedule 1 (pulse, 3 days after enrolment): contact hours 19:00-07:00 never meet the window 09:00-17:00:"
            " sent in the contact hours") in explained.output
    wards.clock.now = pulse.due_at
    wards.scheduler.tick()
    assert wards.task(nurse, "follow_up", "pulse").done and wards.task(nurse, "follow_up", "pulse").error is None


def test_explain_shows_a_finished_rounds_reminder_as_one_that_will_be_dropped(database: Database, tmp_path: Path) -> None:
    wards = Wards(database, _folder(tmp_path))
    pid = wards.say("WELL")
    wards.say("Day shifts")
    wards.scheduler.tick()
    wards.clock.now = wards.task(pid, "follow_up", "round1").due_at
    wards.scheduler.tick()
    runner = CliRunner()
    before = runner.invoke(schedule_cli, ["explain", pid, "--database", database.url])
    assert "reminder 1 for round1  [pending]" in before.output, before.output
    wards.say("7")
    after = runner.invoke(schedule_cli, ["explain", pid, "--database", database.url])
    assert after.exit_code == 0, after.output
    assert "reminder 1 for round1  [will be dropped: round1 finished]" in after.output
    listed = runner.invoke(schedule_cli, ["list", "--study", "wards", "--database", database.url])
    assert "reminder 1 for round1  [will be dropped: round1 finished]" in listed.output
    wards.clock.now = wards.task(pid, "reminder", "round1").due_at
    wards.scheduler.tick()
    assert wards.task(pid, "reminder", "round1").error == "dropped: finished before the reminder"


def test_plan_names_the_hours_that_gave_way_and_a_participant_whose_group_does_not_matter(tmp_path: Path) -> None:
    result = CliRunner().invoke(schedule_cli, ["plan", str(_folder(tmp_path)), "--enrolled", "2026-12-01 10:30",
                                               "--field", "contact_hours=19:00-07:00"])
    assert result.exit_code == 0, result.output
    assert "A participant (no schedule depends on the group) who joins Tue 2026-12-01 10:30 GMT:" in result.output
    assert "group (none)" not in result.output
    assert "note: schedule 1 (pulse, 3 days after enrolment): contact hours 19:00-07:00 never meet the window 09:00-17:00" in result.output
    assert "Fri 2026-12-04 19:00 GMT  send pulse" in result.output


def test_plan_says_when_two_flows_fall_due_together() -> None:
    result = CliRunner().invoke(schedule_cli, ["plan", str(ROOT / "flows" / "examples" / "evaluation"), "--group", "staff",
                                               "--enrolled", "2026-12-01 10:30", "--weeks", "3"])
    assert result.exit_code == 0, result.output
    assert "A participant in group staff who joins" in result.output
    assert ("note: sus, pulse fall due together at Tue 2026-12-15 10:30 GMT; they are sent one after the other, each once "
            "the one before is finished (or has gone 3 hours without a reply)") in result.output


def test_schedule_plan_help_says_what_the_default_group_is() -> None:
    result = CliRunner().invoke(schedule_cli, ["plan", "--help"])
    assert "otherwise one participant, whose group no schedule depends on" in " ".join(result.output.split())


def test_hours_that_are_met_leave_no_note(tmp_path: Path) -> None:
    result = CliRunner().invoke(schedule_cli, ["plan", str(_folder(tmp_path)), "--enrolled", "2026-12-01 10:30",
                                               "--field", "contact_hours=08:00-18:00"])
    assert result.exit_code == 0, result.output
    assert "contact hours" not in result.output and "Fri 2026-12-04 10:30 GMT  send pulse" in result.output


def test_a_reminder_follows_the_contact_hours_too() -> None:
    study = _study()
    schedule = Schedule.model_validate({"flow": "a", "after": "1d", "window": "09:00-17:00", "reminders": ["1d"]})
    person = Person("p-1", "s", JOINED, fields={"contact_hours": "19:00-07:00"})
    assert _local(placed(JOINED + timedelta(days=1), study, schedule, person)[0]) == "2026-12-02 19:00"
    assert placed(JOINED, study, schedule, Person("p-2", "s", JOINED))[1] is None
