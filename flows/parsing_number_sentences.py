"""A number said inside a sentence (flows/parsing.py): whether the reply is only the number,
says more (checked with the participant first) or goes with another unit than the question's
('6 hours' to 'how many times?', asked again; '2 weeks' to a question in days, converted)."""

from __future__ import annotations

import re
from dataclasses import replace
from functools import partial

from flows.parsing_durations import (
    _compound_duration,
    _converted_duration,
    _spaced_units,
    pregnancy_notation,
)
from flows.parsing_little_words import _LITTLE_WORDS, _stem, _stems
from flows.parsing_near_numbers import near_bound
from flows.parsing_normalise import _strip_politeness, normalise
from flows.parsing_number_reading import NumberReading
from flows.parsing_number_words import (
    _AMOUNT_HEDGES,
    _MULTIPLIERS,
    _ORDINALS,
    _WELSH_ORDINALS,
    _WORD_NUMBERS,
    _fuzzy_number_word,
    _in_smaller_unit,
    _time_in_words,
)
from flows.parsing_numbers import _ISH, _NONE_AT_ALL, parse_number

_UNIT_NAMES: dict[str, tuple[str, tuple[str, ...]]] = {
    "second": ("duration", ("second", "seconds", "sec", "secs", "eiliad", "eiliadau")),
    "minute": ("duration", ("minute", "minutes", "min", "mins", "munud", "munudau")),
    "hour": ("duration", ("hour", "hours", "hr", "hrs", "h", "awr", "oriau")),
    "day": ("duration", ("day", "days", "diwrnod", "ddiwrnod", "niwrnod", "diwrnodau")),
    "night": ("duration", ("night", "nights", "noson", "nosweithiau")),
    "week": ("duration", ("week", "weeks", "wk", "wks", "wythnos", "wythnosau")),
    "month": ("duration", ("month", "months", "mth", "mths", "mnth", "mnths", "mo", "mos", "mis", "fis", "misoedd")),
    "year": ("duration", ("year", "years", "yr", "yrs", "blwyddyn", "blynedd", "mlynedd", "flynedd", "blwydd", "oed")),
    "time": ("count", ("time", "times", "gwaith", "waith")),
    "pound": ("money", ("£", "pound", "pounds", "quid", "gbp", "punt", "punnoedd")),
    "penny": ("money", ("pence", "penny", "ceiniog")),
    "dollar": ("money", ("$", "dollar", "dollars")),
    "euro": ("money", ("€", "euro", "euros")),
    "percent": ("percent", ("%", "percent", "pc")),
    "star": ("rating", ("star", "stars", "seren", "sêr")),
    "point": ("rating", ("point", "points", "pts", "pwynt", "pwyntiau")),
    "mark": ("rating", ("mark", "marks", "marc", "marciau")),
    "weight": ("measure", ("kg", "kgs", "kilo", "kilos", "kilograms", "stone", "lb", "lbs")),
    "length": ("measure", ("mile", "miles", "km", "kms", "metre", "metres", "meter", "meters", "cm", "inch", "inches", "feet")),
    "volume": ("measure", ("ml", "litre", "litres", "liter", "liters", "pint", "pints")),
}
"""Units people put after a number (or '£' before it), by the unit they name and its kind."""
_UNITS = {said: unit for unit, (_, words) in _UNIT_NAMES.items() for said in words}
_UNIT_KIND = {unit: kind for unit, (kind, _) in _UNIT_NAMES.items()}
_SYMBOLS = frozenset("£$€")
_TOKEN_RE = re.compile(r"[£$€%]|\d[\d.,]*\w*|[^\W\d][\w']*")
_NAMED_UNIT = re.compile(r"\bhow many (\w+)|\bsawl (\w+)|\((?:in |mewn )?(\w+)(?:\)|$)|\b(?:in|mewn) (\w+)$")
"""Where a question names its unit: 'How many hours...', 'Sawl gwaith...', '(minutes)', '..., in days?',
Welsh '(mewn diwrnodau)'. A bracket that ends the question has lost its ')' to :func:`normalise`
('How long did you wait (days)?')."""
_QUESTION_KINDS = (
    ("year", re.compile(r"\bhow old\b|\bage\b|\bpa oed\b")),
    ("money", re.compile(r"£|\bcost|\bspen[dt]\b|\bpa(?:y|id)\b|\bhow much money\b")),
    ("percent", re.compile(r"%|\bper ?cent|\bpercentage\b|\bcanran\b")),
    ("count", re.compile(r"\bhow (?:many|often)\b|\bnumber of\b|\bsawl\b|\bpa mor aml\b")),
    ("duration", re.compile(r"\bhow long\b|\bpa mor hir\b|\bfaint o amser\b")),
)
"""What a question asks for when it names no unit: an age (in years), money, a percentage, a
count, or a length of time (in a unit it does not say)."""
_NUMBER_HEDGES = frozenset({
    "ish", "roughly", "approx", "approximately", "about", "around", "exactly", "only", "just", "total", "altogether", "prob",
    "overall", "tbh", "honestly", "tbf", "lol", "haha", "ha", "x", "xx", "xxx", "ok", "okay", "yes", "yeah", "yep",
    "hello", "hiya", "think", "guess", "reckon", "say", "give", "gave", "rate", "rated", "rating", "score", "scored",
    "out", "thank", "god", "goodness", "thankfully", "luckily", "sadly", "unfortunately", "went", "gone", "been", "go",
    "did", "done", "got", "made", "im", "ive", "id", "we've", "we'd", "we're", "i'll", "we'll", "maybe", "perhaps",
    "nearly", "almost", "bron", "nearer", "closer", "nes", "agosach", "tua", "rhyw", "efallai", "meddwl", "dweud", "dwi", "dwi'n", "i'n", "fyddwn", "bod", "wedi", "oedd", "roedd", "tro",
})
"""Words that go with a number without adding to it ('about 5 I reckon', 'I'd give it 4', 'been 3
times', 'tua 5'), besides politeness and the little words that name nothing."""

