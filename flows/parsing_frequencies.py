"""How often, said to a question of how many (flows/parsing.py): 'once a week' to 'How many times
did you see a GP last month?' is about 4 times, never 1; 'every day' to 'How many days a week...?'
is 7; 'never' to a question of how many times is 0. A count is made only over a time the question
makes clear ('last month', 'in the past 2 weeks', 'a day', 'y mis diwethaf') and is checked with
the participant unless it is the number said ('once a month' last month); where the question makes
no time clear, or the reply gives no one number ('once or twice a week'), it is asked again."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from flows.parsing_little_words import _stems
from flows.parsing_normalise import _strip_politeness, _too_long, normalise
from flows.parsing_number_reading import NumberReading
from flows.parsing_number_sentences import _TOKEN_RE, _UNITS, _adds_nothing, _expected_unit, _fits
from flows.parsing_number_words import _WORD_NUMBERS

_PERIODS = {
    "hour": ("hour", "hours", "hr", "awr"),
    "day": ("day", "days", "dydd", "diwrnod", "ddiwrnod"),
    "night": ("night", "nights", "nos", "noson"),
    "week": ("week", "weeks", "wk", "wythnos", "wythnosau"),
    "fortnight": ("fortnight", "fortnights", "pythefnos"),
    "month": ("month", "months", "mth", "mis", "fis", "misoedd"),
    "year": ("year", "years", "blwyddyn", "flwyddyn", "blynedd", "mlynedd", "flynedd"),
}
"""Spans of time a frequency is said per, in English and Welsh ('yr wythnos', 'y mis')."""
_PERIOD_OF = {word: period for period, words in _PERIODS.items() for word in words}
_DAYS = {"hour": 1 / 24, "day": 1.0, "night": 1.0, "week": 7.0, "fortnight": 14.0, "month": 365.25 / 12, "year": 365.25}
"""Each span's average length in days: a month is about 4.3 weeks, a year about 52."""
_PERIOD = "|".join(sorted(_PERIOD_OF, key=len, reverse=True))
_ADVERBS = {"hourly": "hour", "daily": "day", "everyday": "day", "nightly": "night", "weekly": "week",
            "fortnightly": "fortnight", "monthly": "month", "yearly": "year", "annually": "year",
            "ddyddiol": "day", "wythnosol": "week", "fisol": "month", "flynyddol": "year"}
_ONCE = {"once": 1.0, "twice": 2.0, "thrice": 3.0, "unwaith": 1.0, "dwywaith": 2.0, "teirgwaith": 3.0}
_TIMES = frozenset({"x", "times", "time", "gwaith", "waith"})
_EVERY = frozenset({"every", "each", "bob", "pob"})
_NOT_AFTER = (r"(?!\s+(?:ago|old|later|earlier|before|after|diwethaf|ddiwethaf|dwethaf|yma|nesaf|hwn|yn ol"
              r"|centre|center|care|case|unit|surgery|hospital|ward|off|out|trip|shift|release)\b)")
"""'a week ago', 'y mis diwethaf' (last month), 'a day centre': a time or a thing, not a frequency's span."""
_PER = re.compile(
    rf"(?:\b(?P<lead>a|an|per|each|every|y|yr|bob|pob)\s+|\s*/\s*)(?:(?P<step>other|second|single|\d+|[a-z]+)\s+)?"
    rf"(?P<period>{_PERIOD})\b{_NOT_AFTER}|\b(?:yn\s+)?(?P<adverb>{'|'.join(_ADVERBS)})\b"
)
"""A frequency's span in a reply: 'a week', 'per day', 'every other day', 'every 2 weeks', '/week',
'yr wythnos', 'bob dydd', 'daily', 'yn wythnosol'."""
_UNCLEAR = re.compile(r"\b(?:not|never|less|fewer|more|over|under|least|most|up to|or|some|few|several|between|neu|rhwng)\b|n't|\+|-")
"""Words that make a frequency no one number: 'once or twice a week', 'at least daily', 'most days'."""
_ASKED_OVER = re.compile(rf"\b(?:last|past|previous|preceding)\s+(?:(?P<n>\d+|[a-z]+)\s+)?(?P<period>{_PERIOD})\b"
                         rf"|\b(?:y|yr)\s+(?:(?P<cy_n>\d+|[a-z]+)\s+)?(?P<cy_period>{_PERIOD})\s+(?:diwethaf|ddiwethaf|dwethaf|olaf)\b")
