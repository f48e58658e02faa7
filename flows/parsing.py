"""Answer understanding that forgives: numbers in words, yes/no, option picks.

Every function is pure and returns ``None`` when it cannot tell; the caller
turns that into a short, specific retry message. The rule throughout: accept
anything with one clear reading ('I'd say 4 thanks', 'the second one', 'yesss',
'sevn'), refuse anything with two ('2 or 3', 'yes and no') or none ('maybe').
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

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
_FREQUENCY_WORDS = {"once", "twice", "thrice", "unwaith", "dwywaith", "teirgwaith"}
"""How often, not which: 'twice' answers a count, never picks option 2."""
_MULTIPLIERS = {"hundred": 100, "thousand": 1000}
_FUZZY_TARGETS = [w for w in _WORD_NUMBERS if len(w) >= 4 and w.isascii() and w not in (*_FREQUENCY_WORDS, "none", "nil")]
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


def _welsh_ordinal(text: str) -> str:
    """A reply that is only a Welsh ordinal, politeness dropped ('y cyntaf', 'yr ail un', 'yr un
    olaf'), as its English word ('first', 'second', 'last'); any other text as it is. ('un' is
    also Welsh for 1: 'yr un olaf' is the last, not the first.)"""
    found = _WELSH_ORDINAL_RE.fullmatch(text)
    return _WELSH_ORDINALS[found.group(1)] if found else text


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
_NUMERAL = r"[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
"""A number as written: '7', '3.5', or thousands grouped with commas ('1,250', '12,500'), whose
first group never starts with 0 ('0,125' is a decimal comma, not 125)."""
_NUMERAL_RE = re.compile(rf"(?<![\w.,])[-+]?(?:{_NUMERAL})(?![\w.]|,\d)")

_FILLER = (
    r"diolch yn fawr iawn|diolch yn fawr|os gwelwch yn dda|os gwelwch chi'n dda|os gweli di'n dda|plis|"
    r"please|plz|pls|thanks|thank you|thankyou|thanks very much|ta|cheers|diolch|diolch yn fawr|"
    r"i think|i'd say|id say|i would say|i guess|i reckon|i suppose|probably|it's|its|it is|it was|"
    r"my answer is|my answer|answer|i'll go with|ill go with|i'd go with|go with|i choose|i pick|"
    r"i'd pick|i'll pick|i'll say|i say|i'd go for|i'll go for|go for|let's say|let's go with|"
    r"i'm going with|sorry|um+|erm+|er|uh+|hmm+|well|oh|so|just"
)
_PICK_FILLER = r"option|number|no\.|choice|opsiwn|rhif|about|around|roughly|approximately|approx|maybe|perhaps|say|like"
_FILLER_RE = re.compile(rf"\b(?:{_FILLER})\b")
_PICK_FILLER_RE = re.compile(rf"(?:(?<=\s)|^)(?:{_PICK_FILLER})(?=\s|$)")

_YES_LEAD = {
    "yes", "y", "yeah", "yea", "yeh", "yep", "yup", "ya", "yah", "ye", "aye", "ok", "okay", "k",
    "sure", "absolutely", "certainly", "definitely", "of course", "i agree", "i do", "i would", "i will", "i am",
    "happy to", "go on", "go ahead", "sounds good", "count me in", "ie", "ydw", "yndw", "ydy", "oes",
    "wrth gwrs", "yes please", "i consent", "consent", "i give consent", "i'm happy to", "i am happy to",
    "no problem", "no problemo", "no prob", "no probs", "no bother", "no worries", "no worry", "no trouble",
    "no sweat", "no bovver", "no biggie", "not a problem", "not a bother", "not a worry", "nae bother",
    "dim problem", "dim trafferth", "dim probs",
}
"""Includes 'no problem', 'no worries', 'not a problem': agreeing, not refusing."""
_YES_WHOLE = {
    "do", "iawn", "right", "correct", "true", "fine", "alright", "all right", "agree", "agreed",
    "please", "why not", "i think so", "think so", "yes and yes", "hoffwn", "gwnaf", "byddwn",
    "cytuno", "ydw diolch", "wrth gwrs", "i suppose so", "suppose so", "i guess so", "guess so",
}
_NO_LEAD = {
    "no", "n", "nope", "nah", "na", "naw", "nay", "never", "not really", "not at all", "no way",
    "no thanks", "no thank you", "i don't", "i do not", "i won't", "i will not", "i wouldn't",
    "i would not", "i'm not", "i am not", "i disagree", "i'd rather not", "rather not", "no chance",
    "nac ydw", "nac ydy", "nac oes", "nag ydw", "nag ydy", "nag oes", "nadw", "nage", "naddo", "na diolch", "dim diolch", "i do not consent",
    "i don't consent",
    "i dont consent",
}
_NO_WHOLE = {
    "don't", "dont", "disagree", "negative", "definitely not", "certainly not", "absolutely not",
    "of course not", "i don't think so", "don't think so", "dim", "byth",
}
_KNOWN_WORDS = {word for phrase in _YES_LEAD | _YES_WHOLE | _NO_LEAD | _NO_WHOLE for word in phrase.split()}
_YES_NO_EMOJI = {
    "👍": " yes ", "👌": " yes ", "✅": " yes ", "✔": " yes ", "☑": " yes ",
    "👎": " no ", "❌": " no ", "✖": " no ", "🚫": " no ", "❎": " no ",
}
_UNSURE = re.compile(
    r"\b(?:maybe|perhaps|possibly|might|not sure|unsure|don'?t know|do not know|dunno|idk|no idea|"
    r"depends|sometimes|kind of|sort of|not certain|efallai|ddim yn siwr|ddim yn gwybod|dim syniad)\b"
)
_INDIFFERENT = re.compile(
    r"\b(?:(?:i\s+)?(?:do not|don'?t|wouldn'?t|would not|won'?t)\s+mind|(?:i'?m\s+|i am\s+)?not (?:bothered|fussed)|"
    r"(?:i\s+)?(?:do not|don'?t)\s+(?:really\s+)?care|no (?:preference|real preference)|either way|"
    r"either(?:'s| is| one is| would be)? (?:fine|ok|okay|good)|either (?:one )?will do|whichever|whatever|up to you|"
    r"(?:it\s+)?(?:doesn'?t|does not) matter|i'?m easy|(?:does\s+|s)?dim (?:ots|gwahaniaeth)|sa i'?n becso)\b"
)
"""'I don't mind', 'either is fine', 'dim ots': either answer will do. Never a NO (though it
holds one), and no clear YES either: a consent step needs one, and what 'I don't mind' means
turns on how the question was put ('Can we call?' or 'Would you mind a call?'), so it is asked
again unless a yes comes with it ('yes, I don't mind'). 'I wouldn't mind' (a polite yes in
British English) is asked again too rather than read as the NO it starts with."""
def says_indifferent(text: str) -> bool:
    """'I don't mind', 'no preference', 'dim ots': either answer will do (:data:`_INDIFFERENT`)."""
    return bool(_INDIFFERENT.search(normalise(text)))


_YES_IDIOM = re.compile(
    "|".join(rf"\b{re.escape(phrase)}\b" for phrase in sorted(_YES_LEAD, key=len, reverse=True) if phrase.split()[0] in ("no", "not", "nae", "dim"))
)
"""A yes that starts with a no word ('no problem'), so it is not read as a second answer."""
_SAYS_NO = re.compile(r"\b(?:no|not|nope|nah|never|na|nac|nag|nadw)\b|n't")
_SAYS_YES = re.compile(r"\b(?:yes|yeah|yep|yup|ie|ydw|yndw)\b")
_NEGATING = re.compile(
    r"\b(?:not|never|no|neither|nor|none|nothing|cannot|ddim|dim|nid|nac)\b|"
    r"\b(?:do|does|did|is|was|are|were|wo|ca|could|would|should|have|has|had|ai)n'?t\b"
)
_INTENSIFIER = r"v|vv|very|really|rly|real|so|quite|pretty|extremely|fairly|super|too|most|totally|absolutely"
_ABBREVIATIONS = ((re.compile(r"\b(?:v|vv|vry|vey)\.?\s+(?=[a-z]{2})"), "very "),)
"""Short forms of option words, written out before matching: 'v good' -> 'very good'."""
MAX_ANSWER_CHARS = 200
"""A longer reply is a story, not a closed answer: it is never read as a number, yes/no or pick
(which also keeps the fuzzy matching cheap whatever arrives)."""
UNSURE_REPLIES = (
    "unsure", "not sure", "don't know", "dont know", "do not know", "no idea", "dunno", "idk", "skip this",
    "ddim yn siwr", "ddim yn gwybod", "dim syniad",
)
"""Replies that say 'I can't rate this' at a step that allows it."""
_ALL = {"all", "all of them", "all of the above", "everything", "every one", "pob un", "y cyfan"}


# --------------------------------------------------------------------------- normalising


@lru_cache(maxsize=16384)
def normalise(text: str) -> str:
    """Lower case, folded accents, single spaces, no surrounding punctuation.

    Keycap emoji become digits ('4️⃣' -> '4') and skin tones are dropped, so '👍🏽' is '👍'.
    """
    text = re.sub(r"(\d)\s*½", r"\1.5", text).replace("½", " half ")
    text = unicodedata.normalize("NFKC", text)
    text = re.sub("([0-9])\ufe0f?\u20e3", r"\1", text)
    text = re.sub("[\U0001f3fb-\U0001f3ff\ufe0f\u200d]", "", text)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if unicodedata.category(c) != "Mn")
    text = unicodedata.normalize("NFC", text).lower()
    text = text.replace("’", "'").replace("‘", "'").replace("`", "'")
    text = re.sub(r"\s+", " ", text).strip()
    return text.strip(" .!?,;:\"'()[]…")


