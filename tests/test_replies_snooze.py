"""A snooze fires only if, under the participant's lock, the session is still snoozed at the
question it was made at, by this snooze: a reply or a new snooze sent at the moment it fires
wins. The checks cost a plain reply or a reminder nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest

from bot.scheduler import Scheduler
from bot.service import ConversationService, ReceiveResult
from flows.engine import Resume
from storage import due_tasks, repository
from tests.db_fixtures import FakeClock

Say = Callable[..., ReceiveResult]
ROLE = "Which best describes you?"
VISITS = "How many times have you been to A&E in the last year?"


def snooze_tasks(service: ConversationService, pid: str) -> list[due_tasks.TaskRow]:
    with service.database.transaction() as connection:
        return [t for t in due_tasks.listing(connection, None, pid, include_done=True) if t.kind == "snooze"]


def reminders(service: ConversationService, pid: str) -> list[str]:
    return [m.text.splitlines()[0] for m in service.outbox_for(pid) if m.kind == "reminder"]


class HeldLocks:
    """Which participants' locks each thread holds, and a signal when another thread asks for one."""

    def __init__(self, service: ConversationService, monkeypatch: pytest.MonkeyPatch) -> None:
        self.original = service._locks.hold
        self.asked = threading.Event()
        self.mine = threading.local()
        self.main = threading.current_thread()
        monkeypatch.setattr(service._locks, "hold", self.hold)

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        if threading.current_thread() is not self.main:
            self.asked.set()
        with self.original(key):
            held = getattr(self.mine, "keys", [])
            self.mine.keys = [*held, key]
            try:
                yield
            finally:
                self.mine.keys = held

    def holds(self, key: str) -> bool:
        return key in getattr(self.mine, "keys", [])


def snoozed_at_role(say: Say) -> str:
    pid = say("WAIT").participant_id
    say("YES")
    say("in 2 hours")
    assert pid is not None
    return pid


@pytest.mark.parametrize(("replies", "reason"), [
    (["1"], "the participant carried on before the snooze ended"),
    (["tomorrow"], "replaced by a later snooze"),
    (["1", "tomorrow"], "the session moved on since the snooze was made"),
])
def test_a_message_sent_as_the_snooze_fires_wins(
    service: ConversationService, say: Say, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, replies: list[str], reason: str,
) -> None:
    pid = snoozed_at_role(say)
    locks = HeldLocks(service, monkeypatch)
    clock.now += timedelta(hours=2, seconds=30)
    with locks.original(pid):  # the participant's message is being handled when the snooze fires
        firing = threading.Thread(target=Scheduler(service.database, service, service.studies, clock).tick)
        firing.start()
        assert locks.asked.wait(20), "the snooze never asked for the participant's lock"
        for reply in replies:
            say(reply)
    firing.join(20)
    assert not firing.is_alive()
    assert reminders(service, pid) == [], "the question was asked again as if still snoozed"
    first = snooze_tasks(service, pid)[0]
    assert first.done and first.error == f"dropped: {reason}"


def test_an_unhindered_snooze_still_asks_again(service: ConversationService, say: Say, clock: FakeClock) -> None:
    pid = snoozed_at_role(say)
    clock.now += timedelta(hours=2, seconds=30)
    Scheduler(service.database, service, service.studies, clock).tick()
    assert reminders(service, pid) == [ROLE]
    assert service.session_status(pid) == "waiting"
    assert snooze_tasks(service, pid)[0].error is None


def test_the_snooze_checks_run_under_the_lock_and_only_for_snoozes(
    service: ConversationService, say: Say, clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
) -> None:
    locks = HeldLocks(service, monkeypatch)
    asked: list[bool] = []
    checked = due_tasks.snoozed_again

    def snoozed_again(connection: Any, task: due_tasks.ClaimedTask) -> bool:
        asked.append(locks.holds(str(task.participant_id)))
        return checked(connection, task)

    monkeypatch.setattr(due_tasks, "snoozed_again", snoozed_again)
    pid = say("WAIT").participant_id
    say("YES")
    say("1")  # a plain reply
    assert pid is not None
    with service.database.transaction() as connection:
        session = repository.latest_session(connection, pid)
    assert session is not None
    service.resume(session.id, Resume("reminder"))
    assert asked == [], "a reply or a reminder read the snoozes"
    say("in 2 hours")
    clock.now += timedelta(hours=2, seconds=30)
    Scheduler(service.database, service, service.studies, clock).tick()
    assert asked == [True], "the snooze was checked once, holding the participant's lock"
    assert reminders(service, pid) == [VISITS, VISITS], "the reminder, then the snooze"
