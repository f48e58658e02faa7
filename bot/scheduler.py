"""The clock: plans new enrolments and fires due tasks, ticked by APScheduler.

APScheduler 3.11 (``BackgroundScheduler``) only ticks: every timer lives in the
``due_tasks`` table (storage/due_tasks.py), so a restart loses nothing and any number of
Chorus instances can tick at once: a claim is atomic and a task re-claimed after its
scheduler died checks what was already done (bot/firing.py). Time comes from an injected
``clock`` so tests move it by hand.

Run it inside the web app (``install(app)``, on by default; ``CHORUS_SCHEDULER=off`` to
disable), or on its own: ``chorus schedule run`` or ``python -m bot.scheduler``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from bot import retention
from bot.firing import Firing, Outcome, task_row, write_outcomes, write_started
from bot.outage import Outage
from bot.planning import PLAN, Plan, plan_check, plan_person
from bot.processes import running
from bot.service import Clock, ConversationService, utc_now
from bot.starting import person_of, start_follow_ups
from bot.studies import StudyRegistry
from storage import due_tasks
from storage.database import Database

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger("chorus.scheduler")
DEFAULT_INTERVAL = 5.0
DEFAULT_LEASE = timedelta(minutes=5)
"""A claim older than this is taken to belong to a dead scheduler. Firing one batch must take less."""
MAX_ATTEMPTS = 5
DEFAULT_WORKERS = 8
ANALYZE_AFTER = 1000
RETENTION_EVERY = timedelta(hours=1)
"""How often a tick also enforces the studies' retention (the first tick always does)."""


@dataclass
class TickStats:
    planned: int = 0
    """Tasks added to new enrolments' schedules: follow-ups, reminders, closings, and one planning
    check each (a task row each, not a message or a person: see ``enrolments``)."""
    enrolments: int = 0
    """New enrolments planned (a participant in two studies is two)."""
    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    retained: dict[str, int] = field(default_factory=dict)
    """What the studies' retention removed this tick (bot/retention.py), when it ran."""

    def count(self, status: str) -> None:
        self.outcomes[status] = self.outcomes.get(status, 0) + 1

    def add(self, other: TickStats) -> None:
        self.planned += other.planned
        self.enrolments += other.enrolments
        self.claimed += other.claimed
        for status, number in other.outcomes.items():
            self.outcomes[status] = self.outcomes.get(status, 0) + number


