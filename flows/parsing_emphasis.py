"""What people put around an answer without changing it (flows/parsing.py): how sure they are
('definitely A', 'B def', 'A 100%', 'deffo B', 'A obviously'), a kiss or a friendly emoji ('b x',
'A 👍'), and a reason after it ('A because I can't get to the shop', 'disagree, they are always
rushed'). The answer is read without them; the reply as sent keeps them (an answer's raw text).

Nothing is dropped from a reply that holds a negation ('definitely not A' still rejects A) or a
sign against ('A 👎', 'A ❌'), and a reason is only what follows a 'because' or a clause after a
comma that neither corrects, contrasts nor hedges ('A, no B', 'agree, but not about parking',
'agree, kind of' are no reasons: those replies are read, or asked again, as they were)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from flows.parsing_option_words import _negations

EMPHASIS = (
    r"definitely|definately|deffinitely|def|deffo|defo|defs|defos|obviously|obvs|obvz|obvi|clearly|certainly|"
    r"absolutely|totally|for sure|for certain|fo sho|100%|100 percent|100 per cent|of course|ofc|"
    r"hands down|all the way|every time|yn bendant|bendant|wrth gwrs|yn sicr|heb os"
)
"""Words that say how sure a reply is, before or after its answer, in English and Welsh."""
_EMPHASIS_AROUND = re.compile(rf"^(?:{EMPHASIS})\s+|\s+(?:{EMPHASIS})$")
_KISS = re.compile(r"\s+(?:x+|xo+x*|xoxo)$")
"""A kiss a text is signed with ('b x', 'A xx'), after the answer."""
_EMOTICON = re.compile(r"(?:^|\s+)(?:[:;=]-?[)(dp3]+|<3+|\^\^|\(:|\):)(?=\s|$)")
_AGAINST = frozenset("👎❌✖✗✘🚫⛔🙅😡😠🤬☹🙁😞😒💩")
"""Signs against, beside an answer ('A 👎'): never dropped, so the reply is read (or asked) as sent."""
_CONTRASTS = (
    r"but|though|tho|although|except|unless|however|yet|and|or|nor|not|no|nope|nah|never|only|if|maybe|perhaps|"
    r"possibly|probably|kind of|kinda|sort of|sorta|partly|partially|mostly|somewhat|a bit|a little|slightly|actually|"
    r"wait|sorry|i mean|rather|well|hmm+|um+|oh|then|also|plus|both|neither|either|instead|at least|apart from|other than|"
    r"ond|neu|nid|ddim|dim|na|nage|efallai|falle|braidd|heblaw"
)
_NOT_A_REASON = re.compile(rf"^(?:(?:{EMPHASIS})\s+)*(?:{_CONTRASTS})\b")
"""How a clause after a comma starts when it corrects, contrasts or hedges ('A, no B', 'agree,
but not for me', 'agree, kind of', 'carer - definitely not'): it is part of the answer, not a reason for it."""
_BECAUSE = re.compile(
    r"\s*[,.;:-]?\s+(?:because|becuase|becasue|becoz|bcos|cos|coz|cause|'cause|cuz|bc|b/c|since|"
    r"as (?=(?:i|i'm|im|it|it's|its|we|they|my|our|there|that|the|you|he|she)\b)|achos|oherwydd|gan fod|am fod)\s+(?=\w)"
)
"""What opens a reason after an answer: 'because', 'cos', 'since', 'as it's...', Welsh 'achos', 'oherwydd'."""
_CLAUSE = re.compile(r"\s*(?:,|;|:|\s-+|\s–|\.(?=\s))\s+(?=\w)")
"""A break after an answer that a clause of its own may follow ('disagree, they are always rushed')."""
REASON_WORDS = 2
"""The fewest words a clause after a comma has to be taken for a reason ('A, B' is two answers)."""


def _is_mark(character: str) -> bool:
    return unicodedata.category(character) in ("So", "Sk") and character not in _AGAINST


@lru_cache(maxsize=4096)
def without_emphasis(clean: str) -> str:
    """A normalised reply without how sure it is, a kiss or a friendly emoji around its answer
    ('definitely a' -> 'a', 'b def' -> 'b', 'a 100%' -> 'a', 'b x' -> 'b', 'a 👍' -> 'a'). The
    reply as it is when it holds a negation or a sign against ('definitely not a', 'a 👎'), or
    when nothing would be left ('definitely', '👍': words that answer on their own)."""
    if _negations(clean) or any(character in _AGAINST for character in clean):
        return clean
    said = "".join(" " if _is_mark(character) else character for character in clean)
    said = _EMOTICON.sub(" ", said)
    while True:
        shorter = " ".join(_KISS.sub("", _EMPHASIS_AROUND.sub("", " ".join(said.split()))).split()).strip(" ,.!-")
        if shorter == said:
            break
        said = shorter
    return said or clean


class Reasoned(NamedTuple):
    """A reply split into its answer and the reason given after it."""

    answer: str
    reason: str
    because: bool
    """Whether the reason opened with a 'because' (or 'cos', 'achos'), rather than after a comma:
    a reason so opened may name another answer ('A because B is too far')."""


@lru_cache(maxsize=4096)
def answer_and_reason(clean: str) -> Reasoned | None:
    """A normalised reply split into its answer and the reason given after it: 'a' and 'i cant
    get to the shop' for 'a because i cant get to the shop', 'disagree' and 'they are always
    rushed' for 'disagree, they are always rushed'. None when no reason follows, or when what
    follows a comma corrects, contrasts or hedges ('a, no b', 'agree, but not here', 'agree, kind
    of') or is too short to be one ('a, b'). Whether the answer part reads, and whether a reason
    after a comma names another answer, is for the caller to say."""
    for opener, least in ((_BECAUSE, 1), (_CLAUSE, REASON_WORDS)):
        found = opener.search(clean)
        if found is None or not found.start():
            continue
        answer, reason = clean[: found.start()].strip(" ,.;:-"), clean[found.end():].strip()
        because = opener is _BECAUSE
        if answer and len(reason.split()) >= least and (because or not _NOT_A_REASON.match(reason)):
            return Reasoned(answer, reason, because)
    return None
