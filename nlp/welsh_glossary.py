"""Welsh answers read in English words, so that the English-only embedding model can theme
them with English answers about the same things.

all-MiniLM-L6-v2 knows no Welsh: it reads "Roedd rhaid aros dros awr yn y fferyllfa" as
word pieces shared by every Welsh sentence ("yn", "y", "rhaid"), so Welsh answers gather in
one theme of their own whatever they are about. :func:`read_in_english` reads a Welsh answer
through a glossary of health and care service words (``welsh_glossary.txt``): function words
(:data:`WELSH_FUNCTION_WORDS`) are set aside, each other word is looked up as written and, failing
that, unmutated ("feddyg" -> "meddyg", "nghofalwr" -> "gofalwr", "mhresgripsiwn" ->
"presgripsiwn"), without a plural ending ("apwyntiadau") or as the verb of a past form
("ffoniais", "ffoniwch" -> "ffonio"). The result says how many of the answer's words it read, so that a
caller themes with English answers only those it read well enough (:data:`ENOUGH`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

GLOSSARY = Path(__file__).with_name("welsh_glossary.txt")
ENOUGH = 0.5
"""The share of an answer's content words the glossary must read (and at least one) for the
answer to be themed with English answers."""
LONGEST_PHRASE = 3

_FUNCTION = """
    y yr r a ac ag i o yn yng ym ar am at gan gyda gydag efo heb dros drwy trwy wrth tan hyd fel cyn ol tro
    mae maen oedd roedd roeddwn roedden roeddem bod fod yw ydy ydi ydw ydyn ydych ydyw dyw dydy dydw
    does doedd nid ni na nac nad nag ond os pan achos oherwydd felly hefyd ei eu fy fi mi ti chi
    nhw hi fe e ef hwn hon hyn hynny yma yno wedi wedyn sy sydd oes bydd byddai fydd fyddai buodd
    wnaeth wnes wnaethon wnaethant gwnaeth nes ches chafodd cafodd ges gefais cawson gafodd
    dim ddim rhaid gallu gall allu allai gallai eisiau isio moyn rhy mor iawn pob bob un arall
    mwy mwyaf llawer sut pam ble pryd pwy beth dwi dw ydwi rwy rwyn rydw rydyn rydych
    nol jyst ie nage naddo do wel dyna dyma sef tua bron eithaf digon rhai tipyn ychydig erioed weithiau
    w m n s chwi ninnau hwythau minnau wrthoch wrtho wrthi wrthyf diolch rhan
    dau dwy tri tair pedwar pedair chwech saith wyth naw deg ugain deugain ddau ddwy dair bedwar bedair
    neu mewn eich ein arnoch arnaf arna arno arni arnom arnyn iddo iddi iddyn imi gen gennyf gennych ganddo ganddi
"""
WELSH_FUNCTION_WORDS = frozenset(_FUNCTION.split())
"""Welsh words that say little of what an answer is about (articles, prepositions, pronouns,
forms of 'bod', auxiliaries, 'rhaid', 'dim'): set aside before reading, and kept out of keywords."""

MUTATIONS = (("b", "p"), ("d", "t"), ("g", "c"), ("f", "b"), ("f", "m"), ("l", "ll"), ("r", "rh"), ("dd", "d"),
             ("ngh", "c"), ("mh", "p"), ("nh", "t"), ("ng", "g"), ("m", "b"), ("n", "d"),
             ("ph", "p"), ("th", "t"), ("ch", "c"))
"""(mutated start, radical start): soft, nasal and aspirate mutations. A radical word that only
looks mutated ("llenwi", "ffurflen") gives a form no glossary entry has, so trying every start is safe."""
VOWELS = tuple("aeiouwy")
_PLURAL = ("iau", "au", "ion", "on", "ydd", "i")
_INFLECTED = ("iais", "ais", "iodd", "odd", "ion", "on", "och", "iwyd", "wyd", "iwch", "wch", "ith", "wn", "ir")
_VERB = ("io", "u", "i", "o", "")
WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
"""A word, hyphenated ones whole ("ar-lein", "di-ben-draw"); an apostrophe splits ("mae'r")."""


def fold(text: str) -> str:
    """Lower case without accents: 'ffôn' as 'ffon', 'nôl' as 'nol'."""
    lowered = text.lower()
    if lowered.isascii():
        return lowered
    return "".join(c for c in unicodedata.normalize("NFKD", lowered) if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The folded words of ``text``."""
    return WORD.findall(fold(text).replace("\u2019", "'"))


@lru_cache(maxsize=1)
def glossary() -> dict[str, str]:
    """Welsh word or phrase (folded, dictionary form) -> English."""
    found: dict[str, str] = {}
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            welsh, _, english = line.partition(":")
            found[" ".join(words(welsh))] = english.strip()
    return found


def unmutated(word: str) -> list[str]:
    """``word`` and the forms it may have had before a mutation or an h before a vowel
    ('ofalwr' -> 'gofalwr', 'nhabledi' -> 'tabledi', 'hanwybyddu' -> 'anwybyddu')."""
    forms = [word]
    if word.startswith(VOWELS):
        forms.append("g" + word)
    if word.startswith("h") and word[1:].startswith(VOWELS):
        forms.append(word[1:])
    return forms + [radical + word[len(mutated):] for mutated, radical in MUTATIONS if word.startswith(mutated)]


@lru_cache(maxsize=8192)
def look_up(word: str) -> str | None:
    """The English for one Welsh word in any of its mutated, plural or past forms, or None."""
    known = glossary()
    for form in unmutated(word):
        if form in known:
            return known[form]
        for ending in _PLURAL:
            if form.endswith(ending) and form[: -len(ending)] in known:
                return known[form[: -len(ending)]]
        for ending in _INFLECTED:
            stem = form[: -len(ending)]
            if form.endswith(ending) and len(stem) >= 3:
                for verb in _VERB:
                    if stem + verb in known:
                        return known[stem + verb]
    return None


@dataclass(frozen=True)
class Reading:
    """A Welsh answer read through the glossary: ``english``, the words read (and any English
    word it borrows), in order; ``content``, how many of its words were not function words;
    ``read``, how many of those the glossary read; ``welsh``, its content words as written."""

    english: str
    content: int
    read: int
    welsh: str

    @property
    def enough(self) -> bool:
        """Whether enough of the answer was read to theme it with English answers (:data:`ENOUGH`)."""
        return self.read >= 1 and self.read >= ENOUGH * self.content


def read_in_english(text: str, english_words: frozenset[str] = frozenset()) -> Reading:
    """``text`` (Welsh) in English words, phrases of the glossary first ("meddyg teulu" as "gp",
    "am ddim" as "free"). A word the glossary does not know but ``english_words`` holds (a
    borrowed "jargon") is kept as it is and counts as read; other unknown words are left out of
    ``english``; function words are set aside."""
    said = words(text)
    known = glossary()
    english: list[str] = []
    welsh: list[str] = []
    read = position = 0
    while position < len(said):
        for length in range(min(LONGEST_PHRASE, len(said) - position), 1, -1):
            phrase = " ".join(said[position : position + length])
            if phrase in known:
                english.append(known[phrase])
                welsh.append(phrase)
                read, position = read + 1, position + length
                break
        else:
            word = said[position]
            position += 1
            if word in WELSH_FUNCTION_WORDS:
                continue
            welsh.append(word)
            meaning = look_up(word) or (word if word in english_words else None)
            if meaning:
                english.append(meaning)
                read += 1
    return Reading(" ".join(english), len(welsh), read, " ".join(welsh))
