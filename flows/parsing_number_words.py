"""Numbers in words (flows/parsing.py): 'seven', 'twenty one', 'a hundred', 'sevn', Welsh
'saith' and 'dwywaith', ordinals ('second', 'yr ail'), so that a number typed or transcribed as
a word reads as the digit would."""

from __future__ import annotations

import difflib
import re

from flows.parsing_normalise import _too_long, normalise

_WORD_NUMBERS = {
    "zero": 0, "nought": 0, "nil": 0, "none": 0, "one": 1, "once": 1, "two": 2, "twice": 2,
    "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    # Welsh 0-10, enough for a rating.
    "un": 1, "dau": 2, "dwy": 2, "tri": 3, "tair": 3, "pedwar": 4, "pedair": 4, "pump": 5,
    "chwech": 6, "saith": 7, "wyth": 8, "naw": 9, "deg": 10, "dim": 0,
    "thrice": 3, "unwaith": 1, "dwywaith": 2, "teirgwaith": 3,
}
_WELSH_MUTATED_NUMBERS = {
    "ddau": 2, "ddwy": 2, "dri": 3, "thri": 3, "dair": 3, "thair": 3, "bedwar": 4, "phedwar": 4, "bedair": 4,
    "phedair": 4, "phump": 5, "pum": 5, "chwe": 6, "ddeg": 10,
}
"""Welsh numbers as mutation leaves them ('rhyw ddau', 'tua dri', 'a phump'), and the short forms
before a noun ('pum', 'chwe'); 'bump' (five) is left out: it is an English word too."""
_WORD_NUMBERS.update(_WELSH_MUTATED_NUMBERS)
_FREQUENCY_WORDS = {"once", "twice", "thrice", "unwaith", "dwywaith", "teirgwaith"}
"""How often, not which: 'twice' answers a count, never picks option 2."""
_COUNTS = sorted((w for w, v in _WORD_NUMBERS.items() if v >= 2 and w.isalpha() and w not in _FREQUENCY_WORDS), key=len, reverse=True)
_A_GROUP = re.compile(rf"(?:^|\s)(?:the|y|yr|i'r)\s+(?:{'|'.join(_COUNTS)})\b")
_MULTIPLIERS = {"hundred": 100, "thousand": 1000, "dozen": 12, "dwsin": 12}
"""Words that multiply the number before them ('two hundred', 'a dozen', Welsh 'dwsin'): 'half a
dozen' (Welsh 'hanner dwsin') is 6, 'half a hundred' 50."""
_HALF_OF = re.compile(r"(?:half (?:a|an)|hanner) (\w+)")
_FUZZY_TARGETS = [w for w in _WORD_NUMBERS if len(w) >= 4 and w.isascii()
                  and w not in (*_FREQUENCY_WORDS, *_WELSH_MUTATED_NUMBERS, "none", "nil")]
_NOT_NUMBERS = {"there", "then", "even", "seen", "fine", "nice", "five's", "nine's", "tent", "teen", "fort", "forth", "for"}
"""Real words a fuzzy match would otherwise read as a number word: 'for' is a word of its own
('for the kids', 'just for'), never four; a spoken four comes back from the transcriber as '4'
or 'four'."""
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "last": -1,
}
_WELSH_ORDINALS = {
    "cyntaf": "first", "gyntaf": "first", "1af": "first", "ail": "second", "2il": "second",
    "trydydd": "third", "drydydd": "third", "trydedd": "third", "drydedd": "third", "3ydd": "third", "3edd": "third",
    "pedwerydd": "fourth", "bedwerydd": "fourth", "pedwaredd": "fourth", "bedwaredd": "fourth", "4ydd": "fourth",
    "4edd": "fourth", "pumed": "fifth", "bumed": "fifth", "5ed": "fifth", "chweched": "sixth", "6ed": "sixth",
    "seithfed": "seventh", "7fed": "seventh", "wythfed": "eighth", "8fed": "eighth", "nawfed": "ninth",
    "9fed": "ninth", "degfed": "tenth", "ddegfed": "tenth", "10fed": "tenth", "olaf": "last", "ola": "last",
    "canol": "middle",
}
"""Welsh ordinals (with their mutated and numeral forms: 'y drydedd', '3ydd') as the English
word :data:`_ORDINALS` and the scale positions know."""
_WELSH_ORDINAL_RE = re.compile(
    rf"(?:yr?\s+)?(?:un\s+)?({'|'.join(_WELSH_ORDINALS)})(?:\s+(?:un|opsiwn|dewis|rhif))?"
)
"""'y cyntaf', 'yr un cyntaf' (the first one), 'yr ail un', 'yr ail opsiwn', 'yr olaf'."""


