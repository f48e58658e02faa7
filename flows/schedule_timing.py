"""When a scheduled flow may be sent in a day, and durations as they are said.

Pure, and shared by the two sides of the clock: bot/planning.py places each follow-up
it plans in the allowed hours, and flows/timing_checks.py warns before launch of hours
that can never all be met. The rules, all read on the wall clock in one zone:

- a schedule's ``window`` (``09:00-17:00``) says when in the day it may be sent;
- the study's ``quiet_hours`` always hold: nothing is sent in them;
- a participant's ``contact_hours`` win over a window they never meet (a night-shift
  nurse who chose 19:00-07:00 is not messaged at noon because a pulse's window is
  12:00-14:00), but give way to the window when they lie wholly in the quiet hours.

A snooze ('later', 'on shift til 8') follows the same rules (:func:`place_snooze`), and a
follow-up's ``closes`` too: a snooze that would come after the question closes is brought
forward to the last allowed time before it, or, with none left, not made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flows.model import Study, TimeWindow
from flows.snooze import SOON, NoAllowedTime, add_local, next_allowed

SENT_AT = "_sent_at"
"""The session field (never the participant's) that says when a follow-up whose schedule
``closes`` some time after sending was sent: when its question closes (:func:`follow_up_limits`)."""
TIME_TO_ANSWER = timedelta(hours=1)
"""A snooze brought forward before a question closes leaves at least this long to answer it."""
_STEP_BACK = timedelta(minutes=15)

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


# ----------------------------------------------------------------------------- snoozes


def contact_hours(fields: Mapping[str, Any]) -> TimeWindow | None:
    """The hours a participant is happy to be messaged (``contact_hours``, '08:00-18:00'), or None."""
    value = fields.get("contact_hours")
    try:
        return TimeWindow.parse(value) if isinstance(value, str) and value.strip() else None
    except ValueError:
        return None


def needs_sent_at(study: Study | None, flow_id: str) -> bool:
    """Whether a session of ``flow_id`` must note when it was sent (:data:`SENT_AT`): a
    schedule sends it after something and closes a while after sending."""
    return study is not None and any(
        entry.flow == flow_id and entry.at is None and isinstance(entry.closes, timedelta) for entry in study.schedule)


def follow_up_limits(study: Study | None, flow_id: str, fields: Mapping[str, Any],
                     zone: ZoneInfo) -> tuple[TimeWindow | None, datetime | None]:
    """The window a follow-up is sent in and when it closes, from the study's schedule, for a
    snooze of its question: the window only when every schedule of the flow has the same one;
    the closing only when every schedule of the flow closes (the latest of them). A closing
    counted from sending needs :data:`SENT_AT` in ``fields``; without it, None."""
    entries = [entry for entry in study.schedule if entry.flow == flow_id] if study is not None else []
    if not entries or study is None:
        return None, None
    windows = {entry.window for entry in entries}
    window = windows.pop() if len(windows) == 1 else None
    closings = []
    for entry in entries:
        if isinstance(entry.closes, datetime):
            closings.append(_study_moment(entry.closes, study))
        elif isinstance(entry.closes, timedelta) and entry.at is not None:
            closings.append(add_local(_study_moment(entry.at, study), entry.closes, zone))
        elif isinstance(entry.closes, timedelta) and isinstance(sent := fields.get(SENT_AT), str):
            try:
                closings.append(add_local(datetime.fromisoformat(sent), entry.closes, zone))
            except ValueError:
                return window, None
        else:
            return window, None
    return window, max(closings)


def _study_moment(moment: datetime, study: Study) -> datetime:
    """A datetime from the study file: naive means the study's own zone."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(study.timezone)).astimezone(UTC)


@dataclass(frozen=True)
class SnoozePlace:
    """Where a snooze lands: ``at`` None when the question closes before any allowed time;
    ``closes`` set when the closing moved the snooze or stopped it."""

    at: datetime | None
    closes: datetime | None = None


def place_snooze(wanted: datetime, now: datetime, zone: ZoneInfo, window: TimeWindow | None, quiet: TimeWindow | None,
                 contact: TimeWindow | None, closes: datetime | None = None) -> SnoozePlace:
    """The first allowed time at or after ``wanted`` (:func:`place_in_hours`: the follow-up's
    window, the participant's contact hours, the study's quiet hours). If that leaves less
    than :data:`TIME_TO_ANSWER` before the question ``closes``, the latest allowed quarter
    hour that does not, at least half an hour from ``now``; or none."""
    placed = place_in_hours(wanted, zone, window, quiet, contact)[0]
    if closes is None or placed <= closes - TIME_TO_ANSWER:
        return SnoozePlace(placed)
    latest = (closes - TIME_TO_ANSWER).astimezone(UTC)
    moment = latest.replace(minute=latest.minute - latest.minute % 15, second=0, microsecond=0)
    while moment >= now + SOON:
        if place_in_hours(moment, zone, window, quiet, contact)[0] == moment:
            return SnoozePlace(moment, closes)
        moment -= _STEP_BACK
    return SnoozePlace(None, closes)
