"""When a scheduled flow may be sent in a day, and durations as they are said.

Pure, and shared by the two sides of the clock: bot/planning.py places each follow-up
it plans in the allowed hours, and flows/timing_checks.py warns before launch of hours
that can never all be met. The rules, all read on the wall clock in one zone:

- a schedule's ``window`` (``09:00-17:00``) says when in the day it may be sent;
- the study's ``quiet_hours`` always hold: nothing is sent in them;
- a participant's ``contact_hours`` win over a window they never meet (a night-shift
  nurse who chose 19:00-07:00 is not messaged at noon because a pulse's window is
  12:00-14:00), but give way to the window when they lie wholly in the quiet hours.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flows.model import TimeWindow
from flows.snooze import NoAllowedTime, next_allowed

Hours = tuple[TimeWindow | None, TimeWindow | None, TimeWindow | None]
"""A window, quiet hours and contact hours, as :func:`flows.snooze.next_allowed` takes them."""
_SAMPLE_DAY = datetime(2026, 1, 15, tzinfo=UTC)
"""Any day will do to ask whether two daily windows meet (one without a clock change)."""


def say_span(delta: timedelta | None) -> str:
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


def place_in_hours(moment: datetime, zone: ZoneInfo, window: TimeWindow | None, quiet: TimeWindow | None,
                   contact: TimeWindow | None) -> tuple[datetime, str | None]:
    """The first moment at or after ``moment`` inside the ``window`` and the ``contact`` hours
    and outside the ``quiet`` hours, and what had to give way, if anything, said for the
    coordinator: the window when the contact hours never meet it outside the quiet hours,
    the contact hours when they lie wholly in the quiet hours. ``moment`` itself (in UTC)
    if even the window alone leaves no time."""
    tries: list[tuple[Hours, str | None]] = [((window, quiet, contact), None)]
    if contact is not None and window is not None:
        tries.append(((None, quiet, contact), f"{_window_missed(window, quiet, contact, zone)}: sent in the contact hours"))
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


def _window_missed(window: TimeWindow, quiet: TimeWindow | None, contact: TimeWindow, zone: ZoneInfo) -> str:
    """Contact hours that leave no time in the window outside the quiet hours, said."""
    if hours_overlap(zone, window, None, contact):
        return f"contact hours {contact} meet the window {window} only in the quiet hours {quiet}"
    return f"contact hours {contact} never meet the window {window}"


MEET, NEVER, ONLY_IN_QUIET_HOURS = "meet", "never", "only in quiet hours"
"""How a schedule's window and someone's contact hours meet: :func:`window_meets`."""


def window_meets(window: TimeWindow, quiet: TimeWindow | None, contact: TimeWindow, zone: ZoneInfo) -> str:
    """Whether a flow sent in ``window`` can reach someone in their ``contact`` hours:
    ``MEET`` (some time of day is in both, outside the quiet hours), ``NEVER`` (no time is in
    both) or ``ONLY_IN_QUIET_HOURS``. Unless they meet, :func:`place_in_hours` sends it in
    the contact hours instead, outside the window."""
    if hours_overlap(zone, window, quiet, contact):
        return MEET
    return ONLY_IN_QUIET_HOURS if hours_overlap(zone, window, None, contact) else NEVER


def hours_overlap(zone: ZoneInfo, first: TimeWindow | None, quiet: TimeWindow | None,
                  second: TimeWindow | None) -> bool:
    """Whether some time of day is inside ``first`` and ``second`` (None: any time) and
    outside ``quiet``."""
    try:
        next_allowed(_SAMPLE_DAY, zone, first, quiet, second)
    except NoAllowedTime:
        return False
    return True
