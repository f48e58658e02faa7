"""Turning a study's schedule into due tasks for one participant.

Pure: (study, participant, now) in, tasks out; storage/due_tasks.py writes them and
bot/scheduler.py fires them. A schedule says when a flow is sent:

- ``at: 2026-06-01T09:00`` a round opens on a date (naive times are in the study's zone);
  someone who joins later, before it ``closes``, gets it straight away;
- ``after: 28d`` after enrolment, or ``relative_to: participant.discharge_date`` after a date
  the participant gave (a date alone counts from 09:00 that day);
- ``every: 7d`` recurring, counted from enrolment (or the date field).

Whole days are counted on the participant's wall clock (flows/snooze.add_local), so a
follow-up due at 09:00 stays at 09:00 across a daylight-saving change. Each time is then
moved into the schedule's ``window``, out of the study's ``quiet_hours`` and into the
participant's ``contact_hours`` (a field such as ``08:00-18:00`` staff can set), all in the
participant's ``timezone`` field or else the study's. Sending a flow plans its ``reminders``
(only for people who have not finished by then) and its closing time, after which the
round takes no more answers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flows.model import ENROLMENT_WORDS, Schedule, Study, TimeWindow
from flows.snooze import NoAllowedTime, add_local, at_local, next_allowed, zone_of

FOLLOW_UP, REMINDER, CLOSE, PLAN = "follow_up", "reminder", "close", "plan"
"""Task kinds this module plans; the engine adds ``timeout`` and ``snooze``."""
DATE_ANCHOR_TIME = time(9, 0)
PLAN_RETRY = timedelta(hours=1)
"""How often to look again at someone whose group or date a schedule still waits for."""
PLAN_GIVE_UP = timedelta(days=120)
_MONTHS = {name: number for number, names in enumerate(
    [("jan", "january", "ionawr"), ("feb", "february", "chwefror"), ("mar", "march", "mawrth"), ("apr", "april", "ebrill"),
     ("may", "mai"), ("jun", "june", "mehefin"), ("jul", "july", "gorffennaf"), ("aug", "august", "awst"),
     ("sep", "sept", "september", "medi"), ("oct", "october", "hydref"), ("nov", "november", "tachwedd"),
     ("dec", "december", "rhagfyr")], start=1) for name in names}


@dataclass(frozen=True)
class Person:
    """What planning needs to know about one enrolled participant."""

    participant_id: str
    study_id: str
    enrolled_at: datetime
    group: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)

    def zone(self, study: Study) -> ZoneInfo:
        return zone_of(str(self.fields.get("timezone") or ""), study.timezone)

    def contact_hours(self) -> TimeWindow | None:
        """Staff may set the hours they are happy to be messaged, e.g. '08:00-18:00'."""
        value = self.fields.get("contact_hours")
        try:
            return TimeWindow.parse(value) if isinstance(value, str) and value.strip() else None
        except ValueError:
            return None


@dataclass(frozen=True)
class PlannedTask:
    kind: str
    participant_id: str
    study_id: str
    flow_id: str
    due_at: datetime
    payload: dict[str, Any]
    session_id: int | None = None

    @property
    def key(self) -> str:
        return str(self.payload["key"])


@dataclass
class Plan:
    tasks: list[PlannedTask] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    """Schedules that cannot be planned yet (group or date not known), and why."""
    skipped: list[str] = field(default_factory=list)
    """Schedules that do not apply to this participant, and why."""


def schedule_key(index: int, schedule: Schedule, occurrence: int) -> str:
    return f"s{index}:{schedule.flow}:{occurrence}"


def describe_schedule(index: int, schedule: Schedule) -> str:
    when = (f"at {schedule.at:%Y-%m-%d %H:%M}" if schedule.at else
            f"{_span(schedule.after)} after {schedule.relative_to}" if schedule.after is not None else
            f"every {_span(schedule.every)} from {schedule.relative_to}")
    return f"schedule {index + 1} ({schedule.flow}, {when})"


def _span(delta: timedelta | None) -> str:
    if delta is None:
        return ""
    if delta % timedelta(days=1) == timedelta(0):
        return f"{delta.days}d"
    return f"{delta.total_seconds() / 3600:g}h"


# ----------------------------------------------------------------------------- placing a moment


def place(moment: datetime, study: Study, schedule: Schedule | None, person: Person) -> datetime:
    """The first moment at or after ``moment`` the participant may be messaged for ``schedule``.
    Contact hours give way, then quiet hours, if nothing at all is left."""
    zone, window, quiet, contact = person.zone(study), schedule.window if schedule else None, study.quiet_hours, person.contact_hours()
    for rules in ((window, quiet, contact), (window, quiet, None), (window, None, None)):
        try:
            return next_allowed(moment, zone, *rules)
        except NoAllowedTime:
            continue
    return moment.astimezone(UTC)


def participant_date(value: Any, zone: ZoneInfo) -> datetime | None:
    """A date the participant gave ('2026-03-03', '3/3/2026', '3 March 2026') as a moment:
    a date alone is 09:00 that day on their clock. None if it is not a date."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=zone).astimezone(UTC)
    if isinstance(value, date):
        return at_local(value, DATE_ANCHOR_TIME, zone)
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    try:
        moment = datetime.fromisoformat(text)
        if len(text) > 10:
            return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=zone).astimezone(UTC)
        return at_local(moment.date(), DATE_ANCHOR_TIME, zone)
    except ValueError:
        pass
    day = _day_month_year(text)
    return at_local(day, DATE_ANCHOR_TIME, zone) if day else None