def read_number(
    text: str, question: str = "", unit: str | None = None, rating: bool = False, own_words: str = "",
    out_of: float | None = None, decimal_comma: bool = False, whole: bool = True,
) -> NumberReading | None:
    """:func:`parse_number`, and whether the reply is only that number. ``question`` (the
    question's words, which the reply may echo) and ``unit`` (the step's own) say which unit the
    answer is in; ``rating`` for a score on a scale, in no unit but points or stars;
    ``own_words`` may also be said without adding anything (the label of the point read). A
    length of time said in another unit is converted (flows/parsing_durations.py): exactly, as
    said ('2 weeks' in days: 14), or to check ('3 months': about 91; '10 days' in weeks: 1, or
    1.4 where not ``whole``); so is a pregnancy's '23+4' or '36/40' in weeks or days.
    A number said to be just over or under ('just over 2') is that number, to check."""
    expected = _expected_unit(normalise(question), unit)
    wanted = expected[1] if expected and expected[0] == "unit" else None
    again = partial(read_number, question=question, unit=unit, rating=rating, own_words=own_words, out_of=out_of,
                    decimal_comma=decimal_comma, whole=whole)
    spelled = pregnancy_notation(text, wanted)
    if spelled != text:  # '23+4' as '23 weeks 4 days': checked, as a sum or a fraction is another reading
        reading = again(spelled)
        return reading if reading is None or reading.doubt != "clear" else replace(reading, doubt="confirm")
    text = _spaced_units(text)
    compound = _compound_duration(text, _UNITS, wanted, whole)
    if compound is not None:  # '23 weeks 4 days': its total in the question's unit
        reading = again(compound[0])
        return reading if reading is None or compound[1].exact else NumberReading(reading.value, "confirm", about=compound[1].about)
    near = near_bound(text)
    if near is not None:
        reading = again(near)
        return reading if reading is None or reading.doubt != "clear" else NumberReading(reading.value, "confirm")
    in_words = None if rating else _amount_in_words(text, question, unit)
    if in_words is not None:
        return in_words
    value = parse_number(text, out_of=out_of, decimal_comma=decimal_comma)
    if value is None:
        return None
    said = _ISH.sub(" ish", normalise(text)).replace("per cent", "percent")  # '3ish' as 'about 3'
    said = re.sub(r"\b(none|zero|nothing|nil)\s+(?:at all|whatsoever)\b", r"\1", said)  # 'none at all' is 'none'
    said = "none" if _NONE_AT_ALL.fullmatch(_strip_politeness(said).strip(" .!")) else said  # 'not one', 'not once'
    tokens = [token.rstrip(".,") for token in _TOKEN_RE.findall(said)]
    units, used = _units_said(tokens)
    expected = expected or (("kind", "rating") if rating else None)
    converted = None
    for said_unit, shown in units:
        if _fits(said_unit, expected) is False:  # '2 weeks' to a question in days may be converted
            converted = _converted_duration(value, said_unit, expected[1], whole) if expected and len(units) == 1 else None
            if converted is None:
                return NumberReading(value, "other_unit", shown)
            value = converted.value
    rest = " ".join(token for index, token in enumerate(tokens) if index not in used)
    known = _stems(normalise(f"{question} {unit or ''} {own_words}"))
    more = any(not _adds_nothing(word, known) for word in _TOKEN_RE.findall(_strip_politeness(rest)))
    approximate = converted is not None and not converted.exact
    return NumberReading(value, "confirm" if more or approximate else "clear", about=converted is not None and converted.about)


