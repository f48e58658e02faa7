"""A follow-up held for a conversation goes as soon as that conversation ends (bot/sprint_writes.py,
storage/batching.Deferred, storage/due_tasks.release_held), on SQLite and PostgreSQL. A Delphi
round held for the round before, or a follow-up held because the participant was in the middle
of a conversation, used to wait for its next look (minutes away, or the half-hour safety net):
someone who finished round 1 waited for round 2 with nothing to do. Now the end of their
conversation brings the look forward, in the transaction that ends it, and the scheduler's next
tick weighs every hold again: the round before, the order, quiet hours, a conversation still going."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.planning_holds import CONVERSATION_CHECK
from bot.scheduler import DEFAULT_INTERVAL
from channels.base import InboundMessage
from storage import due_tasks
from storage.database import Database
from storage.driver import Driver
from storage.tables import SESSIONS
from tests.test_schedule_rounds import ROUND, ClockedStudy

TICK = timedelta(seconds=DEFAULT_INTERVAL)
"""One scheduler tick."""
STUDY = """study: {name}
title: Clinic
languages: [en]
timezone: Europe/London
quiet_hours: "21:00-08:00"
join: {{start_flow: {start}, keyword: {keyword}}}
flows: [{flows}]
schedule:
  - flow: {follow_up}
    after: 1m
"""
WELCOME = """flow: welcome
steps:
  - id: visit
    type: yesno
    text: Did you visit the clinic this week?
  - id: pick
    type: choice
    text: Which clinic?
    options: [North, South]
  - id: done
    type: end
    text: Thank you.
"""
CHECKIN = """flow: checkin
steps:
  - id: how
    type: yesno
    text: Was your appointment on time?
  - id: done
    type: end
    text: Thanks.
"""


class Clinic(ClockedStudy):
    """A study on one database, with a hand-moved clock and its scheduler."""

    def say(self, address: str, *texts: str) -> str:
        pid = ""
        for text in texts:
            pid = self.receive(address, text)
        return pid

    def flows(self, pid: str) -> list[str]:
        """The flows the participant's conversations were in, in the order they started."""
        s = SESSIONS.c
        with self.database.transaction() as connection:
            return [str(flow) for flow in connection.execute(select(s.flow_id).where(s.participant_id == pid).order_by(s.id)).scalars()]


def _panel(database: Database, tmp_path: Path) -> Clinic:
    folder = tmp_path / "panel"
    folder.mkdir()
    (folder / "study.yaml").write_text(STUDY.format(name="panel", start="round1", keyword="PANEL", flows="round1.yaml, round2.yaml",
                                                    follow_up="round2"), encoding="utf-8")
    for n in (1, 2):
        (folder / f"round{n}.yaml").write_text(ROUND.format(n=n), encoding="utf-8")
    return Clinic(database, folder)


def _clinic(database: Database, tmp_path: Path) -> Clinic:
    folder = tmp_path / "clinic"
    folder.mkdir()
    (folder / "study.yaml").write_text(STUDY.format(name="clinic", start="welcome", keyword="CLINIC", flows="welcome.yaml, checkin.yaml",
                                                    follow_up="checkin"), encoding="utf-8")
    (folder / "welcome.yaml").write_text(WELCOME, encoding="utf-8")
    (folder / "checkin.yaml").write_text(CHECKIN, encoding="utf-8")
    return Clinic(database, folder)


def _held(study: Clinic, pid: str, flow: str) -> due_tasks.TaskRow:
    task = study.follow_up(pid, flow)
    assert not task.done and "waits_for" in task.payload, "held"
    return task