def _tidy(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip(" .!?,;:…")


@lru_cache(maxsize=16384)
def _strip_politeness(text: str, picking: bool = True) -> str:
    """Drop thanks, hedges and lead-ins ('I'd say', 'option'); ``picking`` also drops 'maybe', 'about'."""
    text = _tidy(_FILLER_RE.sub(" ", text))
    if picking:
        text = _tidy(_PICK_FILLER_RE.sub(" ", text))
    return _tidy(re.sub(r"\s*;\s*|\s*,(?!\d)\s*", " ", text))


def only_politeness(text: str) -> bool:
    """A reply (or part of one) that is nothing but thanks, hedges and lead-ins: 'thanks',
    'I think', 'please' ('phone, I think' names one option; the second part adds nothing)."""
    return bool(normalise(text)) and not _strip_politeness(normalise(text), picking=False)


def without_politeness(text: str) -> str:
    """A reply normalised, without its thanks, hedges and lead-ins ('pass please', 'pasio plis',
    'methu penderfynu os gwelwch yn dda' -> 'pass', 'pasio', 'methu penderfynu'), for a step
    that compares whole replies with its own words."""
    return _strip_politeness(normalise(text), picking=False)


def _too_long(text: str) -> bool:
    return len(text) > MAX_ANSWER_CHARS and len(text.strip()) > MAX_ANSWER_CHARS


def _squash(word: str) -> str:
    """'yesss' -> 'yes', 'nooo' -> 'no': repeated letters as one."""
    return re.sub(r"(.)\1+", r"\1", word)


# --------------------------------------------------------------------------- numbers


def _fuzzy_number_word(word: str) -> str | None:
    """A close misspelling of a number word ('thre', 'sevn'), or None."""
    if len(word) < 3 or not word.isalpha() or word in _NOT_NUMBERS:
        return None
    close = difflib.get_close_matches(word, _FUZZY_TARGETS, n=2, cutoff=0.85)
    if len(close) == 1 or (len(close) == 2 and difflib.SequenceMatcher(None, word, close[1]).ratio() < 0.85):
        return close[0] if close else None
    return None


def _words_value(parts: list[str]) -> float | None:
    """The value of a run of number words, or None if they do not make one number ('one two')."""
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
        if word in _WORD_NUMBERS or word in _MULTIPLIERS or (word == "half" and current) or joins or article:
            current.append(word)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return [[w for w in run if w != "and"] for run in runs]


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


# --------------------------------------------------------------------------- a number inside a sentence


_UNIT_NAMES: dict[str, tuple[str, tuple[str, ...]]] = {
    "second": ("duration", ("second", "seconds", "sec", "secs", "eiliad", "eiliadau")),
    "minute": ("duration", ("minute", "minutes", "min", "mins", "munud", "munudau")),
    "hour": ("duration", ("hour", "hours", "hr", "hrs", "h", "awr", "oriau")),
    "day": ("duration", ("day", "days", "diwrnod", "diwrnodau")),
    "night": ("duration", ("night", "nights", "noson", "nosweithiau")),
    "week": ("duration", ("week", "weeks", "wk", "wks", "wythnos", "wythnosau")),
    "month": ("duration", ("month", "months", "mth", "mths", "mis", "misoedd")),
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
_NAMED_UNIT = re.compile(r"\bhow many (\w+)|\bsawl (\w+)|\((?:in )?(\w+)\)|\bin (\w+)$")
"""Where a question names its unit: 'How many hours...', 'Sawl gwaith...', '(minutes)', '..., in days?'."""
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
    "tua", "rhyw", "efallai", "meddwl", "dweud", "dwi", "dwi'n", "i'n", "fyddwn", "bod", "wedi", "oedd", "roedd", "tro",
})
"""Words that go with a number without adding to it ('about 5 I reckon', 'I'd give it 4', 'been 3
times', 'tua 5'), besides politeness and the little words that name nothing."""

