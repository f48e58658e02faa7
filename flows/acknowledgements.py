"""Replies that only acknowledge a message: 'ok', 'k', 'thanks', 'ta', '👍', 'diolch'.

Older participants on basic phones often reply 'ok' to a question, as to any text, before
answering it. Where the question does not read it as its answer (a YES/NO or consent question
takes a bare 'ok' as yes; an option may be called 'OK'), such a reply is no try at it: the engine
says what the question takes (its hint), and no try is used, so two 'ok's and one unclear answer
no longer leave a Friends and Family Test unanswered (flows/engine_what_it_means.py).
"""

from __future__ import annotations

import re

_ACKNOWLEDGEMENTS = frozenset({
    "ok", "okay", "okey", "okey dokey", "k", "kk", "okk", "oki", "okie", "right", "alright", "all right", "fine", "got it",
    "thanks", "thank you", "thankyou", "thx", "ty", "ta", "cheers", "many thanks", "ok thanks", "ok thank you", "okay thanks",
    "ok ta", "ok cheers", "thanks love", "will do", "noted", "received", "message received",
    "diolch", "diolch yn fawr", "iawn", "ok diolch", "iawn diolch",
})
_AFFECTION = re.compile(r" (?:my )?(?:dear|love|luv|pet|hun|hon|darling|duck|sweetheart|cariad|bach)$")
"""A word of affection after an acknowledgement: 'thank you dear', 'ok love', 'diolch cariad'."""
_THUMBS = re.compile(r"^[\s\U0001F44D\U0001F3FB-\U0001F3FF\U0001F64F\u263A\U0001F600-\U0001F60A\U0001F642x]+$")
"""A thumbs up, a smile, a kiss: nothing but that."""


def only_acknowledges(text: str) -> bool:
    """Whether a whole reply only acknowledges ('ok', 'K', 'Thanks.', 'ok ta x', '👍')."""
    said = re.sub(r"[^\w\s']+", " ", text.lower()).replace("'", "")
    said = re.sub(r"\s+", " ", re.sub(r"\b(?:x+|xo)\b", " ", said)).strip()
    if not said:
        return bool(text.strip()) and _THUMBS.match(text.strip()) is not None
    return said in _ACKNOWLEDGEMENTS or _AFFECTION.sub("", said) in _ACKNOWLEDGEMENTS
