"""Follow-ups planning knows will never go to someone, recorded so the Evaluate results count
them beside the response rate instead of leaving them out.

- **Closed before due**: a schedule's fixed close (``closes: 2026-06-30``, or a repeating one's
  ``until:`` date) passes before the participant's first send of it falls due (they joined, or
  were discharged, too late for it). Planning used to skip it silently (bot/planning.py
  :func:`occurrence` says why in a :class:`ClosedBeforeDue`).
- **Skipped while opted out**: a weekly series resumed on START goes on from now; the weeks
  that fell due while the participant had opted out were never planned (bot/opt_in_resume.py).

Each is written as a follow-up task already done, its ``error`` saying why (storage/due_tasks.add
reads the payload's ``not_sent``), as firing marks a follow-up it drops: the
evaluation reads them all alike (bot/evaluation.py ``NOT_SENT_BECAUSE``). Its key is its own,
so it never stands in the way of the follow-up itself should a correction plan it after all.
"""

from __future__ import annotations

from datetime import datetime

from bot.planned_tasks import FOLLOW_UP, PlannedTask, schedule_key
from flows.model import Study

CLOSED_BEFORE_DUE = "closed before due"
SKIPPED_OPTED_OUT = "skipped: the participant had opted out"
NOT_SENT = "not_sent"
"""The payload key that makes a planned task a record, written done (storage/due_tasks.add)."""


class ClosedBeforeDue(str):
    """Why a follow-up is not planned, when the reason is its fixed close (or end) date; with
    when it would have fallen due."""

    due: datetime

    def __new__(cls, why: str, due: datetime) -> ClosedBeforeDue:
        found = super().__new__(cls, why)
        found.due = due
        return found


def not_sent_record(study: Study, index: int, participant_id: str, number: int, why: str,
                    due_at: datetime) -> PlannedTask:
    """A done follow-up task recording that the ``number``-th send of schedule ``index`` was
    not sent to the participant, and why."""
    schedule = study.schedule[index]
    key = f"{why.split(':')[0]} {schedule_key(index, schedule, number)}"
    payload = {"key": key, "schedule": index, "occurrence": number, NOT_SENT: why}
    return PlannedTask(FOLLOW_UP, participant_id, study.study, schedule.flow, due_at, payload)

