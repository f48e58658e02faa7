"""Turning a study's schedule into due tasks for one participant.

Pure: (study, participant, now) in, tasks out; storage/due_tasks.py writes them and
bot/scheduler.py fires them. A schedule says when a flow is sent:

- ``at: 2026-06-01T09:00`` a round opens on a date (naive times are in the study's zone);
  someone who joins later, before it ``closes``, gets it straight away (but a Delphi round
  waits for the round before it: :func:`round_hold`);
- ``after: 28d`` after enrolment, or ``relative_to: participant.discharge_date`` after a date
  the participant gave (a date alone counts from 09:00 that day; "yesterday" or "3 days ago"
  from the day the answer was given, ``Person.given_at``);
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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.export import identifying_field
from flows.model import ENROLMENT_WORDS, Flow, Schedule, Study, TimeWindow
from flows.snooze import NoAllowedTime, add_local, at_local, next_allowed, zone_of
from flows.steps.delphi import DelphiStep

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
    [("monday", "mon", "llun"), ("tuesday", "tue", "tues", "mawrth"), ("wednesday", "wed", "mercher"),
     ("thursday", "thu", "thurs", "iau"), ("friday", "fri", "gwener"), ("saturday", "sat", "sadwrn"),
     ("sunday", "sun", "sul")]) for name in names}
_DAYS_BACK = {"today": 0, "heddiw": 0, "yesterday": 1, "ddoe": 1, "day before yesterday": 2, "echdoe": 2,
              "night": 1, "neithiwr": 1, "tomorrow": -1, "yfory": -1, "fory": -1}
"""Days before the answer was given ('night': what is left of 'last night'; tomorrow is -1)."""
_COUNTS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
           "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "un": 1, "dau": 2, "dwy": 2, "tri": 3, "tair": 3,
           "pedwar": 4, "pedair": 4, "pump": 5, "pum": 5, "chwech": 6, "chwe": 6, "saith": 7, "wyth": 8, "naw": 9,
           "deg": 10, "deng": 10}
_UNIT_DAYS = {"day": 1, "days": 1, "diwrnod": 1, "ddiwrnod": 1, "niwrnod": 1, "week": 7, "weeks": 7, "wythnos": 7,
              "wythnosau": 7, "fortnight": 14, "fortnights": 14, "pythefnos": 14}
_AGO = re.compile(rf"(?:(\d{{1,3}}|{'|'.join(_COUNTS)}) )?({'|'.join(_UNIT_DAYS)}) (?:ago|yn ol|n ol|nol)")
"""'3 days ago', 'two weeks ago', 'a fortnight ago', 'tri diwrnod yn ôl', 'wythnos yn ôl'."""
_PART_OF_DAY = re.compile(r"\b(morning|afternoon|evening|bore|prynhawn|pnawn)\b")
"""'yesterday afternoon' is yesterday; 'this morning' (once 'this' is gone) is today."""
_NEXT = ("next", "nesaf", "nesa")
_FILLER = re.compile(r"\b(on|the|of|it was|i left|left|discharged|around|about|approx|roughly|i think|last|this|"
                     r"dydd|ar|y|yr|o|diwethaf|ddiwethaf|dwetha|dwethaf)\b|[,!?\"']|\.$")
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


def schedule_of(study: Study, index: Any, flow_id: str | None) -> tuple[int, Schedule] | None:
    """The schedule a task was planned from, by its index, unless the study's schedule changed
    since (another flow is there now: a process that loaded the study before it was published
    again): then the first that sends the task's flow. None if none does."""
    entries = study.schedule
    if isinstance(index, int) and 0 <= index < len(entries) and flow_id in (None, entries[index].flow):
        return index, entries[index]
    return next(((number, entry) for number, entry in enumerate(entries) if entry.flow == flow_id), None)


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
    """The first moment at or after ``moment`` the participant may be messaged for ``schedule``
    (see :func:`placed` for what gives way when the hours cannot all be met)."""
    return placed(moment, study, schedule, person)[0]


def placed(moment: datetime, study: Study, schedule: Schedule | None, person: Person) -> tuple[datetime, str | None]:
    """:func:`place`, and what had to give way, if anything, said for the coordinator.

    The participant's own ``contact_hours`` win over a schedule's ``window`` that never meets
    them: a night-shift nurse who chose 19:00-07:00 is not messaged at noon because a weekly
    pulse's window is 12:00-14:00. The study's quiet hours always hold ("nothing is sent in
    quiet hours"; the dispatcher holds messages then too): contact hours wholly inside them
    give way to the window and quiet hours."""
    zone, window, quiet, contact = person.zone(study), schedule.window if schedule else None, study.quiet_hours, person.contact_hours()
    tries: list[tuple[tuple[TimeWindow | None, TimeWindow | None, TimeWindow | None], str | None]] = [((window, quiet, contact), None)]
    if contact is not None and window is not None:
        meet = f"never meet the window {window}" if not _meet(window, contact, zone) else \
            f"meet the window {window} only in the quiet hours {quiet}"
        tries.append(((None, quiet, contact), f"contact hours {contact} {meet}: sent in the contact hours"))
    if contact is not None:
        tries.append(((window, quiet, None), f"contact hours {contact} lie wholly in the quiet hours {quiet}: sent "
                      + (f"in the window {window} instead" if window else "outside the quiet hours instead")))
    if window is not None:
        tries.append(((window, None, None), f"the window {window} lies wholly in the quiet hours {quiet}: sent in the window"))
    for rules, note in tries:
        try:
            return next_allowed(moment, zone, *rules), note
        except NoAllowedTime:
            continue
    return moment.astimezone(UTC), None