"""The span a question counts over: 'last month', 'in the past 12 months', 'y mis diwethaf'."""
_ASKED_PER = re.compile(
    rf"\b(?:a|an|per|each|every|(?:in|on|during) an?|y|yr|bob|pob|mewn)\s+(?:(?:typical|average|usual|normal|ordinary|given)\s+)?"
    rf"(?P<period>{_PERIOD})\b{_NOT_AFTER}|\b(?P<adverb>{'|'.join(_ADVERBS)})\b"
)
"""The span a question asks a rate per: 'How many times a week...', 'in a typical day', 'yr wythnos'."""
_YESTERDAY = re.compile(r"\b(?:yesterday|last night|ddoe|neithiwr)\b")
_NEVER = re.compile(
    r"(?:no\s+)?(?:i\s+|i've\s+|ive\s+|i have\s+|we\s+|we've\s+)?"
    r"(?:never(?:\s+ever)?|not ever|not at all|erioed|byth|dim erioed|ddim erioed|dim byth|dim o gwbl)"
    r"(?:\s+(?:been|did|do|have|had|went|gone|once|even once|not once|at all|o gwbl))*"
)
"""'never', 'I've never', 'never been', 'not at all', Welsh 'erioed', 'byth', 'dim o gwbl': none."""
_COUNT_QUESTION = re.compile(r"\bhow (?:many|often)\b|\bnumber of\b|\bsawl\b|\bpa mor aml\b|\bfaint o (?:weithiau|droeon)\b")
_NOT_A_COUNT = re.compile(r"\bhow long\b|\bago\b|\bsince\b|\bold\b|\bage\b|\bpa mor hir\b|\byn ol\b|\bers\b|\boed\b")
"""A question of how long, how long ago or how old, where 'never' is no 0 ('How long ago...?')."""


@dataclass(frozen=True)
class SaidFrequency:
    """How often a reply says something happens: ``times`` in every ``days`` days."""

    times: float | None
    """How many times ('twice a week': 2); None where the reply gives no one number ('once or twice a week')."""
    days: float
    counted: str
    """What is counted: 'time' ('once', '3 times', 'every day', 'daily'), '' for a bare number
    ('5 a day'), or the word said ('3 days a week', '20 cigarettes a day')."""
    rest: str
    """The reply's other words."""


def read_frequency(text: str) -> SaidFrequency | None:
    """How often ``text`` says something happens ('once a week', '3x a day', 'twice daily', 'every
    other day', '3 days a week', 'unwaith yr wythnos', 'bob dydd'); None for no frequency ('a week',
    '2 weeks', 'once')."""
    if _too_long(text):
        return None
    clean = _strip_politeness(normalise(text))
    found = _PER.search(clean)
    if found is None:
        return None
    lead, step = found["lead"], found["step"]
    span = 1.0 if step in (None, "single") else 2.0 if step in ("other", "second") else _number(step)
    if span is None or (step is not None and lead not in _EVERY):
        return None  # 'a long week'
    before = clean[:found.start()].split()
    times, counted, used = _count(before)
    last = before[-1] if before else ""
    if not used and lead not in _EVERY and not found["adverb"] and last not in _TIMES and not re.search(r"\d", last):
        return None  # 'a week', 'about a day': a length of time
    rest = " ".join([*before[:len(before) - used], clean[found.end():]]).strip()
    days = span * _DAYS[_PERIOD_OF.get(found["period"] or "") or _ADVERBS[found["adverb"] or ""]]
    if _UNCLEAR.search(clean) or any(_number(word) is not None or re.search(r"\d", word) for word in rest.split()):
        times = None  # 'once or twice a week', '3-4 times a week', 'at least weekly'
    elif not used:
        times, counted = 1.0, "time"  # 'every day', 'daily'
    return SaidFrequency(times, days, counted, rest)


def _number(word: str) -> float | None:
    if re.fullmatch(r"\d+(?:\.\d+)?", word):
        return float(word)
    return float(_WORD_NUMBERS[word]) if word in _WORD_NUMBERS and word not in ("dim", "none", "un") else None


def _count(before: list[str]) -> tuple[float | None, str, int]:
    """The count said just before a frequency's span, what it counts, and how many words it took:
    'twice' (2, 'time', 1), '3 times' (3, 'time', 2), '3x', '5' (5, '', 1), '3 days' (3, 'days', 2)."""
    last = before[-1] if before else ""
    joined = re.fullmatch(r"(\d+(?:\.\d+)?)x", last)
    if last in _ONCE or joined:
        return (_ONCE[last] if last in _ONCE else float(joined[1]) if joined else None), "time", 1
    earlier = _number(before[-2]) if len(before) > 1 else None
    if last in _TIMES and earlier is not None:
        return earlier, "time", 2
    if _number(last) is not None:
        return _number(last), "", 1
    if earlier is not None and last.isalpha() and last not in ("and", "or", "a", "ac", "neu"):
        return earlier, last, 2
    return None, "", 0


