"""Which answers the English-only embedding model may theme together, in a study that hears
more than one language.

all-MiniLM-L6-v2 reads English. Given Welsh answers as they are, it groups them by language,
not meaning: every Welsh answer, about pharmacy waits or carers not told, fell into one theme
keyed "yn / amser / cymryd gormod", and each group's share of the real themes was understated.
So each answer's language is decided first (:func:`language_of`: its own words, and where they
do not tell, the language the participant was answering in), then:

* English answers are themed as they are;
* a Welsh answer the glossary of health and care words reads well enough
  (:func:`nlp.welsh_glossary.read_in_english`) is themed with them in those English words;
* any other answer is themed *apart*, among the answers in its language only (the Welsh
  answers the glossary could not read, answers in a language it has no glossary for), and
  when there are too few of those to theme (:data:`FEWEST_APART`) it is in no theme.

Nothing is dropped: every answer counts in its group's number, and :class:`LanguageCount` says
for each language how many answers went which way. A theme's share of a group is of the
group's answers that could have been themed with it (those themed together, or those of its
language themed apart), so answers set apart do not make the shared themes look smaller.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from nlp.welsh_glossary import WELSH_FUNCTION_WORDS, look_up, read_in_english, words

MODEL_LANGUAGE = "en"
"""The language the embedding model reads."""
NAMES = {"en": "English", "cy": "Welsh"}
OTHER_CODES = {"cym": "cy", "wel": "cy", "welsh": "cy", "cymraeg": "cy", "eng": "en", "english": "en"}
FEWEST_APART = 3
"""Answers set apart in one language are themed among themselves when there are at least this
many; fewer are in no theme (and said so)."""


def name(code: str) -> str:
    """'Welsh' for 'cy'; an unknown code as it is."""
    return NAMES.get(code, code)


def code_of(recorded: str | None) -> str | None:
    """A recorded language as a plain code: 'cy-GB' and 'cym' as 'cy'."""
    if not recorded or not recorded.strip():
        return None
    plain = recorded.strip().lower().replace("_", "-").split("-")[0]
    return OTHER_CODES.get(plain, plain)


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Whole English words: the model's vocabulary and sklearn's English stop words."""
    from nlp.embed import default_model_path
    from nlp.themes import _vocabulary

    return _vocabulary(default_model_path()) | english_function_words()


@lru_cache(maxsize=1)
def english_function_words() -> frozenset[str]:
    """sklearn's English stop words."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def language_of(text: str, recorded: str | None = None) -> str:
    """The language ``text`` is in: Welsh when more of its words are Welsh (function words, or
    words of the glossary in any mutated form) than English, English when more are English;
    otherwise the ``recorded`` one (the conversation's), or English. A participant answering
    in a language Chorus has no word lists for is taken at their word unless two or more of
    the answer's words are English function words."""
    known = code_of(recorded)
    english_words_known, stop = english_words(), english_function_words()
    welsh = english = function = 0
    for word in words(text):
        if len(word) == 1:  # "mae'r" and "it's" alike leave one
            continue
        if word in WELSH_FUNCTION_WORDS:
            welsh += word not in stop  # "a", "i", "am" and "hi" say neither
        elif word in english_words_known:
            english += 1
            function += word in stop
        elif look_up(word):
            welsh += 1
    if known not in (None, "en", "cy") and function < 2:
        return str(known)
    if welsh != english:
        return "cy" if welsh > english else "en"
    return known or MODEL_LANGUAGE


@dataclass(frozen=True)
class Plan:
    """For each answer: its ``language``, the ``reading`` the model embeds (its own words, or a
    Welsh answer's English reading), ``apart`` (None when themed with the others, else the
    language it is themed apart in) and whether it was ``glossed``."""

    language: list[str]
    reading: list[str]
    apart: list[str | None]
    glossed: list[bool]


def plan(texts: Sequence[str], recorded: Sequence[str | None], said_nothing: Sequence[bool]) -> Plan:
    """How each of ``texts`` is themed. An answer that says nothing of substance is in no theme
    whatever its language, so it is never set apart."""
    languages, readings, apart, glossed = [], [], [], []
    for text, given, empty in zip(texts, recorded, said_nothing, strict=True):
        language = language_of(text, given)
        reading, pool, read = text, None if language == MODEL_LANGUAGE or empty else language, False
        if language == "cy" and not empty:
            welsh = read_in_english(text, english_words())
            read = welsh.enough
            reading = welsh.english if read else (welsh.welsh or text)
            pool = None if read else "cy"
        languages.append(language)
        readings.append(reading)
        apart.append(pool)
        glossed.append(read)
    return Plan(languages, readings, apart, glossed)


@dataclass(frozen=True)
class LanguageCount:
    """How one language's answers were themed: of ``answers``, ``with_others`` themed with the
    other languages' (``glossed`` of them read through the Welsh glossary), ``apart`` themed
    among themselves, ``not_themed`` too few to theme apart and in no theme, and
    ``said_nothing`` in no theme because they said nothing of substance."""

    language: str
    name: str
    answers: int
    with_others: int
    glossed: int
    apart: int
    not_themed: int
    said_nothing: int


def language_counts(made: Plan, themed_apart: set[str], said_nothing: Sequence[bool]) -> list[LanguageCount]:
    """Each language's :class:`LanguageCount`, the most answers first; ``themed_apart`` names
    the languages whose answers set apart were themed (the others' are in no theme)."""
    counted = Counter(made.language)
    found = []
    for code, n in sorted(counted.items(), key=lambda kv: (-kv[1], kv[0])):
        mine = [i for i, language in enumerate(made.language) if language == code]
        empty = sum(1 for i in mine if said_nothing[i])
        set_apart = sum(1 for i in mine if made.apart[i] is not None)
        glossed = sum(1 for i in mine if made.glossed[i])
        apart = set_apart if code in themed_apart else 0
        found.append(LanguageCount(code, name(code), n, n - empty - set_apart, glossed, apart, set_apart - apart, empty))
    return found


def languages_note(counts: Sequence[LanguageCount]) -> str:
    """What the coordinator needs to know about languages, plainly ('' when every answer was
    in the model's language): for each other language how its answers were themed."""
    others = [c for c in counts if c.language != MODEL_LANGUAGE]
    if not others:
        return ""
    sentences = [f"Answers in {len(counts)} languages: " + ", ".join(f"{c.name} {c.answers}" for c in counts) + "."
                 if len(counts) > 1 else f"All {counts[0].answers} answers are in {counts[0].name}."]
    sentences.append("The model that finds themes reads English only.")
    for c in others:
        parts = []
        if c.glossed:
            parts.append(f"{c.glossed} read through a Welsh-English glossary of health and care words and themed with the English answers")
        if c.apart:
            parts.append(f"{c.apart} could not be read in English and {'was' if c.apart == 1 else 'were'} themed on "
                         f"{'its' if c.apart == 1 else 'their'} own (themes marked '{c.name} answers only')")
        if c.not_themed:
            parts.append(f"{c.not_themed} could not be read in English and {'is' if c.not_themed == 1 else 'are'} in no theme "
                         f"(too few to theme on their own)")
        if parts:
            sentences.append(f"Of the {c.name} answers, " + "; ".join(parts) + ".")
    if any(c.apart or c.not_themed for c in counts):
        sentences.append("Each theme's share of a group is of that group's answers that could be themed with it.")
    return " ".join(sentences)
