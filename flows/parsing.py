"""Answer understanding that forgives: numbers in words, yes/no, option picks.

Every function is pure and returns ``None`` when it cannot tell; the caller
turns that into a short, specific retry message.
"""

from __future__ import annotations

import difflib
import re
import unicodedata

_WORD_NUMBERS = {
    "zero": 0, "nought": 0, "none": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "last": -1,
}
_YES = {
    "yes", "y", "yeah", "yep", "yup", "ya", "yea", "yess", "ok", "okay", "sure", "aye", "certainly",
    "definitely", "absolutely", "of course", "correct", "right", "agree", "i agree", "i do",
    "please", "yes please", "go on", "👍", "✅", "✔", "✔️", "ie", "iawn", "do", "oes", "ydw", "ydy",
}
_NO = {
    "no", "n", "nope", "nah", "na", "no thanks", "no thank you", "not really", "never", "negative",
    "disagree", "i don't", "i do not", "dont", "don't", "👎", "❌", "✖", "na diolch", "nac ydw", "nac oes",
    "dim",
}
_POLITE = re.compile(
    r"\b(please|thanks|thank you|thankyou|ta|cheers|i think|i'd say|id say|i would say|i guess|"
    r"maybe|probably|it's|its|it is|my answer is|answer|i'll go with|ill go with|i choose|i pick|"
    r"option|number|diolch)\b"
)


def normalise(text: str) -> str:
    """Lower case, folded accents, single spaces, no surrounding punctuation."""
    text = unicodedata.normalize("NFKC", text).strip().lower()
    text = text.replace("’", "'").replace("‘", "'")
    text = re.sub(r"\s+", " ", text)
    return text.strip(" .!?,;:\"'()[]")


def _strip_politeness(text: str) -> str:
    return re.sub(r"\s+", " ", _POLITE.sub(" ", text)).strip(" .!?,;:")


def words_to_number(text: str) -> float | None:
    """'seven' -> 7, 'twenty one' -> 21, '7' -> 7, '3.5' -> 3.5."""
    text = normalise(text).replace("-", " ")
    if re.fullmatch(r"[-+]?\d+(?:[.,]\d+)?", text):
        return float(text.replace(",", "."))
    parts = [p for p in text.split() if p != "and"]
    if not parts or any(p not in _WORD_NUMBERS and p != "hundred" for p in parts):
        return None
    total = 0
    for part in parts:
        if part == "hundred":
            total = max(total, 1) * 100
        else:
            total += _WORD_NUMBERS[part]
    return float(total)


def parse_number(text: str) -> float | None:
    """Find the one number a reply gives: '7', 'seven', 'I'd say 4 thanks', '7/9', '7 out of 10'."""
    clean = _strip_politeness(normalise(text))
    fraction = re.fullmatch(r"([-+]?\d+(?:[.,]\d+)?)\s*(?:/|out of|of)\s*\d+", clean)
    if fraction:
        return float(fraction.group(1).replace(",", "."))
    whole = words_to_number(clean)
    if whole is not None:
        return whole
    numbers = re.findall(r"(?<![\w.])[-+]?\d+(?:[.,]\d+)?(?![\w.])", clean)
    if len(numbers) == 1:
        return float(numbers[0].replace(",", "."))
    spelled = [w for w in re.split(r"[\s,]+", clean) if w in _WORD_NUMBERS]
    if len(spelled) == 1 and not numbers:
        return float(_WORD_NUMBERS[spelled[0]])
    return None


def parse_yes_no(text: str) -> bool | None:
    clean = normalise(text)
    if not clean:
        stripped = text.strip()
        clean = stripped
    if clean in _YES:
        return True
    if clean in _NO:
        return False
    plain = _strip_politeness(clean)
    if plain in _YES or (not plain and "please" in clean):
        return True
    if plain in _NO:
        return False
    first = re.split(r"[\s,.!]+", clean, maxsplit=1)[0]
    if first in _YES and not any(w in clean for w in (" not", "n't", " no")):
        return True
    if first in _NO:
        return False
    return None


def _letter_index(token: str, count: int) -> int | None:
    match = re.fullmatch(r"\(?([a-z])[).]?", token)
    if match and count <= 26:
        index = ord(match.group(1)) - ord("a")
        if index < count:
            return index
    return None


def _number_index(token: str, count: int) -> int | None:
    token = token.strip("().#")
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


def match_option(text: str, options: list[list[str]]) -> int | None:
    """Which option a reply names. ``options`` holds, per option, the names it answers to
    (its label in each language and its value). Accepts '2', 'two', 'B', 'b)', 'the second one',
    the option's words, or a close misspelling of them."""
    count = len(options)
    clean = normalise(text)
    if not clean or not count:
        return None
    names = [[normalise(name) for name in names] for names in options]
    for index, candidates in enumerate(names):
        if clean in candidates:
            return index
    plain = _strip_politeness(clean)
    plain = re.sub(r"^(the|a|an)\s+", "", plain)
    plain = re.sub(r"\s+(one|option)$", "", plain).strip()
    for index, candidates in enumerate(names):
        if plain in candidates:
            return index
    for finder in (_number_index, _letter_index):
        found = finder(plain, count)
        if found is not None:
            return found
    # The option's words inside a longer reply, e.g. "being kept informed I think".
    contained = [i for i, cands in enumerate(names) if any(len(c) > 2 and re.search(rf"\b{re.escape(c)}\b", clean) for c in cands)]
    if len(contained) == 1:
        return contained[0]
    flat = [(name, i) for i, cands in enumerate(names) for name in cands if name]
    close = difflib.get_close_matches(plain, [name for name, _ in flat], n=2, cutoff=0.75)
    if close:
        hits = {i for name, i in flat if name == close[0]}
        if len(hits) == 1:
            return hits.pop()
    return None


def match_options(text: str, options: list[list[str]]) -> list[int] | None:
    """Several picks: '1 3', '1, 3', 'A and C', 'carer, staff'. Order kept, repeats dropped."""
    whole = match_option(text, options)
    if whole is not None:
        return [whole]
    clean = normalise(text)
    if re.fullmatch(r"[a-z\d]{2,}", clean) and all(_letter_index(c, len(options)) is not None or c.isdigit() for c in clean) and len(clean) <= len(options):
        tokens = list(clean)
    else:
        tokens = [t for t in re.split(r"\s*(?:,|;|/|&|\band\b|\bplus\b|\s)\s*", clean) if t]
        # Re-join multi-word option names that the split broke apart.
        if any(match_option(t, options) is None for t in tokens):
            tokens = [t for t in re.split(r"\s*(?:,|;|/|&|\band\b|\bplus\b)\s*", clean) if t]
    picks: list[int] = []
    for token in tokens:
        index = match_option(token, options)
        if index is None:
            return None
        if index not in picks:
            picks.append(index)
    return picks or None
