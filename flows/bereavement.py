"""Replies that say someone has died: 'my mum died last week', 'he passed away on Sunday',
'her funeral is on friday', 'mae mam wedi marw'.

In a study of carers, the person cared for may die while it runs. Read as an unclear answer, such
a reply got 'Please reply YES or NO.'; read as a story, 'Thank you, we've noted that.' and the
question again. The engine instead says it is sorry, tells the team (a ``bereavement`` flag),
keeps the words as a comment on the step (not at consent: nothing is kept before a YES) and does
not ask the question again: the participant may answer it later, or reply STOP
(flows/engine_what_it_means.py). At a free-text question it is that question's answer, as
written: 'my husband died' may be just what 'What changed this year?' asked.
"""

from __future__ import annotations

import re
from functools import lru_cache

_KIN = (r"(?:mum|mam|mom|mother|dad|father|husband|hubby|wife|partner|son|daughter|brother|sister|gran|nan|nana|nanna"
        r"|grandma|grandmother|grandad|granddad|grandfather|auntie|aunt|uncle|friend|mother in law|father in law)")
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_LOSS = re.compile(
    r"\b(?:died|passed away|passed on|passed over|no longer with us|funeral|rest in peace|rip|bereaved|bereavement"
    rf"|lost (?:my|our|her|his|their) {_KIN}(?: (?:last|this|yesterday|recently|on|to|in (?:{_MONTHS}|\d{{4}}))\b|$)"
    r"|(?:she|he|mum|mam|dad|they) (?:has |have |had |just |sadly |recently )*passed(?: (?:last|yesterday|recently|this|on)\b|$)"
    r"|wedi marw|bu farw|angladd|wedi ein gadael|wedi n gadael)"
)
_NOT_LOSS = re.compile(
    r"\b(?:nearly|almost|could have|could of|might have|would have|thought (?:i|she|he|they) (?:had|would have|d))"
    r" (?:died|passed)|died (?:laughing|of (?:embarrassment|shame|boredom|laughter))|died down"
    r"|(?:battery|phone|car|telly|tv) (?:has |had |just )*died|passed on (?:the|a|my|your|our|this|that) "
    r"|passed on to|passed on by"
)
"""Death said in a figure of speech, or 'passed on' a message: no bereavement."""


@lru_cache(maxsize=4096)
def tells_of_loss(text: str) -> bool:
    """Whether a reply says that someone has died ('my mum died last week', 'DAD PASSED AWAY',
    'lost my husband in march', 'mae mam wedi marw'); not 'I nearly died', 'my phone died' or
    'I passed on the message'."""
    said = re.sub(r"[^\w\s]", " ", text.lower().replace("\u2019", "'").replace("'", ""))
    said = re.sub(r"\s+", " ", said).strip()
    return _LOSS.search(said) is not None and _NOT_LOSS.search(said) is None
