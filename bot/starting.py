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

A follow-up is not started over a conversation the participant is in (a session waiting for
their reply and active lately, or snoozed): that would replace it, and their next reply, meant
for its question, would be taken by the follow-up. It is held (bot/planning.conversation_hold)
and looks again until that conversation ends or goes idle; its end brings the look forward
(storage/due_tasks.release_held), so it goes on the scheduler's next tick. This is checked
here, under the participant's lock, so that a reply, a reminder or a timeout just handled
counts; and of two follow-ups due for one participant at once, only the first starts, the
other waits for it.

A follow-up to someone sent nothing for :data:`GREETING_AFTER` opens with the study's title
("Waiting in A&E: hello again.", the built-in text ``follow_up.greeting``, which a study may
reword or set to "" for none): a question out of the blue, days later, from a number they may
not know, says who is asking.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from bot.planning import (
    CONVERSATION_CHECK,
    Conversation,
    Person,
    PlannedTask,
    after_sending,
    conversation_hold,
)
from bot.population import shows_delphi_feedback, warm_up_charts
from bot.service import ConversationService
from bot.studies import StudyRegistry
from flows.model import Study, resolve_text
from flows.session_state import LIVE
from flows.words import Words
from storage import due_tasks
from storage.driver import Driver
from storage.due_tasks import ClaimedTask, EnrolledPerson, LiveSession
from storage.repository import ContactRef, EnrolmentRef
from storage.tables import OUTBOUND

CHUNK = 1000
GREETING_AFTER = timedelta(hours=36)
"""A follow-up opens with the study's title when nothing was sent the participant for this long
(a daily pulse does not; a weekly follow-up does)."""
log = logging.getLogger("chorus.scheduler")


@dataclass(frozen=True)
class Held:
    """A follow-up not started because the participant is in a conversation: due again ``until``."""

    until: datetime
    reason: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class StartResult:
    """What came of one follow-up: started (``dropped`` and ``held`` None), dropped or held."""

    task: ClaimedTask
    dropped: str | None = None
    follow_on: list[PlannedTask] = field(default_factory=list)
    """What a start sets going: reminders, a closing, the next send of a series."""
    held: Held | None = None

    @property
    def status(self) -> str:
        return "dropped" if self.dropped is not None else "deferred" if self.held is not None else "fired"


