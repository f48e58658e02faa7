"""A Delphi's rounds reach each participant in order, whatever mix of ``at:`` and ``after:``
times them (bot/firing.py, bot/planning.round_hold): someone who joins after round 2's
date used to be sent round 2 at once, on top of round 1. Now a round waits until the round
before was sent and the participant finished it (or stopped, or it closed), or had two days
for it; a round whose round before never reached them is not sent at all."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.planning import (
    ROUND_CHECK,
    RoundBefore,
    RoundSent,
    round_hold,
    round_to_come,
    round_wait,
    rounds_before,
)
from bot.scheduler import Scheduler
from bot.service import ConversationService
from bot.studies import StudyRegistry
from channels.base import InboundMessage
from flows.loader import load_study
from storage import due_tasks
from storage.database import Database
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

STUDY = """study: panel
title: The panel
languages: [en]
timezone: Europe/London
join:
  start_flow: {start}
  keyword: PANEL
flows: [welcome.yaml, round1.yaml, round2.yaml]
schedule:
{schedule}"""
WELCOME = "flow: welcome\nsteps:\n  - id: hello\n    type: message\n    text: Welcome to the panel.\n"
ROUND = """flow: round{n}
steps:
  - id: rate
    type: delphi
    delphi: care
    round: {n}
    items: [Shorter waits, Kinder staff]
  - id: done
    type: end
    text: Thank you for round {n}.
