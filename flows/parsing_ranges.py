"""Two numbers given as a range for one (flows/parsing.py): '3 or 4', '3-4', '2 to 3 weeks',
'between 5 and 10', Welsh '3 neu 4', 'rhwng 5 a 10'. A range is never stored, nor its middle:
the participant is asked which end is nearer, so that the number stored is one they gave."""

from __future__ import annotations

import re
from typing import NamedTuple

from flows.parsing_normalise import _strip_politeness, _too_long, normalise
from flows.parsing_number_words import words_to_number


class SaidRange(NamedTuple):
    """The two ends of a range as said, and the word said after it, if any ('weeks' in '2 to 3 weeks')."""

    low: float
    high: float
    unit: str


_BETWEEN = re.compile(r"(?:between|rhwng)\s+(?P<low>.+?)\s+(?P<joint>and|to|a|ac|i)\s+(?P<high>.+?)(?:\s+(?P<unit>[^\W\d]+))?")
"""'between 5 and 10', 'rhwng 5 a 10 munud'."""
_EITHER = re.compile(r"(?P<low>.+?)\s*(?P<joint>\bor\b|\bto\b|\bneu\b|\bi\b|-|–|—)\s*(?P<high>.+?)(?:\s+(?P<unit>[^\W\d]+))?")
"""'3 or 4', '3-4', '2 to 3 weeks', '3 neu 4', '3 i 4 wythnos'."""
_HEDGES = re.compile(r"^(?:(?:about|around|roughly|approx|approximately|maybe|probably|somewhere|tua|rhyw)\s+)+|\s*-?ish$")
_EITHER_WAY = frozenset({"or", "neu"})
"""Joints that may name the larger number first ('4 or 3'); 'to' and '-' run upwards ('12-5' may be a date)."""


def read_range(text: str) -> SaidRange | None:
    """The range a reply gives for one number ('3 or 4', '3-4', 'about 2 to 3 weeks', 'between 5
    and 10', '3 neu 4', 'rhwng 5 a 10'), or None: for one number, for more than two ('2 or 3 or
    4'), for the same number twice, and for a bound ('3 or more', which is no range of two)."""
    if _too_long(text):
        return None
    said = _HEDGES.sub("", _strip_politeness(normalise(text), picking=False)).strip()
    for pattern in (_BETWEEN, _EITHER):
        found = pattern.fullmatch(said)
        if found is None:
            continue
        low_words, high_words, unit = found.group("low"), found.group("high"), found.group("unit") or ""
        if unit and words_to_number(f"{high_words} {unit}") is not None:  # 'twenty or twenty one'
            high_words, unit = f"{high_words} {unit}", ""
        low, high = words_to_number(low_words), words_to_number(high_words)
        if low is None or high is None or low == high or (low > high and found.group("joint") not in _EITHER_WAY):
            return None
        return SaidRange(low, high, unit)
    return None
