"""A repeating (``every:``) follow-up's response rate week by week, with the sends not made
each week beside it: without them a weekly pulse that someone paused (STOP, then START) looks
the same as one that went every week, and its rate over time counts only the weeks sent.

A send counts in the week (Monday to Sunday on the study's clock) its session started; one
not sent in the week it fell due: ``skipped`` (the participant had opted out then, and the
series went on from their START, bot/planning_not_sent.py), ``missed`` (past its grace) or
``closed`` (closed before it could go, or before it was due for them). Sends still to come
are not in any week yet."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flows.analysis.evaluation_paired import ALL, Asked, NotSent
from flows.analysis.periods import period_of

WEEK_NOT_SENT = {"stopped": "skipped", "missed": "missed", "closed": "closed", "closed_before_due": "closed"}
"""How each not-sent standing (flows/analysis/evaluation_paired.NOT_SENT) is counted in a week."""
COLUMNS = ("asked", "answered", "skipped", "missed", "closed")


def series_flows(content: Mapping[str, Any] | None) -> set[str]:
    """The flows a study file's content (as published) sends again and again (``every:``)."""
    entries = (content or {}).get("schedule", []) or []
    return {str(e["flow"]) for e in entries if isinstance(e, dict) and e.get("flow") and e.get("every")}


def weekly_rows(asked: Iterable[Asked], not_sent: Iterable[NotSent], flows: set[str],
                zone: str = "Europe/London") -> list[dict[str, object]]:
    """Per repeating flow, group (and 'all') and week: ``asked`` (sends), ``answered``, the
    response rate (% of sends), and the sends not made that week: ``skipped`` (opted out or
    paused when due), ``missed`` and ``closed``."""
    tz = ZoneInfo(zone)
    counts: dict[tuple[str, str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COLUMNS, 0))

    def count(flow: str, group: str, moment: datetime, column: str) -> None:
        for who in (group, ALL):
            counts[(flow, who, period_of(moment, "week", tz))][column] += 1

    for one in asked:
        if one.flow in flows and one.started_at is not None:
            count(one.flow, one.group, one.started_at, "asked")
            if one.answered:
                count(one.flow, one.group, one.started_at, "answered")
    for missing in not_sent:
        column = WEEK_NOT_SENT.get(missing.standing)
        if missing.flow in flows and column is not None and missing.due_at is not None:
            count(missing.flow, missing.group, missing.due_at, column)
    return [{"flow": flow, "group": group, "week": week, **c,
             "response_rate": 100 * c["answered"] / c["asked"] if c["asked"] else None}
            for (flow, group, week), c in sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1] == ALL, kv[0][1], kv[0][2]))]
