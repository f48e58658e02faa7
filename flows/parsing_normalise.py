"""Replies made comparable before any reading (flows/parsing.py): lower case, accents folded,
emoji keycaps as digits, and the thanks, hedges and lead-ins ('I'd say', 'please', 'diolch')
that carry no answer dropped. Every reader of numbers, yes/no and options starts here."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_ENDEARED = r"(?:thanks|thank you|thankyou|ta|cheers|diolch)(?: very much| yn fawr)? (?:my )?(?:dear|love|luv|pet|hun|hon|darling|duck|sweetheart|cariad|bach)"
"""Thanks with a word of affection ('thank you dear', 'ta love', 'diolch cariad'): an older
participant's politeness, as much as the thanks alone."""
_FILLER = (
    rf"{_ENDEARED}|diolch yn fawr iawn|diolch yn fawr|os gwelwch yn dda|os gwelwch chi'n dda|os gweli di'n dda|plis|"
    r"please|plz|pls|thanks|thank you|thankyou|thanks very much|ta|cheers|diolch|diolch yn fawr|"
    r"i think|i'd say|id say|i would say|i guess|i reckon|i suppose|probably|it's|its|it is|it was|"
    r"my answer is|my answer|answer|i'll go with|ill go with|i'd go with|go with|i choose|i pick|"
    r"i'd pick|i'll pick|i'll say|i say|i'd go for|i'll go for|go for|let's say|let's go with|"
    r"i'm going with|sorry|um+|erm+|er|uh+|hmm+|well|oh|so|just"
)
_PICK_FILLER = r"option|number|no\.|choice|opsiwn|rhif|about|around|roughly|approximately|approx|maybe|perhaps|say|like"
_FILLER_RE = re.compile(rf"\b(?:{_FILLER})\b")
_PICK_FILLER_RE = re.compile(rf"(?:(?<=\s)|^)(?:{_PICK_FILLER})(?=\s|$)")
_KISSES = re.compile(r"(?<=\S)(?:[\s,]+(?:x{1,6}|(?:xo)+x?))+$")
"""Kisses that sign off a text ('dunno x', 'no idea xx', 'not sure xoxo'): after some words only,
so a reply that is nothing but 'x' stays as it is."""


MAX_ANSWER_CHARS = 200
"""A longer reply is a story, not a closed answer: it is never read as a number, yes/no or pick
(which also keeps the fuzzy matching cheap whatever arrives)."""


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
    """Drop thanks, hedges, lead-ins ('I'd say', 'option') and sign-off kisses ('x', 'xx');
    ``picking`` also drops 'maybe', 'about'."""
    text = _tidy(_FILLER_RE.sub(" ", _KISSES.sub("", text)))
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
