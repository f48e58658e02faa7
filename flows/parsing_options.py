"""Which one option a reply picks (flows/parsing.py): '2', 'two', 'B', 'the second one', the
option's words, or a close misspelling of them ('carrer' -> 'Carer'); never one it rejects
('anything but carer': flows/parsing_rejections.py), and which are rejected."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from functools import lru_cache

from flows.parsing_dont_know import dont_know_option, said_of_someone_else
from flows.parsing_emphasis import answer_and_reason, without_emphasis
from flows.parsing_little_words import _WORD, only_little_words, says_the_opposite
from flows.parsing_normalise import _strip_politeness, _too_long, normalise
from flows.parsing_number_words import (
    _FREQUENCY_WORDS,
    _ORDINALS,
    _welsh_ordinal,
    says_a_group,
    words_to_number,
)
from flows.parsing_option_words import (
    _distinctive_part,
    _drops_negation,
    _keeps_negation,
    _modified,
    _named_in_sentence,
    _named_inside,
    _names_another,
    _negations,
)
from flows.parsing_pronoun_one import described_one, without_pronoun_one
from flows.parsing_rejections import _Rejection, _rejection, _undecided
from flows.parsing_yes_no import parse_yes_no

_ABBREVIATIONS = ((re.compile(r"\b(?:v|vv|vry|vey)\.?\s+(?=[a-z]{2})"), "very "),)
"""Short forms of option words, written out before matching: 'v good' -> 'very good'."""


def _letter_index(token: str, count: int) -> int | None:
    match = re.fullmatch(r"\(?([a-z])[).]?", token)
    if match and count <= 26:
        index = ord(match.group(1)) - ord("a")
        if index < count:
            return index
    return None


def _number_index(token: str, count: int) -> int | None:
    token = without_pronoun_one(re.sub(r"^(?:no\.?|#)\s*(?=\d)", "", token.strip("().#")))  # 'dim un' is none, not 1
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


def _pick_phrase(clean: str) -> str:
    """'I think the second one please' -> 'second', 'definitely B x' -> 'b', 'A for me' -> 'a'. 'The one' stays
    as it is: it names no place ('one' alone is 1)."""
    plain = without_emphasis(_strip_politeness(clean))
    plain = re.sub(r"^for (?:me|us|myself)\s+(?=\w)|\s+for (?:me|us|myself)$", "", plain)  # 'B for me'
    plain = re.sub(r"^(?:the|an?)\s+(?=\w\w)(?!one$)", "", plain)
    return re.sub(r"\s+(?:one|option|please)$", "", plain).strip()


def match_option(text: str, options: Sequence[Sequence[str]], *, letters: bool = True) -> int | None:
    """Which option a reply names. ``options`` holds, per option, the names it answers to
    (its label in each language and its value). Accepts '2', 'two', 'B', 'b)', 'the second one',
    the option's words, or a close misspelling of them, said however surely, with a kiss or a
    reason after it ('definitely B', 'B x', 'B because it's nearer': flows/parsing_emphasis.py).
    ``letters`` False where no letters were shown (a scale): 'a' names nothing. Remembered: a
    pure function of its arguments, and the same few replies to the same options come again and again.
    'dunno' or 'no idea' picks the one "Don't know" option; 'they don't know' picks none
    (flows/parsing_dont_know.py)."""
    found = _match_option(text, tuple(tuple(candidates) for candidates in options), letters)
    return None if found is not None and said_of_someone_else(text, options[found]) else found


@lru_cache(maxsize=16384)
def _match_option(text: str, options: tuple[tuple[str, ...], ...], letters: bool = True) -> int | None:
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
    unsure = dont_know_option(clean, options)
    if unsure is not None:
        return unsure
    reasoned = _before_a_reason(clean, options, names, letters)
    if reasoned is not None:
        return reasoned
    rejection = _rejection(clean, options, _match_option)
    if rejection is not None:
        return _one_instead(rejection, options)
    if says_a_group(clean):
        return None  # 'y ddau' (both), 'the two of them': no one option
    for finder in (_number_index, _letter_index) if letters else (_number_index,):
        found = finder(_welsh_ordinal(plain), count)
        if found is not None:
            return found
    named = _named_or_close(clean, plain, names)
    if named is None and (described := described_one(clean)) is not None:  # 'the nurse one', 'the one with a nurse'
        named = _match_option(described, options, letters=False)
    return named if named is not None else _negative_agreeing(clean, options)


def _before_a_reason(clean: str, options: tuple[tuple[str, ...], ...], names: list[list[str]], letters: bool) -> int | None:
    """The option an answer names when a reason follows it ('a because i cant get to the shop',
    'email, phone calls make me anxious'): read from the answer alone. A reason after a comma
    may name no other option, by its letter or its name ('a, b is nearer' is asked again); one
    after a 'because' may ('a because b is too far'), and a 'no' before a comma is no answer
    ('no, home visit' corrects: it never picks an option called 'None')."""
    said = answer_and_reason(clean)
    found = None if said is None else _match_option(said.answer, options, letters)
    if said is None or found is None or said.because:
        return found
    if parse_yes_no(said.answer) is False:
        return None  # 'no, home visit': a correction, read as such elsewhere
    words = set(_WORD.findall(said.reason))
    others = [name for i, candidates in enumerate(names) if i != found for name in candidates]
    if letters and len(options) <= 26:
        others += [chr(ord("a") + i) for i in range(len(options)) if i != found]
    named = any(name in words or re.search(rf"(?<!\w){re.escape(name)}(?!\w)", said.reason) for name in others)
    return None if named else found


_LEADING_NO = re.compile(r"(?:no|nope|nah|naw|na)\b[\s,.!-]*(?=\w)")
"""A 'no' in front of a reply, as in 'no, never' or 'nope neither'."""


def _negative_agreeing(clean: str, options: tuple[tuple[str, ...], ...]) -> int | None:
    """An option whose own words are negative, named after a 'no' that agrees with it: 'no,
    never' is 'Never', 'nope neither' is 'Neither', 'no not at all' is 'Not at all'. The 'no'
    negates nothing there; a number or letter after it ('no, 2') is never read so."""
    leading = _LEADING_NO.match(clean)
    if leading is None:
        return None
    rest = clean[leading.end():]
    found = _match_option(rest, options)
    if found is None or not _negations(rest):
        return None
    return found if any(_negations(rest) <= _negations(normalise(name)) for name in options[found]) else None


def _named_or_close(clean: str, plain: str, names: list[list[str]]) -> int | None:
    """An option by its words within the reply or a close misspelling, never one the reply negates."""
    written_out = _write_out(clean)
    if written_out != clean:
        return _match_option(written_out, tuple(tuple(candidates) for candidates in names))
    for found in (_closest(plain, names, 0.85), _named_inside(clean, names), _distinctive_part(_strip_politeness(clean), names),
                  _closest(plain, names, 0.75)):
        if found is not None:
            keeps = _keeps_negation(clean, names[found]) and not _drops_negation(clean, names[found])
            return found if keeps and not _names_another(clean, names, found) else None
    return _named_in_sentence(clean, names)


SHORT_REPLY_CHARS = 5
SHORT_REPLY_CUTOFF = 0.85
"""How close a reply shorter than :data:`SHORT_REPLY_CHARS` must be to an option's name to be
read as a misspelling of it: at the usual 0.75 a three-letter word matches any five-letter name
holding its letters ('the' and 'Other', 'car' and 'Carer')."""


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
        ((max((difflib.SequenceMatcher(None, plain, n).ratio() for n in cands if len(n) > 2 and not says_the_opposite(plain, n)),
              default=0.0), i) for i, cands in enumerate(names)),
        reverse=True,
    )
    best, index = scores[0]
    runner_up = scores[1][0] if len(scores) > 1 else 0.0
    return index if best >= cutoff and best - runner_up >= 0.1 else None



def rejected_options(text: str, options: Sequence[Sequence[str]]) -> list[int]:
    """The options a reply says it does not want, in order: 'anything but carer', 'not 2 or 3',
    'carer no way', 'dim 1', 'unrhyw beth ond y trydydd'; every option for 'none of them' or
    'neither'. Empty for a reply that rejects none, and for one that names an option whose own
    label is negative ('not at all' for 'Not at all', 'no change', 'not sure')."""
    if _too_long(text):
        return []
    rejection = _rejection(normalise(text), tuple(tuple(candidates) for candidates in options), _match_option)
    return [] if rejection is None else sorted(rejection.rejected)


def remaining_option(text: str, options: Sequence[Sequence[str]]) -> int | None:
    """In a single choice, the one option a reply leaves when it rejects all the others: 'not
    the first one' or 'anything but phone' of two, 'not carer or staff' of three. None when
    more than one is left (or none), or when the one left is a 'Not sure' or 'Don't know'
    ('not agree' may be a disagreement the options do not offer)."""
    if _too_long(text):
        return None
    found = tuple(tuple(candidates) for candidates in options)
    rejection = _rejection(normalise(text), found, _match_option)
    if rejection is None or rejection.wanted or not rejection.rejected:
        return None
    left = [index for index in range(len(found)) if index not in rejection.rejected]
    if len(left) != 1 or any(_undecided(name) for name in found[left[0]]):
        return None
    return left[0]


def _one_instead(rejection: _Rejection, options: tuple[tuple[str, ...], ...]) -> int | None:
    """The one option a reply names besides those it rejects ('email not phone'), or None."""
    found = _match_option(rejection.wanted, options) if rejection.wanted else None
    return None if found in rejection.rejected else found
