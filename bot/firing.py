"""What a claimed due task does when it fires, by kind.

Each handler either hands the task to the conversation service (start a follow-up, resume
with a reminder, snooze or timeout) or drops it with a reason, and finishes it. A task
re-claimed after its scheduler died first checks whether that scheduler already did its
work (a session started, a reminder queued, a timeout recorded since the earlier claim),
so a crash between the service's commit and ``done`` never sends anything twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from bot.planning import (
    CLOSE,
    FOLLOW_UP,
    PLAN,
    REMINDER,
    PlannedTask,
    RoundSent,
    after_sending,
    occurrence,
    place,
    plan_check,
    plan_person,
    round_hold,
    round_to_come,
    round_wait,
    rounds_before,
    schedule_of,
)
from bot.planning_holds import IN_ORDER, Queued, fell_due, order_hold, round_look_again
from bot.population import shows_delphi_feedback
from bot.service import ConversationService, NotResumed
from bot.starting import StartRequest, StartResult, Written, person_of
from bot.studies import StudyRegistry
from flows.engine import Resume, Timeout
from flows.model import Schedule, Study
from flows.session_state import LIVE
from flows.steps.consent import ConsentStep
from storage import due_tasks, repository
from storage.database import Database
from storage.due_tasks import ClaimedTask, EnrolledPerson

ENGINE_GRACE: dict[str, timedelta | None] = {"snooze": timedelta(days=1), "timeout": None, PLAN: None, CLOSE: None}
"""Grace for tasks the engine sets (the study's schedules declare their own); None: always fire."""
DEFER_SLACK = timedelta(minutes=1)


class Dropped(Exception):
    """The task will not fire; the message is the reason kept on its row. A recurring
    schedule carries on after a missed or closed send (``keep_series``)."""

    def __init__(self, reason: str, keep_series: bool = False) -> None:
        super().__init__(reason)
        self.keep_series = keep_series


@dataclass
class Outcome:
    """What firing a task came to, and what to write for it (the scheduler writes a batch at once)."""

    status: str
    """fired, dropped, deferred, retrying, failed, or start (not yet: see ``start``)."""
    reason: str | None = None
    follow_on: list[PlannedTask] = field(default_factory=list)
    """Tasks it sets going: reminders, a closing, the next send of a series, a re-plan."""
    new_series_only: bool = False
    release_to: datetime | None = None
    """deferred or retrying: due again then."""
    payload: dict[str, Any] | None = None
    written: bool = False
    """Already recorded (by bot/starting.py, in the transaction that started it)."""
    start: StartRequest | None = None
    """status 'start': a follow-up for bot/starting.py to start with others in one transaction."""


def write_started(connection: Connection, written: Written, now: datetime) -> None:
    """Finish follow-ups started (or dropped) by bot/starting.py, and give back those it held
    for a conversation in progress, in its transaction."""
    write_outcomes(connection, [(done.task, _outcome_of(done)) for done in written], now)


def _outcome_of(done: StartResult) -> Outcome:
    if done.held is not None:
        return Outcome("deferred", done.held.reason, release_to=done.held.until, payload=done.held.payload)
    return Outcome(done.status, done.dropped, done.follow_on)


def write_outcomes(connection: Connection, done: list[tuple[ClaimedTask, Outcome]], now: datetime) -> None:
    """Finish, drop or give back a batch of fired tasks, adding what they set going, in one transaction."""
    for only_new in (False, True):
        rows = [task_row(t) for _, o in done if o.new_series_only == only_new for t in o.follow_on]
        due_tasks.add(connection, rows, now, new_series_only=only_new)
    due_tasks.finish_many(connection, [task.id for task, o in done if o.status == "fired"], now)
    for task, outcome in done:
        if outcome.status in ("dropped", "failed"):
            due_tasks.finish(connection, task.id, now, f"{outcome.status}: {outcome.reason}")
        elif outcome.release_to is not None:
            due_tasks.release(connection, task.id, outcome.release_to, outcome.payload,
                              outcome.reason if outcome.status == "retrying" else None)


def task_row(task: PlannedTask, **extra: Any) -> dict[str, Any]:
    return {"kind": task.kind, "participant_id": task.participant_id, "study_id": task.study_id, "flow_id": task.flow_id,
            "session_id": task.session_id, "payload": task.payload, "due_at": task.due_at, **extra}


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:g}d" if hours >= 24 and hours % 24 == 0 else f"{hours:g}h"


