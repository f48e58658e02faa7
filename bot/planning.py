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
NOT_A_DATE = "is not a date"
PLAN_RETRY = timedelta(hours=1)
"""How often to look again at someone whose group or date a schedule still waits for."""
PLAN_GIVE_UP = timedelta(days=120)
_MONTHS = {name: number for number, names in enumerate(
    [("jan", "january", "ionawr"), ("feb", "february", "chwefror"), ("mar", "march", "mawrth"), ("apr", "april", "ebrill"),
     ("may", "mai"), ("jun", "june", "mehefin"), ("jul", "july", "gorffennaf"), ("aug", "august", "awst"),
     ("sep", "sept", "september", "medi"), ("oct", "october", "hydref"), ("nov", "november", "tachwedd"),
     ("dec", "december", "rhagfyr")], start=1) for name in names}
_WEEKDAYS = {name: number for number, names in enumerate(
    [("monday", "mon"), ("tuesday", "tue", "tues"), ("wednesday", "wed"), ("thursday", "thu", "thurs"),
     ("friday", "fri"), ("saturday", "sat"), ("sunday", "sun")]) for name in names}
_DAYS_BACK = {"today": 0, "heddiw": 0, "yesterday": 1, "ddoe": 1, "day before yesterday": 2, "echdoe": 2}
_FILLER = re.compile(r"\b(on|the|of|it was|i left|left|discharged|around|about|approx|roughly|i think|last|this|"
                     r"dydd|ar|y|yr|o)\b|[,!?\"']|\.$")
_ORDINAL = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th|af|ed|ain|fed)\b")


@dataclass(frozen=True)
class Person:
    """What planning needs to know about one enrolled participant."""

    participant_id: str
    study_id: str
    enrolled_at: datetime
    group: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    given_at: Mapping[str, datetime] = field(default_factory=dict)
    """When each field was given, where known: 'yesterday' counts back from it."""

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
    flags: list[PlannedTask] = field(default_factory=list)
    """Done tasks that raise a flag for the coordinator when written (storage/due_tasks.add):
    a date the participant gave that cannot be read, so its follow-up is never planned."""


def schedule_key(index: int, schedule: Schedule, occurrence: int) -> str:
    return f"s{index}:{schedule.flow}:{occurrence}"


def describe_schedule(index: int, schedule: Schedule) -> str:
    when = (f"at {schedule.at:%Y-%m-%d %H:%M}" if schedule.at else
            f"{_span(schedule.after)} after {schedule.relative_to}" if schedule.after is not None else
            f"every {_span(schedule.every)} from {schedule.relative_to}")
    return f"schedule {index + 1} ({schedule.flow}, {when})"


def _span(delta: timedelta | None) -> str:
    """A duration as it is said: "1 minute", "2 hours 30 minutes", "28 days", "6 weeks".
    Whole weeks are named as weeks only beyond 28 days (a 7-, 14- or 28-day follow-up is
    said in days); anything else in days, hours, minutes and seconds, the largest first."""

    def count(number: int, unit: str) -> str:
        return f"{number} {unit}{'' if number == 1 else 's'}"

    if delta is None:
        return ""
    days = delta.days
    if days > 28 and days % 7 == 0 and delta == timedelta(days=days):
        return count(days // 7, "week")
    seconds = delta.seconds
    parts = [(days, "day"), (seconds // 3600, "hour"), (seconds % 3600 // 60, "minute"), (seconds % 60, "second")]
    said = " ".join(count(number, unit) for number, unit in parts if number)
    return said or "no time"


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


def participant_date(value: Any, zone: ZoneInfo, given_at: datetime | None = None,
                     near: datetime | None = None) -> datetime | None:
    """A date the participant gave ('2026-03-03', '3/3/2026', 'on 24 Nov 2026.', '24 Tachwedd')
    as a moment: a date alone is 09:00 that day on their clock. Day first, as in the UK, unless
    only month first is a date ('11/24/2026'). A date without a year is the one nearest
    ``near`` (else ``given_at``); 'yesterday' or 'last tuesday' count back from ``given_at``,
    and are not read without it. None if it is not a date."""
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
    given_on = given_at.astimezone(zone).date() if given_at else None
    near_on = near.astimezone(zone).date() if near else given_on
    day = _day_month_year(_plain(text), near_on) or _relative_day(_plain(text), given_on)
    return at_local(day, DATE_ANCHOR_TIME, zone) if day else None


def _plain(text: str) -> str:
    """The words of a date alone: no filler ('on', 'it was'), punctuation or ordinals ('24th')."""
    text = _ORDINAL.sub(r"\1", _FILLER.sub(" ", text.strip().lower()))
    return re.sub(r"\s+", " ", text).strip()


def _day_month_year(text: str, near: date | None) -> date | None:
    """A date written with numbers ('24/11/2026', '11/24/26', '24.11') or a month's name in
    English or Welsh ('24 Nov 2026', 'November 24', '24 Tachwedd'), anywhere in ``text``."""
    numeric = re.search(r"\b(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}|\d{2}))?\b", text)
    worded = (re.search(r"\b(\d{1,2}) ([a-z]+)(?: (\d{4}))?\b", text)
              or re.search(r"\b([a-z]+) (\d{1,2})(?: (\d{4}))?\b", text))
    if numeric:
        day, month = int(numeric[1]), int(numeric[2])
        if month > 12 >= day:  # 11/24/2026: only month first is a date
            day, month = month, day
        return _dated(numeric[3], month, day, near)
    if worded:
        number, name = (worded[1], worded[2]) if worded[1].isdigit() else (worded[2], worded[1])
        if name in _MONTHS:
            return _dated(worded[3], _MONTHS[name], int(number), near)
    return None


def _dated(year: str | None, month: int, day: int, near: date | None) -> date | None:
    """The date, or None; without a year, the one nearest ``near`` (None without ``near``)."""
    try:
        if year:
            return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
        if near is None:
            return None
        candidates = [date(near.year + step, month, day) for step in (-1, 0, 1)]
    except ValueError:
        return None
    return min(candidates, key=lambda candidate: abs(candidate - near))


def _relative_day(text: str, given_on: date | None) -> date | None:
    """'today', 'yesterday', '3 days ago', '(last) tuesday', 'ddoe' counted back from the day
    the answer was given; None without that day."""
    if given_on is None:
        return None
    if text in _DAYS_BACK:
        return given_on - timedelta(days=_DAYS_BACK[text])
    ago = re.fullmatch(r"(\d{1,2}|a|one|two|three) (day|days|week|weeks) ago", text)
    if ago:
        count = {"a": 1, "one": 1, "two": 2, "three": 3}.get(ago[1]) or int(ago[1])
        return given_on - timedelta(days=count * (7 if ago[2].startswith("week") else 1))
    if text in _WEEKDAYS:  # 'last tuesday', 'on tuesday': the latest one before that day
        back = (given_on.weekday() - _WEEKDAYS[text]) % 7 or 7
        return given_on - timedelta(days=back)
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
    found = participant_date(value, person.zone(study), person.given_at.get(name), person.enrolled_at)
    return found if found is not None else f"participant.{name} {NOT_A_DATE}: {str(value)[:40]!r}"


def _unreadable_date(person: Person, why: str, now: datetime) -> PlannedTask:
    """A done task that raises a flag for the coordinator (storage/due_tasks.add), once per
    schedule and answer: a date nobody can read would otherwise mean no follow-up, unnoticed."""
    payload = {"key": f"unreadable {why}", "flag": f"{why}; no follow-up is planned until it is corrected"}
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
                plan.flags.append(_unreadable_date(person, f"{label}: {found}", now))
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
