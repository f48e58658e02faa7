"""The one number a short reply gives (flows/parsing.py): 'I'd say 4 thanks', '7/9', 'not
once' (0), never a bound ('less than 5') or two numbers ('2 or 3'); and a point named by its
place on a scale ('the highest')."""

from __future__ import annotations

import re
from functools import lru_cache

from flows.parsing_normalise import _strip_politeness, _tidy, _too_long, normalise
from flows.parsing_number_words import (
    _NUMERAL,
    _ORDINALS,
    _number_runs,
    _welsh_ordinal,
    _words_value,
    words_to_number,
)

_DETERMINER = (
    r"the|that|this|these|those|which|what|whichever|any|each|every|another|either|neither|no|other|"
    r"same|next|last|middle|top|bottom|highest|lowest|only|first|second|third|fourth|fifth"
)
_PRONOUN_ONE = re.compile(rf"\b(?:{_DETERMINER})\s+(?:(?!number\b|option\b)[a-z']+\s+)?one\b")
"""'the last one', 'that one', 'no one', 'the middle one': 'one' stands for a thing, not the number 1."""
_NONE_AT_ALL = re.compile(
    r"(?:not|never|dim)\s+(?:even\s+)?(?:once|one time|a single time|un waith|unwaith)(?:\s+(?:at all|even))?"
)
"""'not once', 'never once', 'dim un waith': a count of nought."""
_NEGATED = re.compile(r"\b(?:not|never|neither|nor)\b|n't\b")
_INEXACT = re.compile(
    r"\b(?:less|fewer|more|greater|lower|higher|bigger|smaller)\s+than\b|"
    r"\b(?:under|below|over|above|at least|at most|up to|upto|nearly|almost|plus|"
    r"or (?:more|less|fewer|over|under|above|below|higher|lower)|llai na|mwy na|dros|o dan|bron)\b|"
    r"[<>≤≥]|\d\s*\+"
)
"""'less than 5', 'over 10', '5+': a bound, not an answer."""


_NUMERAL_RE = re.compile(rf"(?<![\w.,])[-+]?(?:{_NUMERAL})(?![\w.]|,\d)")


def _one_number(text: str) -> float | None:
    """The single number in a short reply; None for none or several ('2 or 3')."""
    whole = words_to_number(text)
    if whole is not None:
        return whole
    text = re.sub(r"(\d)\s*and (?:a )?half\b", r"\1.5", text)
    numerals = _NUMERAL_RE.findall(text)
    runs = _number_runs(text)
    if len(numerals) == 1 and not runs:
        return float(numerals[0].replace(",", ""))
    if len(runs) == 1 and not numerals:
        return _words_value(runs[0])
    return None


@lru_cache(maxsize=16384)
def parse_number(text: str, out_of: float | None = None, decimal_comma: bool = False) -> float | None:
    """Find the one number a reply gives: '7', 'seven', 'I'd say 4 thanks', '7/9',
    'eight out of nine', 'a nine', 'thre', 'not once' (0), 'dwywaith' (2). None when there is
    none or more than one, when it is negated ('not 5') or only a bound ('less than 5', '10+'),
    and for 'one' that names a thing ('the last one', 'that one', 'no one').

    A fraction ('7/9', '7 out of 9') gives its top only over ``out_of``, the question's highest
    point: '4/5' on a 1-5 scale is 4, but '5/10' there is None (asked again, not read as 5 nor
    rescaled to 2.5), and so is any fraction when no highest point is known. A fraction whose top
    is no number ('lots out of 10') is None too, never its bottom.

    With ``decimal_comma`` (a question that takes decimals) a comma may be the decimal point, as
    much of Europe writes it: '48,5' is 48.5; '1,000' and '12,500' stay thousands. Without it
    (a rating, a count) '3,4' is two numbers, so none, and '0,125' (no thousands start with 0) is
    none either, not 125; '1,250' is 1250, the only whole number it can be (a range then decides)."""
    if _too_long(text):
        return None
    said = normalise(text)
    if decimal_comma:
        said = _DECIMAL_COMMA.sub(_decimal_point, said)
    words = _tidy(_PRONOUN_ONE.sub(lambda found: found.group(0)[: -len("one")], said))
    clean = _welsh_ordinal(_strip_politeness(words))
    clean = re.sub(r"^(?:a|an|the)\s+(?=\S)", "", clean)
    if not clean or _INEXACT.search(clean):
        return None
    if _NONE_AT_ALL.fullmatch(clean):
        return 0.0
    if _NEGATED.search(clean):
        return None
    ordinal = re.fullmatch(r"(\w+)(?: one)?", clean)
    if ordinal and ordinal.group(1) in _ORDINALS and ordinal.group(1) != "last":
        return float(_ORDINALS[ordinal.group(1)])
    fraction = re.fullmatch(r"(.+?)\s*(?:/|\bout of\b|\bof\b)\s*(.+)", clean)
    if fraction:
        top, bottom = _one_number(fraction.group(1)), _one_number(fraction.group(2))
        if bottom is not None:
            return top if bottom == out_of else None
    return _one_number(clean)


_DECIMAL_COMMA = re.compile(r"(?<![\d,.])(\d+),(\d+)(?![\d,.])")
"""A number with one comma inside it: '48,5', '0,75', '1,000'."""


def _decimal_point(found: re.Match[str]) -> str:
    """'48,5' -> '48.5'; a comma before three digits after one to three others ('1,000', '12,500')
    groups thousands, as it always did, unless the number starts with 0 ('0,125')."""
    whole, fraction = found.group(1), found.group(2)
    if len(fraction) == 3 and len(whole) <= 3 and not whole.startswith("0"):
        return found.group(0)
    return f"{whole}.{fraction}"


_SCALE_POSITIONS = {
    "last": "high", "highest": "high", "top": "high", "max": "high", "maximum": "high",
    "lowest": "low", "bottom": "low", "min": "low", "minimum": "low",
    "middle": "middle", "mid": "middle", "midpoint": "middle", "centre": "middle", "center": "middle",
}


def scale_point(text: str, low: int, high: int) -> int | None:
    """A point named by its place on a scale: 'the last one', 'the highest' -> ``high``;
    'the lowest' -> ``low``; 'the middle one' -> the middle of a scale with an odd number of
    points (None when there are two middles)."""
    if _too_long(text):
        return None
    clean = _welsh_ordinal(_strip_politeness(normalise(text)))
    found = re.fullmatch(r"(?:the\s+)?(\w+)(?:\s+(?:one|point|score|rating))?", clean)
    place = _SCALE_POSITIONS.get(found.group(1)) if found else None
    if place == "middle":
        return (low + high) // 2 if (high - low) % 2 == 0 else None
    return {"low": low, "high": high}.get(place or "")
