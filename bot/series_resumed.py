"""A repeating schedule given a later end (more ``times``, a later ``until``, or none) by a
new publication: whoever's sends had stopped at the old end gets the next one.

Re-planning (bot/studies.py) moves the follow-ups not sent yet, but a series that ended has
none left to move: without this, raising ``times: 6`` to ``times: 8`` would send nobody a
seventh. The next send is numbered on from the last one planned (a send a publication
dropped before it went does not count), and one already past its ``grace`` is skipped, as
for a send missed while Chorus was down (bot/planning.py :func:`occurrence`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.planning import FOLLOW_UP, Person, PlannedTask, occurrence
from flows.model import Schedule, Study
from storage.due_tasks import ScheduledTask

CHANGED = "dropped: the schedule changed"
"""How a follow-up a publication dropped before it went is marked (bot/studies.py)."""


def _end(schedule: Schedule) -> tuple[Any, ...]:
    return schedule.times, schedule.until


def resumed_series(study: Study, old: Study, matched: Mapping[int, int], tasks: Sequence[ScheduledTask],
                   people: Mapping[str, Person], now: datetime) -> list[PlannedTask]:
    """The next send of each participant's series that had ended, for each repeating schedule
    whose end changed (``matched``: old index to new); none for a series with a send still to
    come, or whose new end has passed too. A send with the key of one a publication dropped needs a key
of its own (:func:`fresh_keys`)."""
    extended = {before: after for before, after in matched.items()
                if study.schedule[after].every is not None and _end(old.schedule[before]) != _end(study.schedule[after])}
    last: dict[tuple[str, int], int] = {}
    going: set[tuple[str, int]] = set()
    for task in tasks:
        index = task.payload.get("schedule")
        if task.kind != FOLLOW_UP or not isinstance(index, int) or index not in extended:
            continue
        if not task.done:
            going.add((task.participant_id, index))
        elif not (task.error or "").startswith(CHANGED):
            last[(task.participant_id, index)] = max(last.get((task.participant_id, index), 0), int(task.payload.get("occurrence") or 0))
    found = []
    for (participant, index), number in sorted(last.items()):
        person, schedule = people.get(participant), study.schedule[extended[index]]
        if (participant, index) in going or person is None or (schedule.groups and person.group not in schedule.groups):
            continue
        following = occurrence(study, extended[index], person, number + 1, now)
        if isinstance(following, PlannedTask):
            found.append(following)
    return found


def fresh_keys(tasks: Sequence[PlannedTask], have: set[tuple[str, str, str]], now: datetime) -> None:
    """Give each task whose key its participant already has (a send dropped by an earlier
    publication, now to go after all) a key of its own, so that it is written."""
    for task in tasks:
        if (task.participant_id, task.study_id, task.key) in have:
            task.payload["key"] = f"{task.key}@{now.isoformat()}"
