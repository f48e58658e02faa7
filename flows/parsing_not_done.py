"""A reply that says the thing a number question counts did not happen (flows/parsing.py): 'didn't
sleep', "didn't sleep at all", 'no sleep' to 'How many hours of sleep did you get last night?',
'never smoked' to 'How many cigarettes did you smoke?', 'dim cwsg' to 'Sawl awr o gwsg...?': none
of it, 0, to check with the participant ('Just to check: 0 hours?'), as 'none' is not said.

Only a reply made of a negation, the question's own words (one of them at least a word of what it
counts, not of how it asks: 'how', 'many', 'last', 'night') and words that add nothing to it
('at all', 'any', 'o gwbl'). A reply that says how ('didn't sleep well', 'not much sleep') is no
'none', and is asked again."""

from __future__ import annotations

from flows.parsing_little_words import _LITTLE_WORDS, _WORD, _stem
from flows.parsing_normalise import normalise
from flows.parsing_number_reading import NumberReading
from flows.parsing_number_sentences import _UNITS
from flows.parsing_option_words import _negations
from flows.welsh_mutations import mutations

_ASKING = frozenset({
    "how", "many", "much", "often", "long", "last", "this", "past", "today", "yesterday", "tonight", "total", "all",
    "do", "does", "did", "you", "your", "sawl", "faint", "chi", "neithiwr", "ddoe", "heddiw", "diwethaf",
})
"""Words of a question that say how it asks, not what it counts: never the thing a 'no' denies."""
_NOTHING_MORE = frozenset({
    "any", "at", "all", "whatsoever", "i", "we", "he", "she", "they", "did", "do", "does", "get", "got", "have", "had",
    "been", "able", "could", "manage", "managed", "wnes", "wnaeth", "ches", "cael", "gael", "heb", "gwbl", "o", "fi",
})
"""Words that add nothing to a 'no' ('not at all', "didn't get any", 'dim o gwbl', 'heb gwsg')."""
_THANKS = frozenset({"thanks", "thank", "you", "please", "pls", "ta", "cheers", "sorry", "diolch", "x", "xx"})
"""Politeness around it; not the hedges that politeness drops elsewhere ('well': "didn't sleep
well" is no 'none')."""
_IRREGULAR = {"slept": "sleep", "ate": "eat", "drank": "drink", "spent": "spend", "drove": "drive", "went": "go",
              "took": "take", "made": "make", "left": "leave", "felt": "feel", "rang": "ring", "saw": "see"}
"""Past forms the question may say in the present ('did you sleep' -> 'slept')."""


def _forms(word: str) -> set[str]:
    """A word as the question or the reply may say it: its stem, its present ('slept' -> 'sleep',
    'smoked' -> 'smoke'), and a Welsh word as mutation leaves it ('cwsg' -> 'gwsg')."""
    stem = _stem(word)
    found = {word, stem, _IRREGULAR.get(word, stem), *mutations(word)}
    if len(word) > 4 and word.endswith("ed"):
        found |= {word[:-2], word[:-1]}
    return found


def says_not_done(text: str, question: str) -> bool:
    """Whether a reply says that what ``question`` counts did not happen, and nothing more:
    "didn't sleep", 'no sleep at all', 'dim cwsg' to a question of hours of sleep."""
    said = _WORD.findall(normalise(text))
    if not said or not (_negations(normalise(text)) or "heb" in said) or any(word.isdigit() for word in said):
        return False
    asked = [word for word in _WORD.findall(normalise(question)) if word not in _LITTLE_WORDS]
    counted = set().union(*(_forms(word) for word in asked if word not in _ASKING and word not in _UNITS))
    every = counted | set().union(*(_forms(word) for word in asked))
    named = False
    for word in said:
        if _forms(word) & counted:
            named = True
        elif not (word in _LITTLE_WORDS or word in _NOTHING_MORE or word in _THANKS or _negations(word) or _forms(word) & every):
            return False
    return named


def not_done_answer(text: str, question: str) -> NumberReading | None:
    """0, to check, for a reply that says what the question counts did not happen (:func:`says_not_done`)."""
    return NumberReading(0.0, "confirm") if says_not_done(text, question) else None
