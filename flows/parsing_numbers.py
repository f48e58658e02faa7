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
    _WELSH_ORDINALS,
    _number_runs,
    _welsh_ordinal,
    _words_value,
    words_to_number,
)
from flows.parsing_pronoun_one import without_pronoun_one

_NONE_AT_ALL = re.compile(
    r"(?:(?:not|never|dim)\s+(?:even\s+)?(?:once|one time|a single time|un waith|unwaith)"
    r"|not\s+(?:even\s+)?(?:a\s+)?(?:single\s+)?one(?:\s+single)?)(?:\s+(?:at all|even))?"
)
"""'not once', 'never once', 'dim un waith', and 'not one', 'not a single one', 'not even one' said
alone (never 'not one of them', a story): a count of nought."""
_NEGATED = re.compile(r"\b(?:not|never|neither|nor)\b|n't\b")
_INEXACT = re.compile(
    r"\b(?:less|fewer|more|greater|lower|higher|bigger|smaller)\s+than\b|"
    r"\b(?:under|below|over|above|at least|at most|up to|upto|plus|"
    r"or (?:more|less|fewer|over|under|above|below|higher|lower)|llai na|mwy na|dros|o dan)\b|"
    r"[<>≤≥]|\d\s*\+"
)
"""'less than 5', 'over 10', '5+': a bound, not an answer. 'Nearly 3' and 'almost 3' ('bron') are
the number, hedged as 'about 3' is: the participant's best estimate, which is what is asked."""
_ISH = re.compile(r"(?<=\d)-?ish\b|-ish\b")
"""'3ish', '3-ish', 'three-ish': the number, hedged as 'about 3' is."""
_REJECTED = (
    re.compile(
        r"^(?:.*\s)?(?:anything|any number|any|whatever|something|unrhyw beth|unrhyw rif|unrhyw un|rhywbeth)(?:\s+else)?\s+"
        r"(?:but|except(?: for)?|other than|than|apart from|besides|bar|ond(?: nid| dim)?|heblaw(?: am)?)\s+(?P<number>.+)$"
    ),
    re.compile(r"^(?:except(?: for)?|apart from|other than|excluding|heblaw(?: am)?|ac eithrio|ar wahan i)\s+(?P<number>.+)$"),
    re.compile(
        r"^(?:(?:definitely|defo|deffo|def|certainly|absolutely|really|but|yn bendant|bendant)\s+)?"
        r"(?:not|never|nid|nage|ddim|dim)\s+(?:the\s+|y\s+|yr\s+)?(?P<number>.+)$"
    ),
    re.compile(
        r"^(?P<number>.+?)\s*[-,:;!?.]*\s*(?:no way(?: jose)?|no chance|no thanks|no thank you|nope|nah|naw|definitely not|"
        r"absolutely not|certainly not|def not|defo not|not|never|byth|dim o gwbl|dim diolch|na diolch)$"
    ),
)
"""A number the reply says it does NOT want: 'anything but 1', 'except 5', 'definitely not 5', '5 no
way', '5? nope', Welsh 'unrhyw beth ond 2', 'nid 5', 'ddim 5'. A bare 'no' before it ('no 5', 'no,
5') is not one: it corrects what was read back ('Just to check: 4?'). 'not once' is nought."""
_STRONG_LEADS = 2
"""The first patterns of :data:`_REJECTED` ('anything but', 'except') reject the number after them
whatever else follows ('anything but 5 really'); after 'not', or before 'no way', the number
must stand alone ('not sure, 3' rejects nothing)."""
_NOT_AN_AMOUNT = frozenset({"one", "un", "a single one", "single one", "a single", "once", "un waith", "unwaith"})
"""What follows 'not' in a nought ('not one', 'not a single one'), never a number rejected."""
_VAGUE = re.compile(
    r"(?:(?:quite|just|only|maybe|probably|about|around|tua|rhyw)\s+)*(?:a\s+)?"
    r"(?:few|several|handful|ychydig|sawl|nifer)"
    r"(?:\s+(?:of|o))?(?:\s+[^\W\d]+)?"
)
"""'a few days', 'several times', 'a handful', 'ychydig o ddyddiau', 'sawl wythnos': a small amount
with no number, for which the participant's best guess is asked ('lots' is asked again plainly)."""


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
    and for 'one' that names a thing ('the last one', 'that one', 'no one', 'no-one': nor is
    Welsh 'dim un', which is nought, as 'none' is: flows/parsing_pronoun_one.py).

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
    clean = _cleaned(text, decimal_comma)
    if not clean or _INEXACT.search(clean):
        return None
    if _NONE_AT_ALL.fullmatch(clean):
        return 0.0
    if _NEGATED.search(clean) or _rejected(clean) is not None:
        return None
    place = _ordinal(clean)
    if place is not None:
        return float(place)
    fraction = re.fullmatch(r"(.+?)\s*(?:/|\bout of\b|\bof\b)\s*(.+)", clean)
    if fraction:
        top, bottom = _one_number(fraction.group(1)), _one_number(fraction.group(2))
        if bottom is not None:
            return top if bottom == out_of else None
    return _one_number(clean)


