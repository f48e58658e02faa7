"""A number said as just over or under it (flows/parsing.py): 'just over 2', 'a bit under 4',
'slightly more than 10 minutes'. 'Over 2' alone is a bound and asked again; 'just over 2' is the
participant's estimate of 2, close but not exact, so it is read as 2 and checked with them
first ('Just to check: 2?'), as a number read from a sentence is. 'Nearly 3' and 'almost 3' are
read as 3 at once (flows/parsing_numbers.py); the reply itself is kept as said, qualifier and all."""

from __future__ import annotations

import re

from flows.parsing_normalise import normalise

_NEAR_BOUND = re.compile(
    r"(?:(?:i think|i'd say|id say|maybe|probably|um+|erm+)\s+)?"
    r"(?:only just|just|a bit|a little|a tad|a touch|slightly|fractionally|ychydig|jyst)\s+"
    r"(?:over|under|above|below|more than|less than|short of|shy of|dros|o dan|llai na|mwy na)\s+(?P<number>.+)"
)
"""A bound made an estimate by a word that says how close it is: 'just over 2', 'ychydig dros 2'."""


def near_bound(text: str) -> str | None:
    """The number (with any unit) a reply says it is just over or under ('just over 2 hours' ->
    '2 hours'), or None for any other reply, a bare bound ('over 2', 'less than 5') among them."""
    found = _NEAR_BOUND.fullmatch(normalise(text))
    return found.group("number") if found else None