class Scheduler:
    """Plans and fires due tasks. ``tick()`` does one round and is safe to call from many
    threads or processes at once; ``start()`` ticks it from a background thread. With
    ``workers`` > 1 a batch is fired by that many threads (one participant's tasks stay in
    order on one thread): worth it on PostgreSQL, where each start waits on the server."""

    def __init__(
        self, database: Database, service: ConversationService, studies: StudyRegistry, clock: Clock = utc_now,
        worker: str | None = None, batch: int = 1000, lease: timedelta = DEFAULT_LEASE, on_queued: Callable[[], None] | None = None,
        workers: int | None = None, retention_every: timedelta = RETENTION_EVERY,
    ) -> None:
        self.database, self.service, self.studies, self.clock = database, service, studies, clock
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.batch, self.lease, self.on_queued = batch, lease, on_queued
        self.workers = workers if workers is not None else (DEFAULT_WORKERS if database.is_postgres else 1)
        self.firing = Firing(database, service, studies)
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="chorus-fire") if self.workers > 1 else None
        self._background: Any = None
        self._tick_lock = threading.Lock()
        self._outage = Outage(log, "scheduler tick")
        self.retention_every = retention_every
        self._next_retention: datetime | None = None

    # ------------------------------------------------------------------ one round

    def tick(self, max_batches: int = 50) -> TickStats:
        """Plan new enrolments, then claim and fire due tasks until none are left (or ``max_batches``)."""
        stats = self.plan_new()
        stats.retained = self.enforce_retention()
        for _ in range(max_batches):
            batch = self.fire_due()
            stats.add(batch)
            if batch.claimed < self.batch:
                break
        if stats.outcomes.get("fired") and self.on_queued is not None:
            self.on_queued()
        return stats

    def enforce_retention(self) -> dict[str, int]:
        """Delete or blank what is past each study's retention, at most every ``retention_every``."""
        now = self.clock()
        if self._next_retention is not None and now < self._next_retention:
            return {}
        self._next_retention = now + self.retention_every
        return retention.enforce(self.service, self.studies, now)

    def plan_new(self, limit: int = 2000) -> TickStats:
        """Plan every schedule for enrolments not planned yet; returns how many enrolments were
        planned and how many tasks that added."""
        now, added, enrolments = self.clock(), 0, 0
        studies = self.studies.ids()
        while True:
            with self.database.transaction() as connection:
                due_tasks.lock_planning(connection)
                found = due_tasks.with_given_at(connection, due_tasks.unplanned(connection, studies, limit), self.studies.anchor_steps())
                rows = []
                for enrolled in found:
                    rows += _plan_rows(self.studies.get(enrolled.study_id).study, enrolled, now)
                batch = due_tasks.add(connection, rows, now, new_series_only=True)
                if batch >= ANALYZE_AFTER:
                    due_tasks.refresh_statistics(connection)
                added += batch
                enrolments += len(found)  # (each gets its planning check: 'unplanned' means it had none)
            if len(found) < limit:
                return TickStats(planned=added, enrolments=enrolments)

    def _abandoned(self, connection: Connection) -> list[str]:
        """Schedulers on this machine whose process is gone (killed, crashed) but whose claims
        remain: their tasks are claimed again now, not after the lease, so a restart fires
        what was due at once. (Claims of other machines wait for the lease: we cannot tell.)"""
        host = self.worker.split(":", 1)[0]
        dead = []
        for claimer in due_tasks.claimers_on(connection, host):
            pid = claimer.split(":")[1] if claimer.count(":") >= 2 else ""
            if claimer != self.worker and pid.isdigit() and not running(int(pid)):
                dead.append(claimer)
        return dead

    def fire_due(self) -> TickStats:
        """Claim one batch of due tasks, fire each, and write what came of them in one transaction."""
        stats = TickStats()
        now = self.clock()
        with self.database.transaction() as connection:
            claimed = due_tasks.claim(connection, self.worker, now, self.batch, self.lease, self._abandoned(connection))
            found = due_tasks.people(connection, {(t.participant_id, t.study_id) for t in claimed if t.participant_id and t.study_id})
            people = {(p.participant_id, p.study_id): p
                      for p in due_tasks.with_given_at(connection, list(found.values()), self.studies.anchor_steps())}
        stats.claimed = len(claimed)
        if not claimed:
            return stats
        by_person: dict[str, list[due_tasks.ClaimedTask]] = {}
        for task in claimed:
            by_person.setdefault(f"{task.participant_id}:{task.study_id}", []).append(task)
        groups = list(by_person.values())

        def fire_group(tasks: list[due_tasks.ClaimedTask]) -> list[tuple[due_tasks.ClaimedTask, Outcome]]:
            return [(task, self._fire_one(task, people.get((task.participant_id or "", task.study_id or "")))) for task in tasks]

        results = [pair for group in (self._pool.map(fire_group, groups) if self._pool else map(fire_group, groups)) for pair in group]
        starts = [outcome.start for _, outcome in results if outcome.start is not None]
        results = [(task, outcome) for task, outcome in results if outcome.start is None]
        now = self.clock()
        for task, status, reason in start_follow_ups(self.service, starts, now, lambda c, w: write_started(c, w, now), self._pool):
            retry = now + timedelta(minutes=2 ** task.attempts) if status == "retrying" else None
            results.append((task, Outcome(status, reason, release_to=retry, written=status != "retrying")))
        with self.database.transaction() as connection:
            write_outcomes(connection, [(task, outcome) for task, outcome in results if not outcome.written], now)
        for task, outcome in results:
            stats.count(outcome.status)
            if outcome.status != "fired" or outcome.reason:
                log.info("task %s %s for %s: %s (%s)", task.id, task.kind, task.participant_id, outcome.status, outcome.reason,
                         extra={"event": "task.outcome", "task_id": task.id, "kind": task.kind,
                                "participant_id": task.participant_id, "outcome": outcome.status})
        return stats

    def _fire_one(self, task: due_tasks.ClaimedTask, person: due_tasks.EnrolledPerson | None) -> Outcome:
        try:
            return self.firing.fire(task, person, self.clock())
        except Exception as error:  # the service failed: try again later, then give up
            log.exception("task %s (%s for %s) failed", task.id, task.kind, task.participant_id)
            reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:300]
            if task.attempts >= MAX_ATTEMPTS:
                return Outcome("failed", f"after {task.attempts} attempts: {reason}")
            return Outcome("retrying", reason, release_to=self.clock() + timedelta(minutes=2 ** task.attempts))

    # ------------------------------------------------------------------ ticking in the background

    def run_tick(self) -> None:
        """One tick, logged rather than raised (for the background thread)."""
        if self._outage.waiting() or not self._tick_lock.acquire(blocking=False):
            return  # backing off while the database is away (bot/outage.py), or a tick is running
        try:
            stats = self.tick()
            self._outage.succeeded()
            if stats.claimed or stats.planned:
                log.info("tick: %s", describe_tick(stats), extra={"event": "scheduler.tick", "enrolments_planned": stats.enrolments,
                                                                  "tasks_planned": stats.planned, "tasks_claimed": stats.claimed})
            if any(stats.retained.values()):
                log.info("tick: retention removed %s", stats.retained)
        except Exception as error:  # logged once, then a line every 30 s; ticks resume by themselves
            self._outage.failed(error)
        finally:
            self._tick_lock.release()

    def start(self, interval: float = DEFAULT_INTERVAL) -> None:
        """Tick every ``interval`` seconds from APScheduler's background thread, starting now."""
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        background = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(1)}, timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        background.add_job(self.run_tick, "interval", seconds=interval, id="chorus-tick", next_run_time=datetime.now(UTC))
        background.start()
        self._background = background

    def shutdown(self, wait: bool = True) -> None:
        if self._background is not None:
            self._background.shutdown(wait=wait)
            self._background = None
        if self._pool is not None:
            self._pool.shutdown(wait=wait)