def test_finishing_round_one_sends_round_two_on_the_next_tick(database: Database, tmp_path: Path) -> None:
    panel = _panel(database, tmp_path)
    pid = panel.say("+447700900201", "PANEL")
    panel.later(timedelta(minutes=2))  # round 2 fell due a minute after joining: held for round 1
    held = _held(panel, pid, "round2")
    assert "waits for round 1 of Delphi 'care' to be finished" in held.payload["waits_for"]
    assert held.due_at > panel.clock.now + TICK, "its next look is minutes away"

    panel.say("+447700900201", "7", "8")  # round 1 ends
    assert panel.follow_up(pid, "round2").due_at <= panel.clock.now, "the end brought its look forward"
    panel.later(TICK)
    assert panel.flows(pid) == ["round1", "round2"], "round 2 on the scheduler's next tick"
    assert panel.follow_up(pid, "round2").done


def test_a_follow_up_held_behind_a_conversation_goes_right_after_it_ends(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path)
    address = "+447700900202"
    pid = clinic.say(address, "CLINIC")
    clinic.later(timedelta(minutes=2))
    held = _held(clinic, pid, "checkin")
    assert held.payload["waits_for"].startswith("waits for the conversation in welcome")

    clinic.say(address, "yes")  # an answer that does not end it changes nothing
    assert clinic.follow_up(pid, "checkin").due_at == held.due_at
    clinic.later(TICK)
    assert clinic.flows(pid) == ["welcome"]

    clinic.say(address, "North")  # the end
    clinic.later(TICK)
    assert clinic.flows(pid) == ["welcome", "checkin"]


def test_a_conversation_ending_in_quiet_hours_releases_its_follow_up_to_the_morning(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path)
    address = "+447700900203"
    clinic.clock.now = datetime(2026, 3, 10, 20, 50, tzinfo=UTC)  # (London is on UTC in March before the 29th)
    pid = clinic.say(address, "CLINIC")
    clinic.later(timedelta(minutes=2))
    _held(clinic, pid, "checkin")
    clinic.clock.now = datetime(2026, 3, 10, 21, 1, tzinfo=UTC)  # no look since: it was due at 20:57
    clinic.say(address, "yes", "South")
    clinic.later(TICK)
    task = clinic.follow_up(pid, "checkin")
    assert clinic.flows(pid) == ["welcome"], "nothing is sent in quiet hours"
    assert not task.done and task.due_at == datetime(2026, 3, 11, 8, 0, tzinfo=UTC)


def test_stop_releases_a_held_follow_up_to_be_dropped(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path)
    pid = clinic.say("+447700900204", "CLINIC")
    clinic.later(timedelta(minutes=2))
    _held(clinic, pid, "checkin")
    clinic.say("+447700900204", "STOP")
    clinic.later(TICK)
    task = clinic.follow_up(pid, "checkin")
    assert task.done and task.error is not None and "opted out" in task.error
    assert clinic.flows(pid) == ["welcome"]


def test_a_round_that_closes_releases_what_waited_for_it(database: Database, tmp_path: Path) -> None:
    panel = _panel(database, tmp_path)
    pid = panel.say("+447700900205", "PANEL")
    panel.later(timedelta(minutes=2))
    held = _held(panel, pid, "round2")
    with database.transaction() as connection:
        session_id = due_tasks.latest_session(connection, pid, "panel", "round1")
        assert session_id is not None and due_tasks.close_session(connection, session_id, panel.clock.now)
    assert panel.follow_up(pid, "round2").due_at < held.due_at
    panel.later(TICK)
    assert panel.flows(pid) == ["round1", "round2"]


def _statements(monkeypatch: pytest.MonkeyPatch, table: str) -> list[str]:
    """Every statement that changes ``table`` from now on."""
    seen: list[str] = []
    execute = Driver.execute

    def counted(self: Driver, sql: str, params: Any = ()) -> Any:
        if sql.startswith(f"UPDATE {table} "):
            seen.append(sql)
        return execute(self, sql, params)

    monkeypatch.setattr(Driver, "execute", counted)
    return seen