def _meet(window: TimeWindow, contact: TimeWindow, zone: ZoneInfo) -> bool:
    try:
        next_allowed(datetime(2026, 1, 15, tzinfo=UTC), zone, window, None, contact)
    except NoAllowedTime:
        return False
    return True


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
    text = _ORDINAL.sub(r"\1", _FILLER.sub(" ", text.strip().lower().replace("ô", "o")))
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
    """'today', 'yesterday (afternoon)', 'last night', '3 days ago', 'two weeks ago', '(last)
    tuesday', 'next tuesday', 'tomorrow', and in Welsh 'ddoe', 'tri diwrnod yn ôl', 'wythnos yn
    ôl', 'dydd Mawrth diwethaf', counted from the day the answer was given; None without it."""
    if given_on is None:
        return None
    if text not in _DAYS_BACK and _PART_OF_DAY.search(text):
        text = re.sub(r"\s+", " ", _PART_OF_DAY.sub(" ", text)).strip() or "today"
    if text in _DAYS_BACK:
        return given_on - timedelta(days=_DAYS_BACK[text])
    ago = _AGO.fullmatch(text)
    if ago and (ago[1] or ago[2] not in ("days", "weeks", "fortnights", "wythnosau")):  # 'days ago' says not how many
        count = int(ago[1]) if ago[1] and ago[1].isdigit() else _COUNTS.get(ago[1] or "a", 1)
        return given_on - timedelta(days=count * _UNIT_DAYS[ago[2]])
    words = text.split()
    ahead = bool(words) and (words[0] in _NEXT or words[-1] in _NEXT)
    day = " ".join(word for word in words if word not in _NEXT)
    if day not in _WEEKDAYS:
        return None
    if ahead:  # 'next tuesday': the first one after that day
        return given_on + timedelta(days=(_WEEKDAYS[day] - given_on.weekday()) % 7 or 7)
    back = (given_on.weekday() - _WEEKDAYS[day]) % 7 or 7  # 'last tuesday', 'on tuesday': the latest one before
    return given_on - timedelta(days=back)


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
    The flag names the command that corrects it (which also closes the flag)."""
    fix = f"chorus participant set {person.participant_id} {name} YYYY-MM-DD --study {person.study_id}"
    payload = {"key": f"unreadable {why}",
               "flag": f"{why}; no follow-up is planned until it is corrected: ask them, then run `{fix}`"}
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
    return plan


def occurrence(study: Study, index: int, person: Person, number: int, now: datetime,
               not_before: datetime | None = None) -> PlannedTask | str:
    """The ``number``-th send of a schedule (0 for an ``at`` round, 1 for the first of the
    others), or why there is none. A recurring schedule skips sends already past their grace.
    With ``not_before`` (a changed schedule re-planning someone already enrolled) a time that
    has passed is that moment instead: they were not due it under the plan they were on."""
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
    elif not_before is not None:
        due = max(due, not_before)
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


# ----------------------------------------------------------------------------- Delphi rounds in order

ROUND_CHECK = timedelta(minutes=30)
"""How often a round held for the one before looks again: it follows soon after that one ends."""
ROUND_WAIT = timedelta(days=2)
"""How long a round waits for a participant still answering the one before (at least)."""


@dataclass(frozen=True)
class RoundBefore:
    """The earlier round of a Delphi that a flow's round must follow, and the flows that carry it."""

    delphi: str
    round: int
    before: int
    flows: tuple[str, ...]

    def describe(self) -> str:
        return f"round {self.before} of Delphi '{self.delphi}'"


@dataclass(frozen=True)
class RoundSent:
    """When a flow carrying the earlier round was started for the participant, and whether
    they are still answering it (its session waiting or snoozed)."""

    flow_id: str
    sent_at: datetime
    live: bool


