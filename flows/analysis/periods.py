"""The periods answers are counted in over time, on the study's clock: days, ISO weeks (Monday
to Sunday), months and quarters, each named by when it starts ("2026-11-23" for the week
from Monday 23 November, "2026-11", "2026-Q4").

The desk's charts over time (:mod:`bot.api.results`) and ``chorus analyse evaluation``
(:mod:`flows.analysis.instruments`) both read these, so the same answers fall in the same
week in both, whatever the server's clock: an answer at 23:30 UTC on a summer Sunday is
Monday morning in London, and counts in Monday's week.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # pandas loads only where a table is grouped
    import pandas as pd

Period = Literal["day", "week", "month", "quarter"]


def period_start(moment: datetime, period: Period, zone: ZoneInfo) -> date:
    """The first day of the period ``moment`` falls in, on the clock of ``zone`` (a moment
    without a time zone is UTC, as the database stores it)."""
    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone).date()
    if period == "day":
        return local
    if period == "week":
        return local - timedelta(days=local.weekday())
    if period == "quarter":
        return date(local.year, 3 * ((local.month - 1) // 3) + 1, 1)
    return local.replace(day=1)


def period_label(start: date, period: Period) -> str:
    """A period's name: its first day for a day or a week (a week by its Monday), '2026-04'
    for a month, '2026-Q2' for a quarter."""
    if period == "month":
        return f"{start:%Y-%m}"
    if period == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return start.isoformat()


def period_of(moment: datetime, period: Period, zone: ZoneInfo) -> str:
    """The name of the period ``moment`` falls in (:func:`period_start`, :func:`period_label`)."""
    return period_label(period_start(moment, period, zone), period)


def period_starts(moments: pd.Series, period: Period, zone: str) -> pd.Series:
    """:func:`period_start` of every moment of a column (as dates), at once."""
    import pandas as pd

    local = pd.to_datetime(moments, utc=True).dt.tz_convert(zone).dt.tz_localize(None).dt.normalize()
    if period == "week":
        local = local - pd.to_timedelta(local.dt.weekday, unit="D")
    elif period in ("month", "quarter"):
        local = local.dt.to_period("M" if period == "month" else "Q").dt.start_time
    return local.dt.date
