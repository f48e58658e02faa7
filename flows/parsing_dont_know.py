"""'I don't know' at a choice that offers it (flows/parsing.py): 'dunno', 'idk', 'no idea' or
'not sure' pick the one "Don't know" or "Not sure" option, as its own words do; never when the
reply says that someone else does not know, or did not ('they don't know', 'the GP isn't sure',
'I didn't know'). That reports another's state or the past, not the participant's answer: at
'Does your GP know?' the first means No, so such a reply is asked again."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from flows.parsing_normalise import _strip_politeness, normalise
from flows.parsing_yes_no import LEAD_WORDS, UNSURE_REPLIES

DONT_KNOW_REPLIES = frozenset({
    *(reply.replace("'", "") for reply in UNSURE_REPLIES if reply != "skip this"),
    "no clue", "not a clue", "havent a clue", "havent got a clue", "not certain", "dont really know", "dk", "i dunno",
    "dim clem", "dim cliw", "sain siwr", "dwi ddim yn gwybod", "dwi ddim yn siwr",
})
"""Whole replies (without apostrophes) that say 'I don't know' in English or Welsh."""
_FIRST_PERSON = frozenset({
    "i", "im", "ive", "me", "we", "were", "weve", "am", "have", "really", "honestly", "genuinely", "tbh", "still", "and",
    "but", "oh", "to", "be", "honest", "dw", "dwi", "rydw", "rwy", "dydw", "fi", "ni", "yn", "wir",
})
"""Words that may come before the 'not' or 'no' of an 'I don't know' said of oneself ('I really
don't know', 'we honestly have no idea', 'dw i ddim yn gwybod'): anything else before it (a
name, 'they', 'the doctor', 'nobody') says it of someone else."""
_KEY_WORDS = frozenset({
    "dont", "do", "not", "no", "know", "sure", "unsure", "idea", "clue", "dunno", "idk", "dk", "havent", "ddim", "dim",
    "sain", "dwn", "certain",
})
"""Where the 'I don't know' itself starts, said or misspelt ('dnt know', 'nt sure'): the words
before it are its subject."""
_OTHER_FORMS = frozenset({
    "doesnt", "does", "didnt", "did", "knows", "knew", "isnt", "wasnt", "arent", "werent", "hasnt", "hadnt", "is", "was",
    "are", "has", "had", "dydyn", "dydy", "doedd", "nid", "oeddwn", "oedden",
})
"""Verb forms that say it of another person ('doesn't', 'isn't', 'knows') or of a past time
('didn't', 'knew', 'wasn't'): never the participant's present 'Don't know'."""
_LEADS = re.compile(rf"^(?:(?:{'|'.join(sorted(LEAD_WORDS, key=len, reverse=True))})\s+)+")
"""The leads :func:`flows.parsing_yes_no.says_undecided` strips, longest first: 'i am not sure' loses 'i am'."""
_TAILS = re.compile(r"(?:\s+(?:tbh|to be honest|really|honestly|at all|sorry|mate))+$")
_PARTS = re.compile(r"\s*(?:/|\bor\b|\bneu\b|,)\s*")


def _bare(text: str) -> str:
    said = _strip_politeness(normalise(text).replace("'", ""), picking=False)
    return _TAILS.sub("", _LEADS.sub("", said)).strip()


def says_dont_know(text: str) -> bool:
    """Whether a whole reply says 'I don't know' (:data:`DONT_KNOW_REPLIES`), with 'I', 'really',
    'tbh' or politeness around it: 'dunno', 'idk', "I'm not sure", 'no idea tbh', 'dunno sorry'."""
    return _bare(text) in DONT_KNOW_REPLIES


def _is_dont_know(name: str) -> bool:
    """An option that says 'I don't know': "Don't know", 'Not sure', 'Unsure', 'Ddim yn gwybod',
    "Don't know / not sure"; never 'No preference' or 'Neither', which answer the question."""
    parts = [part for part in _PARTS.split(normalise(name).replace("'", "")) if part]
    return bool(parts) and all(_bare(part) in DONT_KNOW_REPLIES for part in parts)


def option_says_dont_know(name: str) -> bool:
    """Whether an option's label (or value) says 'I don't know': "Don't know", 'Not sure', 'Ddim yn gwybod'."""
    return _is_dont_know(name)


def dont_know_option(text: str, options: Sequence[Sequence[str]]) -> int | None:
    """The one option that says 'I don't know' when the reply says it in other words ('dunno' for
    "Don't know", 'I don't know' for 'Not sure'); None when the reply says something else, or when
    no option, or more than one, says it."""
    if not says_dont_know(text):
        return None
    found = [index for index, names in enumerate(options) if any(_is_dont_know(name) for name in names)]
    return found[0] if len(found) == 1 else None


def said_of_someone_else(text: str, names: Sequence[str]) -> bool:
    """Whether a reply that names a 'Don't know' option says it of someone else or of the past
    ('they don't know', "my mum isn't sure", 'nobody knows', 'I didn't know'), not of the
    participant now. False for a reply that picks it by its number or letter ('6', 'f'), and for
    any option that does not say 'I don't know'."""
    if not any(_is_dont_know(name) for name in names):
        return False
    said = _strip_politeness(normalise(text).replace("'", ""), picking=False)
    own = {word for name in names for word in re.findall(r"\w+", normalise(name).replace("'", ""))}
    words = re.findall(r"\w+", said)
    if any(word in _OTHER_FORMS and word not in own for word in words):
        return True
    start = next((place for place, word in enumerate(words) if difflib.get_close_matches(word, _KEY_WORDS, 1, 0.8)), None)
    return start is not None and any(word not in _FIRST_PERSON for word in words[:start])
