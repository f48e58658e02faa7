"""Replies that answer the bot rather than the question: which language, after LANGUAGE asked
it; and a message with no words in it (a photo, a sticker, a file), which there is nothing to
read in. Pure functions and texts, used by the engine (flows/engine.py).

A language is named by its code ('cy', 'pl') or by its name in English or in itself ('Welsh',
'Cymraeg', 'Polish', 'polski'). Only right after the bot asked which language: at any other
time 'Polish' may answer the question (the language spoken at home), and only the built-in
language words (CYMRAEG, ENGLISH, LANGUAGE cy; flows/words.py) switch.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from flows.opt_out_phrases import wrong_number_language
from flows.words import (
    BUILT_IN_WORDS,
    LANGUAGE_NAMES,
    LANGUAGE_WORDS,
    normalised_word,
    without_polite_words,
)

LANGUAGE_NAMES_KNOWN: dict[str, tuple[str, ...]] = {
    "am": ("amharic", "አማርኛ"), "ar": ("arabic", "العربية", "عربي"), "bg": ("bulgarian", "български"),
    "bn": ("bengali", "bangla", "বাংলা"), "br": ("breton", "brezhoneg"), "ca": ("catalan", "català"),
    "cs": ("czech", "čeština"), "de": ("german", "deutsch"), "el": ("greek", "ελληνικά"),
    "es": ("spanish", "español", "castellano"), "fa": ("persian", "farsi", "فارسی"), "fr": ("french", "français"),
    "ga": ("irish", "gaeilge"), "gd": ("gaelic", "scottish gaelic", "gàidhlig"), "gu": ("gujarati", "ગુજરાતી"),
    "gv": ("manx", "gaelg"), "ha": ("hausa",), "hi": ("hindi", "हिन्दी", "हिंदी"), "hu": ("hungarian", "magyar"),
    "ig": ("igbo",), "it": ("italian", "italiano"), "ja": ("japanese", "日本語"), "ko": ("korean", "한국어"),
    "ku": ("kurdish", "kurdî", "کوردی"), "kw": ("cornish", "kernewek"), "lt": ("lithuanian", "lietuvių"),
    "lv": ("latvian", "latviešu"), "ne": ("nepali", "नेपाली"), "nl": ("dutch", "nederlands"),
    "pa": ("punjabi", "panjabi", "ਪੰਜਾਬੀ", "پنجابی"), "pl": ("polish", "polski"), "ps": ("pashto", "پښتو"),
    "pt": ("portuguese", "português"), "ro": ("romanian", "română"), "ru": ("russian", "русский"),
    "sk": ("slovak", "slovenčina"), "so": ("somali", "soomaali"), "sq": ("albanian", "shqip"),
    "sw": ("swahili", "kiswahili"), "ta": ("tamil", "தமிழ்"), "ti": ("tigrinya", "ትግርኛ"), "tl": ("tagalog", "filipino"),
    "tr": ("turkish", "türkçe"), "uk": ("ukrainian", "українська"), "ur": ("urdu", "اردو"),
    "vi": ("vietnamese", "tiếng việt"), "yo": ("yoruba", "yorùbá"), "yue": ("cantonese", "粵語", "广东话"),
    "zh": ("chinese", "mandarin", "中文", "汉语", "普通话"),
}
"""Languages by code, named in English and in themselves (lower case): a study may declare any
language; these are the names a participant may reply with when asked which one they want."""

_AROUND = (("in ", ""), ("yn ", ""), ("", " language"))
"""Words that may go around a language's name: 'in Welsh', 'yn Gymraeg', 'Polish language'."""


