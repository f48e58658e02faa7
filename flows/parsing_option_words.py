"""An option named by its words inside a longer reply (flows/parsing.py): 'being kept informed
I think', 'Im a carer for my wife', 'nurse' for 'Seeing the same nurse'; never one the reply
negates, modifies ('really good' when 'Very good' is another) or names with another."""

from __future__ import annotations

import difflib
import re

from flows.parsing_little_words import _LITTLE_WORDS, _WORD, _has_word, _stem, _stems
from flows.parsing_normalise import only_politeness
from flows.parsing_number_words import _WORD_NUMBERS

_NEGATING = re.compile(
    r"\b(?:not|never|no|neither|nor|none|nothing|cannot|ddim|dim|nid|nac)\b|"
    r"\b(?:do|does|did|is|was|are|were|wo|ca|could|would|should|have|has|had|ai)n'?t\b"
)
_INTENSIFIER = r"v|vv|very|really|rly|real|so|quite|pretty|extremely|fairly|super|too|most|totally|absolutely"


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
    if any(_describes_another(clean[e:], names[index]) for _, e, _ in kept):
        return None  # 'my family doctor', 'a family friend': no 'Family'
    return index


def _modified(before: str, name: str, names: list[list[str]], index: int) -> bool:
    """Whether an intensifier just before a name ('really good', 'so poor') may mean another
    option that holds the same name with a word in front ('Very good')."""
    if not re.search(rf"\b(?:{_INTENSIFIER})\s*$", before):
        return False
    longer = rf"\w.*\s{re.escape(name)}$"
    return any(re.search(longer, other) for i, candidates in enumerate(names) if i != index for other in candidates)


def _negations(text: str) -> set[str]:
    """The negating words in a text, with every "-n't" and 'not' as one ('not', 'neither'), and
    Welsh 'ddim' and 'dim' as one ('dim yn gwybod' for 'Ddim yn gwybod')."""
    found = _NEGATING.findall(text)
    return {"not" if word.endswith(("n't", "nt")) or word == "cannot" else "dim" if word == "ddim" else word for word in found}


def _keeps_negation(reply: str, names: list[str]) -> bool:
    """A reply's negations all belong to the option's own words ('not at all' for 'Not at all'):
    'not very good' never means 'Very good'."""
    found = _negations(reply)
    return not found or any(found <= _negations(name) for name in names)


_NEGATES = re.compile(rf"{_NEGATING.pattern}|\bsai\b")
"""A negation that may make an option's name the opposite of a word in it, 'sai' too ("Sai'n
gwybod", 'I don't know'): a pronoun and its negation in one, which no rejection is said with."""


def _drops_negation(reply: str, names: list[str]) -> bool:
    """Whether a reply that negates nothing names an option by a word its name negates: 'they
    know' is never 'Don't know', 'I'm sure' never 'Not sure', 'dw i'n gwybod' never 'Ddim yn
    gwybod'. A misspelt negation still negates ('dnt know', 'dontknow'); an option's name
    without a negation may still be named by the word ('Unknown' beside 'Don't know')."""
    if _NEGATES.search(reply):
        return False
    said = {_stem(word) for word in _WORD.findall(reply)} - _LITTLE_WORDS
    plain = frozenset().union(*(_stems(name) for name in names if not _NEGATES.search(name)))
    negated = [name for name in names if _NEGATES.search(name)
               and any(_has_word(_stems(_NEGATES.sub(" ", name)) - _LITTLE_WORDS - plain, word) for word in said)]
    return bool(negated) and not any(_misspelt_negation(reply, name) for name in negated)


def _misspelt_negation(reply: str, name: str) -> bool:
    """Whether a reply writes a negated name's negation wrongly ('dnt know', 'dontknow' for
    "Don't know", 'sain gwybod' for "Sai'n gwybod"), never as the word it negates ('do know')."""
    negating = [found.replace("'", "") for found in _NEGATES.findall(name)]
    affirming = {word.removesuffix(end) for word in negating for end in ("nt", "t", "not")}
    affirming = {word for word in affirming if len(word) > 1 and not _NEGATES.fullmatch(word)}
    for word in _WORD.findall(reply.replace("'", "")):
        if word not in affirming and any(difflib.SequenceMatcher(None, word, own).ratio() >= 0.8 for own in negating):
            return True
    likeness = difflib.SequenceMatcher(None, reply, name).ratio()
    affirmed = [re.sub(r"\s+", " ", _NEGATES.sub(" ", name)).strip()]
    affirmed += [re.sub(rf"\b{re.escape(word)}\b", positive, name.replace("'", "")) for word in negating for positive in affirming if word.startswith(positive)]
    return likeness >= 0.85 and all(likeness > difflib.SequenceMatcher(None, reply, other).ratio() for other in affirmed)


