"""A length of time said as the clock times it ran between (flows/parsing.py): '10pm to 4am' is 6
hours, 'from 11 till 6' 7, '22:30-06:00' 7.5, 'o 11yh tan 6yb' 7, at a question in hours (or
minutes). A reading to check with the participant: which half of the day a time without am or pm
is in is a guess (the shorter span is taken, as a night's sleep or a shift is), and the reply may
mean something else ('from 11 till 6' may be when the carer was up).

Two numbers are clock times only where something says so: a 'from' or 'o' before the first, a
'till', 'until' or 'tan' between them, or an am, pm, colon or Welsh 'yb' (y bore) or 'yh' (yr
hwyr) on one of them ('between 10pm and 4am'); '5 to 6', '5-6 hours' or 'between 5 and 6' is a
range of hours (flows/parsing_ranges.py), never a span."""

from __future__ import annotations

import re

from flows.parsing_durations import _in_whole
from flows.parsing_normalise import _strip_politeness, normalise
from flows.parsing_number_reading import NumberReading
from flows.parsing_number_sentences import _expected_unit

_TIME = r"(?:(\d{1,2})(?:[:.]([0-5]\d))?\s*(am|pm|a\.m|p\.m|yb|yh|y\.b|y\.h)?\b\.?|(midnight|noon|midday|hanner nos|canol dydd))"
_MARKED_START = r"from|between|o|rhwng"
_UNTIL = r"till|til|'til|until|untill|tan|hyd at|hyd"
_SPAN = re.compile(
    rf"^(?:(?:i )?(?:slept|sleep|was asleep|asleep|in bed|cysgu|cysgais|cysges|yn y gwely)\s+)?"
    rf"(?:(?P<start>{_MARKED_START})\s+)?{_TIME}\s*(?P<joint>{_UNTIL}|to|-|–|and|a|i)\s*{_TIME}$"
)
"""A span and nothing else but the words that may say what was done in it ('slept from 11 till
6', 'in bed 10pm to 4am', 'cysgu o 11 tan 6')."""
_MINUTES_IN = {"hour": 60, "minute": 1}
_HALF_DAY = 12 * 60


def _minutes(hour: str | None, minute: str | None, half: str | None, named: str | None) -> tuple[int, bool] | None:
    """A clock time as minutes after midnight, and whether which half of the day it is in is
    known (an am or pm, a 24-hour time such as '22:30' or '06:00', midnight or noon)."""
    if named:
        return (0 if named in ("midnight", "hanner nos") else _HALF_DAY), True
    hours, minutes = int(hour or 0), int(minute or 0)
    if hours > 23 or (half and not 1 <= hours <= 12):
        return None
    if half:
        afternoon = half[0] == "p" or half.endswith("h")  # pm, Welsh yh (yr hwyr)
        return hours % 12 * 60 + minutes + (_HALF_DAY if afternoon else 0), True
    return hours * 60 + minutes, hours > 12 or hours == 0 or bool(hour and hour.startswith("0") and minute)


def clock_span_minutes(text: str) -> int | None:
    """How many minutes a reply's span of clock times lasts: '10pm to 4am' 360, 'from 11 till 6'
    420 (the shorter way round where a time says no half of the day), '22:30-06:00' 450; None
    where the reply is no such span, or nothing says its numbers are clock times."""
    found = _SPAN.match(_strip_politeness(normalise(text), picking=False))
    if found is None:
        return None
    groups = found.groups()
    first, second = _minutes(*groups[1:5]), _minutes(*groups[6:10])
    joint, start = found.group("joint"), found.group("start")
    marked = ":" in found.group(0) or any(groups[index] for index in (3, 4, 8, 9))  # '22:30', '10pm', 'midnight'
    if first is None or second is None or (joint in ("and", "a") and start not in ("between", "rhwng")):
        return None
    if not (marked or (start in ("from", "o")) or re.fullmatch(_UNTIL, joint)):
        return None  # '5 to 6', '5-6', 'between 5 and 6': a range of hours
    if first[1] and second[1]:
        return (second[0] - first[0]) % (2 * _HALF_DAY) or None
    return (second[0] - first[0]) % _HALF_DAY or None


def clock_span_answer(text: str, question: str, unit: str | None, whole: bool = True) -> NumberReading | None:
    """A span of clock times as the length of time it lasts in the question's unit (hours or
    minutes: the step's ``unit``, or as the ``question`` names it), always to check: '10pm to
    4am' at 'How many hours did you sleep?' is 'Just to check: 6 hours?'; in whole hours where
    ``whole`` ('10.30pm to 6am': about 8). None for any other reply or unit."""
    expected = _expected_unit(normalise(question), unit)
    wanted = expected[1] if expected and expected[0] == "unit" else None
    if wanted not in _MINUTES_IN:
        return None
    minutes = clock_span_minutes(text)
    if minutes is None:
        return None
    said = _in_whole(minutes / _MINUTES_IN[wanted], wanted, whole)
    return None if said is None else NumberReading(said.value, "confirm", about=said.about)
