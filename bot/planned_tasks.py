"""What planning makes and reads: the kinds of task, the participant as planning sees them,
the tasks and plans it makes, and how a schedule is named (``schedule 2 (fft, 28 days after
enrolment)``). bot/planning.py plans with them; storage/due_tasks.py stores the tasks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flows.model import Schedule, Study, TimeWindow
from flows.schedule_ends import said_ending
from flows.schedule_timing import contact_hours, say_span
from flows.snooze import zone_of

FOLLOW_UP, REMINDER, CLOSE, PLAN = "follow_up", "reminder", "close", "plan"


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
        return contact_hours(self.fields)


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
    not_sent: list[PlannedTask] = field(default_factory=list)
    """Done tasks recording a follow-up that closed before it was due for this participant
    (bot/planning_not_sent.py), so the evaluation counts it."""


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
            f"{say_span(schedule.after)} after {schedule.relative_to}" if schedule.every is None and schedule.after is not None else
            f"every {say_span(schedule.every)} from {schedule.relative_to}{said_ending(schedule)}" if schedule.after is None else
            f"every {say_span(schedule.every)}, the first {say_span(schedule.after)} after {schedule.relative_to}{said_ending(schedule)}")
    return f"schedule {index + 1} ({schedule.flow}, {when})"
