"""The text the safety patterns read (:mod:`nlp.safety`): lower case, without accents (Welsh is
often typed without them), straight apostrophes and common idioms removed ("the wait was
killing me", "I could murder a cup of tea", "chest of drawers", "bron a marw o syched"), so
that the patterns need not each tell a figure of speech from a risk; and how many content
words an answer has, since short everyday replies ("I'm fine") are left to the patterns by the
embedding check."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from nlp.safety_prefilter import combined_literals, literal_search


def _compile(*patterns: str) -> list[re.Pattern[str]]:
    return [re.compile(p) for p in patterns]


FUNCTION_WORDS = frozenset((
    "i", "im", "i'm", "i'd", "id", "i've", "ive", "me", "my", "a", "an", "the", "and", "or", "but",
    "so", "to", "of", "in", "on", "at", "for", "it", "its", "it's", "is", "was", "be", "been", "am",
    "are", "do", "did", "does", "dont", "don't", "not", "no", "yes", "ok", "please", "just", "really",
    "very", "that", "this", "with", "about", "some",
))

# Idioms removed before the lexicon runs (never before the embedding check).
IDIOMS = _compile(
    r"\b(wait(ing)?|queue|suspense|feet|back|heat|noise|boredom|pain) (was |is |were )?(literally )?killing (me|us)\b",
    r"\b(could|would|'d) (murder|kill for) (a|an|some)\b",
    r"\bkill(ed)? two birds\b",
    r"\bchest of drawers\b",
    r"\b(bored|scared|worried|frozen) to death\b",
    r"\b(nearly |almost )?died (of|with|from) (laughing|laughter|embarrassment|shame)\b",
    r"\bdying (for|to) (a|an|some|get|have|go)\b",
    r"\bto die for\b",
    r"\b(nearly|almost) (gave|give) me a heart attack\b",
    r"\bdead (tired|on|good|easy|funny|right|boring)\b",
    r"\bknife and fork\b",
    r"\bbleeding (obvious|ridiculous|joke|nightmare|hell)\b",
    r"\b(rather|sooner) die than (eat|have|go|wait|sit)\b",
    r"\b(overdose|o\.d\.) of (paperwork|forms|caffeine|coffee|vitamin \w+|information)\b",
    r"\bkilling themselves (trying|to keep)\b",
    # a daily regimen ("12 tablets a day", "6 pills every morning") is not a quantity taken at once
    r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve) (different )?(tablets|pills|capsules|meds|medicines|inhalers) (a|per|each|every) (day|morning|night|evening|week)\b",
    r"\btook something (for|to help)\b",
    # Welsh, read without accents: "bron a marw o syched" (dying of thirst), "eisiau marw o gywilydd" (of shame),
    # "lladd fy hun yn gweithio" (killing myself working), "gorddos o gaffein", "fy nharo i fel..." (it struck me as...)
    r"\b(bron (a|ag) )?(marw|farw) o (syched|newyn|gywilydd|chwerthin|embaras|ddiflastod|oerfel|wres|hiraeth)\b",
    r"\b(ll|l)add (fy|ei|ein|eu|'?yn) (hun|hunan|hunain) (yn|wrth) (gweithio|trio|treial|ceisio|rhedeg|chwerthin|gwneud|cadw)\b",
    r"\b(g)?orddos o ((g|c)offi|(g|c)affein|(w|g)aith papur|(w|g)ybodaeth|siwgr|(s|t)eledu)\b",
    r"\b(fy |'y |'m )?(nharo|daro|taro|tharo) (i |fi )?(fel|fod|bod|mai|pa mor)\b",
)


_IDIOM_LITERALS = combined_literals(IDIOMS)
_MAY_HOLD_AN_IDIOM = None if _IDIOM_LITERALS is None else literal_search(_IDIOM_LITERALS)
"""Found in any text an idiom matches (:mod:`nlp.safety_prefilter`): where it is not, no idiom is
removed, so the loop over them is skipped (most messages hold none)."""


def fold_accents(text: str) -> str:
    """Text without its accents: Welsh is often typed without them ("stroc", "dod a'r cyfan i ben"),
    so the patterns are written, and read, without them."""
    if text.isascii():  # nothing to fold (and most messages): ASCII is its own NFD, with no combining marks
        return text
    return _fold_every_char(text)


def _fold_every_char(text: str) -> str:
    return "".join(char for char in unicodedata.normalize("NFD", text) if not unicodedata.combining(char))


def _folded(text: str, fold: Callable[[str], str] = fold_accents) -> str:
    return fold(text.lower()).replace("\u2019", "'").replace("\u2018", "'")


def _without_idioms(text: str) -> str:
    for idiom in IDIOMS:
        text = idiom.sub(" ", text)
    return text


def normalise(text: str) -> str:
    """Lower case, no accents, straight apostrophes, idioms removed, single spaces."""
    text = _folded(text)
    if _MAY_HOLD_AN_IDIOM is None or _MAY_HOLD_AN_IDIOM.search(text):
        text = _without_idioms(text)
    return " ".join(text.split())  # the same as re.sub(r"\s+", " ", text).strip(), sooner


def normalise_unfiltered(text: str) -> str:
    """:func:`normalise` as it was before the prefilter: every idiom tried, for the tests and the
    benchmark (scripts/bench/safety_speed.py) to compare with."""
    return re.sub(r"\s+", " ", _without_idioms(_folded(text, _fold_every_char))).strip()


PLACEHOLDERS = re.compile(r"\[(?:EMAIL|NHS_NUMBER|PHONE|POSTCODE|DOB|NAME)\]")
"""What :func:`nlp.redact.redact` puts for a participant's identifiers ("My son [NAME] had to...")."""


def for_the_model(text: str) -> str:
    """The words the embedding model reads: without redaction placeholders, which are ours, not the
    participant's, and which it read as something of its own ("My son [NAME] had to take a day off
    because no one phoned us" sat nearer to risk than "My son had to take a day off...")."""
    return " ".join(PLACEHOLDERS.sub(" ", text).split()) if "[" in text else text


def content_words(text: str) -> int:
    """How many words of ``text`` are not function words ("i", "the", "not", "please"...)."""
    return sum(word not in FUNCTION_WORDS for word in re.findall(r"[a-z']+", normalise(text)))
