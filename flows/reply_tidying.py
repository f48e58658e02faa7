"""How a reply is tidied before it is matched against global words and opt-out phrases:
case, spacing, closing punctuation, emoji and invisible characters."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache


@lru_cache(maxsize=8192)
def normalised_word(text: str) -> str:
    """A reply as global words are matched: 'STOP', 'stop.', ' Stop! ', 'Stop!!! 😡', 'STOP 👋',
    full-width 'ＳＴＯＰ' and STOP with an invisible character after it are all 'stop'; a curly
    apostrophe is a straight one ('can’t talk' is 'can't talk').
    (Compatibility forms folded; emoji, other symbols and invisible format characters
    dropped: a participant's STOP must never be missed for what is around it.)"""
    if text.isascii():
        return re.sub(r"\s+", " ", text.strip().lower()).strip(" .!?")
    folded = "".join(" " if _not_a_word(c) else c for c in unicodedata.normalize("NFKC", text.replace("\u2019", "'")))
    return re.sub(r"\s+", " ", folded.strip().lower()).strip(" .!?")


_NOT_WORDS = frozenset({"So", "Sk", "Cf", "Cs", "Co"})
"""Unicode categories dropped from a reply before matching global words: symbols (emoji),
format characters (zero-width spaces and joiners), surrogates and private use."""


def _not_a_word(char: str) -> bool:
    """Not part of any word: those categories, and the variation selectors that follow an emoji
    (other combining marks are letters' own: Hindi's vowel signs, a decomposed accent)."""
    return unicodedata.category(char) in _NOT_WORDS or "\ufe00" <= char <= "\ufe0f" or "\U000e0100" <= char <= "\U000e01ef"
