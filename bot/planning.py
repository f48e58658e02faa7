"""Turning a study's schedule into due tasks for one participant.

Pure: (study, participant, now) in, tasks out; storage/due_tasks.py writes them and
bot/scheduler.py fires them. A schedule says when a flow is sent:

- ``at: 2026-06-01T09:00`` a round opens on a date (naive times are in the study's zone);
  someone who joins later, before it ``closes``, gets it straight away (but a Delphi round
  waits for the round before it: :func:`round_hold`);
- ``after: 28d`` after enrolment, or ``relative_to: participant.discharge_date`` after a date
  the participant gave (a date alone counts from 09:00 that day; "yesterday" or "3 days ago"
  from the day the answer was given, ``Person.given_at``);
- ``every: 7d`` recurring, counted from enrolment (or the date field), until its ``times``
  are done or past its ``until`` (flows/schedule_ends.py), else for as long as the study runs;
  with ``after: 21d`` too the first send is 21 days in and the rest a week apart.

Whole days are counted on the participant's wall clock (flows/snooze.add_local), so a
follow-up due at 09:00 stays at 09:00 across a daylight-saving change. Each time is then
moved into the schedule's ``window``, out of the study's ``quiet_hours`` and into the
participant's ``contact_hours`` (a field such as ``08:00-18:00`` staff can set), all in the
participant's ``timezone`` field or else the study's. Sending a flow plans its ``reminders``
(only for people who have not finished by then) and its closing time, after which the
round takes no more answers.

This module plans and re-plans; what it plans with is in bot/planned_tasks.py (Person,
PlannedTask, Plan), dates participants give are read by bot/planning_dates.py, what holds a
due follow-up back (a Delphi round before, a conversation in progress) is decided by
bot/planning_holds.py, and the hours of the day by flows/schedule_timing.py. Their names
are imported from here too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.export import identifying_field
from bot.planned_tasks import (
    CLOSE,
    FOLLOW_UP,
    PLAN,
    REMINDER,
    Person,
    Plan,
    PlannedTask,
    describe_schedule,
    schedule_key,
    schedule_of,
)
from bot.planning_dates import DATE_ANCHOR_TIME, participant_date
from bot.planning_holds import (
    CONVERSATION_CHECK,
    CONVERSATION_IDLE,
    ROUND_CHECK,
    ROUND_WAIT,
    Conversation,
    RoundBefore,
    RoundSent,
    conversation_hold,
    describe_idle,
    round_hold,
    round_to_come,
    round_wait,
    rounds_before,
)
from bot.planning_not_sent import CLOSED_BEFORE_DUE, ClosedBeforeDue, not_sent_record
from flows.model import ENROLMENT_WORDS, Schedule, Study
from flows.schedule_ends import series_ended
from flows.schedule_timing import place_in_hours, say_span
from flows.snooze import add_local

__all__ = [
    "CLOSE", "CONVERSATION_CHECK", "CONVERSATION_IDLE", "DATE_ANCHOR_TIME", "FOLLOW_UP", "NOT_A_DATE", "PLAN",
    "PLAN_GIVE_UP", "PLAN_RETRY", "REMINDER", "ROUND_CHECK", "ROUND_WAIT", "Conversation", "Person", "Plan",
    "PlannedTask", "RoundBefore", "RoundSent", "after_sending", "anchor_steps", "conversation_hold",
    "describe_idle", "describe_schedule", "match_schedules", "moved_payload", "occurrence", "participant_date",
    "place", "placed", "placing_notes", "plan_check", "plan_person", "reclosed", "replanned", "round_hold",
    "round_to_come", "round_wait", "rounds_before", "schedule_key", "schedule_of",
]

NOT_A_DATE = "is not a date"
PLAN_RETRY = timedelta(hours=1)
"""How often to look again at someone whose group or date a schedule still waits for."""
PLAN_GIVE_UP = timedelta(days=120)

# ----------------------------------------------------------------------------- placing a moment


def place(moment: datetime, study: Study, schedule: Schedule | None, person: Person) -> datetime:
    """The first moment at or after ``moment`` the participant may be messaged for ``schedule``
    (see :func:`placed` for what gives way when the hours cannot all be met)."""
    return placed(moment, study, schedule, person)[0]


def placed(moment: datetime, study: Study, schedule: Schedule | None, person: Person) -> tuple[datetime, str | None]:
    """:func:`place`, and what had to give way, if anything, said for the coordinator.

    The participant's own ``contact_hours`` win over a schedule's ``window`` that never meets
    them: a night-shift nurse who chose 19:00-07:00 is not messaged at noon because a weekly
    pulse's window is 12:00-14:00. The study's quiet hours always hold ("nothing is sent in
    quiet hours"; the dispatcher holds messages then too): contact hours wholly inside them
    give way to the window and quiet hours (flows/schedule_timing.place_in_hours)."""
    window = schedule.window if schedule else None
    return place_in_hours(moment, person.zone(study), window, study.quiet_hours, person.contact_hours())


def placing_notes(study: Study, person: Person, now: datetime) -> list[str]:
    """For each schedule that applies to ``person``, what gives way when their hours cannot all
    be met (contact hours and a window that never meet, say): shown by ``chorus schedule``."""
    notes = []
    for index, schedule in enumerate(study.schedule):
        if schedule.groups and person.group not in schedule.groups:
            continue
        note = placed(now, study, schedule, person)[1]
        if note is not None:
            notes.append(f"{describe_schedule(index, schedule)}: {note}")
    return notes


# ----------------------------------------------------------------------------- when a schedule falls due


def _anchor(schedule: Schedule, person: Person, study: Study) -> datetime | str:
    """The moment ``after``/``every`` count from, or why it is not known yet."""
    source = schedule.relative_to.strip()
    if source.lower() in ENROLMENT_WORDS:
        return person.enrolled_at
    name = source.removeprefix("participant.")
    value = person.fields.get(name)
    if value is None or value == "":
        return f"waiting for participant.{name}"
    found = participant_date(value, person.zone(study), person.given_at.get(name), person.enrolled_at)
    if found is not None:
        return found
    written = "(withheld: the field identifies someone)" if identifying_field(name) else repr(str(value)[:40])
    return f"participant.{name} {NOT_A_DATE}: {written}"


def _unreadable_date(person: Person, why: str, now: datetime, name: str | None) -> PlannedTask:
    """A done task that raises a flag for the coordinator (storage/due_tasks.add), once per
    schedule and answer: a date nobody can read would otherwise mean no follow-up, unnoticed.
    The flag says where to correct it: the desk's participant page, or the command (either
    closes the flag)."""
    fix = f"chorus participant set {person.participant_id} {name} YYYY-MM-DD --study {person.study_id}"
    payload = {"key": f"unreadable {why}",
               "flag": f"{why}; no follow-up is planned until it is corrected: ask them, then correct it on their"
                       f" page of the desk (Participants) or run `{fix}`"}
    return PlannedTask(PLAN, person.participant_id, person.study_id, "", now, payload)


def _study_time(moment: datetime, study: Study) -> datetime:
    """A datetime from the study file: naive means the study's own zone."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(study.timezone)).astimezone(UTC)