SENTENCE_WORDS = 12
"""The most words a reply may have for an option named inside it to be read ('Im a carer for my
wife'); a longer one is a story, asked again."""
_AFTER_A_NAME = frozenset({"here", "now", "too", "also", "really", "mostly", "mainly", "myself", "tbh", "thanks", "lol", "x"})
"""Words that may follow an option's word without making it part of another thing ('staff
here'), besides little words: 'family doctor' is no family."""


_FOLLOWING_WORD = re.compile(r" ([^\W\d_][\w']*)")
"""The word right after an option's name, with only a space between (a comma, a full stop or a
dash ends the name: 'family, doctor' names two things)."""
_NOT_A_NOUN_ENDINGS = ("ing", "ed", "ly")
"""Endings of a following word that make it no noun the name describes ('carer looking after
mum', 'family helped', 'family mostly'): a verb or an adverb."""


def _modifies(following: str, own: list[str]) -> bool:
    """Whether the word after an option's word makes that word describe another thing: 'doctor'
    after 'family' ('my family doctor' is no 'Family'), 'friend' ('a family friend'). Never a
    little word, a word that often follows an answer ('staff here', 'family mostly'),
    politeness ('family please'), a number, a verb or adverb by its ending, nor a word of the
    option's own names ('night sitter' of 'Night sitters'). English puts the describing word
    first; a Welsh noun followed by its adjective ('nyrsys ardal') is asked about too."""
    if not following or following in _LITTLE_WORDS or following in _AFTER_A_NAME or only_politeness(following):
        return False
    if following in _WORD_NUMBERS or (len(following) > 4 and following.endswith(_NOT_A_NOUN_ENDINGS)):
        return False
    return not any(_has_word(_stems(name), _stem(following)) for name in own)


def _describes_another(after: str, own: list[str]) -> bool:
    """Whether the words ``after`` an option's name, in a reply, start with a word that makes the
    name describe another thing (:func:`_modifies`): 'family doctor'."""
    found = _FOLLOWING_WORD.match(after)
    return found is not None and _modifies(found.group(1), own)


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
    the patient, I'm her carer'), for a word describing another ('my family doctor'), nor by a
    word the option's name negates ('they know' for "Don't know")."""
    words = _WORD.findall(clean)
    if len(names) < 2 or len(words) > SENTENCE_WORDS or _negations(clean):
        return None
    whole_names = _whole_names_said(clean, names)
    if len(whole_names) > 1:
        return None  # 'family and the gp', 'nyrsys a teulu': two options named in full, however short
    distinctive = _distinctive_words(names)
    named: set[int] = set()
    for place, word in enumerate(words):
        stem = _stem(word)
        if len(stem) < 3 or stem in _LITTLE_WORDS:
            continue
        holders = {i for i, own in enumerate(distinctive) if own and _has_word(own, stem)}
        following = words[place + 1] if place + 1 < len(words) else ""
        if holders and _modifies(following, [name for i in holders for name in names[i]]):
            return None  # a word of an option describing something else ('family doctor')
        named |= holders
    found = named.pop() if len(named) == 1 else None
    if found is None or whole_names - {found} or _drops_negation(clean, names[found]):
        return None
    return found


def _whole_names_said(clean: str, names: list[list[str]]) -> set[int]:
    """The options whose whole name a reply says as words ('gp' in 'family and the gp'; 'teulu'
    beside 'Y meddyg teulu' only where it stands outside that name), however short the name."""
    spans = [(m.start(), m.end(), index) for index, candidates in enumerate(names) for name in candidates if name
             for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", clean)]
    return {i for s, e, i in spans if not any(s2 <= s and e <= e2 and (e2 - s2) > (e - s) for s2, e2, _ in spans)}


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
