"""A length of time said in another unit than the question's (flows/parsing.py): '2 weeks' to a
question in days is 14 days, '3 months' about 91, '10 days' in weeks 1 whole week (checked),
'90 minutes' in hours about 2 (checked); and the notation of a pregnancy, '23+4' (23 weeks 4
days) and '36/40' (36 weeks), at a question in weeks or days. What a conversion may do, and
when the participant is asked to check it, is decided here."""

from __future__ import annotations

import math
import re
from typing import NamedTuple

_SCALES: dict[str, tuple[str, int]] = {
    "second": ("week", 1), "minute": ("week", 60), "hour": ("week", 3600), "day": ("week", 86400),
    "week": ("week", 604800), "month": ("year", 1), "year": ("year", 12),
}
"""Seconds to weeks, and months and years: each a whole number of the smaller units on its scale."""
_DAYS = {"second": 1 / 86400, "minute": 1 / 1440, "hour": 1 / 24, "day": 1.0, "week": 7.0, "month": 365.25 / 12, "year": 365.25}
"""The average length of each in days, for a conversion between the scales (a month is no whole
number of weeks or days), which is therefore only ever approximate."""
_COMPLETED = frozenset({"day", "week", "month", "year"})
"""Units counted in whole ones completed, as ages, pregnancies and stays are ('10 days' is 1
week); a part of an hour, minute or second is rounded to the nearer ('90 minutes': about 2 hours)."""
_UNIT_JOINED = re.compile(r"(?<![\w.,])(\d+(?:\.\d+)?)(days?|wks?|weeks?|mths?|months?|mnths?|yrs?|years?|hrs?|hours?|h|mins?|minutes?)\b", re.IGNORECASE)
"""A number written against its unit: '2wks', '3days', '10yrs', '90mins', '5h'."""
_HOURS_MINUTES = re.compile(r"(?<![\w.,:])(\d{1,2})\s*(?:h|hrs?|hours?)\s*([0-5]\d)\s*(?:m|mins?|minutes?)?(?![\w.,:])", re.IGNORECASE)
"""Hours and minutes written together, as on a sleep tracker or in French: '5h30', '7hr15', '6h 45m'."""
_WEEKS_PLUS_DAYS = re.compile(r"(?<![\w.,+/])(\d{1,2})\s*\+\s*([0-6])(?:\s*(?:weeks?|wks?|w)\b)?(?![\w.,+/%])", re.IGNORECASE)
"""'23+4': 23 weeks and 4 days pregnant, as UK maternity notes write it."""
_WEEKS_OF_40 = re.compile(r"(?<![\w.,+/])(\d{1,2})\s*/\s*40(?:\s*(?:weeks?|wks?|w)\b)?(?![\w.,+/%])", re.IGNORECASE)
"""'36/40': 36 weeks of a pregnancy's 40."""
_FULL_TERM = 42
"""The most weeks a pregnancy lasts: '50+2' is no such notation."""


class Conversion(NamedTuple):
    """A length of time in the question's unit: its value, whether it is exactly what was said,
    and whether it was rounded to the nearer ('about 2 hours')."""

    value: float
    exact: bool
    about: bool = False


def _spaced_units(text: str) -> str:
    """'2wks' as '2 wks', so that its number and its unit each read as they do apart; '5h30' as
    '5 hours 30 minutes', which is read as a length of time in parts is."""
    return _UNIT_JOINED.sub(r"\1 \2", _HOURS_MINUTES.sub(r"\1 hours \2 minutes", text))


def pregnancy_notation(text: str, wanted: str | None) -> str:
    """``text`` with a pregnancy's notation spelled out where the question is in weeks or days:
    '23+4' as '23 weeks 4 days', '36/40' as '36 weeks'. Only numbers a pregnancy can have are
    read so (up to 42 weeks, up to 6 days): '2+2' or '3/4' elsewhere stay as they are."""
    if wanted not in ("week", "day"):
        return text
    text = _WEEKS_PLUS_DAYS.sub(lambda m: f"{m[1]} weeks {m[2]} days" if int(m[1]) <= _FULL_TERM else m[0], text)
    return _WEEKS_OF_40.sub(lambda m: f"{m[1]} weeks" if int(m[1]) <= _FULL_TERM else m[0], text)