def says_a_group(text: str) -> bool:
    """Whether a reply names a group by its size: Welsh 'y ddau' and 'y ddwy' (both), 'y tri' (all
    three), English 'the two of them'. An article before a count means that many things together,
    as 'both' does: never the option numbered 2 or 3, nor the 'y' of a yes."""
    return bool(_A_GROUP.search(normalise(text)))


def _welsh_ordinal(text: str) -> str:
    """A reply that is only a Welsh ordinal, politeness dropped ('y cyntaf', 'yr ail un', 'yr un
    olaf'), as its English word ('first', 'second', 'last'); any other text as it is. ('un' is
    also Welsh for 1: 'yr un olaf' is the last, not the first.)"""
    found = _WELSH_ORDINAL_RE.fullmatch(text)
    return _WELSH_ORDINALS[found.group(1)] if found else text


_NUMERAL = r"[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
"""A number as written: '7', '3.5', or thousands grouped with commas ('1,250', '12,500'), whose
first group never starts with 0 ('0,125' is a decimal comma, not 125)."""


def _fuzzy_number_word(word: str) -> str | None:
    """A close misspelling of a number word ('thre', 'sevn'), or None."""
    if len(word) < 3 or not word.isalpha() or word in _NOT_NUMBERS:
        return None
    close = difflib.get_close_matches(word, _FUZZY_TARGETS, n=2, cutoff=0.85)
    if len(close) == 1 or (len(close) == 2 and difflib.SequenceMatcher(None, word, close[1]).ratio() < 0.85):
        return close[0] if close else None
    return None


def _half_of(words: list[str]) -> tuple[float, str] | None:
    """Half of a multiplier at the start of ``words`` ('half a dozen', 'hanner dwsin'): its value and the words said."""
    for size in (3, 2):
        found = _HALF_OF.fullmatch(" ".join(words[:size]))
        if found and found.group(1) in _MULTIPLIERS:
            return _MULTIPLIERS[found.group(1)] / 2, found.group(0)
    return None


def _words_value(parts: list[str]) -> float | None:
    """The value of a run of number words, or None if they do not make one number ('one two')."""
    half = _half_of(parts)
    if half is not None and len(parts) <= 3 and " ".join(parts) == half[1]:
        return half[0]
    total, current, seen = 0.0, 0.0, False
    for index, part in enumerate(parts):
        following = parts[index + 1] if index + 1 < len(parts) else ""
        if part in ("a", "an") and following in (*_MULTIPLIERS, "half"):
            continue
        if part == "half":
            if index != len(parts) - 1:
                return None
            current += 0.5
            seen = True
        elif part in _MULTIPLIERS:
            current = max(current, 1) * _MULTIPLIERS[part]
            if part == "thousand":
                total, current = total + current, 0
            seen = True
        elif part in _WORD_NUMBERS:
            value = _WORD_NUMBERS[part]
            units = current % 100
            if seen and units and not (units % 10 == 0 and units >= 20 and value < 10):
                return None
            current += value
            seen = True
        else:
            return None
    return total + current if seen else None


def words_to_number(text: str) -> float | None:
    """'seven' -> 7, 'twenty one' -> 21, 'a hundred' -> 100, '7' -> 7, '3.5' -> 3.5, 'sevn' -> 7."""
    if _too_long(text):
        return None
    text = normalise(text)
    if re.fullmatch(rf"[-+]?(?:{_NUMERAL})", text):
        return float(text.replace(",", ""))
    parts = [p for p in text.replace("-", " ").split() if p != "and"]
    if len(parts) == 1 and parts[0] not in _WORD_NUMBERS:
        fixed = _fuzzy_number_word(parts[0])
        parts = [fixed] if fixed else parts
    if parts == ["half"]:
        return 0.5
    return _words_value(parts) if parts else None


