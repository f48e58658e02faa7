"""Dates a participant gives, read generously: '2026-03-03', '3/3/2026', 'on 24 Nov 2026.',
'24 Tachwedd', 'yesterday afternoon', 'three days ago', 'last tuesday', 'wythnos yn ôl'.

A schedule ``relative_to: participant.discharge_date`` counts from such a date
(bot/planning.py); a date alone is 09:00 that day on the participant's clock.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flows.snooze import at_local

DATE_ANCHOR_TIME = time(9, 0)
_MONTHS = {name: number for number, names in enumerate(
    [("jan", "january", "ionawr"), ("feb", "february", "chwefror"), ("mar", "march", "mawrth"), ("apr", "april", "ebrill"),
     ("may", "mai"), ("jun", "june", "mehefin"), ("jul", "july", "gorffennaf"), ("aug", "august", "awst"),
     ("sep", "sept", "september", "medi"), ("oct", "october", "hydref"), ("nov", "november", "tachwedd"),
     ("dec", "december", "rhagfyr")], start=1) for name in names}
_MONTHS.update({"fawrth": 3, "fai": 5, "fehefin": 6, "orffennaf": 7, "ngorffennaf": 7, "fedi": 9, "dachwedd": 11,
                "nhachwedd": 11, "ragfyr": 12})
"""Welsh months as they change after 'o' or 'yn' ('14 o Fawrth', 'yng Ngorffennaf'): the ones
that mutate; the others ('o Chwefror', 'o Ionawr') are written as they are."""
_WEEKDAYS = {name: number for number, names in enumerate(
    [("monday", "mon", "llun"), ("tuesday", "tue", "tues", "mawrth"), ("wednesday", "wed", "mercher"),
     ("thursday", "thu", "thurs", "iau"), ("friday", "fri", "gwener"), ("saturday", "sat", "sadwrn"),
     ("sunday", "sun", "sul")]) for name in names}
_DAYS_BACK = {"today": 0, "heddiw": 0, "yesterday": 1, "ddoe": 1, "day before yesterday": 2, "echdoe": 2,
              "night": 1, "neithiwr": 1, "tomorrow": -1, "yfory": -1, "fory": -1}
"""Days before the answer was given ('night': what is left of 'last night'; tomorrow is -1)."""
_COUNTS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
           "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "un": 1, "dau": 2, "dwy": 2, "tri": 3, "tair": 3,
           "pedwar": 4, "pedair": 4, "pump": 5, "pum": 5, "chwech": 6, "chwe": 6, "saith": 7, "wyth": 8, "naw": 9,
           "deg": 10, "deng": 10}
_UNIT_DAYS = {"day": 1, "days": 1, "diwrnod": 1, "ddiwrnod": 1, "niwrnod": 1, "week": 7, "weeks": 7, "wythnos": 7,
              "wythnosau": 7, "fortnight": 14, "fortnights": 14, "pythefnos": 14}
_AGO = re.compile(rf"(?:(\d{{1,3}}|{'|'.join(_COUNTS)}) )?({'|'.join(_UNIT_DAYS)}) (?:ago|yn ol|n ol|nol)")
"""'3 days ago', 'two weeks ago', 'a fortnight ago', 'tri diwrnod yn ôl', 'wythnos yn ôl'."""
_PART_OF_DAY = re.compile(r"\b(morning|afternoon|evening|bore|prynhawn|pnawn)\b")
"""'yesterday afternoon' is yesterday; 'this morning' (once 'this' is gone) is today."""
_NEXT = ("next", "nesaf", "nesa")
_FILLER = re.compile(r"\b(on|the|of|it was|i left|left|discharged|around|about|approx|roughly|i think|last|this|"
                     r"dydd|ddydd|ar|y|yr|o|diwethaf|ddiwethaf|dwetha|dwethaf)\b|[,!?\"']|\.$")
_ORDINAL = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th|af|il|ydd|ed|fed|eg|ain)\b")
"""'24th', and the Welsh '1af', '2il', '3ydd', '5ed', '7fed', '14eg', '21ain'."""


def participant_date(value: Any, zone: ZoneInfo, given_at: datetime | None = None,
                     near: datetime | None = None) -> datetime | None:
    """A date the participant gave ('2026-03-03', '3/3/2026', 'on 24 Nov 2026.', '24 Tachwedd')
    as a moment: a date alone is 09:00 that day on their clock. Day first, as in the UK, unless
    only month first is a date ('11/24/2026'). A date without a year is the one nearest
    ``near`` (else ``given_at``); 'yesterday' or 'last tuesday' count back from ``given_at``,
    and are not read without it. None if it is not a date."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=zone).astimezone(UTC)
    if isinstance(value, date):
        return at_local(value, DATE_ANCHOR_TIME, zone)
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    try:
        moment = datetime.fromisoformat(text)
        if len(text) > 10:
            return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=zone).astimezone(UTC)
        return at_local(moment.date(), DATE_ANCHOR_TIME, zone)
    except ValueError:
        pass
    given_on = given_at.astimezone(zone).date() if given_at else None
    near_on = near.astimezone(zone).date() if near else given_on
    day = _day_month_year(_plain(text), near_on) or _relative_day(_plain(text), given_on)
    return at_local(day, DATE_ANCHOR_TIME, zone) if day else None