def _closes_at(schedule: Schedule, study: Study, due: datetime, zone: ZoneInfo) -> datetime | None:
    if schedule.closes is None:
        return None
    if isinstance(schedule.closes, timedelta):
        return add_local(due, schedule.closes, zone)
    return _study_time(schedule.closes, study)


# ----------------------------------------------------------------------------- planning


def plan_person(study: Study, person: Person, now: datetime) -> Plan:
    """The first send of every schedule that applies to ``person``."""
    plan = Plan()
    for index, schedule in enumerate(study.schedule):
        label = describe_schedule(index, schedule)
        if schedule.groups:
            if person.group is None:
                plan.waiting.append(f"{label}: waiting for the participant's group")
                continue
            if person.group not in schedule.groups:
                plan.skipped.append(f"{label}: only for {', '.join(schedule.groups)}")
                continue
        found = occurrence(study, index, person, 1 if schedule.at is None else 0, now)
        if isinstance(found, str):
            (plan.waiting if found.startswith("waiting") else plan.skipped).append(f"{label}: {found}")
            if NOT_A_DATE in found:
                plan.flags.append(_unreadable_date(person, f"{label}: {found}", now, schedule.anchor_field()))
        else:
            plan.tasks.append(found)
        if isinstance(found, ClosedBeforeDue):
            why = f"{CLOSED_BEFORE_DUE}: {found}"
            plan.not_sent.append(not_sent_record(study, index, person.participant_id, 1 if schedule.at is None else 0, why, found.due))
    return plan


