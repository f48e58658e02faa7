"""How important a reply says something is, in words, at a rating scale (flows/parsing.py): 'very
important', 'really important', 'pwysig iawn', 'hynod bwysig' are the top of it; 'not important at
all', 'not at all important', 'unimportant', 'ddim yn bwysig o gwbl', 'dibwys' the bottom. A Delphi
item asks for a number, and these words gave only the generic hint: flows/steps/delphi.py names the
numbers they mean. Anything hedged or in between ('not very important', 'quite important',
'important') is no end of the scale, and is read as nothing here."""

from __future__ import annotations

import re
from typing import Literal

from flows.parsing_emphasis import without_emphasis
from flows.parsing_normalise import normalise, without_politeness

Importance = Literal["most", "least"]
"""The top of an importance scale, or its bottom."""

_VERY = (r"very|v|really|rly|extremely|so|super|incredibly|hugely|highly|massively|vitally|most|the most"
         r"|very very|really really|absolutely|totally")
_IMPORTANT = r"important|importent|imortant|importnt"
_NOT = r"not|isn'?t|its not|it's not|it is not"
_MOST = re.compile(
    rf"(?:it'?s |it is )?(?:(?:{_VERY}) (?:{_IMPORTANT})|(?:{_IMPORTANT}) (?:very much|indeed)"
    r"|(?:yn )?(?:bwysig|pwysig) (?:iawn|dros ben|ofnadwy|tu hwnt)|(?:yn )?(?:hynod|mor|andros o|eithriadol o) (?:bwysig|pwysig))"
)
_LEAST = re.compile(
    rf"(?:it'?s |it is )?(?:(?:{_NOT}) (?:{_IMPORTANT})(?: at all| whatsoever)?|not at all (?:{_IMPORTANT})"
    rf"|un(?:{_IMPORTANT})|of no importance|no importance(?: at all)?"
    r"|(?:ddim|dim|nid yw'?n|dyw e ddim yn|dyw hi ddim yn) (?:yn )?(?:bwysig|pwysig)(?: o gwbl)?|(?:yn )?dibwys)"
)


def importance_said(text: str) -> Importance | None:
    """'most' for a reply that says the top of an importance scale ('very important', 'pwysig
    iawn'), 'least' for its bottom ('not important at all', 'ddim yn bwysig o gwbl'), else None.
    Read whole (politeness and how sure it is aside: 'very important please', 'definitely not
    important'), never inside a longer sentence."""
    said = normalise(text).strip(" .!")
    for form in dict.fromkeys((said, without_politeness(said), without_emphasis(said))):
        cleaned = form.strip(" .!")
        if _MOST.fullmatch(cleaned):
            return "most"
        if _LEAST.fullmatch(cleaned):
            return "least"
    return None
