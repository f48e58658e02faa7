"""Dates written in Welsh as Welsh speakers write them (bot/planning_dates.py): with a Welsh
ordinal ('14eg', '3ydd', '2il') and a month after 'o' or 'yn', which mutates it ('14 o Fawrth',
'yng Ngorffennaf'). Such a due date was not read, so the follow-up timed from it was never
planned and the coordinator had to ask the participant again."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.planning import participant_date

LONDON = ZoneInfo("Europe/London")
GIVEN = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)  # a Monday


def _day(found: datetime | None) -> str | None:
    return None if found is None else f"{found.astimezone(LONDON):%Y-%m-%d}"


@pytest.mark.parametrize(("given", "expected"), [
    ("14eg o Fawrth", "2026-03-14"), ("14 o Fawrth", "2026-03-14"), ("14eg Mawrth", "2026-03-14"),
    ("3ydd o Chwefror", "2026-02-03"), ("2il o Fehefin", "2026-06-02"), ("20 o Orffennaf", "2025-07-20"),
    ("11eg o Fai 2026", "2026-05-11"), ("1af o Fedi 2026", "2026-09-01"), ("13eg o Ragfyr", "2025-12-13"),
    ("4ydd o Dachwedd 2026", "2026-11-04"), ("yng Ngorffennaf, y 5ed", "2026-07-05"), ("y 19eg o Ionawr", "2026-01-19"),
])
def test_welsh_ordinals_and_mutated_months_are_read(given: str, expected: str) -> None:
    assert _day(participant_date(given, LONDON, GIVEN)) == expected


@pytest.mark.parametrize(("given", "expected"), [
    ("ddydd Gwener nesaf", "2026-01-09"), ("ddydd Mawrth diwethaf", "2025-12-30"),
])
def test_a_mutated_dydd_before_a_weekday_is_read(given: str, expected: str) -> None:
    assert _day(participant_date(given, LONDON, GIVEN)) == expected


@pytest.mark.parametrize("given", ["fai", "y fedi", "ar ol y geni", "14eg"])
def test_words_that_are_no_date_stay_unread(given: str) -> None:
    assert participant_date(given, LONDON, GIVEN) is None
