"""Replies that ask who is writing, or whether the messages are genuine: 'who is this', 'is
this a scam', 'how did you get my number', 'are you real', 'pwy sy 'na', 'ai sgam yw hwn?'.

People who did not expect a text from a number they do not know (and the NHS tells them to
beware of scams) ask before they answer. Such a reply is no try at the question: the engine
says who the messages are from (the built-in text ``who_we_are``, with the study's title) and
asks the question again (flows/engine_what_it_means.py). Only the whole reply is read so:
'who is this nurse you mention' or a story with 'scam' in it is an answer as any other. Said
with a wrong number ('who is this? wrong number') it is a STOP, read before (flows/opt_out_phrases.py).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WHO_EN = (
    r"who(?: is| s|s)? (?:this|that|it|there|texting(?: me)?|messaging(?: me)?|sending (?:this|these|me (?:this|these)))"
    r"|who(?: are| r) (?:you|u|ya|yous)|who (?:sent|is sending|sends) (?:this|these|me this|me these)|who dis"
    r"|who(?: is| s|s)? (?:this|it) from|(?:this|it) is from who"
)
_GENUINE_EN = (
    r"(?:is|r|are) (?:this|these|it|you|u)(?: really| actually)? (?:a |an )?(?:scam|spam|real|genuine|legit|legitimate|for real"
    r"|a joke|a wind up|a real person|a person|a robot|a bot|a computer|the (?:surgery|practice|doctors|gp|nhs|hospital)"
    r"|from the (?:surgery|practice|doctors|gp|nhs|hospital))"
    r"|(?:this|it) (?:is|looks like|sounds like|must be) (?:a )?(?:scam|spam)|scam|spam|scammer|scammers"
)
_NUMBER_EN = (
    r"how (?:did|do|have|has) (?:you|u|they) (?:get|got|find|found) (?:my|this|our) (?:number|phone number|mobile number|mobile|details)"
    r"|(?:who|where) (?:did you get|gave you|has given you|have you got) my (?:number|details|phone number|mobile)"
    r"|what is this (?:about|for|message about)|whats this (?:about|for)|what are you"
)
_ASKED_CY = (
    r"pwy (?:sy(?: yna| na| n| ma)?|ydych chi|dych chi|wyt ti|ydi hwn|yw hwn|ydi hwn|yw hwnna|sy n anfon hwn|sy n tecstio)"
    r"|(?:ai |ydi hwn yn |ydy hwn yn |yw hwn yn )?sgam(?: yw hwn| ydi hwn)?|ydi hwn yn go iawn|ydy hwn yn go iawn"
    r"|sut (?:gawsoch chi|cawsoch chi|gest ti|ges ti) fy rhif"
)
_ASKED = re.compile(rf"(?:{_WHO_EN}|{_GENUINE_EN}|{_NUMBER_EN}|{_ASKED_CY})")
_AROUND = re.compile(r"^(?:(?:sorry|sori|excuse me|hi|hiya|hello|hey|helo|shwmae|um+|erm+|er|uh+|oh|ok|okay|but|and|so|dear|er) )+"
                     r"|(?: (?:sorry|sori|please|pls|plz|plis|os gwelwch yn dda|then|exactly|anyway|mate|love|pal))+$")
"""What may come before or after the words that ask, without changing what they ask."""


@lru_cache(maxsize=4096)
def asks_who_we_are(text: str) -> bool:
    """Whether a whole reply only asks who is writing or whether it is genuine, in English or
    Welsh: 'WHO IS THIS', 'who are you?', 'is this a scam', 'scam?', 'how did you get my number',
    'is this really the surgery', 'pwy sy 'na?', 'ai sgam yw hwn?'. Not a sentence that goes
    on ('who is this nurse you mention'), nor 'I don't know who you are' (a wrong number)."""
    folded = unicodedata.normalize("NFKD", text.strip().replace("\u2019", "'").replace("\u2018", "'").lower())
    said = "".join(c for c in folded if not unicodedata.combining(c)).replace("'", " ")
    said = re.sub(r"[\s,.!?;:-]+", " ", said).strip()
    while (shorter := _AROUND.sub("", said)) != said:
        said = shorter
    return bool(said) and _ASKED.fullmatch(said) is not None
