"""How many SMS segments a text costs, and why.

An SMS carries 140 bytes. In the GSM-7 alphabet that is 160 characters, or 153 per
part once a message is split (the rest holds the reassembly header); characters of
the GSM-7 extension table (``{ } [ ] ~ | € ^ \\`` and form feed) take two. A single
character outside GSM-7, such as a curly apostrophe ’ or an emoji, switches the whole
message to UCS-2: 70 UTF-16 units, 67 per part. Parts never split an escape pair or
a surrogate pair, so the count here is exact, not an estimate.

A letter outside GSM-7 in a language that needs it (Welsh ŵ, ŷ, â; any letter of
Arabic or Bengali) cannot be avoided: :func:`avoidable_characters` tells those apart
from what a coordinator can fix (curly quotes, dashes, emoji).

Options are counted as the participant on SMS sees them (:func:`sms_text`, a copy of
``channels.base.render_plain``, because ``flows`` may not import ``channels``).

Chorus's own Welsh reply words (DDIM YN SIŴR, YN ÔL) are the one exception to keeping a
language's letters: a participant is asked to type them back, and the parser reads them
the same with or without the to bach, so on SMS they go without it when that spares a
segment (:func:`gsm7_reply_words`). Prose is never respelt: "Croeso'n ôl" stays correct.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from flows.events import Button
from flows.parsing_yes_no import parse_yes_no
from flows.words import ENGLISH_OPTIONS, OptionTexts

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "^{}\\[~]|€\f"
_BASIC = frozenset(GSM7_BASIC)
_EXTENSION = frozenset(GSM7_EXTENSION)

MULTIPLE_HINT = ENGLISH_OPTIONS.several
"""The hint under a multiple choice, in English (``OptionTexts.several`` in other languages)."""

APOSTROPHE, QUOTE, HYPHEN = "a straight apostrophe (')", 'a straight quote (")', "a hyphen (-)"
LOOKALIKES = {
    "’": APOSTROPHE,
    "‘": APOSTROPHE,
    "´": APOSTROPHE,
    "`": APOSTROPHE,
    "“": QUOTE,
    "”": QUOTE,
    "–": HYPHEN,
    "—": HYPHEN,
    "•": HYPHEN,
    "…": "three dots (...)",
    "\u00a0": "a plain space",
    "\u200b": "nothing (delete it)",
}
"""Characters that force UCS-2 but have a GSM-7 stand-in, usually pasted from a word processor."""


@dataclass(frozen=True)
class SegmentCount:
    encoding: str
    """'GSM-7' or 'UCS-2'."""
    segments: int
    units: int
    """Septets for GSM-7, UTF-16 code units for UCS-2."""
    forcing: str | None = None
    """The first character that forced UCS-2, if any."""


def _gsm7_cost(char: str) -> int | None:
    if char in _BASIC:
        return 1
    if char in _EXTENSION:
        return 2
    return None


def _ucs2_cost(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def _parts(costs: Sequence[int], single: int, per_part: int) -> int:
    """Segments for characters of the given costs, never splitting one character."""
    total = sum(costs)
    if total <= single:
        return 1 if total else 0
    parts, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            parts, used = parts + 1, 0
        used += cost
    return parts


def count_segments(text: str) -> SegmentCount:
    """The encoding, segment count and size of ``text`` as one SMS."""
    costs: list[int] = []
    forcing = None
    for char in text:
        cost = _gsm7_cost(char)
        if cost is None:
            forcing = char
            break
        costs.append(cost)
    if forcing is None:
        return SegmentCount("GSM-7", _parts(costs, 160, 153), sum(costs))
    units = [_ucs2_cost(char) for char in text]
    return SegmentCount("UCS-2", _parts(units, 70, 67), sum(units), forcing)


def plain_message(text: str, options: Sequence[str], multiple: bool = False, texts: OptionTexts = ENGLISH_OPTIONS) -> str:
    """The text as an SMS shows it: options become numbered lines after a blank line (the
    longest way they are shown), with the hint under a multiple choice in ``texts``' language."""
    return _numbered(text, list(enumerate(options, start=1)), multiple, texts) if options else text


def sms_text(
    text: str, buttons: Sequence[Button], multiple: bool = False, texts: OptionTexts = ENGLISH_OPTIONS
) -> str:
    """The prompt as an SMS (or the terminal) shows it, options in ``texts``' language: a bare
    range 1-9 on one reply line, options the text already names left out, a yes/no pair on one
    line ("(Atebwch Ydw neu Nac ydw)": numbered, a '1' typed after "Just to check: 2?" would be
    read as the number), numbered lines otherwise. ``channels.base.render_plain`` is this, so
    ``chorus validate`` counts segments on what participants get."""
    if not buttons:
        return text
    numeric = [b for b in buttons if b.value.lstrip("-").isdigit()]
    others = [b for b in buttons if b not in numeric]
    if numeric and all(b.label == b.value for b in numeric):
        return f"{text}\n{texts.reply_with([f'{numeric[0].value}-{numeric[-1].value}', *(b.label.upper() for b in others)])}"
    numbers = [int(b.value) for b in numeric]
    if numeric and not others and numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        return _numbered(text, [(b.value, b.label) for b in buttons], multiple, texts)
    if not multiple and (_named_in_one_line(text, buttons) or [b.value for b in buttons] == ["yes", "no"]):
        labels = [b.label for b in buttons]
        if all(re.search(rf"\b{re.escape(label)}\b", text, re.IGNORECASE) for label in labels) or _names_yes_and_no(text, buttons):
            return text
        return f"{text}\n{texts.reply_with(labels)}"
    if numeric and not others:
        return _numbered(text, [(b.value, b.label) for b in buttons], multiple, texts)
    return _numbered(text, [(str(i), b.label) for i, b in enumerate(buttons, start=1)], multiple, texts)