def _day_month_year(text: str) -> date | None:
    numeric = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})", text)
    worded = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([a-z]+)\s+(\d{4})", text)
    try:
        if numeric:
            year = int(numeric[3]) + (2000 if len(numeric[3]) == 2 else 0)
            return date(year, int(numeric[2]), int(numeric[1]))
        if worded and worded[2] in _MONTHS:
            return date(int(worded[3]), _MONTHS[worded[2]], int(worded[1]))
    except ValueError:
        return None
    return None


def _anchor(schedule: Schedule, person: Person, study: Study) -> datetime | str:
    """The moment ``after``/``every`` count from, or why it is not known yet."""
    source = schedule.relative_to.strip()
    if source.lower() in ENROLMENT_WORDS:
        return person.enrolled_at
    name = source.removeprefix("participant.")
    value = person.fields.get(name)
    if value is None or value == "":
        return f"waiting for participant.{name}"
    found = participant_date(value, person.zone(study))
    return found if found is not None else f"participant.{name} is not a date"


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
        else:
            plan.tasks.append(found)
    return plan


def occurrence(study: Study, index: int, person: Person, number: int, now: datetime) -> PlannedTask | str:
    """The ``number``-th send of a schedule (0 for an ``at`` round, 1 for the first of the
    others), or why there is none. A recurring schedule skips sends already past their grace."""
    schedule = study.schedule[index]
    zone = person.zone(study)
    if schedule.at is not None:
        due = _study_time(schedule.at, study)
    else:
        anchor = _anchor(schedule, person, study)
        if isinstance(anchor, str):
            return anchor
        if schedule.every is not None:
            behind = (now - schedule.grace - anchor) / schedule.every
            number = max(number, math.ceil(behind)) if behind > 0 else number
            due = add_local(anchor, schedule.every * number, zone)
        else:
            assert schedule.after is not None
            due = add_local(anchor, schedule.after, zone)
    opens = due
    if schedule.at is not None:
        due = max(due, now)  # someone who joins after a round opened gets it straight away
    elif now - due > schedule.grace:
        return f"would have been sent {due:%Y-%m-%d %H:%M} UTC, past the grace of {_span(schedule.grace)}"
    due = place(due, study, schedule, person)
    closes_at = _closes_at(schedule, study, opens if schedule.at is not None else due, zone)
    if closes_at is not None and due >= closes_at:
        return f"closed {closes_at:%Y-%m-%d %H:%M} UTC before it could be sent"
    payload = {
        "key": schedule_key(index, schedule, number), "series": f"s{index}:{schedule.flow}", "schedule": index, "occurrence": number,
        "closes_at": closes_at.isoformat() if closes_at else None, "grace": schedule.grace.total_seconds(),
    }
    return PlannedTask(FOLLOW_UP, person.participant_id, person.study_id, schedule.flow, due, payload)


def after_sending(study: Study, task: PlannedTask, person: Person, sent_at: datetime, session_id: int | None) -> list[PlannedTask]:
    """What sending a scheduled flow sets going: its reminders, its closing and, for a
    recurring schedule, the next send."""
    index, number = int(task.payload["schedule"]), int(task.payload["occurrence"])
    if index >= len(study.schedule):
        return []
    schedule = study.schedule[index]
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