def test_an_inbox_batch_releases_only_those_whose_conversation_ended(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The inbox worker's batch (held writes, storage/batching.Deferred): the release goes with the
    batch's other writes, for those whose conversation ended; a batch in which none ended writes
    nothing more."""
    clinic = _clinic(database, tmp_path)
    ending, answering, joined = "+447700900206", "+447700900207", "+447700900209"
    pids = {"ending": clinic.say(ending, "CLINIC", "yes"), "answering": clinic.say(answering, "CLINIC"),
            "joined": clinic.say(joined, "CLINIC")}
    clinic.later(timedelta(minutes=2))
    before = {who: _held(clinic, pid, "checkin").due_at for who, pid in pids.items()}

    def stored(address: str, text: str, sid: str) -> tuple[int, str]:
        result = clinic.service.accept(InboundMessage("sms", address, sid, text))
        assert result.inbound_id is not None and result.participant_id is not None
        return result.inbound_id, result.participant_id

    updates = _statements(monkeypatch, "due_tasks")
    results = clinic.service.process_batch([stored(answering, "yes", "b-1"), stored(joined, "yes", "b-2")])
    assert [r.status for r in results] == ["processed", "processed"]
    assert updates == [], "no conversation ended: nothing more is written"

    results = clinic.service.process_batch([stored(ending, "North", "b-3"), stored(answering, "South", "b-4")])
    assert [r.status for r in results] == ["processed", "processed"]
    assert len(updates) == 1, "one statement for the batch, with its other writes"
    monkeypatch.undo()
    after = {who: clinic.follow_up(pid, "checkin").due_at for who, pid in pids.items()}
    assert after["ending"] < before["ending"] and after["answering"] < before["answering"]
    assert after["joined"] == before["joined"], "their conversation goes on"
    clinic.later(TICK)
    assert [clinic.flows(pid) for pid in pids.values()] == [["welcome", "checkin"], ["welcome", "checkin"], ["welcome"]]


def test_a_conversation_that_goes_on_leaves_the_look_where_it_was(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic = _clinic(database, tmp_path)
    address = "+447700900208"
    pid = clinic.say(address, "CLINIC")
    clinic.later(timedelta(minutes=2))
    held = _held(clinic, pid, "checkin")
    updates = _statements(monkeypatch, "due_tasks")
    clinic.say(address, "yes")
    monkeypatch.undo()
    assert updates == [] and clinic.follow_up(pid, "checkin").due_at == held.due_at
    clinic.later(CONVERSATION_CHECK - TICK)
    assert clinic.flows(pid) == ["welcome"], "still held while they answer"


NOTICE_STUDY = """study: notices
title: Notices
languages: [en]
timezone: Europe/London
join: {start_flow: hello, keyword: NOTICE}
flows: [hello.yaml, notice.yaml, checkin.yaml]
schedule:
  - flow: notice
    after: 1m
  - flow: checkin
    after: 1m
"""


def test_a_follow_up_held_behind_one_that_ended_as_it_started_goes_on_the_next_tick(database: Database, tmp_path: Path) -> None:
    """Two due together: the first is only a message, so its conversation ends as it starts, and
    the second, held behind it, goes on the next tick."""
    folder = tmp_path / "notices"
    folder.mkdir()
    files = {"study.yaml": NOTICE_STUDY, "hello.yaml": "flow: hello\nsteps:\n  - id: hi\n    type: message\n    text: Welcome.\n",
             "notice.yaml": "flow: notice\nsteps:\n  - id: note\n    type: message\n    text: The clinic moves on Monday.\n",
             "checkin.yaml": CHECKIN}
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    study = Clinic(database, folder)
    pid = study.say("+447700900210", "NOTICE")
    study.later(timedelta(minutes=2))
    assert study.flows(pid) == ["hello", "notice"]
    assert study.follow_up(pid, "checkin").payload["waits_for"] == "waits for notice, sent at the same time, to end"
    study.later(TICK)
    assert study.flows(pid) == ["hello", "notice", "checkin"]
