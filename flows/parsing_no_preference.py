"""No preference between the options offered (flows/parsing.py): 'I don't mind', 'either is fine',
'no preference', 'both the same', "they're equally important", 'makes no difference', 'dim ots',
"y ddau'r un fath". A tie where the question has one (a pair's "Can't decide", an option such as
"No preference"), and where it has none, a reason to ask again saying so, never a guess at an option.

Read only in a short reply that says no more than that: never 'not the same', 'both are bad for
different reasons' or a story; a reply that also names one option is that option's to read."""

from __future__ import annotations

import re

from flows.parsing_little_words import _LITTLE_WORDS
from flows.parsing_normalise import _strip_politeness, _too_long, normalise
from flows.parsing_option_words import SENTENCE_WORDS
from flows.parsing_yes_no import _INDIFFERENT, says_indifferent

_EQUAL = (
    r"(?:just |about |much |pretty much |roughly |exactly )?(?:the same|equal(?:ly (?:good|bad|important|useful))?|level"
    r"|as (?:good|bad|important|useful) as (?:each other|one another|the other))"
)
_LEVEL = re.compile(
    rf"^(?:(?:i think |i'd say |to me )?(?:they(?:'re| are)? |it's |its |it is |both |they(?:'re| are) both |both (?:are|is|seem) )?"
    rf"{_EQUAL}(?: to me| for me| really| both| either way)?"
    r"|(?:i )?(?:like|love|want|need|rate|value) (?:them )?both(?: equally| the same)?"
    r"|both (?:fine|good|ok|okay|great|important|matter|equally)|equally|either|either one|any|any of them"
    r"|(?:it )?makes? no (?:real )?difference|(?:it )?(?:doesn'?t|does not) make (?:any|a|much) difference|no (?:real )?difference"
    r"|(?:i )?(?:can'?t|cannot|can not) (?:choose|pick|separate them|split them)|50 ?/ ?50|50 50|fifty[- ]fifty|a tie|tie"
    r"|toss ?up|six of one"
    r"|(?:it'?s |its )?(?:all )?(?:the )?same (?:to me|for me|either way)|same"
    r"|(?:mae )?(?:y ddau|y ddwy|mae'?r ddau|mae'?r ddwy)(?:'?r|'n| yr| yn)? (?:un fath|gyfartal|iawn|dda|bwysig)"
    r"|yr un fath|(?:yn )?gyfartal|cyfartal"
    r"|yr un mor (?:bwysig|dda)|un ai|unrhyw un|methu dewis|does dim gwahaniaeth|dim gwahaniaeth)$"
)
"""Whole replies that weigh the options level: 'both the same', "they're equal", 'like both',
'either', 'makes no difference', '50/50', Welsh "y ddau'r un fath", 'cyfartal', 'yr un mor bwysig'."""


def says_no_preference(text: str) -> bool:
    """Whether a short reply says the options are all one to the participant: 'I don't mind',
    'either is fine', 'no preference', 'whichever', 'both the same', "I can't choose", 'dim ots'
    (:func:`_says_level`); never doubt alone ('not sure', 'dunno', 'dim syniad'), which a pair
    reads as its tie already (flows.parsing.says_undecided) and a choice as its "Don't know".
    Never 'not the same' nor a reply of more than :data:`SENTENCE_WORDS` words; whether it also
    names an option is for the caller to read first ('I don't mind, A I guess' picks A)."""
    if _too_long(text) or not text.strip():
        return False
    clean = normalise(text).strip(" .!?,")
    return len(clean.split()) <= SENTENCE_WORDS and _says_level(clean)


_AROUND = _LITTLE_WORDS | {"really", "honestly", "tbh", "either", "way", "which", "both", "all", "fine", "ok", "okay",
                           "just", "much", "too", "mind", "thanks", "sorry", "whatever", "whichever", "good", "great"}
"""Words that may come with an 'I don't mind' and say no more ('honestly I don't mind either way')."""


def _says_level(clean: str) -> bool:
    """No preference itself, never doubt ('not sure', 'dunno': a "Don't know" is no tie at a choice):
    an 'I don't mind' (:func:`says_indifferent`) with nothing but :data:`_AROUND` words besides ('whichever
    costs less' prefers), or :data:`_LEVEL`."""
    if says_indifferent(clean):
        rest = _INDIFFERENT.sub(" ", clean).replace("'", " ")
        return all(word in _AROUND for word in re.findall(r"[^\W\d_]+", rest))
    return any(_LEVEL.fullmatch(said.strip(" .!?,")) for said in (clean, _strip_politeness(clean, picking=False)))


def names_another(text: str, names: list[list[str]], but: int | None = None) -> bool:
    """Whether a reply names an option (other than option ``but``) among its words: 'I don't mind,
    phone I guess' names Phone, so it is no 'no preference'. A one-letter name counts only typed as
    a capital on its own ('either, A I guess'), never the article in 'a bit'."""
    clean = f" {normalise(text)} "
    for index, option in enumerate(names):
        for name in {normalise(name) for name in option} - {""} if index != but else ():
            short = len(name) == 1
            if re.search(rf"\b{re.escape(name.upper())}\b" if short else rf"(?<!\w){re.escape(name)}(?!\w)", text if short else clean):
                return True
    return False


def no_preference_option(names: list[list[str]]) -> int | None:
    """The one option that is itself no preference ("No preference", 'Either', "Don't mind",
    'Dim ots'), by any of its names; None when there is none, or more than one. An option of
    doubt ('Not sure', "Don't know", 'Neither') is none: 'I don't mind' is no doubt."""
    found = [index for index, option in enumerate(names) if any(_says_level(normalise(name)) for name in option)]
    return found[0] if len(found) == 1 else None