def rounds_before(flows: Mapping[str, Flow], flow_id: str) -> list[RoundBefore]:
    """For each Delphi round in ``flow_id`` after the first, the latest earlier round of that
    Delphi carried by other flows of the study (rounds may skip numbers)."""
    carried: dict[str, dict[int, set[str]]] = {}
    for name, flow in flows.items():
        for step in flow.steps:
            if isinstance(step, DelphiStep):
                carried.setdefault(step.delphi_id, {}).setdefault(step.round, set()).add(name)
    found: dict[str, RoundBefore] = {}
    this = flows.get(flow_id)
    for step in this.steps if this is not None else []:
        if not isinstance(step, DelphiStep) or step.delphi_id in found:
            continue
        earlier = [number for number in carried[step.delphi_id] if number < step.round]
        others = carried[step.delphi_id][max(earlier)] - {flow_id} if earlier else set()
        if others:
            found[step.delphi_id] = RoundBefore(step.delphi_id, step.round, max(earlier), tuple(sorted(others)))
    return list(found.values())


def round_wait(study: Study, flows: Iterable[str]) -> timedelta:
    """How long a participant still answering a round keeps the next one waiting: two days,
    or a day after the round's last reminder when that is later."""
    names = set(flows)
    reminded = [max(entry.reminders) + timedelta(days=1) for entry in study.schedule if entry.flow in names and entry.reminders]
    return max([ROUND_WAIT, *reminded])


def round_to_come(before: RoundBefore, pending: Iterable[tuple[str, str | None, datetime, Mapping[str, Any]]]) -> datetime | None:
    """When a flow carrying the round before is still to be sent to the participant: the
    earliest of its follow-ups not sent yet, and of re-checks of their plan while its
    schedule waits for their group or a date (``pending``: (kind, flow, due, payload))."""
    labels = tuple(f"({flow}, " for flow in before.flows)
    times = [due for kind, flow_id, due, payload in pending
             if (kind == FOLLOW_UP and flow_id in before.flows)
             or (kind == PLAN and any(label in str(note) for note in payload.get("waiting", []) for label in labels))]
    return min(times, default=None)


def round_hold(before: RoundBefore, sent: RoundSent | None, pending: datetime | None, wait: timedelta,
               now: datetime) -> datetime | str | None:
    """Whether a round may be sent now (None), must wait until a moment to look again, or
    can never be (why). A round follows the one before once that was sent and is over for
    the participant (finished, stopped, closed) or ``wait`` after it was sent; while the round
    before is still to be sent (``pending``: when it is due, or a re-check of the
    participant's plan) it waits for it."""
    if sent is not None:
        until = sent.sent_at + wait
        if not sent.live or now >= until:
            return None
        return min(until, now + ROUND_CHECK)
    if pending is not None:
        return max(pending, now + ROUND_CHECK)
    return f"{before.describe()} was never sent to them, so round {before.round} is not sent either"


# ----------------------------------------------------------------------------- a conversation in progress

CONVERSATION_IDLE = timedelta(hours=3)
"""How long a conversation keeps a follow-up waiting after the participant's last reply (or the
question's last asking): longer, and they are taken to have left it."""
CONVERSATION_CHECK = timedelta(minutes=5)
"""How often a follow-up held for a conversation looks again: it follows soon after that ends."""


@dataclass(frozen=True)
class Conversation:
    """A conversation the participant is in: a session waiting for their reply, or snoozed."""

    flow_id: str
    last_active: datetime
    """When it was started, answered or asked again."""
    comes_back: datetime | None = None
    """Snoozed: when the snooze asks the question again."""
    step_timeout: timedelta | None = None
    """The waiting step's own ``timeout``: how long the flow itself waits for this answer."""

    def idle_after(self) -> timedelta:
        """Three hours without a reply, or the step's own ``timeout`` when longer (at most
        ``ROUND_WAIT``, two days: as long as a Delphi round waits for the one before)."""
        return max(CONVERSATION_IDLE, min(self.step_timeout or CONVERSATION_IDLE, ROUND_WAIT))

    def describe(self) -> str:
        if self.comes_back is not None:
            return (f"waits for the conversation in {self.flow_id}, snoozed until {self.comes_back:%Y-%m-%d %H:%M} UTC, to end,"
                    f" or to go {_span(self.idle_after())} without a reply after that")
        return f"waits for the conversation in {self.flow_id} to end, or to go {_span(self.idle_after())} without a reply"


def describe_idle() -> str:
    """How long a conversation keeps a follow-up waiting, as ``chorus schedule plan`` says it."""
    return f"or has gone {_span(CONVERSATION_IDLE)} without a reply"


def conversation_hold(conversations: Iterable[Conversation], now: datetime) -> tuple[datetime, Conversation] | None:
    """When to look again at a follow-up due now for a participant in the middle of a
    conversation (None: send it). Starting it would replace that conversation, and their next
    reply, meant for its question, would be taken by the follow-up. It waits until the
    conversation ends or goes idle (:meth:`Conversation.idle_after` since it was last active;
    a snoozed one counts from when the snooze asks again), looking again every
    ``CONVERSATION_CHECK``."""
    holding = []
    for conversation in conversations:
        active = max(conversation.last_active, conversation.comes_back or conversation.last_active)
        until = active + conversation.idle_after()
        if now < until:
            holding.append((min(until, now + CONVERSATION_CHECK), conversation))
    return max(holding, key=lambda held: held[0], default=None)


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
