"""Several picks in one reply (flows/parsing.py): '1 3', '1.3', 'A and C', 'days, nights', 'y cyntaf
a'r trydydd', 'all'; order kept, repeats dropped, and nothing when one part names no option."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Literal

from flows.parsing_normalise import _strip_politeness, _too_long, normalise, only_politeness
from flows.parsing_number_words import (
    _ORDINALS,
    _WORD_NUMBERS,
    _welsh_ordinal,
    says_a_group,
    words_to_number,
)
from flows.parsing_options import _letter_index, _match_option, match_option
from flows.parsing_pronoun_one import without_pronoun_one
from flows.parsing_rejections import _Rejection, _rejection

_ALL = {"all", "all of them", "all of the above", "everything", "every one", "pob un", "y cyfan"}


_AND = r"\band\b|\bplus\b|\ba'r\b|\bac\b"
"""'and' between picks, in English and Welsh: 'first and third', "y cyntaf a'r trydydd" (and
the), 'y cyntaf ac yr ail'."""
_AND_N = r"(?<![\w'])'?n'?(?![\w'])"
"""'and' as texted: 'nurses n family', "nurses 'n family", "rock 'n' roll"; never the 'n of Welsh
"sy'n", which follows its word. Only among fewer options than there are letters to N: with
fourteen or more, 'n' is the letter of the fourteenth."""
_LETTER_N = ord("n") - ord("a") + 1


def _and(count: int) -> str:
    """'and' between picks among ``count`` options (:data:`_AND`, :data:`_AND_N`)."""
    return _AND if count >= _LETTER_N else f"{_AND}|{_AND_N}"


_DECIMAL = re.compile(r"(?<=\d)\.(?=\d)")
"""The point in '1.3': between picks a full stop, as the dot of a phone's keypad may be typed, unless an
option's own name is a decimal ('1.5 mg'), when '1.3' names no option and is asked again."""


_VOWELS = frozenset("aeiouwy")
"""Letters that make a run of letters a word ('bad', 'be', 'ace'; Welsh 'ac', 'cwm')."""


def _split_picks(clean: str, count: int, typed: str = "") -> list[str]:
    """Tokens of a multiple pick: '1 3', '1,3', 'A and C', 'BAC', 'bd', 'days & nights'. Letters
    typed together are picks only when none repeats ('dead' is a word, not D, E, A) and, in
    lower case, when they make no word: 'bad', 'be', 'ace' (no vowel in them: 'bd', 'cd' are
    picks); the same letters in capitals in ``typed`` ('BAC') or apart ('b a c') are picks."""
    glued = re.fullmatch(r"[a-z\d]{2,}", clean) and len(clean) <= count and len(set(clean)) == len(clean)
    letters = [c for c in clean if c.isalpha()]
    if glued and len(letters) > 1 and _VOWELS & set(letters) and not re.search(rf"\b{clean.upper()}\b", typed):
        glued = False  # a lower-case word, not letters
    if glued and all(_letter_index(c, count) is not None or c.isdigit() for c in clean):
        return list(clean)
    return [t for t in re.split(rf"\s*(?:,|;|/|&|\+|{_and(count)}|\s)\s*", clean) if t]


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
    (Welsh 'and': '2 a 3'), nor Welsh 'un' (one) after an ordinal. A lone 'a' stays the letter A
    ('a and c')."""
    kept = []
    for index, token in enumerate(tokens):
        before = tokens[index - 1] if index else ""
        after = tokens[index + 1] if index + 1 < len(tokens) else ""
        if token in _ARTICLES and after and (token != "a" or _ordinal_word(after) or (
                _numeral_or_ordinal(before) and _numeral_or_ordinal(after))):
            continue
        if token == "un" and _ordinal_word(before):  # Welsh 'one' after an ordinal: 'yr ail un', not option 1
            continue
        kept.append(token)
    return kept


def _list_items(text: str, count: int) -> list[str]:
    """The items of a list of picks among ``count`` options, apart where a comma, a semicolon, a
    slash, '&', '+' or an 'and' (:func:`_and`) separates them: 'days, nights', 'days and
    nights', 'A & C', 'days n nights'."""
    return [t for t in re.split(rf"\s*(?:,|;|/|&|\+|{_and(count)})\s*", text) if t.strip()]