def describe_tick(stats: TickStats) -> str:
    """'planned 4 new enrolments (11 scheduled tasks: ...); claimed 3 due tasks: fired 3', saying
    what each number counts: tasks are rows of the schedule, not messages or people."""
    said = []
    if stats.enrolments or stats.planned:
        said.append(f"planned {_count(stats.enrolments, 'new enrolment')} ({_count(stats.planned, 'scheduled task')}: "
                    "follow-ups, reminders, closings and a planning check each)")
    if stats.claimed:
        outcomes = ", ".join(f"{status} {number}" for status, number in sorted(stats.outcomes.items()))
        said.append(f"claimed {_count(stats.claimed, 'due task')}" + (f": {outcomes}" if outcomes else ""))
    return "; ".join(said)


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}" + ("" if number == 1 else "s")


def _plan_rows(study: Any, enrolled: due_tasks.EnrolledPerson, now: datetime) -> list[dict[str, Any]]:
    """A new enrolment's first tasks, and a 'plan' row: a marker, or a re-check while a
    schedule waits for the participant's group or a date."""
    person = person_of(enrolled)
    plan: Plan = plan_person(study, person, now)
    rows = [task_row(task) for task in [*plan.tasks, *plan.flags, *plan.not_sent]]  # (a flag: a date nobody can read, for the coordinator)
    check = plan_check(person, plan, now)
    if check is not None:
        rows.append(task_row(check))
    else:
        marker = {"key": "plan", "planned": [t.key for t in plan.tasks], "skipped": plan.skipped, "waiting": plan.waiting}
        rows.append({"kind": PLAN, "participant_id": person.participant_id, "study_id": person.study_id, "flow_id": None,
                     "session_id": None, "payload": marker, "due_at": now, "done": True})
    return rows


# ----------------------------------------------------------------------------- in the web app


@asynccontextmanager
async def scheduler_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Runs inside the app's lifespan (after ``app.state.chorus`` is set): ticks in the background."""
    import asyncio

    from bot.app import tasks_of
    from bot.tasks import SEND_OUTBOX

    queue = tasks_of(app)
    # With a distributed queue, `chorus worker` processes tick unless CHORUS_SCHEDULER=embedded says otherwise.
    mode = os.environ.get("CHORUS_SCHEDULER", "off" if queue.distributed else "embedded").lower()
    if mode in ("off", "0", "false", "no"):
        yield
        return

    def queued() -> None:  # on the ticking thread: the queue hands the nudge to the right loop or worker
        queue.enqueue(SEND_OUTBOX)

    chorus = app.state.chorus
    scheduler = Scheduler(chorus.database, chorus.service, chorus.studies, on_queued=queued)
    app.state.scheduler = scheduler
    scheduler.start(float(os.environ.get("CHORUS_SCHEDULER_INTERVAL", DEFAULT_INTERVAL)))
    try:
        yield
    finally:
        await asyncio.to_thread(scheduler.shutdown)


def install(app: FastAPI) -> None:
    """Run the scheduler with the app (``CHORUS_SCHEDULER=off`` when a separate worker runs it)."""
    from fastapi import APIRouter

    app.include_router(APIRouter(lifespan=scheduler_lifespan))


# ----------------------------------------------------------------------------- on its own


def run_forever(
    database_url: str, studies_dir: str, interval: float = DEFAULT_INTERVAL, lease: timedelta = DEFAULT_LEASE,
    batch: int = 1000, stop: threading.Event | None = None,
) -> None:
    """A scheduler worker without the web app, until ``stop`` is set (or the process is killed)."""
    from bot.settings import Settings
    from storage.database import init_database

    database = init_database(database_url)
    studies = StudyRegistry.from_folder(studies_dir)
    service = ConversationService(database, studies, address_key=Settings.from_env().address_key())
    scheduler = Scheduler(database, service, studies, batch=batch, lease=lease)
    stop = stop or threading.Event()
    log.info("scheduler %s ticking every %gs", scheduler.worker, interval)
    while not stop.is_set():
        scheduler.run_tick()
        stop.wait(interval)
    database.dispose()


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bot.scheduler", description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--studies", required=True)
    parser.add_argument("--interval", type=float, default=DEFAULT_INTERVAL)
    parser.add_argument("--lease", type=float, default=DEFAULT_LEASE.total_seconds(), help="seconds")
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args(argv)
    from bot.logging_setup import configure

    configure(os.environ.get("CHORUS_LOG_LEVEL", "INFO"), os.environ.get("CHORUS_LOG_FORMAT", "text"))
    run_forever(args.database, args.studies, args.interval, timedelta(seconds=args.lease), args.batch)


if __name__ == "__main__":
    main()
