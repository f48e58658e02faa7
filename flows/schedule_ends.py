"""Where a repeating schedule stops: ``times`` (how many sends in all) and ``until`` (a date,
a date and time, or a span after what ``every`` counts from).

Pure, and shared: bot/planning.py plans no send past the end, bot/planned_tasks.py names
the end when it describes a schedule, and flows/schedule_checks.py warns before launch of an
``until:`` date already past. Sends are numbered from 1 (the first, one ``every`` after the
anchor, or ``after`` it when the series starts later); a send falls inside ``until`` when the time it falls due, before it is moved into
the schedule's window or out of the quiet hours, is not after it. So ``every: 7d`` with
``until: 12w`` sends 12 times, as ``times: 12`` does.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flows.model import Schedule
from flows.schedule_timing import say_span
from flows.snooze import add_local


def last_due(schedule: Schedule, anchor: datetime, study_zone: ZoneInfo, zone: ZoneInfo) -> datetime | None:
    """The latest moment a send of ``schedule`` may fall due (None: ``until`` is not set). A
    span counts from ``anchor`` on the participant's wall clock (``zone``); a date or a naive
    date and time is in the study's zone, a date lasting the whole day."""
    until = schedule.until
    if until is None:
        return None
    if isinstance(until, timedelta):
        return add_local(anchor, until, zone)
    if isinstance(until, datetime):
        return until.astimezone(UTC) if until.tzinfo else until.replace(tzinfo=study_zone).astimezone(UTC)
    return datetime.combine(until, time.max, tzinfo=study_zone).astimezone(UTC)


def series_ended(schedule: Schedule, number: int, due: datetime, anchor: datetime, study_zone: ZoneInfo,
                 zone: ZoneInfo) -> str | None:
    """Why the ``number``-th send of a repeating schedule, due at ``due``, is not made (its
    ``times`` are done, or it would fall due after ``until``); None when it is made."""
    if schedule.every is None:
        return None
    if schedule.times is not None and number > schedule.times:
        return f"ended after {schedule.times} send{'' if schedule.times == 1 else 's'} (times: {schedule.times})"
    limit = last_due(schedule, anchor, study_zone, zone)
    if limit is not None and due > limit:
        return f"ended: it repeats only {describe_end(schedule)}"
    return None


def describe_end(schedule: Schedule) -> str:
    """``until`` as it is said: "until 2026-03-31", "for 12 weeks after enrolment"; "" without it."""
    until = schedule.until
    if until is None:
        return ""
    if isinstance(until, timedelta):
        return f"for {say_span(until)} after {schedule.relative_to}"
    return f"until {until:%Y-%m-%d %H:%M}" if isinstance(until, datetime) else f"until {until:%Y-%m-%d}"


def said_ending(schedule: Schedule) -> str:
    """How a repeating schedule ends, to follow its description: ", 6 times", ", for 12 weeks",
    ", until 2026-03-31"."""
    parts = [f"{schedule.times} time{'' if schedule.times == 1 else 's'}"] if schedule.times is not None else []
    if isinstance(schedule.until, timedelta):
        parts.append(f"for {say_span(schedule.until)}")
    elif schedule.until is not None:
        parts.append(describe_end(schedule))
    return "".join(f", {part}" for part in parts)



def until_passes(schedule: Schedule, study_zone: ZoneInfo) -> datetime | None:
    """When an ``until:`` date (or date and time) passes: None for a span or no ``until``."""
    if schedule.until is None or isinstance(schedule.until, timedelta):
        return None
    return last_due(schedule, datetime.now(UTC), study_zone, study_zone)
