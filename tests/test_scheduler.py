"""The clock with a controlled time, on SQLite and PostgreSQL: follow-ups, reminders,
snoozes, closing rounds, grace, quiet hours across daylight saving, restarts and two
schedulers on one database. The kill test is in tests/test_scheduler_kill.py."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.scheduler import Scheduler
from bot.service import ConversationService
from bot.studies import StudyRegistry
from channels.base import InboundMessage
from flows.loader import load_study
from storage import due_tasks
from storage.database import Database
from storage.tables import ANSWERS, DUE_TASKS, OUTBOUND, SESSIONS
from tests.database_time import age
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

ROOT = Path(__file__).resolve().parent.parent
EVALUATION = ROOT / "flows" / "examples" / "evaluation"
AE_WAITING = ROOT / "flows" / "examples" / "ae-waiting"
LONDON = ZoneInfo("Europe/London")


class Clinic:
    """A deployment on one database with a hand-moved clock: say things, tick, count."""

    def __init__(self, database: Database, clock: FakeClock) -> None:
        self.database, self.clock = database, clock
        self.registry = StudyRegistry([load_study(AE_WAITING), load_study(EVALUATION)])
        self.service = ConversationService(database, self.registry, clock, address_key=TEST_ADDRESS_KEY)
        self.scheduler = Scheduler(database, self.service, self.registry, clock)
        self._ids = itertools.count(1)

    def say(self, text: str, address: str = "+447700900001") -> str:
        result = self.service.receive(InboundMessage("sms", address, f"in-{next(self._ids)}", text))
        assert result.participant_id is not None
        return result.participant_id

    def at(self, moment: datetime) -> None:
        assert moment >= self.clock.now, "the clock only moves forward"
        self.clock.now = moment

    def tick(self) -> Any:
        return self.scheduler.tick()

    def restart(self) -> None:
        """A new process: new database connections, service and scheduler; the same tables."""
        self.database.dispose()
        self.database = Database(self.database.url)
        self.registry = StudyRegistry([load_study(AE_WAITING), load_study(EVALUATION)])
        self.service = ConversationService(self.database, self.registry, self.clock, address_key=TEST_ADDRESS_KEY)
        self.scheduler = Scheduler(self.database, self.service, self.registry, self.clock)

    def count(self, table: Any, *where: Any) -> int:
        with self.database.transaction() as connection:
            return int(connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one())

    def sent(self, pid: str, kind: str | None = None) -> list[str]:
        """The first line of each message queued for ``pid`` (of ``kind``)."""
        return [m.text.splitlines()[0] for m in self.service.outbox_for(pid) if kind is None or m.kind == kind]

    def tasks(self, pid: str) -> list[due_tasks.TaskRow]:
        with self.database.transaction() as connection:
            return due_tasks.listing(connection, None, pid, include_done=True)


@pytest.fixture
def clinic(database: Database) -> Clinic:
    return Clinic(database, FakeClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC)))


def join_as_patient(clinic: Clinic, address: str = "+447700900001", discharged: str = "1/3/2026") -> str:
    pid = clinic.say("RATE", address)
    for text in ("YES", "1", discharged):
        clinic.say(text, address)
    return pid


def join_as_staff(clinic: Clinic, address: str = "+447700900002", hours: str = "2") -> str:
    pid = clinic.say("RATESTAFF", address)
    clinic.say("YES", address)
    clinic.say(hours, address)
    return pid


def local(moment: datetime) -> str:
    return f"{moment.astimezone(LONDON):%Y-%m-%d %H:%M %Z}"


def task_of(clinic: Clinic, pid: str, kind: str, flow: str) -> due_tasks.TaskRow:
    found = [t for t in clinic.tasks(pid) if t.kind == kind and t.flow_id == flow]
    assert len(found) == 1, [(t.kind, t.flow_id, t.payload.get("key")) for t in clinic.tasks(pid)]
    return found[0]


# ----------------------------------------------------------------------------- follow-ups and reminders


def test_a_follow_up_fires_on_its_day_and_its_reminder_fires_once(clinic: Clinic) -> None:
    pid = join_as_patient(clinic)
    clinic.tick()
    sus = task_of(clinic, pid, "follow_up", "sus")
    assert local(sus.due_at) == "2026-03-16 10:00 GMT"  # 14 days after joining, window 10:00-18:00
    clinic.at(sus.due_at - timedelta(minutes=5))
    clinic.tick()
    assert clinic.count(SESSIONS, SESSIONS.c.participant_id == pid, SESSIONS.c.flow_id == "sus") == 0
    clinic.at(sus.due_at)
    clinic.tick()
    assert clinic.sent(pid)[-1] == "I think that I would like to use this system frequently."
    reminder = task_of(clinic, pid, "reminder", "sus")
    assert local(reminder.due_at) == "2026-03-18 10:00 GMT"
    clinic.at(reminder.due_at)
    clinic.tick()
    clinic.at(reminder.due_at + timedelta(hours=3))
    clinic.tick()
    assert clinic.sent(pid, "reminder") == ["I think that I would like to use this system frequently."]
    assert task_of(clinic, pid, "reminder", "sus").done


def test_no_reminder_for_someone_who_finished(clinic: Clinic) -> None:
    address = "+447700900003"
    pid = join_as_patient(clinic, address)
    clinic.tick()
    clinic.at(task_of(clinic, pid, "follow_up", "sus").due_at)
    clinic.tick()
    for _ in range(10):
        clinic.say("3", address)
    assert clinic.service.session_status(pid) == "ended"
    clinic.at(task_of(clinic, pid, "reminder", "sus").due_at)
    clinic.tick()
    assert clinic.sent(pid, "reminder") == []
    assert task_of(clinic, pid, "reminder", "sus").error == "dropped: finished before the reminder"


def test_a_reminder_does_not_ask_before_the_time_the_participant_snoozed_to(clinic: Clinic) -> None:
    """'We'll ask again at ...' is kept: a reminder falling due before then is dropped (the
    snooze asks again); after it has asked, the question is not asked a third time by it."""
    address = "+447700900005"
    pid = join_as_patient(clinic, address)
    clinic.tick()
    clinic.at(task_of(clinic, pid, "follow_up", "sus").due_at)
    clinic.tick()
    reminder = task_of(clinic, pid, "reminder", "sus")
    clinic.at(reminder.due_at - timedelta(minutes=30))
    clinic.say("remind me tomorrow", address)
    assert clinic.service.session_status(pid) == "snoozed"
    clinic.at(reminder.due_at)
    clinic.tick()
    assert clinic.sent(pid, "reminder") == [], "asked before the time the participant chose"
    assert (task_of(clinic, pid, "reminder", "sus").error or "").startswith("dropped: snoozed until")
    snooze = task_of(clinic, pid, "snooze", "sus")
    clinic.at(snooze.due_at)
    clinic.tick()
    assert clinic.sent(pid, "reminder") == ["I think that I would like to use this system frequently."], "the snooze asked"


def test_a_follow_up_waits_for_the_date_the_participant_gives(clinic: Clinic) -> None:
    address = "+447700900004"
    pid = clinic.say("RATE", address)
    clinic.say("YES", address)
    clinic.tick()
    assert [t.kind for t in clinic.tasks(pid) if t.flow_id == "fft"] == []
    clinic.say("1", address)
    clinic.say("28/2/2026", address)
    clinic.at(clinic.clock.now + timedelta(hours=1, minutes=1))  # the planner looks again hourly
    clinic.tick()
    fft = task_of(clinic, pid, "follow_up", "fft")
    assert local(fft.due_at) == "2026-03-28 09:00 GMT"


def test_a_discharge_date_as_people_write_it_plans_the_follow_up_and_one_nobody_can_read_tells_the_coordinator(
    clinic: Clinic,
) -> None:
    from storage.tables import FLAGS

    typed = join_as_patient(clinic, "+447700900014", "28/2/2026.")  # (a phone's full stop)
    unreadable = join_as_patient(clinic, "+447700900015", "after my operation")
    later = clinic.say("RATE", "+447700900016")
    clinic.say("YES", "+447700900016")
    clinic.tick()  # planned before their date: the planner waits for it, then looks again hourly
    clinic.say("1", "+447700900016")
    clinic.say("sometime in spring", "+447700900016")
    assert local(task_of(clinic, typed, "follow_up", "fft").due_at) == "2026-03-28 09:00 GMT"
    assert [t.kind for t in clinic.tasks(unreadable) if t.flow_id == "fft"] == []
    clinic.at(clinic.clock.now + timedelta(hours=2, minutes=2))  # the planner looks again, hourly
    clinic.tick()
    with clinic.database.transaction() as connection:
        flags = connection.execute(select(FLAGS.c.kind, FLAGS.c.participant_id, FLAGS.c.message)).all()
    planning = [(kind, pid) for kind, pid, _ in flags if kind == "planning"]
    assert sorted(planning) == sorted([("planning", unreadable), ("planning", later)]), \
        "one flag, once, for each answer nobody can read as a date"


def test_a_round_closes_and_takes_no_more_answers(clinic: Clinic) -> None:
    address = "+447700900005"
    pid = join_as_patient(clinic, address)
    clinic.tick()
    clinic.at(task_of(clinic, pid, "follow_up", "sus").due_at)
    clinic.tick()
    clinic.say("4", address)
    close = task_of(clinic, pid, "close", "sus")
    assert local(close.due_at) == "2026-03-23 10:00 GMT"  # closes: 7d
    clinic.at(close.due_at)
    clinic.tick()
    answers_before = clinic.count(ANSWERS, ANSWERS.c.participant_id == pid, ANSWERS.c.flow_id == "sus")
    clinic.say("2", address)
    assert clinic.sent(pid)[-1] == "Thank you, that's all for now."
    assert clinic.count(ANSWERS, ANSWERS.c.participant_id == pid, ANSWERS.c.flow_id == "sus") == answers_before == 1


# ----------------------------------------------------------------------------- restarts and grace


def test_a_follow_up_that_fell_due_while_down_fires_once_after_restart(clinic: Clinic) -> None:
    pid = join_as_patient(clinic, "+447700900006")
    clinic.tick()
    due = task_of(clinic, pid, "follow_up", "sus").due_at
    clinic.scheduler = None  # type: ignore[assignment]  # Chorus goes down before the follow-up is due
    clinic.at(due + timedelta(hours=3))  # ... and comes back, within the study's grace of a day
    clinic.restart()
    clinic.tick()
    clinic.tick()
    clinic.restart()
    clinic.tick()
    assert clinic.count(SESSIONS, SESSIONS.c.participant_id == pid, SESSIONS.c.flow_id == "sus") == 1
    assert clinic.sent(pid).count("I think that I would like to use this system frequently.") == 1


def test_a_task_past_its_grace_is_dropped_with_a_reason_and_the_series_goes_on(clinic: Clinic) -> None:
    pid = join_as_staff(clinic)
    clinic.tick()
    pulse = task_of(clinic, pid, "follow_up", "pulse")
    clinic.at(pulse.due_at + timedelta(days=1))  # down for longer than the pulse's grace of 12h
    clinic.restart()
    clinic.tick()
    pulses = sorted((t for t in clinic.tasks(pid) if t.kind == "follow_up" and t.flow_id == "pulse"), key=lambda t: t.due_at)
    assert pulses[0].done and pulses[0].error is not None
    assert pulses[0].error.startswith("dropped: missed: due ") and "past the grace of 12h" in pulses[0].error
    assert clinic.count(SESSIONS, SESSIONS.c.participant_id == pid, SESSIONS.c.flow_id == "pulse") == 0
    assert len(pulses) == 2 and not pulses[1].done and pulses[1].due_at > clinic.clock.now


def test_a_crash_between_sending_and_marking_done_sends_nothing_twice(clinic: Clinic) -> None:
    pid = join_as_patient(clinic, "+447700900007")
    clinic.tick()
    clinic.at(task_of(clinic, pid, "follow_up", "sus").due_at)
    with clinic.database.transaction() as connection:  # a scheduler claims the task ...
        (task,) = due_tasks.claim(connection, "dying", clinic.clock(), 10, timedelta(minutes=5))
    clinic.service.start_flow(pid, "evaluation", "sus")  # ... the service commits, and it dies
    clinic.at(clinic.clock.now + timedelta(minutes=6))  # its claim goes stale (a lease runs in the database's time)
    age(clinic.database, DUE_TASKS, "leased_at", timedelta(minutes=6))
    clinic.restart()
    clinic.tick()
    assert clinic.count(SESSIONS, SESSIONS.c.participant_id == pid, SESSIONS.c.flow_id == "sus") == 1
    done = task_of(clinic, pid, "follow_up", "sus")
    assert done.done and done.error is None and done.attempts == 2
    assert task_of(clinic, pid, "reminder", "sus")  # what the dead scheduler never got to plan


def test_a_killed_local_schedulers_claim_is_taken_at_once_and_a_live_ones_waits_for_the_lease(clinic: Clinic) -> None:
    host = clinic.scheduler.worker.split(":", 1)[0]
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a process id that no longer runs: a scheduler killed before it finished its claim
    patient, other = join_as_patient(clinic, "+447700900008"), join_as_patient(clinic, "+447700900009")
    clinic.tick()
    clinic.at(max(task_of(clinic, pid, "follow_up", "sus").due_at for pid in (patient, other)))
    with clinic.database.transaction() as connection:  # the dead one claimed one task, a live one (pytest) the other
        claimed = due_tasks.claim(connection, f"{host}:{dead.pid}:dead01", clinic.clock(), 1, timedelta(minutes=5))
        claimed += due_tasks.claim(connection, f"{host}:{os.getpid()}:live01", clinic.clock(), 1, timedelta(minutes=5))
    assert {task.participant_id for task in claimed} == {patient, other}
    dead_ones = {claimed[0].participant_id}
    clinic.restart()
    clinic.tick()  # well within the lease
    started = {pid for pid in (patient, other) if clinic.count(SESSIONS, SESSIONS.c.participant_id == pid, SESSIONS.c.flow_id == "sus")}
    assert started == dead_ones, "the dead scheduler's task fires now; the live one's claim is respected"
    clinic.at(clinic.clock.now + timedelta(minutes=6))
    age(clinic.database, DUE_TASKS, "leased_at", timedelta(minutes=6))  # (a lease runs in the database's time)
    clinic.tick()  # the live claimer never finished: after the lease its task fires too, once
    assert all(clinic.count(SESSIONS, SESSIONS.c.participant_id == pid, SESSIONS.c.flow_id == "sus") == 1 for pid in (patient, other))


# ----------------------------------------------------------------------------- quiet hours, time zones, daylight saving


def test_follow_ups_stay_at_nine_local_across_both_daylight_saving_changes(clinic: Clinic) -> None:
    spring = datetime(2026, 3, 20, 9, 30, tzinfo=UTC)  # 09:30 GMT; the clocks go forward on 29 March
    clinic.at(spring)
    pid = clinic.say("WAIT", "+447700900008")
    clinic.say("yes", "+447700900008")  # consent: the study's other flows go only to those who gave it
    clinic.tick()
    codesign = task_of(clinic, pid, "follow_up", "codesign")
    assert local(codesign.due_at) == "2026-04-03 09:30 BST"
    clinic.at(codesign.due_at - timedelta(minutes=1))
    clinic.tick()
    assert clinic.count(SESSIONS, SESSIONS.c.participant_id == pid, SESSIONS.c.flow_id == "codesign") == 0
    clinic.at(codesign.due_at)
    clinic.tick()
    assert clinic.count(SESSIONS, SESSIONS.c.participant_id == pid, SESSIONS.c.flow_id == "codesign") == 1
    autumn = datetime(2026, 10, 20, 8, 0, tzinfo=UTC)  # 09:00 BST; the clocks go back on 25 October
    clinic.at(autumn)
    other = clinic.say("WAIT", "+447700900009")
    clinic.tick()
    assert local(task_of(clinic, other, "follow_up", "vision").due_at) == "2026-10-27 09:00 GMT"


def test_staff_get_their_pulse_inside_the_hours_they_chose(clinic: Clinic) -> None:
    clinic.at(datetime(2026, 6, 5, 7, 0, tzinfo=UTC))  # 08:00 BST
    pid = join_as_staff(clinic, hours="2")  # 9am to 5pm
    clinic.tick()
    assert local(task_of(clinic, pid, "follow_up", "pulse").due_at) == "2026-06-12 09:00 BST"
    early = join_as_staff(clinic, "+447700900010", hours="3")  # 7am to 8pm; pulse window 09:00-17:00
    clinic.tick()
    assert local(task_of(clinic, early, "follow_up", "pulse").due_at) == "2026-06-12 09:00 BST"


def test_a_follow_up_found_due_in_quiet_hours_after_downtime_waits_for_morning(clinic: Clinic) -> None:
    pid = join_as_patient(clinic, "+447700900011")
    clinic.tick()
    due = task_of(clinic, pid, "follow_up", "sus").due_at  # 10:00
    clinic.at(due.replace(hour=22))  # back up at 22:00: quiet hours
    clinic.restart()
    clinic.tick()
    assert clinic.count(SESSIONS, SESSIONS.c.participant_id == pid, SESSIONS.c.flow_id == "sus") == 0
    moved = task_of(clinic, pid, "follow_up", "sus")
    assert local(moved.due_at) == "2026-03-17 10:00 GMT" and moved.payload["first_due"] == due.isoformat()
    clinic.at(moved.due_at)
    clinic.tick()
    assert clinic.count(SESSIONS, SESSIONS.c.participant_id == pid, SESSIONS.c.flow_id == "sus") == 1


# ----------------------------------------------------------------------------- snoozes


def test_a_snooze_is_honoured_once_at_the_time_asked_for(clinic: Clinic) -> None:
    address = "+447700900012"
    pid = clinic.say("RATE", address)
    clinic.say("YES", address)
    clinic.say("in 2 hours", address)
    assert clinic.sent(pid)[-1] == "No problem. We'll ask again at 12:00. Reply any time to carry on."
    clinic.at(clinic.clock.now + timedelta(hours=1))
    clinic.tick()
    assert clinic.sent(pid, "reminder") == []
    clinic.at(clinic.clock.now + timedelta(hours=1))
    clinic.tick()
    clinic.tick()
    assert clinic.sent(pid, "reminder") == ["Which best describes you?"]
    assert clinic.service.session_status(pid) == "waiting"


def test_a_snooze_is_dropped_when_the_participant_carried_on(clinic: Clinic) -> None:
    address = "+447700900013"
    pid = clinic.say("RATE", address)
    clinic.say("YES", address)
    clinic.say("tomorrow", address)
    clinic.say("1", address)
    clinic.at(datetime(2026, 3, 3, 9, 0, tzinfo=UTC))
    clinic.tick()
    assert clinic.sent(pid, "reminder") == []
    assert task_of(clinic, pid, "snooze", "welcome").error == "dropped: the participant carried on before the snooze ended"


# ----------------------------------------------------------------------------- many tasks, two schedulers


def test_follow_ups_go_only_to_those_who_consented(clinic: Clinic) -> None:
    agreed, declined, silent = "+447700900021", "+447700900022", "+447700900023"
    people = {address: clinic.say("WAIT", address) for address in (agreed, declined, silent)}
    clinic.say("yes", agreed)
    clinic.say("no", declined)  # "We won't ask you anything more"
    clinic.tick()
    clinic.at(clinic.clock.now + timedelta(days=7, hours=1))  # the vision flow is due 7 days after joining
    clinic.tick()
    sent = {address: clinic.count(SESSIONS, SESSIONS.c.participant_id == pid, SESSIONS.c.flow_id == "vision")
            for address, pid in people.items()}
    assert sent == {agreed: 1, declined: 0, silent: 0}
    dropped = [t for t in clinic.tasks(people[declined]) if t.flow_id == "vision"]
    assert dropped and all("has not consented" in (t.error or "") for t in dropped)


def test_two_schedulers_on_one_database_fire_each_of_200_tasks_exactly_once(database: Database) -> None:
    start = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    seeding = Clinic(database, FakeClock(start))
    people = [seeding.service.join("sms", f"+44770091{n:04d}", "ae-waiting").participant_id for n in range(200)]
    for n in range(200):  # each consents (follow-ups go only to those who did)
        seeding.service.receive(InboundMessage("sms", f"+44770091{n:04d}", f"yes-{n}", "yes"))
    shared = _ThreadSafeClock(start + timedelta(days=7, hours=1))
    instances = []
    for n in range(2):  # each with its own connections and conversation service, as two processes would have
        own = Database(database.url)
        service = ConversationService(own, seeding.registry, shared, address_key=TEST_ADDRESS_KEY)
        instances.append(Scheduler(own, service, seeding.registry, shared, worker=f"w{n}", batch=5))
    handled: list[int] = [0, 0]
    errors: list[BaseException] = []

    ready = threading.Barrier(2)

    def run(n: int) -> None:
        try:
            ready.wait(10)
            for _ in range(100):
                stats = instances[n].tick(max_batches=1)
                handled[n] += stats.outcomes.get("fired", 0)
                if stats.claimed == 0 and stats.planned == 0 and _pending_due(database, shared.peek()) == 0:
                    return
        except BaseException as error:  # surface it in the main thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sum(handled) == 200, handled
    if database.is_postgres:  # SKIP LOCKED shares the work; SQLite's writers take turns, and one may take it all
        assert min(handled) > 0, handled
    with database.transaction() as connection:
        per_person = connection.execute(
            select(SESSIONS.c.participant_id, func.count()).where(SESSIONS.c.flow_id == "vision").group_by(SESSIONS.c.participant_id)
        ).all()
        prompts = connection.execute(select(func.count()).select_from(OUTBOUND).where(
            OUTBOUND.c.step_id == "rate_updates", OUTBOUND.c.kind == "prompt")).scalar_one()
        done = connection.execute(select(func.count()).select_from(DUE_TASKS).where(
            DUE_TASKS.c.flow_id == "vision", DUE_TASKS.c.kind == "follow_up", DUE_TASKS.c.done.is_(True))).scalar_one()
    assert sorted(p for p, _ in per_person) == sorted(str(p) for p in people)
    assert {count for _, count in per_person} == {1}
    assert prompts == 200 and done == 200
    for scheduler in instances:
        scheduler.database.dispose()


class _ThreadSafeClock:
    def __init__(self, start: datetime) -> None:
        self._now, self._lock = start, threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            self._now += timedelta(milliseconds=1)
            return self._now

    def peek(self) -> datetime:
        return self._now


def _pending_due(database: Database, now: datetime) -> int:
    with database.transaction() as connection:
        query = select(func.count()).select_from(DUE_TASKS).where(DUE_TASKS.c.done.is_(False), DUE_TASKS.c.due_at <= now)
        return int(connection.execute(query).scalar_one())


# ----------------------------------------------------------------------------- the command line and evaluation


@pytest.fixture
def sqlite_clinic(sqlite_template: Path, tmp_path: Path) -> Clinic:
    """A clinic on SQLite only: for what reads the same rows on both databases."""
    path = tmp_path / "one" / "chorus.db"
    path.parent.mkdir()
    shutil.copyfile(sqlite_template, path)
    return Clinic(Database(f"sqlite:///{path}"), FakeClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC)))


def test_schedule_list_and_explain_show_pseudonymous_ids_and_local_times(sqlite_clinic: Clinic) -> None:
    from click.testing import CliRunner

    from bot.commands.schedule import schedule as cli

    clinic = sqlite_clinic
    pid = join_as_patient(clinic, "+447700900014")
    clinic.tick()
    runner = CliRunner()
    listed = runner.invoke(cli, ["list", "--study", "evaluation", "--database", clinic.database.url])
    assert listed.exit_code == 0, listed.output
    assert f"Mon 2026-03-16 10:00 GMT  {pid}" in listed.output and "send sus" in listed.output
    assert "+4477" not in listed.output
    explained = runner.invoke(cli, ["explain", pid, "--database", clinic.database.url])
    assert explained.exit_code == 0, explained.output
    assert "group patient" in explained.output and "Sun 2026-03-29 09:00 BST  send fft  [pending]" in explained.output


def test_schedule_plan_is_a_dry_run_on_a_study_folder_alone() -> None:
    from click.testing import CliRunner

    from bot.commands.schedule import schedule as cli

    result = CliRunner().invoke(cli, ["plan", str(EVALUATION), "--enrolled", "2026-03-20 19:30",
                                      "--group", "staff", "--field", "contact_hours=10:00-16:00", "--weeks", "2"])
    assert result.exit_code == 0, result.output
    assert "Sat 2026-03-28 10:00 GMT  send pulse" in result.output
    assert "Mon 2026-03-30 10:00 BST  pulse closes: no more answers" in result.output
    assert "only for patient" in result.output


def test_the_app_runs_the_scheduler_in_its_lifespan(sqlite_clinic: Clinic, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from bot.app import Chorus, create_app
    from bot.scheduler import install
    from bot.settings import Settings

    monkeypatch.setenv("CHORUS_SCHEDULER_INTERVAL", "0.05")
    clinic = sqlite_clinic
    pid = clinic.say("RATE", "+447700900016")
    settings = Settings(database_url=clinic.database.url, hash_key="test-address-key")  # type: ignore[arg-type]
    app = create_app(settings, Chorus(settings, clinic.database, clinic.registry, clinic.service))
    install(app)
    with TestClient(app):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not clinic.count(DUE_TASKS, DUE_TASKS.c.participant_id == pid):
            time.sleep(0.05)
        assert app.state.scheduler._background is not None
    assert clinic.count(DUE_TASKS, DUE_TASKS.c.participant_id == pid, DUE_TASKS.c.kind == "plan") == 1
    assert app.state.scheduler._background is None


def test_follow_up_answers_are_tracked_per_group_over_time(clinic: Clinic) -> None:
    from bot.evaluation import evaluation_over_time

    address = "+447700900015"
    pid = join_as_patient(clinic, address)
    clinic.tick()
    clinic.at(task_of(clinic, pid, "follow_up", "sus").due_at)
    clinic.tick()
    for answer in ("4", "2", "5", "1", "4", "2", "5", "1", "4", "2"):
        clinic.say(answer, address)
    clinic.at(task_of(clinic, pid, "follow_up", "fft").due_at)
    clinic.tick()
    clinic.say("2", address)  # Good
    clinic.say("SKIP", address)
    rows = {(r.group, r.period): r for r in evaluation_over_time(clinic.database, "evaluation")}
    patient = rows[("patient", "2026-03")]
    assert patient.fft.responses == 1 and patient.fft.percent_positive == 100.0
    assert patient.sus_responses == 1 and patient.sus_mean == 85.0


def test_the_commands_register_under_schedule_and_analyse() -> None:
    import click

    from bot.commands.schedule import register

    root = click.Group("chorus")
    root.add_command(click.Group("analyse"))
    register(root)
    schedule = root.commands["schedule"]
    assert isinstance(schedule, click.Group) and set(schedule.commands) == {"list", "explain", "plan", "run"}
    analyse = root.commands["analyse"]
    assert isinstance(analyse, click.Group) and "evaluation" in analyse.commands