Doubt = Literal["clear", "confirm", "other_unit"]


@dataclass(frozen=True)
class NumberReading:
    """The one number a reply gives, and how far it can be taken as the answer."""

    value: float
    doubt: Doubt = "clear"
    """``clear``: the reply is the number (with politeness, hedges or the question's own unit);
    ``confirm``: it says more than the number ('my son is 4 and has asthma'), so the number is
    a guess to check with the participant; ``other_unit``: the number goes with a unit that is
    not the question's ('6 hours' to 'how many times?'), so it answers something else."""
    said: str = ""
    """For ``other_unit``, the number with its unit as said ('6 hours', '£20')."""


def read_number(
    text: str, question: str = "", unit: str | None = None, rating: bool = False, own_words: str = "",
    out_of: float | None = None, decimal_comma: bool = False,
) -> NumberReading | None:
    """:func:`parse_number`, and whether the reply is only that number. ``question`` (the
    question's words, which the reply may echo) and ``unit`` (the step's own) say which unit the
    answer is in; ``rating`` for a score on a scale, in no unit but points or stars;
    ``own_words`` may also be said without adding anything (the label of the point read)."""
    value = parse_number(text, out_of=out_of, decimal_comma=decimal_comma)
    if value is None:
        return None
    tokens = [token.rstrip(".,") for token in _TOKEN_RE.findall(normalise(text).replace("per cent", "percent"))]
    units, used = _units_said(tokens)
    expected = _expected_unit(normalise(question), unit) or (("kind", "rating") if rating else None)
    for said_unit, shown in units:
        if _fits(said_unit, expected) is False:
            return NumberReading(value, "other_unit", shown)
    rest = " ".join(token for index, token in enumerate(tokens) if index not in used)
    known = _stems(normalise(f"{question} {unit or ''} {own_words}"))
    more = any(not _adds_nothing(word, known) for word in _TOKEN_RE.findall(_strip_politeness(rest)))
    return NumberReading(value, "confirm" if more else "clear")