def _number_runs(text: str) -> list[list[str]]:
    """Maximal runs of number words in a reply: 'twenty one times, maybe' -> [['twenty', 'one']]."""
    runs: list[list[str]] = []
    current: list[str] = []
    words = re.split(r"[\s,;]+", text.replace("-", " "))
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else ""
        joins = word == "and" and current and (following in _WORD_NUMBERS or following in ("a", "half"))
        article = word in ("a", "an") and following in (*_MULTIPLIERS, "half") and (current or following != "half")
        half_of = word in ("half", "hanner") and not current and _half_of(words[index:index + 3]) is not None
        if word in _WORD_NUMBERS or word in _MULTIPLIERS or (word == "half" and current) or joins or article or half_of:
            current.append(word)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return [[w for w in run if w != "and"] for run in runs]


_AMOUNT_WORDS = re.compile(
    r"(?:(?P<half>half (?:a|an)|hanner)\s+|(?:a|an)\s+|(?P<couple>(?:a\s+)?couple(?:\s+of)?|cwpl o)\s+)?"
    r"(?P<unit>[^\W\d]+)(?P<and_half>\s+and a half|\s+a hanner)?"
)
"""A length of time said in words, no number: 'a week', 'a fortnight', 'a couple of weeks', 'half
a year', 'an hour and a half', Welsh 'pythefnos', 'hanner blwyddyn', 'cwpl o wythnosau'."""
_BARE_UNITS = frozenset({"fortnight", "pythefnos", "wythnos", "blwyddyn", "mis", "diwrnod", "awr", "munud"})
"""Units said alone for one of them: 'fortnight', and Welsh, which has no 'a' ('wythnos', a week)."""
_FORTNIGHT = frozenset({"fortnight", "fortnights", "pythefnos"})
_AMOUNT_HEDGES = re.compile(r"^(?:(?:about|around|roughly|approx|approximately|nearly|almost|just|only|maybe|probably|prob|tua|rhyw|bron)\s+)+|"
                            r"\s+(?:ish|or so|ago|old|oed|yn ol)$")
"""Hedges around a length of time in words ('about a fortnight', 'a week or so', 'a year ago')."""
_IN_SMALLER = {"second": ("time", 1), "minute": ("time", 60), "hour": ("time", 3600), "day": ("time", 86400),
               "week": ("time", 604800), "month": ("calendar", 1), "year": ("calendar", 12)}
"""Units of time as a whole number of the ones below them, on two scales: seconds to weeks, and
months to years (a month is no whole number of weeks or days)."""


def _time_in_words(said: str) -> tuple[float, str | None] | None:
    """The amount and unit word of a length of time said in words: 'a fortnight' (2, 'week'),
    'half a year' (0.5, 'year'), 'a couple of times' (2, 'times'), 'a couple' (2, None); None for
    other words. Whether the word is a unit is for the caller to say."""
    if re.fullmatch(r"(?:a\s+)?couple|cwpl", said):
        return 2.0, None
    found = _AMOUNT_WORDS.fullmatch(said)
    if found is None or (found.group(0) == found.group("unit") and found.group("unit") not in _BARE_UNITS):
        return None  # 'week' alone, 'times' alone
    value = 2.0 if found.group("couple") else 0.5 if found.group("half") else 1.0
    value += 0.5 if found.group("and_half") and not found.group("half") else 0.0
    return (value * 2, "week") if found.group("unit") in _FORTNIGHT else (value, found.group("unit"))


def _in_smaller_unit(value: float, unit: str, wanted: str) -> float | None:
    """``value`` of ``unit`` in ``wanted``, when that is a smaller unit of time it is a whole number
    of ('a week' is 7 days, 'half a year' 6 months); None otherwise."""
    if unit not in _IN_SMALLER or wanted not in _IN_SMALLER:
        return None
    (scale, size), (wanted_scale, wanted_size) = _IN_SMALLER[unit], _IN_SMALLER[wanted]
    return value * size / wanted_size if scale == wanted_scale and size >= wanted_size else None