def occurrence(study: Study, index: int, person: Person, number: int, now: datetime,
               not_before: datetime | None = None) -> PlannedTask | str:
    """The ``number``-th send of a schedule (0 for an ``at`` round, 1 for the first of the
    others), or why there is none. A recurring schedule skips sends already past their grace.
    With ``not_before`` (a changed schedule re-planning someone already enrolled) a time that
    has passed is that moment instead: they were not due it under the plan they were on."""
    schedule = study.schedule[index]
    zone = person.zone(study)
    first = number <= 1
    if schedule.at is not None:
        due = _study_time(schedule.at, study)
    else:
        anchor = _anchor(schedule, person, study)
        if isinstance(anchor, str):
            return anchor
        if schedule.every is not None:
            behind = (now - schedule.grace - anchor - schedule.first_send()) / schedule.every + 1
            number = max(number, math.ceil(behind)) if behind > 0 else number
            due = add_local(anchor, schedule.send_after(number), zone)
            ended = series_ended(schedule, number, due, anchor, ZoneInfo(study.timezone), zone)
            if ended is not None:
                by_date = schedule.until is not None and not isinstance(schedule.until, timedelta)
                by_date = by_date and (schedule.times is None or number <= schedule.times)
                return ClosedBeforeDue(ended, due) if first and by_date else ended
        else:
            assert schedule.after is not None
            due = add_local(anchor, schedule.after, zone)
    opens = due
    if schedule.at is not None:
        due = max(due, now)  # someone who joins after a round opened gets it straight away
    elif not_before is not None:
        due = max(due, not_before)
    elif now - due > schedule.grace:
        return f"would have been sent {due:%Y-%m-%d %H:%M} UTC, past the grace of {say_span(schedule.grace)}"
    due = place(due, study, schedule, person)
    closes_at = _closes_at(schedule, study, opens if schedule.at is not None else due, zone)
    if closes_at is not None and due >= closes_at:
        return ClosedBeforeDue(f"closed {closes_at:%Y-%m-%d %H:%M} UTC before it could be sent", due)
    payload = {
        "key": schedule_key(index, schedule, number), "series": f"s{index}:{schedule.flow}", "schedule": index, "occurrence": number,
        "closes_at": closes_at.isoformat() if closes_at else None, "grace": schedule.grace.total_seconds(),
    }
    return PlannedTask(FOLLOW_UP, person.participant_id, person.study_id, schedule.flow, due, payload)


def after_sending(study: Study, task: PlannedTask, person: Person, sent_at: datetime, session_id: int | None) -> list[PlannedTask]:
    """What sending a scheduled flow sets going: its reminders, its closing and, for a
    recurring schedule, the next send."""
    entry = schedule_of(study, task.payload.get("schedule"), task.flow_id)
    if entry is None:
        return []
    (index, schedule), number = entry, int(task.payload["occurrence"])
    closes_raw = task.payload.get("closes_at")
    closes_at = datetime.fromisoformat(closes_raw) if closes_raw else None
    common = {"schedule": index, "occurrence": number, "closes_at": closes_raw, "grace": schedule.grace.total_seconds()}
    found: list[PlannedTask] = []
    for order, delay in enumerate(schedule.reminders, start=1):
        due = place(add_local(sent_at, delay, person.zone(study)), study, schedule, person)
        if closes_at is None or due < closes_at:
            payload = {**common, "key": f"{task.key}:r{order}", "reminder": order}
            found.append(PlannedTask(REMINDER, person.participant_id, task.study_id, task.flow_id, due, payload, session_id))
    if closes_at is not None:
        payload = {**common, "key": f"{task.key}:close"}
        found.append(PlannedTask(CLOSE, person.participant_id, task.study_id, task.flow_id, max(closes_at, sent_at), payload, session_id))
    if schedule.every is not None:
        following = occurrence(study, index, person, number + 1, sent_at)
        if isinstance(following, PlannedTask):
            found.append(following)
    return found