def _numberish(token: str, cardinal: bool = False) -> bool:
    """A numeral or number word ('6', '3.5', 'six', 'half'); unless ``cardinal``, an ordinal too."""
    if re.fullmatch(r"[-+]?\d[\d.,]*", token) or token in _WORD_NUMBERS or token in _MULTIPLIERS or token == "half":
        return True
    if cardinal:
        return False
    return token in _ORDINALS or bool(re.fullmatch(r"\d+(?:st|nd|rd|th)", token)) or _fuzzy_number_word(token) is not None


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


# --------------------------------------------------------------------------- yes / no


_SWAPPED_ONLY = {"yes": True, "yeah": True, "yep": True, "yup": True, "okay": True, "sure": True, "agree": True,
                 "nope": False, "nah": False}
"""Short yes and no words whose two neighbouring letters typed the wrong way round are still
read ('yse', 'yaeh', 'suer', 'noep'); other slips of a short word too often make another word
('yet', 'hope', 'sue'), so they are not guessed at."""
_ONE_SLIP = {"absolutely": True, "certainly": True, "definitely": True, "consent": True, "problem": True}
"""Long yes words (and 'no problem') read with any one slip: a letter swapped, left out, doubled
or mistyped ('definately', 'no porblem')."""
_NOT_SLIPS = frozenset({"dyw", "content", "certainty"})
"""Real words one slip from a yes word, which are never read as it ('dyw' is Welsh for 'is not')."""