class Firing:
    """Fires claimed tasks through the conversation service; one instance per scheduler."""

    def __init__(self, database: Database, service: ConversationService, studies: StudyRegistry) -> None:
        self.database, self.service, self.studies = database, service, studies
        self.handlers: dict[str, Callable[[ClaimedTask, Study, EnrolledPerson, datetime], Outcome]] = {
            FOLLOW_UP: self.follow_up, REMINDER: self.reminder, CLOSE: self.close, PLAN: self.replan,
            "snooze": self.snooze, "timeout": self.timeout,
        }

    def fire(self, task: ClaimedTask, person: EnrolledPerson | None, now: datetime) -> Outcome:
        """Fire or drop one claimed task; the returned outcome says what to write."""
        try:
            handler = self.handlers.get(task.kind)
            if handler is None:
                raise Dropped(f"unknown task kind '{task.kind}'")
            if person is None or task.study_id is None:
                raise Dropped("the participant is not enrolled in the study")
            if task.study_id not in self.studies:
                raise Dropped(f"study '{task.study_id}' is not loaded by this deployment")
            self._check_grace(task, now)
            return handler(task, self.studies.get(task.study_id).study, person, now)
        except Dropped as dropped:
            follow_on = self._next_in_series(task, person, now) if dropped.keep_series else []
            return Outcome("dropped", str(dropped), follow_on)

    def _next_in_series(self, task: ClaimedTask, person: EnrolledPerson | None, now: datetime) -> list[PlannedTask]:
        """After a missed weekly send, the next one (a recurring schedule never just stops)."""
        if task.kind != FOLLOW_UP or person is None or task.study_id not in self.studies:
            return []
        study = self.studies.get(str(task.study_id)).study
        entry = schedule_of(study, task.payload.get("schedule"), task.flow_id)
        if entry is None or entry[1].every is None:
            return []
        found = occurrence(study, entry[0], person_of(person), int(task.payload["occurrence"]) + 1, now)
        return [found] if isinstance(found, PlannedTask) else []

    # ------------------------------------------------------------------ checks

    @staticmethod
    def _check_grace(task: ClaimedTask, now: datetime) -> None:
        if "grace" in task.payload:
            grace: timedelta | None = timedelta(seconds=float(task.payload["grace"]))
        else:
            grace = ENGINE_GRACE.get(task.kind, timedelta(days=1))
        # Lateness counts from due_at: a task moved out of quiet hours after downtime was on time when moved.
        if grace is not None and now - task.due_at > grace:
            raise Dropped(f"missed: due {task.due_at:%Y-%m-%d %H:%M} UTC, past the grace of {_span(grace)}", keep_series=True)

    @staticmethod
    def _check_open(task: ClaimedTask, now: datetime) -> None:
        closes = task.payload.get("closes_at")
        if closes and now >= datetime.fromisoformat(closes):
            raise Dropped(f"the round closed at {datetime.fromisoformat(closes):%Y-%m-%d %H:%M} UTC", keep_series=True)

    @staticmethod
    def _check_enrolled(person: EnrolledPerson) -> None:
        if person.opted_out:
            raise Dropped("the participant opted out")
        if person.status != "active":
            raise Dropped(f"the enrolment is {person.status}")

    def _check_consented(self, task: ClaimedTask, study: Study) -> None:
        """A study whose first flow asks for consent sends its other flows only to those who
        said yes: not to someone who said no, nor to someone who never answered."""
        loaded = self.studies.get(study.study)
        start = loaded.flows.get(study.join.start_flow)
        asked = [step.id for step in start.flow.steps if isinstance(step, ConsentStep)] if start is not None else []
        if not asked or task.flow_id == study.join.start_flow or task.participant_id is None:
            return
        with self.database.transaction() as connection:
            agreed = due_tasks.consented(connection, task.participant_id, study.study, asked)
        if not agreed:
            raise Dropped(f"the participant has not consented (no yes to '{asked[0]}')", keep_series=True)

    def _schedule(self, task: ClaimedTask, study: Study) -> Schedule | None:
        found = schedule_of(study, task.payload.get("schedule"), task.flow_id)
        return found[1] if found is not None else None

    def _hold_for_earlier_round(self, task: ClaimedTask, study: Study, now: datetime) -> Outcome | None:
        """A Delphi round waits for the one before it: until that was sent, and then until the
        participant has finished it (or stopped, or it closed) or has had ``round_wait`` for it.
        A late joiner who is due an ``at:`` round that opened long ago gets round 1 first, then
        this. A round whose round before was never sent to them is not sent either. A round held
        while they are still answering the round before is marked ``IN_ORDER``: the follow-ups
        that fall due after it wait behind it (``_hold_behind_earlier``). When they finish it,
        its look comes forward to that moment (storage/due_tasks.release_held): the next tick."""
        assert task.participant_id is not None and task.flow_id is not None
        flows = {name: loaded.flow for name, loaded in self.studies.get(study.study).flows.items()}
        for before in rounds_before(flows, task.flow_id):
            with self.database.transaction() as connection:
                started = due_tasks.flow_started(connection, task.participant_id, study.study, before.flows)
                pending = None if started else round_to_come(before, due_tasks.pending_for(connection, task.participant_id, study.study))
            sent = RoundSent(started[0], started[1], started[2] in LIVE) if started else None
            held = round_hold(before, sent, pending, round_wait(study, before.flows), now)
            if isinstance(held, str):
                raise Dropped(held)
            if held is not None:
                held = round_look_again(held, sent, now)
                waits = f"waits for {before.describe()}" + (" to be finished" if sent else " to be sent")
                payload = {**task.payload, "first_due": task.payload.get("first_due") or task.due_at.isoformat(), "waits_for": waits,
                           **({IN_ORDER: True} if sent else {})}
                return Outcome("deferred", f"{waits}; looking again at {held:%Y-%m-%d %H:%M} UTC" if sent else waits,
                               release_to=held, payload=payload)
        return None

    def _hold_behind_earlier(self, task: ClaimedTask, study: Study, now: datetime) -> Outcome | None:
        """A follow-up never overtakes one of the participant's that fell due before it and is
        held for the round before it (or waits behind one that is): it looks again when that one
        does, and goes after it, in the order they fell due (bot/planning_holds.order_hold). Only
        a study with a later Delphi round can hold one, so only its follow-ups look."""
        assert task.participant_id is not None
        if not shows_delphi_feedback([self.studies.get(study.study)]):  # (a later Delphi round: one that can be held)
            return None
        with self.database.transaction() as connection:
            pending = due_tasks.pending_follow_ups(connection, task.participant_id, study.study)
        queued = [Queued(other.id, str(other.flow_id), fell_due(other.payload, other.due_at), other.due_at,
                         bool(other.payload.get(IN_ORDER))) for other in pending]
        found = order_hold(task.id, fell_due(task.payload, task.due_at), queued, now)
        if found is None:
            return None
        until, ahead = found
        waits = ahead.describe()
        payload = {**task.payload, "first_due": task.payload.get("first_due") or task.due_at.isoformat(), "waits_for": waits,
                   IN_ORDER: True}
        return Outcome("deferred", f"{waits}; looking again at {until:%Y-%m-%d %H:%M} UTC", release_to=until, payload=payload)

    def _defer(self, task: ClaimedTask, study: Study, person: EnrolledPerson, now: datetime) -> Outcome | None:
        """Outside the window, quiet or contact hours now (e.g. after downtime): give it back for later."""
        allowed = place(now, study, self._schedule(task, study), person_of(person))
        if allowed - now <= DEFER_SLACK:
            return None
        payload = {**task.payload, "first_due": task.payload.get("first_due") or task.due_at.isoformat()}
        payload.pop("waits_for", None)  # (what it waited for is over: now it is only out of hours)
        return Outcome("deferred", f"until {allowed:%Y-%m-%d %H:%M} UTC", release_to=allowed, payload=payload)

    def _session(self, task: ClaimedTask) -> tuple[int, str, str | None]:
        if task.session_id is None:
            raise Dropped("the task names no session")
        with self.database.transaction() as connection:
            found = due_tasks.session_status(connection, task.session_id)
        if found is None:
            raise Dropped("the session no longer exists")
        return task.session_id, found[0], found[1]

    # ------------------------------------------------------------------ kinds

    def follow_up(self, task: ClaimedTask, study: Study, person: EnrolledPerson, now: datetime) -> Outcome:
        self._check_enrolled(person)
        schedule = self._schedule(task, study)
        if schedule is None or task.flow_id is None or (task.study_id, task.flow_id) not in self.studies.published:
            raise Dropped("the schedule or its flow is no longer in the study")
        if schedule.groups and person.group not in schedule.groups:
            raise Dropped(f"the participant is not in {', '.join(schedule.groups)}")
        if started := self._started_before_restart(task, study, person, now):
            return started
        self._check_open(task, now)
        self._check_consented(task, study)
        if held := self._hold_for_earlier_round(task, study, now):
            return held
        if behind := self._hold_behind_earlier(task, study, now):
            return behind
        if deferred := self._defer(task, study, person, now):
            return deferred
        # (a conversation the participant is in holds it too: checked under their lock, bot/starting.py)
        return Outcome("start", start=StartRequest(task, study, person))

    def _started_before_restart(self, task: ClaimedTask, study: Study, person: EnrolledPerson, now: datetime) -> Outcome | None:
        """A dead scheduler's claim: did its start commit? Checked before anything that would give
        the task back (out of hours, held), which forgets the claim: it would then start twice."""
        if task.previous_claim is None:
            return None
        assert task.participant_id is not None and task.study_id is not None and task.flow_id is not None
        with self.database.transaction() as connection:
            session_id = due_tasks.latest_session(connection, task.participant_id, task.study_id, task.flow_id, task.previous_claim)
        if session_id is None:
            return None
        planned = PlannedTask(task.kind, task.participant_id, task.study_id, task.flow_id, task.due_at, task.payload)
        return Outcome("fired", "already started before a restart", after_sending(study, planned, person_of(person), now, session_id))

    def reminder(self, task: ClaimedTask, study: Study, person: EnrolledPerson, now: datetime) -> Outcome:
        self._check_enrolled(person)
        session_id, status, _ = self._session(task)
        if status != "waiting" and status != "snoozed":
            raise Dropped("finished before the reminder" if status == "ended" else f"the session is {status}")
        if status == "snoozed":  # the participant said when to ask again: the snooze does, not a reminder before it
            with self.database.transaction() as connection:
                until = due_tasks.snoozed_until(connection, session_id)
            if until is not None and until > now:
                raise Dropped(f"snoozed until {until:%Y-%m-%d %H:%M} UTC: the snooze asks again then")
        self._check_open(task, now)
        if deferred := self._defer(task, study, person, now):
            return deferred
        return self._resume(task, session_id, Resume("reminder"), now)

    def snooze(self, task: ClaimedTask, study: Study, person: EnrolledPerson, now: datetime) -> Outcome:
        """Ask again: whether the session is still snoozed, by this snooze, is checked by the
        service under the participant's lock (a reply at the same moment wins)."""
        self._check_enrolled(person)
        if task.session_id is None:
            raise Dropped("the task names no session")
        try:
            return self._resume(task, task.session_id, Resume("snooze"), now)
        except Dropped as dropped:
            raise Dropped(self._why_snooze_ended(task.session_id, str(dropped))) from None

    def _why_snooze_ended(self, session_id: int, reason: str) -> str:
        """What ended a snoozed conversation before its snooze, said truly: the follow-up closed,
        another took over, or STOP; ``reason`` (the service's) otherwise."""
        with self.database.transaction() as connection:
            found = repository.get_session(connection, session_id)
        session = found[1] if found is not None else None
        if session is None or session.status == "snoozed":
            return reason
        if session.status == "ended" and session.state.get("outcome") == "closed":
            return "the follow-up closed before the snooze was due: its question was not asked again"
        if session.status == "replaced":
            return "another follow-up took over the conversation before the snooze was due"
        if session.status == "stopped":
            return "the participant sent STOP before the snooze was due"
        return reason

    def timeout(self, task: ClaimedTask, study: Study, person: EnrolledPerson, now: datetime) -> Outcome:
        session_id, status, step = self._session(task)
        wanted = str(task.payload.get("step"))
        if status != "waiting" or step != wanted:
            raise Dropped("the participant answered before the timeout")
        return self._resume(task, session_id, Timeout(wanted), now)

    def _resume(self, task: ClaimedTask, session_id: int, given: Resume | Timeout, now: datetime) -> Outcome:
        if task.previous_claim is not None:
            with self.database.transaction() as connection:
                if isinstance(given, Timeout):
                    already = due_tasks.timed_out_since(connection, session_id, given.step_id, task.previous_claim)
                else:
                    already = due_tasks.sent_since(connection, session_id, "reminder", task.previous_claim)
            if already:
                return Outcome("fired", "already done before a restart")
        try:
            self.service.resume(session_id, given, snooze=task if task.kind == "snooze" else None)
        except NotResumed as moved_past:
            raise Dropped(str(moved_past)) from None
        return Outcome("fired")

    def close(self, task: ClaimedTask, study: Study, person: EnrolledPerson, now: datetime) -> Outcome:
        if task.session_id is None:
            raise Dropped("the task names no session")
        with self.database.transaction() as connection:
            closed = due_tasks.close_session(connection, task.session_id, now)
        return Outcome("fired") if closed else Outcome("dropped", "nothing to close: the session had finished")

    def replan(self, task: ClaimedTask, study: Study, person: EnrolledPerson, now: datetime) -> Outcome:
        """Look again at someone whose schedules waited for a group or a date."""
        self._check_enrolled(person)
        who = person_of(person)
        plan = plan_person(study, who, now)
        check = plan_check(who, plan, now)
        # (plan.flags: a date nobody can read, told to the coordinator once)
        return Outcome("fired", follow_on=[*plan.tasks, *plan.flags, *plan.not_sent, *([check] if check else [])], new_series_only=True)