def plan_check(person: Person, plan: Plan, now: datetime) -> PlannedTask | None:
    """A task to look at this participant again while some schedule waits for a group or date."""
    if not plan.waiting or now - person.enrolled_at > PLAN_GIVE_UP:
        return None
    payload = {"key": f"plan@{now.isoformat()}", "waiting": plan.waiting}
    return PlannedTask(PLAN, person.participant_id, person.study_id, "", now + PLAN_RETRY, payload)


def anchor_steps(study: Study, saves: Iterable[tuple[str, str, str | None]]) -> dict[tuple[str, str], str]:
    """The steps (flow, step id) that save a field some schedule counts from, and that field:
    when the answer was given says which day 'yesterday' or '3 days ago' was. ``saves`` is
    every (flow, step id, ``save_to``) of the study."""
    fields = {entry.anchor_field() for entry in study.schedule} - {None}
    found: dict[tuple[str, str], str] = {}
    for flow_id, step_id, save_to in saves:
        name = (save_to or "").removeprefix("participant.")
        if save_to and save_to.startswith("participant.") and name in fields:
            found[(flow_id, step_id)] = name
    return found



# ----------------------------------------------------------------------------- a changed schedule


def match_schedules(old: Sequence[Schedule], new: Sequence[Schedule]) -> dict[int, int]:
    """Which entry of a new schedule each entry of the old one became (old index to new): an
    entry left as it was first, then one sending the same flow, in order. An old entry with
    no match was removed; a new one with none was added."""
    free = list(range(len(new)))
    matched: dict[int, int] = {}
    for same in (lambda a, b: a == b, lambda a, b: a.flow == b.flow):
        for index, entry in enumerate(old):
            if index in matched:
                continue
            found = next((number for number in free if same(entry, new[number])), None)
            if found is not None:
                matched[index] = found
                free.remove(found)
    return matched


def moved_payload(payload: Mapping[str, Any], flow_id: str | None, index: int | None) -> dict[str, Any]:
    """A task's payload after its schedule moved to ``index`` in a new schedule (None: it was
    removed; its keys are renamed so that no schedule added later is taken to be sent)."""
    old = payload.get("schedule")
    moved = {**payload, "schedule": index}
    if old == index or not isinstance(old, int):
        return moved
    before, after = f"s{old}:{flow_id}", f"s{index}:{flow_id}" if index is not None else f"gone{old}:{flow_id}"
    for name in ("key", "series"):
        value = payload.get(name)
        if isinstance(value, str) and (value == before or value.startswith(before + ":")):
            moved[name] = after + value[len(before):]
    return moved


def replanned(study: Study, index: int, number: int, person: Person, now: datetime) -> PlannedTask | str:
    """A follow-up not sent yet, planned again by a changed schedule: when it falls due now,
    or why it no longer will (a closing time passed, a group it is no longer for, a date or
    group still to be given). A time that has passed means as soon as allowed."""
    schedule = study.schedule[index]
    if schedule.groups and person.group not in schedule.groups:
        return "waiting for the participant's group" if person.group is None else f"only for {', '.join(schedule.groups)}"
    first = 0 if schedule.at is not None else max(1, number)
    return occurrence(study, index, person, first, now, not_before=now)


def reclosed(study: Study, index: int, task: PlannedTask, now: datetime) -> tuple[datetime, dict[str, Any]] | str | None:
    """A sent round's pending reminder or closing when its schedule's ``closes`` date changed:
    its new time and payload, why it goes, or None if nothing changes (as when ``closes`` is a
    duration: that counted from a send already made)."""
    closes = study.schedule[index].closes
    if isinstance(closes, timedelta):
        return None
    new = _study_time(closes, study) if closes is not None else None
    if (new.isoformat() if new else None) == task.payload.get("closes_at"):
        return None
    payload = {**task.payload, "closes_at": new.isoformat() if new else None}
    if task.kind == CLOSE:
        return (max(new, now), payload) if new else "the round no longer closes"
    if new is not None and task.due_at >= new:
        return "the round now closes before it"
    return task.due_at, payload