def _amount_in_words(text: str, question: str, unit: str | None) -> NumberReading | None:
    """A length of time or a couple said in words, no number ('a fortnight', 'a couple of weeks',
    'half a year', 'a couple'), in the answer's unit: 'a fortnight' is 2 to a question in weeks.
    In a smaller unit of time it is a whole number of, it is converted and checked first ('half a
    year' in months: 'Just to check: 6 months?'); in any other unit it answers something else
    ('a month' in weeks, 4 or 5). None when the reply is no such words, or is a length of time to
    a question that says no unit ('How long...?')."""
    said = _AMOUNT_HEDGES.sub("", _strip_politeness(normalise(text))).strip()
    amount = _time_in_words(said)
    if amount is None:
        return None
    value, word = amount
    if word is None:  # 'a couple': two of whatever the question counts
        return NumberReading(value)
    said_unit = _UNITS.get(word)
    if said_unit is None or _UNIT_KIND[said_unit] not in ("duration", "count"):
        return None
    expected = _expected_unit(normalise(question), unit)
    fits = _fits(said_unit, expected)
    if fits or (fits is None and said_unit == "time"):
        return NumberReading(value)
    if fits is None or expected is None:
        return None
    converted = _in_smaller_unit(value, said_unit, expected[1]) if expected[0] == "unit" else None
    across = _converted_duration(value, said_unit, expected[1]) if converted is None else None
    converted = across[0] if across else converted  # 'a month' in weeks: about 4
    about = across is not None and across.about
    return NumberReading(converted, "confirm", about=about) if converted is not None else NumberReading(value, "other_unit", said)


def _numberish(token: str, cardinal: bool = False) -> bool:
    """A numeral or number word ('6', '3.5', 'six', 'half'); unless ``cardinal``, an ordinal too
    (Welsh 'ail', 'trydydd' as English 'second', 'third')."""
    if re.fullmatch(r"[-+]?\d[\d.,]*", token) or token in _WORD_NUMBERS or token in _MULTIPLIERS or token in ("half", "hanner"):
        return True
    if cardinal:
        return False
    return (token in _ORDINALS or token in _WELSH_ORDINALS or bool(re.fullmatch(r"\d+(?:st|nd|rd|th)", token))
            or _fuzzy_number_word(token) is not None)


def _units_said(tokens: list[str]) -> tuple[list[tuple[str, str]], set[int]]:
    """The units said with a number ('6 hours', '£20', '4 years old', '50%'), each as (the unit,
    the words as said), and the places of their words among ``tokens``."""
    found: list[tuple[str, str]] = []
    used: set[int] = set()
    for index, token in enumerate(tokens):
        if not _numberish(token, cardinal=True):
            continue
        start = index
        while start and (_numberish(tokens[start - 1], cardinal=True) or tokens[start - 1] in ("and", "a", "an")):
            start -= 1
        number = " ".join(tokens[start:index + 1])
        after = tokens[index + 1] if index + 1 < len(tokens) else ""
        if after in _UNITS and not _numberish(after, cardinal=True):
            old = index + 2 < len(tokens) and tokens[index + 2] == "old" and _UNITS[after] == "year"
            used |= {index + 1, index + 2} if old else {index + 1}
            found.append((_UNITS[after], f"{number}{'' if after == '%' else ' '}{after}{' old' if old else ''}"))
        if index and tokens[index - 1] in _SYMBOLS:
            used.add(index - 1)
            found.append((_UNITS[tokens[index - 1]], f"{tokens[index - 1]}{token}"))
    return found, used


def _expected_unit(question: str, unit: str | None) -> tuple[str, str] | None:
    """What the answer is counted in: ('unit', 'hour') for a step whose unit is hours or a
    question naming them ('How many hours...'); ('own', ...) for a unit of the step's own
    ('nappies'); ('kind', 'count') and the like for a question that says what it asks for but no
    unit ('how many times', 'how long', 'how old'); None when nothing says."""
    if unit:
        words = [_UNITS.get(word) for word in _TOKEN_RE.findall(normalise(unit))]
        known = [word for word in words if word]
        return ("unit", known[-1]) if known else ("own", unit)
    for found in _NAMED_UNIT.finditer(question):
        named = next(group for group in found.groups() if group)
        if named in _UNITS:
            return "unit", _UNITS[named]
    for kind, pattern in _QUESTION_KINDS:
        if pattern.search(question):
            return ("unit", "year") if kind == "year" else ("kind", kind)
    return None


def asks_how_long_in_no_unit(question: str, unit: str | None) -> bool:
    """Whether a number question asks for a length of time ('How long did you wait?') without
    saying in what: its step has no ``unit`` and its words name none."""
    return _expected_unit(normalise(question), unit) == ("kind", "duration")


def _fits(unit: str, expected: tuple[str, str] | None) -> bool | None:
    """Whether a unit said is the answer's: True, False (another unit: the number answers
    something else), or None (the question does not say its unit)."""
    if expected is None:
        return None
    how, what = expected
    if how == "unit":
        return unit == what
    if how == "own":
        return False
    if what == "duration" and _UNIT_KIND[unit] == "duration":
        return None
    return _UNIT_KIND[unit] == what


def _adds_nothing(word: str, known: frozenset[str]) -> bool:
    """A word of a reply that says nothing beyond its number: a number word, a little word, a
    hedge, or one of the question's own words ('been', 'times', 'year')."""
    return (word in _LITTLE_WORDS or word in _NUMBER_HEDGES or word in "£$€%" or _numberish(word)
            or _stem(word) in known or word in known)
