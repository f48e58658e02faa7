"""``chorus validate``: a follow-up whose fixed close comes before it is due for some people.

A schedule counted from enrolment (or a date the participant gives) with a fixed ``closes:``
date, or a repeating one with an ``until:`` date, is never sent to anyone whose first send
would fall due after that date: people who join (or whose date is) later than the close less
``after`` (or one ``every``). Planning records them as "closed before due"
(bot/planning_not_sent.py) and the evaluation counts them; this warns before launch, naming
the last day to join, or saying nobody joining from now on will be sent it.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flows.loader import Marks, Problem
from flows.model import Schedule, Study
from flows.schedule_checks import schedule_place
from flows.schedule_ends import describe_end, until_passes
from flows.schedule_timing import say_span


def _fixed_close(entry: Schedule, zone: ZoneInfo) -> tuple[str, datetime] | None:
    """The earliest fixed date after which no send of ``entry`` is made, and its key."""
    found: list[tuple[datetime, str]] = []
    if isinstance(entry.closes, datetime):
        closes = entry.closes if entry.closes.tzinfo else entry.closes.replace(tzinfo=zone)
        found.append((closes, "closes"))
    ends = until_passes(entry, zone) if entry.every is not None else None
    if ends is not None:
        found.append((ends, "until"))
    if not found:
        return None
    moment, key = min(found)
    return key, moment


def closes_before_due(study: Study, marks: Marks, now: datetime) -> list[Problem]:
    """Warnings of a schedule whose fixed close or end comes before its first send for people
    who join (or whose date is) after a day it names, or for everyone joining from now on."""
    zone = ZoneInfo(study.timezone)
    problems = []
    for index, entry in enumerate(study.schedule):
        found = _fixed_close(entry, zone) if entry.at is None else None
        if found is None or found[1] <= now:  # (a date already past is warned of by past_times)
            continue
        key, moment = found
        last = moment - entry.first_send()
        field = entry.anchor_field()
        said = f"closes {moment:%Y-%m-%d %H:%M}" if key == "closes" else f"repeats {describe_end(entry)}"
        first = f"its first send is {say_span(entry.first_send())} after {entry.relative_to}"
        who = "who joins" if field is None else f"whose {field} is"
        whom = (f"anyone {who} after {last:%Y-%m-%d %H:%M} will never be sent it" if last > now
                else f"nobody {who} {'from now on' if field is None else 'today or later'} will be sent it")
        problems.append(marks.problem(
            marks.value(schedule_place(index, key)),
            f"the flow '{entry.flow}' {said}, but {first}: {whom} "
            "(counted as 'not sent: closed before due' in the evaluation)",
            f"give a later '{key}', or a close counted from each send (e.g. 'closes: 7d'), if they should have it",
            "warning"))
    return problems