def _in_whole(total: float, wanted: str, whole: bool) -> Conversion | None:
    """``total`` of ``wanted`` as the question takes it: exact when it is a whole number; else, for
    a whole number, the ones completed (days to years) or the nearer (hours and less), and for a
    decimal, as it is where it has two places at most (a quarter: 7.25), else to one place. None
    where that leaves nothing ('4 days' in whole weeks, '20 minutes' in whole hours): no honest
    number of ``wanted``."""
    if total.is_integer():
        return Conversion(total, True)
    if not whole:  # '7 hours 15 minutes' 7.25 hours, '1 hour 20 minutes' about 1.3: to check, as up a scale
        near = total if round(total, 2) == total else round(total, 1)
        return Conversion(near, False, near != total) if near else None
    value = float(math.floor(total) if wanted in _COMPLETED else math.floor(total + 0.5))
    return Conversion(value, False, wanted not in _COMPLETED) if value else None


def _converted_duration(value: float, unit: str, wanted: str, whole: bool = True) -> Conversion | None:
    """``value`` of ``unit`` (a second to a year) in ``wanted``.

    Down a scale the conversion is exact ('2 weeks' is 14 days, '2 hours' 120 minutes); up it,
    a whole number is exact ('21 days' is 3 weeks), and any other is as :func:`_in_whole` says
    ('10 days' is 1 whole week, '90 minutes' about 2 hours), for the participant to check.
    Between the scales a larger unit is converted approximately and rounded to a whole number
    ('3 months' is about 91 days, 'a month' about 4 weeks), which the participant is asked to
    check; a smaller one is never rounded up into months or years ('6 weeks' to a question in
    months is asked again). None when no conversion is honest."""
    if unit == wanted or unit not in _SCALES or wanted not in _SCALES:
        return None
    (scale, size), (wanted_scale, wanted_size) = _SCALES[unit], _SCALES[wanted]
    if scale == wanted_scale:
        converted = value * size / wanted_size
        return Conversion(converted, True) if size > wanted_size else _in_whole(converted, wanted, whole)
    if _DAYS[unit] < _DAYS[wanted]:
        return None
    total = value * _DAYS[unit] / _DAYS[wanted]
    return Conversion(float(round(total)), False, not total.is_integer())  # 'about 13 weeks' for '3 months'


_PART = r"(\d+(?:\.\d+)?)\s*([^\W\d_]+)"
_COMPOUND = re.compile(rf"(?<![\w.]){_PART}(?:\s*(?:,|\band\b|&|\+|\ba\b|\bac\b)?\s*{_PART})+(?!\w)", re.IGNORECASE)
"""Two or more lengths of time said together: '23 weeks 4 days', '1 year and 6 months', '2w 3d'."""
_SHORT = {"w": "week", "d": "day", "y": "year", "h": "hour"}


def _compound_duration(text: str, units: dict[str, str], wanted: str | None, whole: bool = True) -> tuple[str, Conversion] | None:
    """``text`` with a length of time said in parts of one scale ('23 weeks 4 days', '1 year and
    6 months', '1 hour 30 mins', '2 wythnos a 3 diwrnod') said instead as its total in ``wanted``,
    the question's unit ('17 days' for '2 weeks and 3 days', '18 months'), and that total. When it
    is no whole number of ``wanted`` it is as :func:`_in_whole` says: the whole ones completed, as
    ages and pregnancies are counted ('23 weeks 4 days' in weeks: 23), for the participant to
    check. None when the reply has no such parts, or they mix scales (a month is no number of
    weeks), repeat a unit or are not in ``wanted``'s."""
    found = _COMPOUND.search(text)
    if found is None or wanted is None or wanted not in _SCALES:
        return None
    scale, size = _SCALES[wanted]
    parts = [(float(number), _SHORT.get(word.lower()) or units.get(word.lower(), ""))
             for number, word in re.findall(_PART, found[0])]
    said = [unit for _, unit in parts]
    if any(unit not in _SCALES or _SCALES[unit][0] != scale for unit in said) or len(set(said)) < len(said):
        return None
    total = _in_whole(sum(number * _SCALES[unit][1] for number, unit in parts) / size, wanted, whole)
    if total is None:
        return None
    return f"{text[:found.start()]}{total.value:g} {wanted}s{text[found.end():]}", total