Period = tuple[Literal["per", "over"], float]
"""The span a question asks about, in days: a rate per it ('per', 'How many times a week...?') or
a count in all over it ('over', '...last month?')."""


def asked_period(question: str) -> Period | None:
    """The span a question (with its unit) asks about: ('per', 7) for 'How many times a week...?',
    ('over', 30.4) for '...last month?', ('over', 14) for '...in the past 2 weeks?'; None when it
    names none, or one that is not over ('this week', 'the past few months')."""
    asked = normalise(question)
    per = _ASKED_PER.search(asked)
    if per is not None:
        return "per", _DAYS[_PERIOD_OF.get(per["period"] or "") or _ADVERBS[per["adverb"] or ""]]
    if _YESTERDAY.search(asked):
        return "over", 1.0
    over = _ASKED_OVER.search(asked)
    if over is None:
        return None
    said = over["n"] or over["cy_n"]
    spans = 1.0 if said is None else _number(said)
    return None if spans is None else ("over", spans * _DAYS[_PERIOD_OF[over["period"] or over["cy_period"]]])


def frequency_answer(text: str, question: str, unit: str | None = None, whole: bool = True) -> NumberReading | None:
    """A reply that says how often, read as the count a number question asks for: 'once a week'
    to '...last month?' is about 4 times ('about': the participant checks it), 'every day' to 'How
    many days a week...?' 7; the number said, at once, where the question asks per the same span
    ('twice a week' to 'How many times a week...?'). ``how_often`` where no count can be made:
    the question names no span ('How many times have you...?'), or the reply gives no one number
    ('once or twice a week'). 'never' to a question of how many is 0. None for a reply that says
    no frequency, which is read as any other (:func:`flows.parsing_number_sentences.read_number`);
    ``whole`` where only a whole number is stored (a rate is otherwise to one decimal place)."""
    if _too_long(text):
        return None
    asked, unit_said = normalise(question), normalise(unit or "")
    period = asked_period(f"{asked} {unit_said}")
    counted_in = _ASKED_PER.sub(" ", unit_said).strip()  # 'times a week' counts times
    expected = _expected_unit(asked, counted_in or None)
    in_times = expected in (None, ("unit", "time"), ("unit", "day"), ("unit", "night")) or (expected or ("",))[0] == "own" \
        or (_COUNT_QUESTION.search(asked) is not None and "how many" not in asked and "sawl" not in asked)
    if _NEVER.fullmatch(_strip_politeness(normalise(text))):
        counts = _COUNT_QUESTION.search(f"{asked} {unit_said}") or expected == ("unit", "time")
        return NumberReading(0.0) if counts and not _NOT_A_COUNT.search(asked) else None
    often = read_frequency(text)
    if often is None or (expected is not None and expected[1] in ("money", "percent", "rating")):
        return None
    said = _strip_politeness(normalise(text), picking=False)
    if not _counts_the_same(often, expected, in_times):
        return NumberReading(often.times or 0.0, "other_unit" if often.counted in _UNITS else "how_often", said)
    if period is None or often.times is None:
        return NumberReading(often.times or 0.0, "how_often", said)
    times_said = "times" if often.counted == "time" and expected not in (("unit", "day"), ("unit", "night")) else ""
    known = _stems(f"{asked} {unit_said}")
    more = any(not _adds_nothing(word, known) for word in _TOKEN_RE.findall(often.rest))
    if math.isclose(period[1], often.days):  # 'twice a week' to 'a week': the number said
        return NumberReading(often.times, "confirm" if more else "clear", unit=times_said)
    count = often.times * period[1] / often.days
    value = float(math.floor(count + 0.5)) if count >= 1 and (whole or period[0] == "over") else round(count, 1)
    if value == 0:
        return NumberReading(often.times, "how_often", said)  # 'once a year' to 'yesterday'
    return NumberReading(value, "confirm", about=not math.isclose(value, count), unit=times_said)


def _counts_the_same(often: SaidFrequency, expected: tuple[str, str] | None, in_times: bool) -> bool:
    """Whether a frequency counts what the question does: times ('once a week', 'daily') where it
    counts times or days; a bare number ('5 a day') whatever it counts but a length of time or an
    age; '3 days a week' where it counts days or times; '8 hours a day' where it counts hours."""
    if often.counted == "time":
        return in_times
    unit = _UNITS.get(often.counted)
    if unit is None:
        return expected is None or expected[0] == "own" or expected[1] not in ("duration", "year")
    return bool(_fits(unit, expected)) or (unit in ("day", "night") and in_times)
