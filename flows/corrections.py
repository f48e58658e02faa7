"""Replies that take an answer back: BACK said in a sentence ('go back i made a mistake',
'can I go back?', 'previous question', Welsh 'nôl' typed as 'NOL') and a correction of the
answer just given ('sorry i meant 4', 'oops 4 not 3', 'correction: 4', Welsh
'sori, 4 o'n i'n feddwl').

Both read the whole reply: BACK only when nothing else is in it but a reason or an apology,
and a correction only in one of the shapes below, whose value the engine then tries on the
question it corrects (flows/engine_undo.py)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_APOLOGY = r"(?:sorry|soz|sori|oops|whoops|oh|ah|ugh|my mistake|my bad|apologies|typo)"
_LEAD = rf"(?:{_APOLOGY}[\s,.!:;-]*)"
_SAYING = r"(?:say|put|type|write|press|reply|answer|pick|choose|send|be)"
_THOUGHT = r"(?:o'n i'n|on i'n|ro'n i'n|ron i'n|roeddwn i'n|oeddwn i'n)"
_CORRECTIONS = tuple(re.compile(pattern) for pattern in (
    rf"^{_LEAD}*(?:i )?meant(?: to {_SAYING})?[\s,:;-]+(?P<value>.+)$",  # 'sorry i meant 4', 'meant to say 4'
    rf"^{_LEAD}+(?P<value>[^,]+?),? not .+$",  # 'oops 4 not 3'
    r"^(?P<value>\d+(?:\.\d+)?),? not \d+(?:\.\d+)?$",  # '4 not 3'
    rf"^{_LEAD}*(?:correction|corrected|correct answer(?: is)?)[\s,:;-]+(?P<value>.+)$",
    rf"^{_LEAD}*(?:it )?(?:should (?:have )?(?:been|be|said|say)|was (?:meant|supposed) to (?:be|say))[\s,:;-]+(?P<value>.+)$",
    rf"^{_LEAD}*(?P<value>.+?),? {_THOUGHT} (?:ei )?[fm]eddwl$",  # 'sori, 4 o'n i'n feddwl'
    rf"^{_LEAD}*{_THOUGHT} (?:ei )?(?:[fm]eddwl|golygu)[\s,:;-]+(?P<value>.+)$",  # 'o'n i'n golygu 4'
    rf"^{_LEAD}*(?:cywiriad|dylai fod)[\s,:;-]+(?P<value>.+)$",
))
_AFTER_VALUE = re.compile(
    r"(?:[\s,]+(?:not|nid|ddim|instead of) [^,]+|[\s,.!]+(?:sorry|sori|soz|please|pls|plz|thanks|diolch|instead|actually))+$")

_REASON = re.compile(
    r"(?: (?:i )?(?:have |'ve |ve )?(?:made|make) (?:a |an )?(?:mistake|error|typo)"
    r"| (?:my )?(?:mistake|bad|error|typo)| i got it wrong| got it wrong"
    r"| i (?:put|typed|pressed|picked|chose|gave|sent|said) (?:the )?wrong (?:one|answer|number|button|thing)"
    r"| wrong (?:answer|one|number|button)| sorry| sori| oops| please| pls| plz| thanks| thank you| diolch"
    r"| (?:os gwelwch yn dda|plis)| (?:gwnes i|wnes i|nes i) gamgymeriad| camgymeriad)$")
"""What may follow BACK in the same reply without being part of an answer: why, or please."""
_BEFORE_BACK = re.compile(r"^(?:(?:sorry|sori|oops|whoops|oh|um|ok|okay|please|pls|plz|plis) )+")
_BACK = re.compile(
    r"^(?:(?:can|could|may) (?:i|we) |let me |let's |lets |take me |please )?(?:go |get |going )?back"
    r"(?: (?:one|a step|one step|one question|a question))?"
    r"(?: to (?:the )?(?:previous|last|earlier|other) (?:question|step|answer)| to the previous one)?$"
    r"|^(?:go )?(?:back )?(?:to )?(?:the )?(?:previous (?:question|step|one)|last (?:question|step))$"
    r"|^(?:(?:ga i|alla i|gawn ni|allwn ni) fynd |mynd |ewch |awn )?(?:yn ol|nol)"
    r"(?: (?:i'r|ir|at y) cwestiwn (?:blaenorol|diwethaf|olaf))?$"
    r"|^(?:y )?cwestiwn blaenorol$")
"""BACK in words: 'go back', 'can I go back', 'back to the previous question', 'previous
question', Welsh 'nôl', 'yn ôl', 'mynd yn ôl' (accents folded: 'NOL' is 'nôl')."""


def _plain(text: str) -> str:
    """Lower case, accents folded ('nôl' is 'nol'), curly apostrophes straight, spaces single,
    no closing punctuation."""
    folded = unicodedata.normalize("NFKD", text.replace("\u2019", "'").replace("\u2018", "'"))
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", folded.strip().lower()).strip(" .!?")


@lru_cache(maxsize=4096)
def asks_to_go_back(text: str) -> bool:
    """Whether a whole reply asks for BACK and says nothing else (a reason, an apology or a
    please may go with it): 'go back i made a mistake', 'Can I go back?', 'previous question',
    'NOL'. 'go back to Cardiff' or 'my back hurts' are not."""
    said = re.sub(r"[\s,.!?;:()-]+", " ", _plain(text)).strip()
    said = _BEFORE_BACK.sub("", said)
    while (shorter := _REASON.sub("", said)) != said:
        said = shorter
    return bool(said) and bool(_BACK.match(said))


@lru_cache(maxsize=4096)
def corrected_value(text: str) -> str | None:
    """The answer a reply corrects the last one to ('sorry i meant 4': '4'; 'oops 4 not 3':
    '4'; 'correction: Carer': 'carer'; 'sori, 4 o'n i'n feddwl': '4'), or None when the reply is
    no correction. Whether the value answers anything is for the question to say."""
    said = _plain(text)
    for pattern in _CORRECTIONS:
        found = pattern.match(said)
        if found:
            value = _AFTER_VALUE.sub("", found["value"]).strip(" ,.:;-\"'")
            return value or None
    return None
