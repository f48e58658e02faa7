"""What ``chorus validate`` warns of in when a study's flows are sent (warnings, not errors):

- a schedule's ``window`` that never meets the contact hours a step of the study offers
  (``save_to: participant.contact_hours``), or meets them only in the quiet hours: whoever
  chooses them is sent the flow in their contact hours instead, outside its window
  (bot/planning.placed decides so, with the same rules: flows/schedule_timing.py);
- contact hours offered that lie wholly in the quiet hours, when nothing is sent;
- two flows due at the same moment for the same people (the same ``at:`` time, or the same
  ``after:``/``every:`` from the same date): one conversation at a time, so one is held
  until the other is finished or has gone a while without a reply (bot/planning_holds.py).
  ``chorus schedule plan`` notes this for a sample participant.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flows.flow_checks import WINDOW_FIELDS
from flows.loader import LoadedStudy, Marks, Problem, step_path
from flows.model import Schedule, TimeWindow
from flows.schedule_checks import groups_meet, schedule_place, schedules_meet, sent_to, when_key
from flows.schedule_timing import MEET, NEVER, hours_overlap, place_in_hours, say_span, window_meets
from flows.snooze import zone_of
from flows.steps.choice import ChoiceStep
from flows.steps.delphi import DelphiStep

# ----------------------------------------------------------------------------- windows and contact hours


@dataclass(frozen=True)
class OfferedHours:
    """Contact hours a step of the study offers as one of its options."""

    flow: str
    step: str
    hours: TimeWindow
    file: str
    line: int
    column: int = 1

    def where(self) -> str:
        return f"{Path(self.file).name}, line {self.line}"


def offered_contact_hours(loaded: LoadedStudy) -> Iterator[OfferedHours]:
    """Each window a choice saved to ``participant.contact_hours`` offers (other answers to
    such a step are errors of its flow: flows/flow_checks.py)."""
    for name, flow in loaded.flows.items():
        marks = flow.marks or Marks(flow.path)
        for index, step in enumerate(flow.flow.steps):
            if not isinstance(step, ChoiceStep) or step.multiple or step.save_to not in WINDOW_FIELDS:
                continue
            for number, option in enumerate(step.options):
                try:
                    hours = TimeWindow.parse(option.value)
                except ValueError:
                    continue
                line, column = marks.value(step_path(index, "options", str(number), "value"))
                yield OfferedHours(name, step.id, hours, marks.file, line, column)


def windows_missing_contact_hours(loaded: LoadedStudy, marks: Marks) -> list[Problem]:
    """A schedule's window that the contact hours offered to the same people never meet
    outside the quiet hours; and contact hours offered that lie wholly in the quiet hours."""
    study = loaded.study
    zone = zone_of(study.timezone)
    offered = list(offered_contact_hours(loaded))
    problems = _hours_all_quiet(offered, study.quiet_hours, zone)
    for index, entry in enumerate(study.schedule):
        window = entry.window
        if window is None or not hours_overlap(zone, window, study.quiet_hours, None):
            continue  # (a window wholly in the quiet hours is an error of its own)
        for choice in offered:
            if not groups_meet(sent_to(study, choice.flow), set(entry.groups) if entry.groups else None):
                continue
            if not hours_overlap(zone, choice.hours, study.quiet_hours, None):
                continue  # (hours wholly in the quiet hours are warned of once: no window can meet them)
            meeting = window_meets(window, study.quiet_hours, choice.hours, zone)
            if meeting == MEET:
                continue
            problems.append(marks.problem(
                marks.value(schedule_place(index, "window")),
                _missed_message(entry, window, choice, meeting, study.quiet_hours),
                _missed_hint(window, choice.hours, meeting, study.quiet_hours),
                "warning",
            ))
    return problems


def _hours_all_quiet(offered: list[OfferedHours], quiet: TimeWindow | None, zone: ZoneInfo) -> list[Problem]:
    """Contact hours offered that lie wholly in the quiet hours: nothing is ever sent in them,
    so whoever chooses them is sent each flow in its window (or any time outside the quiet
    hours) instead, not when they asked."""
    if quiet is None:
        return []
    return [Marks(choice.file).problem(
        (choice.line, choice.column),
        f"the contact hours {choice.hours} that step '{choice.step}' offers lie wholly in the study's quiet hours "
        f"{quiet}, when nothing is sent: whoever chooses them is messaged outside the hours they chose",
        f"offer hours outside the quiet hours (e.g. \"{_outside(quiet)}\"), or narrow the quiet hours",
        "warning",
    ) for choice in offered if not hours_overlap(zone, choice.hours, quiet, None)]


def _outside(quiet: TimeWindow) -> TimeWindow:
    """The hours between the end and the start of the quiet hours (daytime, for night quiet hours)."""
    return TimeWindow(start=quiet.end, end=quiet.start)


def _missed_message(entry: Schedule, window: TimeWindow, choice: OfferedHours, meeting: str,
                    quiet: TimeWindow | None) -> str:
    how = "never meets" if meeting == NEVER else "meets"
    only = "" if meeting == NEVER else f" only in the quiet hours {quiet}, when nothing is sent"
    return (f"the window {window} of the flow '{entry.flow}' {how} the contact hours {choice.hours} that step "
            f"'{choice.step}' offers ({choice.where()}){only}: whoever chooses them is sent '{entry.flow}' in their "
            "contact hours instead, outside the window")


def _missed_hint(window: TimeWindow, hours: TimeWindow, meeting: str, quiet: TimeWindow | None) -> str:
    if meeting == NEVER:
        return (f"widen the window to meet them, e.g. window: \"{_covering(window, hours)}\", or leave the window out "
                "so that each participant's contact hours decide")
    return f"move the window out of the quiet hours {quiet}, or offer contact hours outside them"


def _covering(window: TimeWindow, hours: TimeWindow) -> TimeWindow:
    """A window from the earlier start to the later end of two daytime windows (else ``hours``)."""
    if window.start < window.end and hours.start < hours.end:
        return TimeWindow(start=min(window.start, hours.start), end=max(window.end, hours.end))
    return hours


# ----------------------------------------------------------------------------- flows due together


def due_together(loaded: LoadedStudy, marks: Marks) -> list[Problem]:
    """Two schedules of different flows for some of the same people that fall due at the same
    moment: the same ``at:`` time once moved into their windows, or the same first send after
    the same date, with windows that share a time outside the quiet hours. Not flows with
    rounds of one Delphi: a later round waits for the round before, and the same round twice
    is a warning of its own (flows/delphi_checks.py), as is one flow scheduled twice."""
    study = loaded.study
    zone = zone_of(study.timezone)
    delphis = {name: {step.delphi_id for step in flow.flow.steps if isinstance(step, DelphiStep)}
               for name, flow in loaded.flows.items()}
    problems: list[Problem] = []
    for index, entry in enumerate(study.schedule):
        for earlier, other in enumerate(study.schedule[:index]):
            rounds = delphis.get(entry.flow, set()) & delphis.get(other.flow, set())
            if other.flow == entry.flow or rounds or not schedules_meet(entry, other):
                continue
            when = _same_moment(other, entry, study.quiet_hours, zone)
            if when is None:
                continue
            line = marks.value(schedule_place(earlier, "flow"))[0]
            problems.append(marks.problem(
                marks.value(schedule_place(index, when_key(entry))),
                f"the flows '{other.flow}' (line {line}) and '{entry.flow}' are both sent {when} to the same people, "
                "so they fall due at the same moment: one is held until the other is finished or has gone a while "
                "without a reply",
                _together_hint(other, entry),
                "warning",
            ))
            break
    return problems


def _same_moment(first: Schedule, second: Schedule, quiet: TimeWindow | None, zone: ZoneInfo) -> str | None:
    """When two schedules both send, said ("at 2026-06-01 09:00", "14 days after joining",
    "every 7 days from joining"), if they send at the same moment; else None."""
    if first.at is not None and second.at is not None:
        one = place_in_hours(_aware(first.at, zone), zone, first.window, quiet, None)[0]
        two = place_in_hours(_aware(second.at, zone), zone, second.window, quiet, None)[0]
        return f"at {one.astimezone(zone):%Y-%m-%d %H:%M}" if one == two else None
    if first.at is not None or second.at is not None or first.anchor_field() != second.anchor_field():
        return None
    if not hours_overlap(zone, first.window, quiet, second.window):
        return None
    field = first.anchor_field()
    anchor = f"participant.{field}" if field else "joining"
    if first.first_send() != second.first_send():
        return _later_send_meets(first, second, anchor)
    if first.every is not None and first.every == second.every:
        start = f", the first {say_span(first.after)} after {anchor}" if first.after is not None else f" from {anchor}"
        return f"every {say_span(first.every)}{start}"
    return f"{say_span(first.first_send())} after {anchor}"


def _later_send_meets(first: Schedule, second: Schedule, anchor: str) -> str | None:
    """When a later send of a repeating schedule falls at the same time after the same date as
    the other's (``every: 7d`` sends its 2nd 14 days after joining, as ``after: 14d`` does; two
    series meet at the first span both repeat), said with which send it is; else None."""
    if first.every is None and second.every is None:
        return None
    if any(entry.after is not None and entry.every is not None for entry in (first, second)):
        return None  # (a series started later: its sends are not multiples of one span; not judged here)
    spans = [entry.after or entry.every or timedelta(0) for entry in (first, second)]
    seconds = [int(span.total_seconds()) for span in spans]
    if min(seconds) <= 0:
        return None
    meet = timedelta(seconds=math.lcm(*seconds))
    sends = []
    for entry, span in zip((first, second), spans, strict=True):
        number = meet // span
        if number > 1 and (entry.every is None or not _sends_so_many(entry, number)):
            return None
        if number > 1:
            sends.append(f"the {_ordinal(number)} of '{entry.flow}' every {say_span(entry.every)}")
    return f"{say_span(meet)} after {anchor} ({' and '.join(sends)})"


def _sends_so_many(entry: Schedule, number: int) -> bool:
    """Whether a repeating schedule's ``number``-th send is before its end (an ``until`` date is not judged here)."""
    assert entry.every is not None
    if entry.times is not None and number > entry.times:
        return False
    return not (isinstance(entry.until, timedelta) and entry.every * number > entry.until)


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _aware(moment: datetime, zone: ZoneInfo) -> datetime:
    """A date from the study file: naive means the study's own zone."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=zone).astimezone(UTC)


def _together_hint(first: Schedule, second: Schedule) -> str:
    """Send one later: another ``at:``, a day more ``after:``, or windows that do not overlap."""
    if second.at is not None:
        return (f"if one should come first, give the other a later time, e.g. 'at: {second.at + timedelta(days=1):%Y-%m-%dT%H:%M}'; "
                "if they are for different people, give each schedule its 'groups:'")
    later = next((entry for entry in (second, first) if entry.after is not None), None)
    delay = f"send one a day later (e.g. 'after: {_a_day_more(later.after)}') or " if later and later.after else ""
    return (f"if one should come first, {delay}give the two windows that do not overlap (e.g. '09:00-12:00' and "
            "'13:00-17:00'); if they are for different people, give each schedule its 'groups:'")


def _a_day_more(delta: timedelta) -> str:
    """A day more than ``delta``, written as a duration ('8d', or '36h' for 12h)."""
    more = delta + timedelta(days=1)
    return f"{more.days}d" if more.seconds == 0 else f"{int(more.total_seconds() // 3600)}h"