SHORT_LABEL, SHORT_EXTRA = 10, 24
"""One-word options up to this long fit on one reply line ("Yes or No"); beside
options the text labels itself ("A) ..."), so may an option of a few words."""


def _names_yes_and_no(text: str, buttons: Sequence[Button]) -> bool:
    """Whether a yes/no question already says, in capitals as words to type, a yes and a no in
    its own words: "Atebwch YDW i gymryd rhan neu NA i stopio." names Welsh answers other than
    the labels (Ydw, Nac ydw), so a "(Atebwch Ydw neu Nac ydw)" line would only repeat it."""
    if [b.value for b in buttons] != ["yes", "no"]:
        return False
    runs = re.findall(r"\w+(?:\s+\w+)*", " ".join(w if w.isupper() and len(w) > 1 else "," for w in re.findall(r"\w+", text)))
    said = {parse_yes_no(part) for run in runs for part in (run, *run.split())}
    return True in said and False in said


def _named_in_one_line(text: str, buttons: Sequence[Button]) -> bool:
    if all(len(b.label) <= SHORT_LABEL and " " not in b.label.strip() for b in buttons):
        return True
    labelled = [b for b in buttons if len(b.label) <= 3 and re.search(rf"^{re.escape(b.label)}[):.] ", text, re.MULTILINE)]
    return bool(labelled) and all(b in labelled or len(b.label) <= SHORT_EXTRA for b in buttons)


def _numbered(text: str, lines: Sequence[tuple[object, str]], multiple: bool, texts: OptionTexts) -> str:
    shown = [text, ""] + [f"{number}) {label}" for number, label in lines]
    if multiple:
        shown.append(texts.several)
    return "\n".join(shown)


def describe_char(char: str) -> str:
    """A character as a coordinator can find it: the glyph and its code point."""
    shown = char if char.isprintable() and not char.isspace() else ""
    return f"'{shown}' (U+{ord(char):04X})" if shown else f"U+{ord(char):04X}"


def is_gsm7(char: str) -> bool:
    return char in _BASIC or char in _EXTENSION


def is_native_letter(char: str, language: str) -> bool:
    """A letter (or accent) that writing ``language`` correctly needs; English needs none
    outside GSM-7."""
    return language.split("-")[0].lower() != "en" and unicodedata.category(char)[0] in "LM"


def avoidable_characters(text: str, language: str) -> list[str]:
    """Characters outside GSM-7 that are not letters of the language, in order of appearance."""
    found = [c for c in text if not is_gsm7(c) and not is_native_letter(c, language)]
    return list(dict.fromkeys(found))


def native_letters(text: str, language: str) -> list[str]:
    """Letters of the language outside GSM-7 (Welsh ŵ, ŷ, â), in order of appearance: they
    force UCS-2, and they are right."""
    found = [c for c in text if not is_gsm7(c) and is_native_letter(c, language)]
    return list(dict.fromkeys(found))


def word_with(text: str, char: str) -> str:
    """The first word of ``text`` that holds ``char``, for a coordinator to find it by."""
    words = (word.strip(".,;:!?()[]\"'“”‘’") for word in text.split() if char in word)
    return next(words, char) or char


def segments_as_gsm7(text: str) -> int:
    """Segments the text would need if every character were in GSM-7 (non-GSM ones as one)."""
    return _parts([_gsm7_cost(c) or 1 for c in text], 160, 153)


GSM7_REPLY_WORDS = ("DDIM YN SIŴR", "YN ÔL")
"""Chorus's own Welsh reply words with a letter outside GSM-7 (the built-in 'unsure' answer and
BACK), as a participant is asked to type them: in capitals, or quoted ("neu 'Ddim yn siŵr'").
Each is read the same without its to bach ("ddim yn siwr" by the scale and Delphi steps, "yn ol"
as BACK: tests/test_welsh_sms.py checks), so that spelling costs a participant nothing."""
_REPLY_WORD = re.compile(
    "|".join(rf"(?<!\w){re.escape(word)}(?!\w)" for word in GSM7_REPLY_WORDS)
    + "|" + "|".join(rf"(?P<q{n}>['\"]){re.escape(word)}(?P=q{n})" for n, word in enumerate(GSM7_REPLY_WORDS)),
    re.IGNORECASE,
)


def without_to_bach(text: str) -> str:
    """``text`` with each letter outside GSM-7 written as its GSM-7 base letter where it has one
    (ŵ w, Ô O), case kept; other characters as they are."""
    return "".join(c if is_gsm7(c) else _gsm7_base(c) for c in text)


def _gsm7_base(char: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFD", char) if unicodedata.category(c) != "Mn")
    return base if base and all(is_gsm7(c) for c in base) else char


def _reply_word(found: re.Match[str]) -> str:
    said = found.group(0)
    return without_to_bach(said) if said.isupper() or said[0] in "'\"" else said


def gsm7_reply_words(text: str) -> str:
    """The text as it goes by SMS: Chorus's own Welsh reply words (:data:`GSM7_REPLY_WORDS`)
    written without the to bach, but only when that takes fewer segments (nothing else in the
    message needs UCS-2); otherwise the text as it is, correctly spelt. Prose is left alone:
    only the words in capitals or quoted, as a reply to type, are respelt."""
    if is_gsm7_text(text):
        return text
    plain = _REPLY_WORD.sub(_reply_word, text)
    if plain == text or count_segments(plain).segments >= count_segments(text).segments:
        return text
    return plain


def is_gsm7_text(text: str) -> bool:
    return all(is_gsm7(char) for char in text)