def _cleaned(text: str, decimal_comma: bool = False) -> str:
    """A reply as :func:`parse_number` reads it: normalised, politeness and a leading article
    dropped, 'one' that names a thing left out ('that one'), a Welsh ordinal as its English
    word, '3ish' as '3 ish'."""
    said = _ISH.sub(" ish", normalise(text))
    if decimal_comma:
        said = _DECIMAL_COMMA.sub(_decimal_point, said)
    words = without_pronoun_one(said)
    clean = _welsh_ordinal(_strip_politeness(words))
    return re.sub(r"^(?:a|an|the)\s+(?=\S)", "", clean)


def _ordinal(clean: str) -> int | None:
    """The place a cleaned reply that is only an ordinal names ('second', 'second one'), or None."""
    found = re.fullmatch(r"(\w+)(?: one)?", clean)
    if found and found.group(1) in _ORDINALS and found.group(1) != "last":
        return _ORDINALS[found.group(1)]
    return None


def _rejected(clean: str) -> float | None:
    """The one number a cleaned reply says it does not want ('anything but 1', '5 no way', 'nid
    5'), or None."""
    for index, pattern in enumerate(_REJECTED):
        found = pattern.match(clean)
        named = _tidy(found.group("number")) if found else ""
        if not named or named in _NOT_AN_AMOUNT or _NEGATED.search(named):
            continue
        number = _one_number(named) if index < _STRONG_LEADS else words_to_number(named)
        if number is not None:
            return number
    return None


def rejected_number(text: str) -> float | None:
    """The number a reply rejects: 'anything but 1', 'not 5', 'definitely not 5', '5 no way', Welsh
    'unrhyw beth ond 2', 'nid 5', 'ddim 5'; None when it rejects none (so 'no, 5', a correction,
    and 'not once', nought, reject nothing). Such a reply never answers with that number."""
    if _too_long(text):
        return None
    return _rejected(_cleaned(text))


def says_ordinal(text: str) -> bool:
    """Whether a reply counts places, not amounts: an ordinal ('the second one', 'first', 'yr
    ail', '2nd') or a sentence with one and no other number ('this is my first', 'my second
    week'). On a question asking how many, it says which, not how many."""
    if _too_long(text):
        return False
    if re.match(r"(?:half\s+)?an?\s+second\b", normalise(text)):
        return False  # 'a second', 'half a second': a length of time
    clean = _cleaned(text)
    if _ordinal(clean) is not None:
        return True
    words = re.findall(r"[^\W_]+", clean)
    places = [word for word in words if (word in _ORDINALS and word != "last") or re.fullmatch(r"\d+(?:st|nd|rd|th)", word)]
    welsh = [word for word in words if word in _WELSH_ORDINALS and _WELSH_ORDINALS[word] not in ("last", "middle")]
    return bool(places or welsh) and _one_number(" ".join(w for w in words if w not in places and w not in welsh)) is None


def says_vague_amount(text: str) -> bool:
    """Whether a reply gives a small amount with no number: 'a few', 'a few days', 'several times',
    'a handful', 'ychydig o ddyddiau', 'sawl wythnos'."""
    return not _too_long(text) and _VAGUE.fullmatch(_cleaned(text)) is not None


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
