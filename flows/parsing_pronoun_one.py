"""'One' that stands for a thing or a person, not the number 1 (flows/parsing.py): 'the last one',
'that one', 'no one', 'no-one', 'not one of them'; in Welsh 'un' after a word that makes it so: 'pob
un' (every one), 'unrhyw un' (anyone), 'yr un' (the one, the same), 'pa un' (which one), 'un arall'
(another one), and 'dim un' (none: nought as a count, as 'none' is, never 1). 'Nobody' and Welsh
'neb' are no numbers at all.

A story told at a question ('no one at the desk could tell us...') is not a try at its first
option, nor at the number 1, for such a 'one' (flows/asides.py); 'one' said as a number ('one',
'number one', 'one I think') still is. 'The nurse one', 'the one with a nurse' or 'yr un am y nyrs'
name a thing by what it has (:func:`described_one`)."""

from __future__ import annotations

import re

from flows.parsing_normalise import _tidy, normalise
from flows.parsing_number_words import _WORD_NUMBERS

_DETERMINER = (
    r"the|that|this|these|those|which|what|whichever|any|each|every|another|either|neither|no|other|"
    r"same|next|last|middle|top|bottom|highest|lowest|only|first|second|third|fourth|fifth"
)
_PRONOUN_ONE = re.compile(
    rf"\b(?:{_DETERMINER})\s+(?:(?!number\b|option\b)[a-z']+\s+)?one\b|\bno-?one\b|\bnot (?:a single )?one(?= of\b)"
)
"""'the last one', 'that one', 'no one', 'no-one', 'noone', 'not one of them': 'one' stands for
a thing or a person, not the number 1."""
_WELSH_PRONOUN_UN = re.compile(r"\b(?:yr|pob|unrhyw|pa|dim)\s+un\b(?!\s+waith)|\bun(?=\s+arall\b)")
"""Welsh 'un' as a pronoun: 'yr un', 'pob un', 'unrhyw un', 'pa un', 'dim un', 'un arall'; never
'dim un waith' (not once: a count of nought, read as such)."""
_WORD_OR_NUMBER = re.compile(r"[\w'-]+")
_DETERMINER_DIM = re.compile(r"\bdim(?=\s+(?![\d-])[^\W\d_])(?!\s+un\s+waith)")
"""Welsh 'dim' before a word ('dim byd', 'dim amser', 'dim syniad'): 'no', as English 'no time' says
it, not the number nought ('dim' alone is 0)."""


def without_pronoun_one(clean: str) -> str:
    """A normalised reply with each 'one' that stands for a thing left out: 'the last one' ->
    'the last', 'no-one came' -> 'no came', 'pob un' -> 'pob', 'dim un' -> 'dim' (nought)."""
    said = _PRONOUN_ONE.sub(lambda found: re.sub(r"-?one$", "", found.group(0)), clean)
    return _tidy(_WELSH_PRONOUN_UN.sub(lambda found: found.group(0)[: -len("un")], said))


def numbers_said(text: str) -> list[str]:
    """The numbers a text says, as its words ('6', 'six', 'un'), in the order said; not a 'one'
    that stands for a thing or a person (:func:`without_pronoun_one`: 'no one came'), nor a Welsh
    'dim' before a word ('dim byd', 'dim amser': 'no'). 'None' and a lone 'dim' are nought."""
    said = _DETERMINER_DIM.sub(" ", without_pronoun_one(normalise(text)))
    words = [word.strip(".,;:!?()\"'") for word in _WORD_OR_NUMBER.findall(said)]
    return [word for word in words if any(c.isdigit() for c in word) or word in _WORD_NUMBERS]


_THING = r"one|idea|option|thing|suggestion|choice|un|syniad|opsiwn|dewis"
"""What 'the ... one' may be called: 'the nurse one', 'the nurse idea', 'yr un am y nyrs'."""
_DESCRIBED_AFTER = re.compile(
    rf"^(?:(?:the|that|this|yr|y)\s+)?(?:{_THING})\s+(?:with|about|for|on|of|mentioning|that (?:has|says|mentions|is about)|"
    r"which (?:has|says|mentions|is about)|where|gyda|efo|am|ynghylch|sy'n son am|sydd am)(?:'r\b)?\s*"
    r"(?:(?:the|an?|y|yr)\s+)?(?P<what>\w.*)$"
)
"""'the one with a nurse', 'the idea about the night line', 'yr un gyda'r nyrs', 'yr un am y nyrs'."""
_DESCRIBED_BEFORE = re.compile(rf"^(?:(?:the|that|this)\s+)?(?P<what>\w.*?)\s+(?:{_THING})$")
"""'the nurse one', 'the nurse idea', 'that medicines one'."""
_NO_DESCRIPTION = re.compile(rf"^(?:(?:{_DETERMINER}|a|an|y|yr|pob|unrhyw|pa|dim)\s*)+$")
"""What describes nothing: 'the other', 'no', 'that', 'yr'."""


def described_one(clean: str) -> str | None:
    """The words a normalised reply describes a thing by, where it calls it 'the ... one': 'the
    nurse one', 'the nurse idea', 'the one with a nurse', 'yr un gyda'r nyrs' -> 'nurse', 'nyrs';
    None where it says no such thing, or the words are only a place or a determiner ('the other
    one', 'no one', 'the first one', read as such elsewhere)."""
    found = _DESCRIBED_AFTER.match(clean) or _DESCRIBED_BEFORE.match(clean)
    if found is None:
        return None
    what = found.group("what").strip()
    return None if _NO_DESCRIPTION.match(what) else what