def _plain(text: str) -> str:
    """The words of a date alone: no filler ('on', 'it was'), punctuation or ordinals ('24th')."""
    text = _ORDINAL.sub(r"\1", _FILLER.sub(" ", text.strip().lower().replace("ô", "o")))
    return re.sub(r"\s+", " ", text).strip()


def _day_month_year(text: str, near: date | None) -> date | None:
    """A date written with numbers ('24/11/2026', '11/24/26', '24.11') or a month's name in
    English or Welsh ('24 Nov 2026', 'November 24', '24 Tachwedd'), anywhere in ``text``."""
    numeric = re.search(r"\b(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}|\d{2}))?\b", text)
    worded = (re.search(r"\b(\d{1,2}) ([a-z]+)(?: (\d{4}))?\b", text)
              or re.search(r"\b([a-z]+) (\d{1,2})(?: (\d{4}))?\b", text))
    if numeric:
        day, month = int(numeric[1]), int(numeric[2])
        if month > 12 >= day:  # 11/24/2026: only month first is a date
            day, month = month, day
        return _dated(numeric[3], month, day, near)
    if worded:
        number, name = (worded[1], worded[2]) if worded[1].isdigit() else (worded[2], worded[1])
        if name in _MONTHS:
            return _dated(worded[3], _MONTHS[name], int(number), near)
    return None


def _dated(year: str | None, month: int, day: int, near: date | None) -> date | None:
    """The date, or None; without a year, the one nearest ``near`` (None without ``near``)."""
    try:
        if year:
            return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
        if near is None:
            return None
        candidates = [date(near.year + step, month, day) for step in (-1, 0, 1)]
    except ValueError:
        return None
    return min(candidates, key=lambda candidate: abs(candidate - near))


def _relative_day(text: str, given_on: date | None) -> date | None:
    """'today', 'yesterday (afternoon)', 'last night', '3 days ago', 'two weeks ago', '(last)
    tuesday', 'next tuesday', 'tomorrow', and in Welsh 'ddoe', 'tri diwrnod yn ôl', 'wythnos yn
    ôl', 'dydd Mawrth diwethaf', counted from the day the answer was given; None without it."""
    if given_on is None:
        return None
    if text not in _DAYS_BACK and _PART_OF_DAY.search(text):
        text = re.sub(r"\s+", " ", _PART_OF_DAY.sub(" ", text)).strip() or "today"
    if text in _DAYS_BACK:
        return given_on - timedelta(days=_DAYS_BACK[text])
    ago = _AGO.fullmatch(text)
    if ago and (ago[1] or ago[2] not in ("days", "weeks", "fortnights", "wythnosau")):  # 'days ago' says not how many
        count = int(ago[1]) if ago[1] and ago[1].isdigit() else _COUNTS.get(ago[1] or "a", 1)
        return given_on - timedelta(days=count * _UNIT_DAYS[ago[2]])
    words = text.split()
    ahead = bool(words) and (words[0] in _NEXT or words[-1] in _NEXT)
    day = " ".join(word for word in words if word not in _NEXT)
    if day not in _WEEKDAYS:
        return None
    if ahead:  # 'next tuesday': the first one after that day
        return given_on + timedelta(days=(_WEEKDAYS[day] - given_on.weekday()) % 7 or 7)
    back = (given_on.weekday() - _WEEKDAYS[day]) % 7 or 7  # 'last tuesday', 'on tuesday': the latest one before
    return given_on - timedelta(days=back)