def _as_a_list(text: str, options: tuple[tuple[str, ...], ...]) -> tuple[int, ...] | None | Literal[False]:
    """A reply that lists parts ('Days, weekends'): the different options it names when every
    part names one (and there are two or more); None when a part names none and is not mere
    politeness ('nights, holidays': ask, do not drop it); False when it is no such list.
    (Split before normalising, which drops commas.)"""
    items = _list_items(text.lower(), len(options))
    if len(items) < 2:
        return _joined_by_welsh_a(text, options)
    read = [match_option(item, options) for item in items]
    if any(index is None and not only_politeness(item) for item, index in zip(items, read, strict=True)):
        return None
    picks = tuple(dict.fromkeys(index for index in read if index is not None))
    return picks if None not in read and len(picks) > 1 else False


_WELSH_A = re.compile(r"\s+(?:a|â)\s+(?=\w)")
"""Welsh 'a' (and) between two picks, 'â' as it is often typed for it: 'nyrsys a theulu',
'gofalwyr nos a teulu' (the word after it mutated or not: flows/welsh_mutations.py)."""


def _joined_by_welsh_a(text: str, options: tuple[tuple[str, ...], ...]) -> tuple[int, ...] | Literal[False]:
    """The options a reply names joined by Welsh 'a' ('nyrsys a theulu'), only where every part
    names one and two or more are named: English 'a' is an article ('a family carer', 'once a
    week'), and an option's own name may hold the word ('Bara a chaws'), so any other reply
    is no such list; nor are letters typed apart ('b a c', A among them)."""
    parts = [part for part in _WELSH_A.split(normalise(text)) if part.strip()]
    if len(parts) < 2 or any(len(part.strip()) == 1 for part in parts):
        return False  # 'b a c': letters, A among them
    read = [match_option(part, options) for part in parts]
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


def says_every_option(text: str, count: int) -> bool:
    """'all', 'all of them', 'pob un', 'all 5': every one of ``count`` options, in no order."""
    clean = _strip_politeness(normalise(text))
    return clean in _ALL or bool(re.fullmatch(r"all (?:of )?(?:the )?\w+", clean) and words_to_number(clean.split()[-1]) == count)


def match_options(text: str, options: Sequence[Sequence[str]]) -> list[int] | None:
    """Several picks: '1 3', '1, 3', 'A and C', 'carer, staff', 'all'. Order kept, repeats dropped."""
    picks = _match_options(text, tuple(tuple(candidates) for candidates in options))
    return None if picks is None else list(picks)


def _picks_besides(rejection: _Rejection, options: tuple[tuple[str, ...], ...]) -> tuple[int, ...] | None:
    """The picks of a reply that rejects some options: those it names besides them ('1 and 3 but
    not 2'), or with 'all except' every other option ('all except weekends', 'pob un ond 4');
    None for a rejection alone ('not weekends', 'anything but 2', 'none of them'): the
    participant is asked again, never given what they did not reject without asking."""
    if rejection.wanted:
        picks = _match_options(rejection.wanted, options)
        return picks if picks and not rejection.rejected & set(picks) else None
    if rejection.all_others and rejection.rejected:
        return tuple(index for index in range(len(options)) if index not in rejection.rejected) or None
    return None


@lru_cache(maxsize=16384)
def _match_options(text: str, options: tuple[tuple[str, ...], ...]) -> tuple[int, ...] | None:
    if _too_long(text):
        return None
    rejection = _rejection(normalise(text), options, _match_option)
    if rejection is not None:
        return _picks_besides(rejection, options)
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
    if says_every_option(clean, len(options)):
        return tuple(range(len(options)))
    if says_a_group(clean):
        return None  # 'y ddau' (both), 'the two of them': asked again, as 'both' is
    picks = without_pronoun_one(clean)  # 'the third one'
    if not any(_DECIMAL.search(name) for names in options for name in names):
        picks = _DECIMAL.sub(" ", picks)  # '1.3': options 1 and 3, where no option is named by a decimal
    listed = _as_a_list(text, options)
    if listed:  # 'nyrsys ac y meddyg teulu', 'Nurses and the GP, sometimes family': the parts as written
        return listed
    tokens = _without_articles(_split_picks(picks, len(options), text))
    if any(match_option(t, options) is None for t in tokens):
        # Re-join multi-word option names that the split on spaces broke apart.
        tokens = _list_items(clean, len(options))
    return _each_an_option(tokens, options) or None
