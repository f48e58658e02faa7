"""START after STOP sends again what the pause dropped, from now on.

While someone is opted out, each follow-up that falls due is dropped ("the participant opted
out", bot/firing.py), and a repeating schedule plans its next send only when one is sent or
missed: so one STOP during a weekly pulse used to end the pulse for good, and a follow-up that
a publication re-timed to after their START was dropped at its old time. On START (or the
join keyword) each of the participant's schedules whose latest follow-up was dropped because
they had opted out, with nothing else to come, is planned again from that send: a repeating
one goes on with its next send not past its ``grace`` (the sends missed meanwhile still count
towards ``times``, and each is recorded as skipped, bot/planning_not_sent.py, so the evaluation
counts it week by week), a one-off goes if its time (by the schedule as published now) is still
to come or within its grace. Nothing already sent is sent again."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection

from bot.corrections import planning_person
from bot.firing import task_row
from bot.planning import FOLLOW_UP, Person, PlannedTask, occurrence, schedule_of
from bot.planning_not_sent import SKIPPED_OPTED_OUT, not_sent_record
from bot.series_resumed import fresh_keys
from bot.studies import StudyRegistry
from flows.model import Study
from storage import due_tasks, repository
from storage.due_tasks import ScheduledTask

OPTED_OUT = "dropped: the participant opted out"
"""How firing marks a follow-up that fell due while its participant had opted out."""


def resume_after_opt_in(connection: Connection, studies: StudyRegistry, participant_id: str, now: datetime) -> int:
    """Plan again, in each study the participant is in, the follow-ups their opt-out dropped;
    returns how many were planned."""
    planned: list[PlannedTask] = []
    for enrolment in repository.enrolments_of(connection, participant_id):
        if enrolment.opted_out or enrolment.study_id not in studies:
            continue
        study = studies.get(enrolment.study_id).study
        person, reachable = planning_person(connection, study, participant_id)
        if not reachable:
            continue
        mine = [t for t in due_tasks.scheduled_tasks_of(connection, participant_id, study.study) if t.kind == FOLLOW_UP]
        for index, last in _dropped_last(mine).items():
            entry = schedule_of(study, index, last.flow_id)
            if entry is None or (entry[1].groups and person.group not in entry[1].groups):
                continue
            found = occurrence(study, entry[0], person, int(last.payload.get("occurrence") or 0), now)
            if isinstance(found, PlannedTask):
                planned += [*skipped_weeks(study, entry[0], person, last, found), found]
    if not planned:
        return 0
    fresh_keys(planned, due_tasks.existing_keys(connection, {(t.participant_id, t.study_id) for t in planned}), now)
    return due_tasks.add(connection, [task_row(task) for task in planned], now)


def skipped_weeks(study: Study, index: int, person: Person, last: ScheduledTask, going: PlannedTask) -> list[PlannedTask]:
    """The sends of a repeating schedule between the one the opt-out dropped and the one it goes
    on with, each recorded as skipped while they had opted out, at the time it fell due."""
    first, resumed = int(last.payload.get("occurrence") or 0) + 1, int(going.payload.get("occurrence") or 0)
    weeks = [occurrence(study, index, person, number, last.due_at) for number in range(first, resumed)]
    return [not_sent_record(study, index, person.participant_id, int(week.payload["occurrence"]), SKIPPED_OPTED_OUT, week.due_at)
            for week in weeks if isinstance(week, PlannedTask)]


def _dropped_last(tasks: Sequence[ScheduledTask]) -> dict[int, ScheduledTask]:
    """Per schedule: its latest follow-up, where that was dropped for the opt-out and none is to come."""
    latest: dict[int, ScheduledTask] = {}
    going: set[int] = set()
    for task in tasks:
        index = task.payload.get("schedule")
        if not isinstance(index, int):
            continue
        if not task.done:
            going.add(index)
        latest[index] = task
    return {index: task for index, task in latest.items()
            if index not in going and (task.error or "").startswith(OPTED_OUT)}