def _slips(word: str, any_slip: bool) -> set[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    found = {word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(len(word) - 1)}
    if any_slip:
        found |= {word[:i] + word[i + 1:] for i in range(len(word))}
        found |= {word[:i] + c + word[i + 1:] for i in range(len(word)) for c in letters}
        found |= {word[:i] + c + word[i:] for i in range(len(word) + 1) for c in letters}
    return found - {word}


def _yes_no_typos() -> dict[str, str]:
    """Each misspelling of a word in :data:`_SWAPPED_ONLY` and :data:`_ONE_SLIP`, to the word.
    A misspelling that could be a yes word or a no word, or is itself a known word, is left out."""
    said: dict[str, set[bool]] = {}
    meant: dict[str, str] = {}
    for targets, any_slip in ((_SWAPPED_ONLY, False), (_ONE_SLIP, True)):
        for target, yes in targets.items():
            for slip in _slips(target, any_slip):
                said.setdefault(slip, set()).add(yes)
                meant[slip] = target
    return {slip: word for slip, word in meant.items()
            if len(said[slip]) == 1 and slip not in _KNOWN_WORDS and slip not in _NOT_SLIPS}


_TYPOS = _yes_no_typos()


def _yes_no_spelling(word: str) -> str:
    """A word of a yes/no reply as the word it is meant to be: 'yesss' -> 'yes', 'yse' -> 'yes',
    'definately' -> 'definitely'; any other word as it is."""
    if word in _KNOWN_WORDS:
        return word
    squashed = _squash(word)
    return squashed if squashed in _KNOWN_WORDS else _TYPOS.get(word, word)


def _leading(words: list[str]) -> tuple[bool, int] | None:
    """Whether the reply opens with a yes or a no, and how many words that took."""
    for size in (4, 3, 2, 1):
        phrase = " ".join(words[:size])
        if len(words) >= size and phrase in _NO_LEAD | _NO_WHOLE and (phrase in _NO_LEAD or size == len(words)):
            return False, size
        if len(words) >= size and phrase in _YES_LEAD:
            return True, size
    return None


@lru_cache(maxsize=16384)
def parse_yes_no(text: str) -> bool | None:
    """'yes', 'y', 'yeah', 'yep', 'yesss', '👍', 'yes please', 'ie', 'ydw' -> True;
    'no', 'nope', '👎', 'no thanks', 'nac ydw' -> False; 'yes and no', 'maybe' -> None."""
    if _too_long(text):
        return None
    clean = normalise(text)
    for emoji, word in _YES_NO_EMOJI.items():
        clean = clean.replace(emoji, word)
    clean = _tidy(clean)
    if not clean:
        return None
    plain = _strip_politeness(clean, picking=False)
    words = [_yes_no_spelling(w) for w in plain.split()]
    for candidate in (clean, plain, " ".join(words)):
        if candidate in _YES_LEAD | _YES_WHOLE:
            return True
        if candidate in _NO_LEAD | _NO_WHOLE:
            return False
    if not plain and re.search(r"\bplease\b", clean):
        return True
    if _INDIFFERENT.search(clean):
        rest = _tidy(_INDIFFERENT.sub(" ", clean))
        return True if rest and parse_yes_no(rest) is True else None
    if _UNSURE.search(clean):
        return None
    lead = _leading(words)
    if lead is None:
        return None
    said, size = lead
    rest = " ".join(words[size:]).replace("why not", "")
    return None if _contradicts(said, rest) else said


def _contradicts(said: bool, rest: str) -> bool:
    """Whether the words after a leading yes or no say the opposite ('yes but no', 'no, no problem')."""
    if not said and _YES_IDIOM.search(rest):
        return True
    rest = _tidy(_YES_IDIOM.sub(" ", rest))
    contradiction = _SAYS_NO if said else _SAYS_YES
    return bool(contradiction.search(rest) or (rest and _leading(rest.split()) == (not said, 1)))


# --------------------------------------------------------------------------- options


def _letter_index(token: str, count: int) -> int | None:
    match = re.fullmatch(r"\(?([a-z])[).]?", token)
    if match and count <= 26:
        index = ord(match.group(1)) - ord("a")
        if index < count:
            return index
    return None


def _number_index(token: str, count: int) -> int | None:
    token = re.sub(r"^(?:no\.?|#)\s*(?=\d)", "", token.strip("().#"))
    if token in _FREQUENCY_WORDS:
        return None
    value = words_to_number(token)
    if value is None and token in _ORDINALS:
        value = float(_ORDINALS[token])
        if value == -1:
            return count - 1
    if value is None:
        match = re.fullmatch(r"(\d+)(?:st|nd|rd|th)", token)
        value = float(match.group(1)) if match else None
    if value is not None and value.is_integer() and 1 <= value <= count:
        return int(value) - 1
    return None


def _named_inside(clean: str, names: list[list[str]]) -> int | None:
    """The one option whose words appear inside a longer reply ('being kept informed I think').

    A name inside a longer matched name ('good' in 'very good') does not count on its own,
    two different options make it ambiguous. It is unclear with a negation outside the name
    ('not staff'), a name that is only a negation ('no' in 'no idea'), or a word in front that
    may make it another option ('really good' when 'Very good' is one)."""
    spans = []
    for index, candidates in enumerate(names):
        for name in candidates:
            if len(name) >= 2:
                spans += [(m.start(), m.end(), index) for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", clean)]
    kept = [(s, e, i) for s, e, i in spans if not any(s2 <= s and e <= e2 and (e2 - s2) > (e - s) for s2, e2, _ in spans)]
    if len({i for _, _, i in kept}) != 1:
        return None
    index = kept[0][2]
    outside = "".join(c if not any(s <= n < e for s, e, _ in kept) else " " for n, c in enumerate(clean))
    only_negation = any(not _NEGATING.sub("", clean[s:e]).strip() for s, e, _ in kept)
    if only_negation or _negations(outside) or any(_modified(clean[:s], clean[s:e], names, index) for s, e, _ in kept):
        return None
    return index


def _modified(before: str, name: str, names: list[list[str]], index: int) -> bool:
    """Whether an intensifier just before a name ('really good', 'so poor') may mean another
    option that holds the same name with a word in front ('Very good')."""
    if not re.search(rf"\b(?:{_INTENSIFIER})\s*$", before):
        return False
    longer = rf"\w.*\s{re.escape(name)}$"
    return any(re.search(longer, other) for i, candidates in enumerate(names) if i != index for other in candidates)


def _negations(text: str) -> set[str]:
    """The negating words in a text, with every "-n't" and 'not' as one ('not', 'neither', 'ddim')."""
    return {"not" if word.endswith(("n't", "nt")) or word == "cannot" else word for word in _NEGATING.findall(text)}


def _keeps_negation(reply: str, names: list[str]) -> bool:
    """A reply's negations all belong to the option's own words ('not at all' for 'Not at all'):
    'not very good' never means 'Very good'."""
    found = _negations(reply)
    return not found or any(found <= _negations(name) for name in names)


def _pick_phrase(clean: str) -> str:
    """'I think the second one please' -> 'second'."""
    plain = _strip_politeness(clean)
    plain = re.sub(r"^(?:the|an?)\s+(?=\w\w)", "", plain)
    return re.sub(r"\s+(?:one|option|please)$", "", plain).strip()


def match_option(text: str, options: Sequence[Sequence[str]]) -> int | None:
    """Which option a reply names. ``options`` holds, per option, the names it answers to
    (its label in each language and its value). Accepts '2', 'two', 'B', 'b)', 'the second one',
    the option's words, or a close misspelling of them. Remembered: a pure function of its
    arguments, and the same few replies to the same options come again and again."""
    return _match_option(text, tuple(tuple(candidates) for candidates in options))


@lru_cache(maxsize=16384)
def _match_option(text: str, options: tuple[tuple[str, ...], ...]) -> int | None:
    if _too_long(text):
        return None
    count = len(options)
    clean = normalise(text)
    if not clean or not count:
        return None
    names = [[n for n in (normalise(name) for name in candidates) if n] for candidates in options]
    plain = _pick_phrase(clean)
    for attempt in (clean, plain):
        exact = {i for i, candidates in enumerate(names) if attempt in candidates}
        if len(exact) == 1:
            index = exact.pop()
            before = clean[: max(clean.rfind(attempt), 0)]
            return None if _modified(before, attempt, names, index) else index
    for finder in (_number_index, _letter_index):
        found = finder(_welsh_ordinal(plain), count)
        if found is not None:
            return found
    return _named_or_close(clean, plain, names)


def _named_or_close(clean: str, plain: str, names: list[list[str]]) -> int | None:
    """An option by its words within the reply or a close misspelling, never one the reply negates."""
    written_out = _write_out(clean)
    if written_out != clean:
        return _match_option(written_out, tuple(tuple(candidates) for candidates in names))
    for found in (_closest(plain, names, 0.85), _named_inside(clean, names), _distinctive_part(_strip_politeness(clean), names),
                  _closest(plain, names, 0.75)):
        if found is not None:
            return found if _keeps_negation(clean, names[found]) and not _names_another(clean, names, found) else None
    return _named_in_sentence(clean, names)


SENTENCE_WORDS = 12
"""The most words a reply may have for an option named inside it to be read ('Im a carer for my
wife'); a longer one is a story, asked again."""
_AFTER_A_NAME = frozenset({"here", "now", "too", "also", "really", "mostly", "mainly", "myself", "tbh", "thanks", "lol", "x"})
"""Words that may follow an option's word without making it part of another thing ('staff
here'), besides little words: 'family doctor' is no family."""


def _distinctive_words(names: list[list[str]]) -> list[frozenset[str]]:
    """Each option's words (stems) that no other option has, little words aside."""
    owned = [frozenset().union(*(_stems(name) for name in candidates)) - _LITTLE_WORDS for candidates in names]
    return [own - frozenset().union(*(other for j, other in enumerate(owned) if j != i)) for i, own in enumerate(owned)]


def _names_another(clean: str, names: list[list[str]], found: int) -> bool:
    """Whether a reply that names an option also says a word only another option has ('I'm a
    carer but also staff' when the options are 'Patient or carer' and 'Staff')."""
    if len(names) < 2:
        return False
    said = {_stem(word) for word in _WORD.findall(clean)} - _LITTLE_WORDS
    return any(said & own for i, own in enumerate(_distinctive_words(names)) if i != found)


def _named_in_sentence(clean: str, names: list[list[str]]) -> int | None:
    """The one option a short sentence names by a word (or a close misspelling of one) that no
    other option has: 'im a pateint', 'Im a carer for my wife' (for 'Patient or carer'). Never
    with a negation anywhere ('not a patient'), when words of two options are said ('my wife's
    the patient, I'm her carer'), nor for a word describing another ('my family doctor')."""
    words = _WORD.findall(clean)
    if len(names) < 2 or len(words) > SENTENCE_WORDS or _negations(clean):
        return None
    distinctive = _distinctive_words(names)
    named: set[int] = set()
    for place, word in enumerate(words):
        stem = _stem(word)
        if len(stem) < 3 or stem in _LITTLE_WORDS:
            continue
        holders = {i for i, own in enumerate(distinctive) if own and _has_word(own, stem)}
        following = words[place + 1] if place + 1 < len(words) else ""
        if holders and following and following not in _LITTLE_WORDS and following not in _AFTER_A_NAME:
            return None  # a word of an option describing something else ('family doctor')
        named |= holders
    return named.pop() if len(named) == 1 else None


_LITTLE_WORDS = frozenset({
    "a", "an", "the", "of", "for", "to", "in", "on", "at", "by", "with", "and", "or", "from", "about", "into", "as",
    "i", "i'd", "i'm", "i've", "me", "my", "we", "our", "us", "you", "your", "it", "its", "it's", "is", "are", "am", "be",
    "that", "this", "these", "those", "one", "ones", "want", "like", "prefer", "rather", "would", "need",
    "he", "she", "they", "them", "his", "her", "him", "their", "there", "was", "were", "has", "have", "had", "but", "if",
    "then", "than", "fe", "fo", "hi", "nhw", "ni", "chi", "ti", "fi", "mi", "i'w", "y", "yr", "i'r", "o'r", "a'r", "ac", "ag", "o", "ar", "gan", "gyda", "efo", "yn", "ym", "yng", "neu", "fy", "ein", "eich",
    "eu", "ei", "mae", "dw", "rwy", "rydw", "rwy'n", "dw'n", "hoffwn", "eisiau",
})
"""Words that name no option on their own ('the', 'for', 'I'd like'), in English and Welsh: a
reply made only of these and of words every option has names nothing."""
_WORD = re.compile(r"\w+(?:'\w+)*")
SHORT_REPLY_CHARS = 5
SHORT_REPLY_CUTOFF = 0.85
"""How close a reply shorter than :data:`SHORT_REPLY_CHARS` must be to an option's name to be
read as a misspelling of it: at the usual 0.75 a three-letter word matches any five-letter name
holding its letters ('the' and 'Other', 'car' and 'Carer')."""


def only_little_words(text: str) -> bool:
    """A reply made only of words that name no option on their own ('the', 'and the', "a'r",
    'y', 'my'), which is never matched to an option by its likeness to the option's name."""
    words = _WORD.findall(text)
    return not words or all(word in _LITTLE_WORDS for word in words)


def _stem(word: str) -> str:
    """A word without its plural or -ing ending, so that 'nights' meets 'Night' and 'waits' 'Waiting'."""
    word = word.removesuffix("'s")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@lru_cache(maxsize=4096)
def _stems(text: str) -> frozenset[str]:
    return frozenset(_stem(word) for word in _WORD.findall(text))


def _has_word(words: frozenset[str], word: str) -> bool:
    """Whether an option's words hold ``word``, or a long word a letter or so away ('nurce' is not
    'nurse', but 'familly' is 'family' and 'informd' 'informed')."""
    if word in words:
        return True
    if len(word) < 6 or word in _WORD_NUMBERS:
        return False
    return any(len(own) >= 6 and difflib.SequenceMatcher(None, word, own).ratio() >= 0.85 for own in words)


def _distinctive_part(said_words: str, names: list[list[str]]) -> int | None:
    """The one option a reply names by part of its words: 'nurse' or 'same nurse' for 'Seeing
    the same nurse', 'nights' for 'Night shifts', 'family' for 'Carer or family'. Every word of
    the reply (but little words such as 'the') must be one of that option's words, and no other
    option may have them all; a word every option has ('shifts') or a little word tells nothing
    on its own. A reply that holds another option's whole name names that one too ('good or
    poor' is not 'Neither good nor poor'; 'a or b' names two lettered options). Only among two
    options or more: with one, any word would name it."""
    if len(names) < 2:
        return None
    owned = [frozenset().union(*(_stems(name) for name in candidates)) for candidates in names]
    common = frozenset.intersection(*owned)
    said = [_stem(word) for word in _WORD.findall(said_words)]
    if not any(word not in _LITTLE_WORDS and word not in common for word in said):
        return None
    holders = [i for i, words in enumerate(owned) if all(word in _LITTLE_WORDS or _has_word(words, word) for word in said)]
    if len(holders) != 1:
        return None
    others = (_stems(name) for i, candidates in enumerate(names) if i != holders[0] for name in candidates)
    return None if any((stems - _LITTLE_WORDS or len(stems) == 1) and stems <= set(said) for stems in others) else holders[0]


def says_only(text: str, name: str) -> bool:
    """Whether a reply says a name's words and no others, in any order, little words and
    politeness aside, a long word perhaps misspelt: 'I strongly agree', 'agree strongly' and
    'strongly disagre' say only 'Strongly agree' or 'Strongly disagree'; 'agree' (a part) and
    'very critical' (more) do not say only 'Strongly agree' or 'Critical'."""
    said = frozenset(_stem(w) for w in _WORD.findall(_strip_politeness(normalise(text), picking=False)) if w not in _LITTLE_WORDS)
    own = frozenset(_stem(w) for w in _WORD.findall(normalise(name)) if w not in _LITTLE_WORDS)
    return all(_has_word(own, word) for word in said) and all(_has_word(said, word) for word in own)


def _write_out(text: str) -> str:
    """'v good' -> 'very good'."""
    for short, full in _ABBREVIATIONS:
        text = short.sub(full, text)
    return text


def _closest(plain: str, names: list[list[str]], cutoff: float) -> int | None:
    """The option a misspelling is clearly closest to ('carrer' -> 'Carer'), or None.

    Never for a reply of little words only ('the' is not 'Other', 'yr' not 'Your GP'), and a
    short reply must come closer (:data:`SHORT_REPLY_CUTOFF`): 'oth' is not 'Other'."""
    if len(plain) < 3 or only_little_words(plain):
        return None
    if len(plain) < SHORT_REPLY_CHARS:
        cutoff = max(cutoff, SHORT_REPLY_CUTOFF)
    scores = sorted(
        ((max((difflib.SequenceMatcher(None, plain, n).ratio() for n in cands if len(n) > 2), default=0.0), i) for i, cands in enumerate(names)),
        reverse=True,
    )
    best, index = scores[0]
    runner_up = scores[1][0] if len(scores) > 1 else 0.0
    return index if best >= cutoff and best - runner_up >= 0.1 else None


_AND = r"\band\b|\bplus\b|\ba'r\b|\bac\b"
"""'and' between picks, in English and Welsh: 'first and third', "y cyntaf a'r trydydd" (and
the), 'y cyntaf ac yr ail'."""


def _split_picks(clean: str, count: int) -> list[str]:
    """Tokens of a multiple pick: '1 3', '1,3', 'A and C', 'ac', 'days & nights'."""
    glued = re.fullmatch(r"[a-z\d]{2,}", clean) and len(clean) <= count
    if glued and all(_letter_index(c, count) is not None or c.isdigit() for c in clean):
        return list(clean)
    return [t for t in re.split(rf"\s*(?:,|;|/|&|\+|{_AND}|\s)\s*", clean) if t]


_ARTICLES = frozenset({"the", "a", "an", "y", "yr"})
"""'the', 'a' and Welsh 'y', 'yr' in front of a pick ('the second and the first', 'y cyntaf a'r
trydydd'): they name no option."""


def _ordinal_word(token: str) -> bool:
    return _welsh_ordinal(token) in _ORDINALS or bool(re.fullmatch(r"\d+(?:st|nd|rd|th)", token))


def _numeral_or_ordinal(token: str) -> bool:
    return _ordinal_word(token) or bool(re.fullmatch(r"\d+", token)) or token in _WORD_NUMBERS


def _without_articles(tokens: list[str]) -> list[str]:
    """The tokens of a multiple pick without the articles that only introduce the next one: 'the'
    and 'y'/'yr' before another token, 'a' before an ordinal ('a third') or between two numbers
    (Welsh 'and': '2 a 3'). A lone 'a' stays the letter A ('a and c')."""
    kept = []
    for index, token in enumerate(tokens):
        before = tokens[index - 1] if index else ""
        after = tokens[index + 1] if index + 1 < len(tokens) else ""
        if token in _ARTICLES and after and (token != "a" or _ordinal_word(after) or (
                _numeral_or_ordinal(before) and _numeral_or_ordinal(after))):
            continue
        kept.append(token)
    return kept


_LIST_SEPARATOR = rf"\s*(?:,|;|/|&|\+|{_AND})\s*"
"""What separates the items of a list of picks: 'days, nights', 'days and nights', 'A & C'."""


def _list_items(text: str) -> list[str]:
    return [t for t in re.split(_LIST_SEPARATOR, text) if t.strip()]


def _as_a_list(text: str, options: tuple[tuple[str, ...], ...]) -> tuple[int, ...] | None | Literal[False]:
    """A reply that lists parts ('Days, weekends'): the different options it names when every
    part names one (and there are two or more); None when a part names none and is not mere
    politeness ('nights, holidays': ask, do not drop it); False when it is no such list.
    (Split before normalising, which drops commas.)"""
    items = _list_items(text.lower())
    if len(items) < 2:
        return False
    read = [match_option(item, options) for item in items]
    if any(index is None and not only_politeness(item) for item, index in zip(items, read, strict=True)):
        return None
    picks = tuple(dict.fromkeys(index for index in read if index is not None))
    return picks if None not in read and len(picks) > 1 else False


def _each_an_option(tokens: Sequence[str], options: tuple[tuple[str, ...], ...]) -> tuple[int, ...] | None:
    """The option each token names, in order, repeats dropped; None if any names none."""
    picks: list[int] = []
    for token in tokens:
        index = match_option(token, options)
        if index is None:
            return None
        if index not in picks:
            picks.append(index)
    return tuple(picks)


def match_options(text: str, options: Sequence[Sequence[str]]) -> list[int] | None:
    """Several picks: '1 3', '1, 3', 'A and C', 'carer, staff', 'all'. Order kept, repeats dropped."""
    picks = _match_options(text, tuple(tuple(candidates) for candidates in options))
    return None if picks is None else list(picks)


@lru_cache(maxsize=16384)
def _match_options(text: str, options: tuple[tuple[str, ...], ...]) -> tuple[int, ...] | None:
    if _too_long(text):
        return None
    whole = match_option(text, options)
    clean = _strip_politeness(normalise(text))
    if whole is not None:
        # 'Days, weekends' names an option inside it, but a list of several is what it says,
        # unless it is word for word one option's name ('Nights and weekends')
        if clean in {normalise(name) for name in options[whole]}:
            return (whole,)
        listed = _as_a_list(text, options)
        return (whole,) if listed is False else listed
    if not clean:
        return None
    if clean in _ALL or re.fullmatch(r"all (?:of )?(?:the )?\w+", clean) and words_to_number(clean.split()[-1]) == len(options):
        return tuple(range(len(options)))
    picks = _tidy(_PRONOUN_ONE.sub(lambda found: found.group(0)[: -len("one")], clean))  # 'the third one'
    tokens = _without_articles(_split_picks(picks, len(options)))
    if any(match_option(t, options) is None for t in tokens):
        # Re-join multi-word option names that the split on spaces broke apart.
        tokens = _list_items(clean)
    return _each_an_option(tokens, options) or None