def language_named(text: str, languages: Sequence[str]) -> str | bool | None:
    """The code of the study language a whole reply names ('cy', 'Welsh', 'cymraeg please',
    'in Polish'), as the study spells it; False when it names, by its name, a language the
    study does not have ('Urdu' in a study in English and Welsh: worth saying which it has);
    None when it names no language (a code the study lacks may be a word: 'hi', 'it', 'so')."""
    found: str | bool | None = None
    for said in _readings(text):
        declared = _declared(said, languages)
        if declared is None and said in _names():
            declared = _declared(_names()[said], languages)
            found = False if declared is None else found
        if declared is not None:
            return declared
    return found


def _readings(text: str) -> list[str]:
    """A reply as a language may be named in it: whole, without polite words, without 'in ...'."""
    said = _folded(normalised_word(text))
    readings = [said, *(_folded(phrase) for phrase in without_polite_words(said))]
    for before, after in _AROUND:
        readings += [r[len(before):len(r) - len(after)].strip() for r in list(readings)
                     if r.startswith(before) and r.endswith(after) and len(r) > len(before) + len(after)]
    return [r for r in dict.fromkeys(readings) if r]


def _declared(code: str, languages: Sequence[str]) -> str | None:
    """The study's own spelling of ``code`` ('pt-BR' for 'pt'), if it has that language."""
    for declared in languages:
        if declared.lower() == code:
            return declared
    regional = [declared for declared in languages if declared.lower().split("-")[0].split("_")[0] == code]
    return regional[0] if len(regional) == 1 else None


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    """Every language name Chorus knows (folded), to its code."""
    names = {_folded(name): code for code, known in LANGUAGE_NAMES_KNOWN.items() for name in known}
    for code, words in LANGUAGE_WORDS.items():
        names.update({_folded(word): code for word in words})
    for code, by_language in LANGUAGE_NAMES.items():
        names.update({_folded(name.lower()): code for name in by_language.values()})
    return names


def _folded(text: str) -> str:
    """Lower case, and in Latin script without accents, so that 'Español', 'espanol' and
    'español' read alike (in other scripts a mark is part of the letter)."""
    lowered = text.lower()
    if not all(c.isascii() or not c.isalpha() or "LATIN" in unicodedata.name(c, "") for c in lowered):
        return unicodedata.normalize("NFC", lowered)
    return "".join(c for c in unicodedata.normalize("NFKD", lowered) if not unicodedata.combining(c))


WELSH_MARKERS = frozenset({
    "helo", "shwmae", "shwmai", "smae", "sumae", "diolch", "croeso", "dw", "dwi", "ydw", "ydych", "dych", "dach", "eisiau",
    "isio", "isie", "moyn", "ymuno", "cymryd", "rhan", "cymraeg", "gymraeg", "beth", "pwy", "sut", "hwn", "hyn", "gyda",
    "efo", "iawn", "prynhawn", "noswaith", "negeseuon", "neges", "astudiaeth", "arolwg", "bore da", "nos da",
})
"""Words (and greetings of two) that are Welsh and no English word: a message from someone not
known yet with one in it ('Helo', 'Shwmae', 'bore da', 'dw i eisiau ymuno') was written in Welsh."""


def written_in_welsh(text: str) -> bool:
    """Whether a message from someone Chorus does not know yet was written in Welsh: a Welsh
    greeting or word of :data:`WELSH_MARKERS`, one of Chorus's Welsh global words (DECHRAU,
    CYMORTH), CYMRAEG or WELSH, or 'rhif anghywir'. What they are told is then put in Welsh first."""
    said = normalised_word(text)
    if wrong_number_language(said) == "cy" or said in LANGUAGE_WORDS["cy"]:
        return True
    english = {normalised_word(word) for words in BUILT_IN_WORDS.values() for word in words.get("en", [])}
    if any(said == normalised_word(word) and said not in english for words in BUILT_IN_WORDS.values() for word in words.get("cy", [])):
        return True
    words = [word for word in "".join(c if c.isalnum() else " " for c in _folded(said)).split() if word]
    pairs = {" ".join(words[i:i + 2]) for i in range(len(words) - 1)}
    return bool(WELSH_MARKERS & ({*words} | pairs))