"""
JOINED = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


class ClockedStudy:
    """A study on one database, with a hand-moved clock and its scheduler (tests/test_held_round_order.py too)."""

    def __init__(self, database: Database, folder: Path) -> None:
        self.database, self.clock = database, FakeClock(JOINED)
        self.registry = StudyRegistry([load_study(folder)])
        self.service = ConversationService(database, self.registry, self.clock, address_key=TEST_ADDRESS_KEY)
        self.scheduler = Scheduler(database, self.service, self.registry, self.clock)
        self._ids = itertools.count(1)

    def receive(self, address: str, text: str) -> str:
        """An SMS from ``address``; the participant id it came from."""
        result = self.service.receive(InboundMessage("sms", address, f"in-{next(self._ids)}", text))
        assert result.participant_id is not None
        return result.participant_id

    def later(self, delta: timedelta) -> None:
        self.clock.now += delta
        self.scheduler.tick()

    def follow_up(self, pid: str, flow: str) -> due_tasks.TaskRow:
        with self.database.transaction() as connection:
            found = [t for t in due_tasks.listing(connection, None, pid, include_done=True) if t.kind == "follow_up" and t.flow_id == flow]
        assert len(found) == 1, found
        return found[0]


class Panel(ClockedStudy):
    """A Delphi study on one database, with a hand-moved clock."""

    def say(self, text: str, address: str = "+447700900101") -> str:
        return self.receive(address, text)

    def sent(self, pid: str) -> list[str]:
        greeting = "The panel: hello again.\n"  # a round weeks later opens with it (tests/test_follow_up_greeting.py)
        return [m.text.removeprefix(greeting).splitlines()[0] for m in self.service.outbox_for(pid)]



def _panel(database: Database, tmp_path: Path, schedule: str, start: str = "round1") -> Panel:
    folder = tmp_path / "panel"
    folder.mkdir()
    (folder / "study.yaml").write_text(STUDY.format(start=start, schedule=schedule), encoding="utf-8")
    (folder / "welcome.yaml").write_text(WELCOME, encoding="utf-8")
    for n in (1, 2):
        (folder / f"round{n}.yaml").write_text(ROUND.format(n=n), encoding="utf-8")
    return Panel(database, folder)


# ----------------------------------------------------------------------------- late joiners


def test_a_late_joiner_gets_round_two_only_once_round_one_is_finished(database: Database, tmp_path: Path) -> None:
    panel = _panel(database, tmp_path, "  - flow: round2\n    at: 2026-03-02T09:00\n")  # opened 8 days before they join
    pid = panel.say("PANEL")
    panel.later(timedelta(minutes=1))
    task = panel.follow_up(pid, "round2")
    assert not task.done and "waits for round 1 of Delphi 'care' to be finished" in task.payload["waits_for"]
    assert panel.sent(pid) == ["1/2: Shorter waits"], "round 1 is not cut short by round 2"
    panel.say("7")
    panel.say("8")
    assert panel.sent(pid)[-1] == "Thank you for round 1."
    panel.later(ROUND_CHECK)
    assert panel.follow_up(pid, "round2").done and panel.follow_up(pid, "round2").error is None
    assert panel.sent(pid) == ["1/2: Shorter waits", "2/2: Kinder staff", "Thank you for round 1.", "1/2: Shorter waits"]


def test_a_late_joiner_who_does_not_finish_round_one_gets_round_two_after_the_wait(database: Database, tmp_path: Path) -> None:
    panel = _panel(database, tmp_path, "  - flow: round2\n    at: 2026-03-02T09:00\n")
    pid = panel.say("PANEL")
    panel.later(timedelta(days=1))
    assert not panel.follow_up(pid, "round2").done
    panel.later(timedelta(days=1, minutes=1))
    assert panel.follow_up(pid, "round2").done and panel.follow_up(pid, "round2").error is None


def test_round_two_due_before_round_one_waits_for_round_one_to_be_sent(database: Database, tmp_path: Path) -> None:
    schedule = "  - flow: round1\n    at: 2026-03-20T09:00\n  - flow: round2\n    after: 2d\n"
    panel = _panel(database, tmp_path, schedule, start="welcome")
    pid = panel.say("PANEL")
    panel.later(timedelta(minutes=1))
    panel.later(timedelta(days=2))  # round 2's two days are up; round 1 opens on the 20th
    task = panel.follow_up(pid, "round2")
    assert not task.done and "to be sent" in task.payload["waits_for"]
    assert task.due_at >= panel.follow_up(pid, "round1").due_at
    panel.clock.now = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
    panel.later(timedelta(minutes=1))
    assert panel.sent(pid) == ["Welcome to the panel.", "1/2: Shorter waits"], "round 1 is sent on its date, round 2 not yet"
    assert not panel.follow_up(pid, "round2").done
    panel.say("7")
    panel.say("7")
    panel.later(ROUND_CHECK)
    assert panel.follow_up(pid, "round2").done and panel.follow_up(pid, "round2").error is None


def test_round_two_is_not_sent_to_someone_round_one_never_reached(database: Database, tmp_path: Path) -> None:
    schedule = ("  - flow: round1\n    at: 2026-03-01T09:00\n    closes: 2026-03-05T09:00\n"
                "  - flow: round2\n    at: 2026-03-06T09:00\n")
    panel = _panel(database, tmp_path, schedule, start="welcome")
    pid = panel.say("PANEL")  # joins on the 10th: round 1 closed on the 5th
    panel.later(timedelta(minutes=1))
    task = panel.follow_up(pid, "round2")
    assert task.done and task.error is not None and "round 1 of Delphi 'care' was never sent to them" in task.error
    assert panel.sent(pid) == ["Welcome to the panel."]


def test_someone_on_time_who_finished_round_one_gets_round_two_on_its_date(database: Database, tmp_path: Path) -> None:
    panel = _panel(database, tmp_path, "  - flow: round2\n    at: 2026-03-12T09:00\n")
    pid = panel.say("PANEL")
    panel.say("7")
    panel.say("7")
    panel.later(timedelta(minutes=1))
    assert not panel.follow_up(pid, "round2").done
    panel.clock.now = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
    panel.later(timedelta(seconds=1))
    assert panel.follow_up(pid, "round2").done and panel.follow_up(pid, "round2").error is None


def test_the_dry_run_says_a_round_is_held(tmp_path: Path) -> None:
    from bot.commands.schedule import schedule

    folder = tmp_path / "panel"
    folder.mkdir()
    (folder / "study.yaml").write_text(STUDY.format(start="round1", schedule="  - flow: round2\n    at: 2026-03-02T09:00\n"))
    (folder / "welcome.yaml").write_text(WELCOME)
    for n in (1, 2):
        (folder / f"round{n}.yaml").write_text(ROUND.format(n=n))
    result = CliRunner().invoke(schedule, ["plan", str(folder), "--enrolled", "2026-03-10 10:00"])
    assert result.exit_code == 0, result.output
    assert "round2 falls due no later than round 1 of Delphi 'care'; it is held until that round was sent" in result.output


# ----------------------------------------------------------------------------- the rule, on its own


NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
BEFORE = RoundBefore("care", 2, 1, ("round1",))


@pytest.mark.parametrize(("sent", "pending", "expected"), [
    (RoundSent("round1", NOW - timedelta(hours=1), live=False), None, None),
    (RoundSent("round1", NOW - timedelta(days=3), live=True), None, None),
    (RoundSent("round1", NOW - timedelta(hours=1), live=True), None, NOW + ROUND_CHECK),
    (RoundSent("round1", NOW - timedelta(days=2) + timedelta(minutes=10), live=True), None, NOW + timedelta(minutes=10)),
    (None, NOW + timedelta(days=5), NOW + timedelta(days=5)),
    (None, NOW - timedelta(hours=2), NOW + ROUND_CHECK),
])
def test_a_round_is_held_until_the_one_before_is_over(sent: RoundSent | None, pending: datetime | None,
                                                      expected: datetime | None) -> None:
    assert round_hold(BEFORE, sent, pending, timedelta(days=2), NOW) == expected


def test_a_round_whose_round_before_is_not_to_come_is_never_sent() -> None:
    said = round_hold(BEFORE, None, None, timedelta(days=2), NOW)
    assert said == "round 1 of Delphi 'care' was never sent to them, so round 2 is not sent either"


def test_the_wait_leaves_room_for_the_round_befores_reminders() -> None:
    from flows.model import Study

    study = Study.model_validate({"study": "s", "title": "S", "join": {"start_flow": "round1"},
                                  "schedule": [{"flow": "round1", "after": "1d", "reminders": ["1d", "3d"]}]})
    assert round_wait(study, ["round1"]) == timedelta(days=4)
    assert round_wait(study, ["welcome"]) == timedelta(days=2)


def test_rounds_may_skip_numbers_and_a_flow_with_round_one_waits_for_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "panel"
    folder.mkdir()
    (folder / "study.yaml").write_text(STUDY.format(start="round1", schedule="  - flow: round2\n    after: 7d\n"))
    (folder / "welcome.yaml").write_text(WELCOME)
    (folder / "round1.yaml").write_text(ROUND.format(n=1))
    (folder / "round2.yaml").write_text(ROUND.format(n=2).replace("round: 2", "round: 3"))
    flows = {name: found.flow for name, found in load_study(folder).flows.items()}
    assert rounds_before(flows, "round2") == [RoundBefore("care", 3, 1, ("round1",))]
    assert rounds_before(flows, "round1") == [] and rounds_before(flows, "welcome") == []


def test_the_round_before_is_still_to_come_only_if_something_will_send_it() -> None:
    waiting_for = {"waiting": ["schedule 1 (round1, 7 days after enrolment): waiting for the participant's group"]}
    other = {"waiting": ["schedule 3 (fft, 28 days after participant.discharge_date): waiting for participant.discharge_date"]}
    soon, later = NOW + timedelta(hours=1), NOW + timedelta(days=3)
    assert round_to_come(BEFORE, [("follow_up", "round1", later, {}), ("plan", "", soon, other)]) == later
    assert round_to_come(BEFORE, [("plan", "", soon, waiting_for)]) == soon
    assert round_to_come(BEFORE, [("plan", "", soon, other), ("follow_up", "fft", soon, {})]) is None, \
        "a plan waiting for another date does not hold the round for ever"
