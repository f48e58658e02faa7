"""Words and their stems as options are compared by them (flows/parsing.py): the little
words that name no option on their own ('the', 'for', 'y'), plurals and -ing endings dropped,
and a long word a letter away still the same word."""

from __future__ import annotations

import difflib
import re
from functools import lru_cache

from flows.parsing_normalise import _strip_politeness, normalise
from flows.parsing_number_words import _WORD_NUMBERS

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
    return any(len(own) >= 6 and not _opposites(word, own) and difflib.SequenceMatcher(None, word, own).ratio() >= 0.85
               for own in words)


_NEGATING_PREFIXES = ("n", "un", "in", "im", "il", "ir", "dis", "non", "non-", "an", "an-", "di", "dad")
"""What turns a word into its opposite: 'neither', 'unlikely', 'dissatisfied', 'nonurgent', Welsh
'anhapus', 'diflas', 'dadwneud'."""


def _opposites(word: str, own: str) -> bool:
    """Whether one word is the other with a negating prefix ('either' and 'neither', 'likely' and
    'unlikely', 'satisfied' and 'dissatisfied'): never a slip of it, however alike they look."""
    return any(word == prefix + own or own == prefix + word for prefix in _NEGATING_PREFIXES)


def says_the_opposite(reply: str, name: str) -> bool:
    """Whether a word of a reply is the opposite of a word of an option's name (:func:`_opposites`):
    'unlikely' of 'Likely', 'either is fine' of 'Neither', so it is no misspelling of it."""
    said, own = _WORD.findall(reply), _WORD.findall(name)
    return any(_opposites(word, other) for word in said for other in own if len(word) > 3 and len(other) > 3)


def says_only(text: str, name: str) -> bool:
    """Whether a reply says a name's words and no others, in any order, little words and
    politeness aside, a long word perhaps misspelt: 'I strongly agree', 'agree strongly' and
    'strongly disagre' say only 'Strongly agree' or 'Strongly disagree'; 'agree' (a part) and
    'very critical' (more) do not say only 'Strongly agree' or 'Critical'."""
    said = frozenset(_stem(w) for w in _WORD.findall(_strip_politeness(normalise(text), picking=False)) if w not in _LITTLE_WORDS)
    own = frozenset(_stem(w) for w in _WORD.findall(normalise(name)) if w not in _LITTLE_WORDS)
    return all(_has_word(own, word) for word in said) and all(_has_word(said, word) for word in own)
