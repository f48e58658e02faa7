"""Starting many scheduled follow-ups at once: one transaction per chunk of participants.

``ConversationService.start_flow`` opens a transaction per participant; a morning's
10,000 follow-ups would spend most of their time there. This starts a chunk (a whole
claimed batch) in one transaction, with the service's own per-participant locks (in this
process, and the participants' rows on PostgreSQL, taken in id order so two schedulers
cannot deadlock), set-based: ``ConversationService.start_many_within`` runs the engine for
each participant in memory and writes every table with one bulk insert. The due tasks are
finished in that same transaction: a follow-up is started and marked done together, or
neither. A participant whose message is being handled holds their lock, so their start
waits for it, as one started alone would.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from bot.planning import Person, PlannedTask, after_sending
from bot.service import ConversationService
from flows.model import Study
from storage.driver import Driver
from storage.due_tasks import ClaimedTask, EnrolledPerson
from storage.repository import ContactRef, EnrolmentRef

CHUNK = 1000
log = logging.getLogger("chorus.scheduler")
Written = list[tuple[ClaimedTask, str | None, list[PlannedTask]]]
"""(task, why it was dropped or None if started, what it sets going)."""


@dataclass(frozen=True)
class StartRequest:
    task: ClaimedTask
    study: Study
    person: EnrolledPerson


def person_of(found: EnrolledPerson) -> Person:
    return Person(found.participant_id, found.study_id, found.enrolled_at, found.group, found.fields, found.given_at)


def _marks(count: int) -> str:
    return ", ".join("?" for _ in range(count))


def _enrolments(driver: Driver, pids: list[str]) -> dict[tuple[str, str], EnrolmentRef]:
    sql = f'SELECT participant_id, id, study_id, "group", language, channel, opted_out FROM enrolments WHERE participant_id IN ({_marks(len(pids))})'
    return {(r[0], r[2]): EnrolmentRef(r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in driver.execute(sql, pids).fetchall()}


def _contacts(driver: Driver, pids: list[str]) -> dict[tuple[str, str], ContactRef]:
    """Each participant's most recent contact per channel."""
    sql = f"SELECT participant_id, id, channel FROM contacts WHERE participant_id IN ({_marks(len(pids))}) ORDER BY id"
    return {(r[0], r[2]): ContactRef(r[0], r[1], r[2]) for r in driver.execute(sql, pids).fetchall()}


def start_follow_ups(
    service: ConversationService, requests: list[StartRequest], now: datetime, write: Callable[[Connection, Written], None],
    pool: Executor | None = None,
) -> list[tuple[ClaimedTask, str, str | None]]:
    """Start each request's flow; ``write`` records what came of each in the same transaction.
    Returns (task, 'fired', None), (task, 'dropped', why) or, when a chunk failed, (task, 'retrying', error).
    Chunks run on ``pool`` when given: locks are always taken in participant order, so they cannot deadlock."""
    ordered = sorted(requests, key=lambda r: (str(r.task.participant_id), r.task.due_at, r.task.id))
    chunks = [ordered[start:start + CHUNK] for start in range(0, len(ordered), CHUNK)]

    def run(chunk: list[StartRequest]) -> list[tuple[ClaimedTask, str, str | None]]:
        try:
            written = _start_chunk(service, chunk, now, write)
        except Exception as error:
            log.exception("starting %d follow-ups failed; they will be tried again", len(chunk))
            reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:300]
            return [(request.task, "retrying", reason) for request in chunk]
        return [(task, "fired" if reason is None else "dropped", reason) for task, reason, _ in written]

    return [result for done in (pool.map(run, chunks) if pool else map(run, chunks)) for result in done]


def _start_chunk(service: ConversationService, chunk: list[StartRequest], now: datetime, write: Callable[[Connection, Written], None]) -> Written:
    pids = sorted({str(r.task.participant_id) for r in chunk})
    with service.holding(pids) as connection:
        driver = Driver.of(connection)
        if driver.postgres:
            driver.execute(f"SELECT id FROM participants WHERE id IN ({_marks(len(pids))}) ORDER BY id FOR UPDATE", pids)
        enrolments, contacts = _enrolments(driver, pids), _contacts(driver, pids)
        reasons: dict[int, str | None] = {}
        starting: list[tuple[ContactRef, EnrolmentRef, str]] = []
        started: list[StartRequest] = []
        for request in chunk:
            task = request.task
            pid, study_id = str(task.participant_id), str(task.study_id)
            enrolment = enrolments.get((pid, study_id))
            contact = contacts.get((pid, enrolment.channel)) if enrolment else None
            if enrolment is None or enrolment.opted_out or contact is None:
                reasons[task.id] = "the participant opted out or has no contact on their channel"
                continue
            starting.append((contact, enrolment, str(task.flow_id)))
            started.append(request)
            reasons[task.id] = None
        sessions = {request.task.id: session_id
                    for request, session_id in zip(started, service.start_many_within(connection, starting, now), strict=True)}
        rows: Written = []
        for request in chunk:
            task, reason = request.task, reasons[request.task.id]
            follow_on: list[PlannedTask] = []
            if reason is None:
                planned = PlannedTask(task.kind, str(task.participant_id), str(task.study_id), str(task.flow_id), task.due_at, task.payload)
                follow_on = after_sending(request.study, planned, person_of(request.person), now, sessions[task.id])
            rows.append((task, reason, follow_on))
        write(connection, rows)
    return rows
