"""A bare 'ok' to a question of fact (flows/parsing.py): 'Have you had your flu jab?' - 'ok'.

'ok', 'fine', 'go ahead', 'no problem' agree to something asked of the participant ('Can we
message you in 4 weeks?', 'Would you like a call?'), which is why they are a YES there. A question
of what has happened ('Have you had your flu jab?', 'Did you see a nurse?', 'Were you told why?',
Welsh 'Ydych chi wedi cael...?', 'Gawsoch chi...?', 'Wnaethoch chi...?') has nothing to agree to: an
'ok' there says the message was read, not that the jab was had, so it is asked again for YES or NO
rather than stored as a YES that may be false. 'yes ok', 'ok yes' and 👍 are still a YES. A question
that asks something of the participant in past or perfect words ('Have you got a minute?', 'Did you
want a call back?') is no question of fact.
"""

from __future__ import annotations

import re

from flows.parsing_normalise import _strip_politeness, normalise

_ASSENTS = frozenset({
    "ok", "okay", "k", "kk", "okey", "oki", "okie", "okey dokey", "okie dokie", "alright", "all right", "aight", "fine",
    "go on", "go ahead", "sounds good", "happy to", "no problem", "no worries", "no probs", "why not", "cool",
    "iawn", "ok iawn", "dim problem", "dim probs",
})
"""Whole replies that agree to what is asked of someone, and say nothing of a fact."""

_FACT = re.compile(
    r"^(?:have|has|had|did|were|was) (?:you|he|she|they|your|the|their|his|her|anyone|anybody|someone|somebody|a|an|it)\b"
    r"(?! (?:got|get) (?:a |an |the )?(?:time|minute|moment|few minutes|second|chance)\b)"
    r"(?! (?:want|wish|mean|need) (?:to|a|an|the|us|me|some)\b)"
    r"|^(?:ydych chi|ydach chi|wyt ti|ydy e|ydy o|ydy hi|ydyn nhw|ydi hi|ydi o) wedi\b"
    r"|^(?:gawsoch|gaethoch|gest|gaethost|gafodd|wnaethoch|wnest|wnaeth|oeddech|oeddet|oedd|fuoch|fuest|fuodd|aethoch|est) \w+"
)
"""The opening of a question of what has happened: English 'Have you...', 'Did you...', 'Were you...',
'Has your...'; Welsh perfect 'Ydych chi wedi...' and past 'Gawsoch chi...', 'Wnaethoch chi...',
'Oeddech chi...', 'Fuoch chi...'. Never 'Have you got a minute?' nor 'Did you want...?'."""
_SENTENCE = re.compile(r"[^.?!\n]+\?")


def asks_a_fact(question: str) -> bool:
    """Whether a yes/no question (its last sentence that asks, as shown) asks what has happened."""
    said = question.lower().replace("\u2019", "'")
    asked = _SENTENCE.findall(said) or [part for part in re.split(r"[.!\n]", said) if part.strip()][-1:]
    return bool(asked) and bool(_FACT.match(normalise(asked[-1]).strip(" ,;:-*_\"'")))


def only_assents(text: str) -> bool:
    """Whether a reply is only an 'ok' ('ok', 'okay thanks', 'fine', 'go ahead', 'iawn'), politeness aside."""
    clean = normalise(text).strip(" .!,")
    return clean in _ASSENTS or _strip_politeness(clean, picking=False).strip(" .!,") in _ASSENTS