Written = list[StartResult]


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
    Returns (task, 'fired', None), (task, 'dropped', why), (task, 'deferred', why: a conversation
    in progress) or, when a chunk failed, (task, 'retrying', error).
    Chunks run on ``pool`` when given: locks are always taken in participant order, so they cannot deadlock."""
    starting = {(str(r.task.study_id), str(r.task.flow_id)) for r in requests}  # (a morning's thousands: a handful of flows)
    if any(study in service.studies and shows_delphi_feedback([service.studies.get(study)], flow) for study, flow in starting):
        warm_up_charts()  # (a round's first chart, drawn cold, would hold the database for seconds)
    ordered = sorted(requests, key=lambda r: (str(r.task.participant_id), r.task.due_at, r.task.id))
    chunks = [ordered[start:start + CHUNK] for start in range(0, len(ordered), CHUNK)]

    def run(chunk: list[StartRequest]) -> list[tuple[ClaimedTask, str, str | None]]:
        try:
            written = _start_chunk(service, chunk, now, write)
        except Exception as error:
            log.exception("starting %d follow-ups failed; they will be tried again", len(chunk))
            reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:300]
            return [(request.task, "retrying", reason) for request in chunk]
        return [(done.task, done.status, done.dropped or (done.held.reason if done.held else None)) for done in written]

    return [result for done in (pool.map(run, chunks) if pool else map(run, chunks)) for result in done]


def _start_chunk(service: ConversationService, chunk: list[StartRequest], now: datetime, write: Callable[[Connection, Written], None]) -> Written:
    pids = sorted({str(r.task.participant_id) for r in chunk})
    with service.holding(pids) as connection:
        driver = Driver.of(connection)
        if driver.postgres:
            driver.execute(f"SELECT id FROM participants WHERE id IN ({_marks(len(pids))}) ORDER BY id FOR UPDATE", pids)
        enrolments, contacts = _enrolments(driver, pids), _contacts(driver, pids)
        recent = _written_to_lately(connection, pids, now)
        talking = _conversations(service.studies, due_tasks.live_sessions(connection, pids))
        outcomes: dict[int, StartResult] = {}
        starting: list[tuple[ContactRef, EnrolmentRef, str]] = []
        started: dict[str, StartRequest] = {}
        behind_a_start: set[str] = set()
        for request in chunk:
            task = request.task
            pid, study_id = str(task.participant_id), str(task.study_id)
            enrolment = enrolments.get((pid, study_id))
            contact = contacts.get((pid, enrolment.channel)) if enrolment else None
            if enrolment is None or enrolment.opted_out or contact is None:
                outcomes[task.id] = StartResult(task, "the participant opted out or has no contact on their channel")
                continue
            held = _hold(task, started.get(pid), talking.get(pid, []), now)
            if held is not None:
                outcomes[task.id] = StartResult(task, held=held)
                behind_a_start |= {pid} & started.keys()
                continue
            starting.append((contact, enrolment, str(task.flow_id)))
            started[pid] = request
        sessions = dict(zip([r.task.id for r in started.values()], service.start_many_within(connection, starting, now), strict=True))
        _greet(connection, {sessions[r.task.id]: (r.study, enrolments[(pid, str(r.task.study_id))].language)
                            for pid, r in started.items() if pid not in recent})
        for request in started.values():
            task = request.task
            planned = PlannedTask(task.kind, str(task.participant_id), str(task.study_id), str(task.flow_id), task.due_at, task.payload)
            outcomes[task.id] = StartResult(task, follow_on=after_sending(request.study, planned, person_of(request.person), now, sessions[task.id]))
        rows = [outcomes[request.task.id] for request in chunk]
        write(connection, rows)
        _release_behind_ended(connection, {sessions[started[pid].task.id]: pid for pid in behind_a_start}, now)
    return rows


def _release_behind_ended(connection: Connection, starts: dict[int, str], now: datetime) -> None:
    """Follow-ups held behind one started just now for the same participant (session id: whose)
    look again at once if its flow ended as it started (a message and nothing to answer), as
    they would when a conversation ends later (storage/due_tasks.release_held)."""
    if starts:
        statuses = due_tasks.session_statuses(connection, starts)
        due_tasks.release_held(connection, [pid for session_id, pid in starts.items() if statuses.get(session_id) not in LIVE], now)


def _written_to_lately(connection: Connection, pids: list[str], now: datetime) -> set[str]:
    """Who was sent something (not failed) within :data:`GREETING_AFTER`."""
    o = OUTBOUND.c
    query = (select(o.participant_id).distinct()
             .where(o.participant_id.in_(pids), o.created_at >= now - GREETING_AFTER, o.status.not_in(("failed", "cancelled"))))
    return {str(pid) for pid in connection.execute(query).scalars()}


def _greet(connection: Connection, sessions: dict[int, tuple[Study, str | None]]) -> None:
    """Put the greeting before the first message of each new session (session id: its study
    and the participant's language), unless that message already names the study."""
    if not sessions:
        return
    o = OUTBOUND.c
    first = select(func.min(o.id)).where(o.session_id.in_(list(sessions))).group_by(o.session_id).scalar_subquery()
    greeted: list[dict[str, object]] = []
    words: dict[str, Words] = {}
    for row_id, session_id, text in connection.execute(select(o.id, o.session_id, o.text).where(o.id.in_(first))):
        study, language = sessions[int(session_id)]
        title = resolve_text(study.title, language or study.default_language, study.default_language)
        said = words.get(study.study) or words.setdefault(study.study, Words(study))
        greeting = said.text("follow_up.greeting", language or study.default_language).replace("{title}", title).strip()
        if greeting and title.lower() not in str(text).lower():
            greeted.append({"row": row_id, "greeted": f"{greeting}\n{text}"})
    if greeted:
        connection.execute(update(OUTBOUND).where(o.id == bindparam("row")).values(text=bindparam("greeted")), greeted)


def _conversations(studies: StudyRegistry, found: dict[str, list[LiveSession]]) -> dict[str, list[Conversation]]:
    """The conversations each participant is in, with how long the waiting step's flow itself
    waits for an answer (its ``timeout``)."""
    return {pid: [Conversation(live.flow_id, live.updated_at, live.snooze_due, _step_timeout(studies, live)) for live in lives]
            for pid, lives in found.items()}


def _step_timeout(studies: StudyRegistry, live: LiveSession) -> timedelta | None:
    if live.study_id not in studies or live.step is None:
        return None
    loaded = studies.get(live.study_id).flows.get(live.flow_id)
    step = next((step for step in loaded.flow.steps if step.id == live.step), None) if loaded is not None else None
    timeout = getattr(step, "timeout", None)
    return timeout if isinstance(timeout, timedelta) else None


def _hold(task: ClaimedTask, first: StartRequest | None, conversations: list[Conversation], now: datetime) -> Held | None:
    """Whether this follow-up waits: for a conversation the participant is in, or for another
    follow-up of theirs started just now (it becomes that conversation)."""
    if first is not None:
        waits, until = f"waits for {first.task.flow_id}, sent at the same time, to end", now + CONVERSATION_CHECK
    else:
        found = conversation_hold(conversations, now)
        if found is None:
            return None
        until, conversation = found
        waits = conversation.describe()
    payload = {**task.payload, "first_due": task.payload.get("first_due") or task.due_at.isoformat(), "waits_for": waits}
    return Held(until, f"{waits}; looking again at {until:%Y-%m-%d %H:%M} UTC", payload)
