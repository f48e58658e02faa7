"""Publishing a changed schedule plans the participants already enrolled again (bot/studies.py):
a follow-up not sent yet moves to its new time, one already sent is never sent again, one
whose schedule was removed (or that now closes first) is dropped, a schedule new to them is
planned, and nobody who opted out is sent anything. Publishing used to leave everyone
enrolled on their first plan, and say nothing."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from bot.api import publishing
from bot.scheduler import Scheduler
from bot.service import ConversationService
from bot.studies import Replanned, StudyRegistry
from channels.base import InboundMessage
from flows.loader import load_study
from storage import due_tasks
from storage.database import Database
from storage.tables import AUDIT_EVENTS, DUE_TASKS, SESSIONS
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

STUDY = """study: clinic
title: The clinic
languages: [en]
timezone: Europe/London
join:
  start_flow: welcome
  keyword: CLINIC
flows: [welcome.yaml, check.yaml, extra.yaml]
schedule:
{schedule}"""
FLOWS = {
    "welcome": "flow: welcome\nsteps:\n  - id: hello\n    type: message\n    text: Welcome.\n",
    "check": "flow: check\nsteps:\n  - id: well\n    type: yesno\n    text: All well?\n  - id: bye\n    type: end\n    text: Thanks.\n",
    "extra": "flow: extra\nsteps:\n  - id: more\n    type: yesno\n    text: One more thing?\n  - id: bye\n    type: end\n    text: Thanks.\n",
}
CHECK_14D = "  - flow: check\n    after: 14d\n"
JOINED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class Clinic:
    def __init__(self, database: Database, folder: Path) -> None:
        self.database, self.folder, self.clock = database, folder, FakeClock(JOINED)
        self.registry = StudyRegistry([load_study(folder)])
        self.service = ConversationService(database, self.registry, self.clock, address_key=TEST_ADDRESS_KEY)
        self.scheduler = Scheduler(database, self.service, self.registry, self.clock)
        self._ids = itertools.count(1)

    def join(self, address: str) -> str:
        result = self.service.receive(InboundMessage("sms", address, f"in-{next(self._ids)}", "CLINIC"))
        assert result.participant_id is not None
        return result.participant_id

    def say(self, text: str, address: str) -> None:
        self.service.receive(InboundMessage("sms", address, f"in-{next(self._ids)}", text))

    def tick_at(self, moment: datetime) -> None:
        self.clock.now = max(self.clock.now, moment)
        self.scheduler.tick()

    def publish(self, schedule: str) -> Replanned | None:
        (self.folder / "study.yaml").write_text(STUDY.format(schedule=schedule), encoding="utf-8")
        publishing.publish_from_disk(self.registry, self.database, "clinic", "coordinator", self.clock.now)
        return self.registry.replanned.get("clinic")

    def follow_ups(self, pid: str, flow: str) -> list[due_tasks.TaskRow]:
        with self.database.transaction() as connection:
            return [t for t in due_tasks.listing(connection, None, pid, include_done=True) if t.kind == "follow_up" and t.flow_id == flow]

    def sessions(self, pid: str, flow: str) -> int:
        with self.database.transaction() as connection:
            query = select(func.count()).select_from(SESSIONS).where(SESSIONS.c.participant_id == pid, SESSIONS.c.flow_id == flow)
            return int(connection.execute(query).scalar_one())


def _clinic(database: Database, tmp_path: Path, schedule: str = CHECK_14D) -> Clinic:
    folder = tmp_path / "clinic"
    folder.mkdir()
    (folder / "study.yaml").write_text(STUDY.format(schedule=schedule), encoding="utf-8")
    for name, text in FLOWS.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return Clinic(database, folder)


def test_a_follow_up_not_sent_yet_moves_to_the_new_time_and_the_publication_says_so(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path)
    first, second = clinic.join("+447700900301"), clinic.join("+447700900302")
    clinic.tick_at(JOINED + timedelta(minutes=1))
    assert [t.due_at.date().isoformat() for t in clinic.follow_ups(first, "check")] == ["2026-03-16"]
    report = clinic.publish("  - flow: check\n    after: 21d\n")
    assert report is not None and (report.retimed, report.added, report.dropped, report.warnings) == (2, 0, 0, [])
    for pid in (first, second):
        [task] = clinic.follow_ups(pid, "check")
        assert task.due_at.date().isoformat() == "2026-03-23" and not task.done
    with database.transaction() as connection:
        detail = connection.execute(select(AUDIT_EVENTS.c.detail).where(AUDIT_EVENTS.c.action == "study_published")).scalar_one()
    assert detail["schedule"]["retimed"] == 2
    clinic.tick_at(datetime(2026, 3, 16, 12, 0, tzinfo=UTC))
    assert clinic.sessions(first, "check") == 0, "not on the old day"
    clinic.tick_at(datetime(2026, 3, 23, 10, 1, tzinfo=UTC))
    assert clinic.sessions(first, "check") == clinic.sessions(second, "check") == 1


def test_a_new_time_already_past_is_now_not_never(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path, "  - flow: check\n    after: 28d\n")
    pid = clinic.join("+447700900303")
    clinic.tick_at(JOINED + timedelta(minutes=1))
    clinic.clock.now = JOINED + timedelta(days=20)
    report = clinic.publish("  - flow: check\n    after: 14d\n")
    assert report is not None and report.retimed == 1
    [task] = clinic.follow_ups(pid, "check")
    assert clinic.clock.now - timedelta(seconds=5) <= task.due_at <= clinic.clock.now + timedelta(seconds=5)
    clinic.tick_at(clinic.clock.now + timedelta(minutes=1))
    assert clinic.sessions(pid, "check") == 1


def test_what_was_sent_is_never_sent_again_when_schedules_move_about(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path)
    pid = clinic.join("+447700900304")
    clinic.tick_at(JOINED + timedelta(minutes=1))
    clinic.tick_at(JOINED + timedelta(days=14, minutes=1))
    assert clinic.sessions(pid, "check") == 1
    report = clinic.publish("  - flow: extra\n    at: 2026-04-01T09:00\n  - flow: check\n    after: 10d\n")  # check moves to 2nd
    assert report is not None and (report.retimed, report.added, report.dropped) == (0, 1, 0)
    [check] = clinic.follow_ups(pid, "check")
    assert check.payload["key"] == "s1:check:1" and check.payload["schedule"] == 1, "the sent follow-up follows its schedule"
    clinic.tick_at(datetime(2026, 4, 1, 9, 1, tzinfo=UTC))
    clinic.tick_at(datetime(2026, 4, 30, 9, 1, tzinfo=UTC))
    assert (clinic.sessions(pid, "check"), clinic.sessions(pid, "extra")) == (1, 1)


def test_nothing_is_planned_for_someone_who_opted_out(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path)
    stayed, left = clinic.join("+447700900305"), clinic.join("+447700900306")
    clinic.tick_at(JOINED + timedelta(minutes=1))
    clinic.say("STOP", "+447700900306")
    report = clinic.publish(CHECK_14D + "  - flow: extra\n    at: 2026-04-01T09:00\n")
    assert report is not None and report.added == 1
    assert len(clinic.follow_ups(stayed, "extra")) == 1 and clinic.follow_ups(left, "extra") == []
    clinic.tick_at(datetime(2026, 4, 1, 9, 1, tzinfo=UTC))
    assert clinic.sessions(left, "extra") == clinic.sessions(left, "check") == 0


def test_a_removed_or_closed_schedule_drops_what_was_not_sent(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path, CHECK_14D + "  - flow: extra\n    at: 2026-04-01T09:00\n")
    pid = clinic.join("+447700900307")
    clinic.tick_at(JOINED + timedelta(minutes=1))
    report = clinic.publish("  - flow: extra\n    at: 2026-03-01T09:00\n    closes: 2026-03-02T09:30\n")
    assert report is not None and report.dropped == 2
    [check], [extra] = clinic.follow_ups(pid, "check"), clinic.follow_ups(pid, "extra")
    assert check.done and check.error == "dropped: its schedule was removed from the study"
    assert extra.done and extra.error is not None and extra.error.startswith("dropped: the schedule changed: closed")


def test_a_new_closing_date_moves_a_sent_rounds_closing(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path, "  - flow: extra\n    at: 2026-03-03T09:00\n    closes: 2026-03-10T09:00\n")
    pid = clinic.join("+447700900308")
    clinic.tick_at(JOINED + timedelta(minutes=1))
    clinic.tick_at(datetime(2026, 3, 3, 9, 1, tzinfo=UTC))
    assert clinic.sessions(pid, "extra") == 1
    clinic.publish("  - flow: extra\n    at: 2026-03-03T09:00\n    closes: 2026-03-17T09:00\n")
    with database.transaction() as connection:
        [close] = [t for t in due_tasks.listing(connection, None, pid) if t.kind == "close"]
    assert close.due_at == datetime(2026, 3, 17, 9, 0, tzinfo=UTC) and close.payload["closes_at"].startswith("2026-03-17")
    clinic.tick_at(datetime(2026, 3, 12, 9, 0, tzinfo=UTC))
    assert clinic.service.session_status(pid) == "waiting", "still open: it now closes on the 17th"


def test_a_follow_up_being_sent_is_left_alone_and_said_so(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path)
    pid = clinic.join("+447700900309")
    clinic.tick_at(JOINED + timedelta(minutes=1))
    [task] = clinic.follow_ups(pid, "check")
    with database.transaction() as connection:
        connection.execute(update(DUE_TASKS).where(DUE_TASKS.c.id == task.id).values(claimed_at=clinic.clock.now, claimed_by="other"))
    report = clinic.publish("  - flow: check\n    after: 21d\n")
    assert report is not None and report.retimed == 0
    assert report.warnings == ["1 follow-up(s) were being sent as this was published and keep their old time"]
    assert clinic.follow_ups(pid, "check")[0].due_at == task.due_at


def test_publishing_the_same_schedule_again_changes_nothing(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path)
    clinic.join("+447700900310")
    clinic.tick_at(JOINED + timedelta(minutes=1))
    assert clinic.publish(CHECK_14D) is None
    assert publishing.publish_notes(clinic.registry, "clinic", clinic.clock.now) == {"schedule": None, "problems": []}


def test_the_publication_warns_of_a_date_already_past(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path)
    clinic.publish(CHECK_14D + "  - flow: extra\n    at: 2026-03-01T09:00\n")
    notes = publishing.publish_notes(clinic.registry, "clinic", clinic.clock.now)
    assert notes["schedule"] == {"retimed": 0, "added": 0, "dropped": 0, "warnings": []}
    [problem] = notes["problems"]
    assert problem["severity"] == "warning" and "sent at 2026-03-01 09:00, which has passed" in problem["message"]


def test_the_desk_publication_reports_what_it_re_planned(tmp_path: Path) -> None:
    from tests.desk_helpers import desk_app

    with desk_app(tmp_path) as desk:
        desk.client.headers["Authorization"] = f"Bearer {desk.token('coordinator', ('ae-waiting',))}"
        chorus = desk.app.state.chorus
        pid, _ = desk.join("ae-waiting")
        Scheduler(chorus.database, chorus.service, chorus.studies, lambda: desk.clock.now).plan_new()
        [vision] = [t for t in _tasks(chorus.database, pid) if t.flow_id == "vision"]
        study = tmp_path / "studies" / "ae-waiting" / "study.yaml"
        study.write_text(study.read_text(encoding="utf-8").replace("after: 7d", "after: 10d"), encoding="utf-8")
        published = desk.client.post("/api/v1/studies/ae-waiting/flows/publish", json={}).json()
        assert published["ok"] and published["problems"] == []
        assert published["schedule"] == {"retimed": 1, "added": 0, "dropped": 0, "warnings": []}
        [moved] = [t for t in _tasks(chorus.database, pid) if t.flow_id == "vision"]
        assert moved.due_at.date() == (vision.due_at + timedelta(days=3)).date()


def _tasks(database: Database, pid: str) -> list[due_tasks.TaskRow]:
    with database.transaction() as connection:
        return [t for t in due_tasks.listing(connection, None, pid, include_done=True) if t.kind == "follow_up"]
