"""Replies that say "I'm back" after a LATER: 'ok im free now', 'ready', 'go ahead', 'hi', 'dw i'n
barod nawr'. Sent while the conversation is snoozed they are no answer to the question put off
(on a free-text question they would otherwise be stored as one): the engine asks it again."""

from __future__ import annotations

import re

_LEAD = r"(?:(?:okay|ok|k|right|alright|sure|yes|yeah|yep|hi|hiya|hello|hey|sorry|soz|sori|iawn|helo|shwmae|ie|do)\b\s*[,.!]*\s*)*"
_I_AM = r"(?:i'?m|im|i am|i'?m now|dw i'?n|dwi'?n|rwy'?n|wi'?n)\s+"
_INVITES = (
    r"(?:go(?: on| ahead| for it)?|fire away|shoot|carry on|continue|ask (?:me|away)(?: now| again)?|ask (?:now|again)"
    r"|let'?s (?:go|do (?:it|this)|carry on|continue)|cer ymlaen|dos ymlaen|ewch ymlaen|gofynnwch)(?: then| please| plz)*"
)
"""Words that only invite the question put off: 'go', 'go on then', 'fire away', Welsh 'cer ymlaen'."""
_NOW = r"(?:\s+(?:now|rn|right now|at last|again|nawr|rwan|rŵan))?"
_READY = re.compile(
    rf"^{_LEAD}(?:"
    rf"(?:{_I_AM})?(?:free|back|ready|here|available|done|finished|off|off shift|on my break|barod|rhydd|ol|nol|yn ol|ôl|nôl|yn ôl|yma)"
    r"(?:\s+(?:to (?:talk|chat|answer|carry on|continue|go|do it|do this)|now|for (?:a bit|a few mins|a minute|a while)))*"
    rf"|(?:i )?(?:can|could) (?:talk|chat|answer|do it|do this|carry on|continue)(?: now)?"
    rf"|{_INVITES}"
    r"|now is (?:fine|good|ok)|(?:this|that) (?:is|works) (?:fine|good)|ready when you are|all good|good to go"
    r"|ymlaen|cario ymlaen|bant a ni|ffwrdd a ni"
    rf"){_NOW}$"
)
_GREETING = re.compile(rf"^{_LEAD}$")
_LEAD_WORDS = re.compile(rf"^{_LEAD}")
_YES_WORDS = frozenset(("yes", "yeah", "yep", "sure", "ie", "do"))


def says_ready(text: str) -> bool:
    """Whether ``text`` only says the writer is back and ready ('ok im free now', 'hi', 'go ahead')."""
    clean = _clean(text)
    if not clean:
        return False
    return bool(_READY.match(clean) or (_GREETING.match(clean) and clean.split()[0] not in _YES_WORDS))


def ready_without_yes(text: str) -> str | None:
    """What a reply that says the writer is back says after its leading 'ok', 'right' or 'hi'
    ('ok im free now': 'im free now'), when that lead holds no yes of its own; None for a bare
    'ok' or 'hi', a reply that opens with 'yes' ('yes im free now'), or one that is not
    :func:`says_ready`. Its 'ok' acknowledges being asked again: it says yes to nothing. Nothing
    ('') for a reply that only invites the question ('ok go', 'go on then', 'fire away'): it
    answers none, not even 'Can we call you?' (a lone word, 'continue', may still name an option)."""
    if not says_ready(text):
        return None
    clean = _clean(text)
    lead = _LEAD_WORDS.match(clean)
    said = lead.group() if lead else ""
    rest = clean[len(said):].strip()
    if not rest or _YES_WORDS & set(re.findall(r"[a-z]+", said)):
        return None
    return "" if re.fullmatch(_INVITES, rest) and (said or " " in rest) else rest


def _clean(text: str) -> str:
    clean = re.sub(r"\s+", " ", text.replace("\u2019", "'").lower()).strip(" .!?,:)(")
    return re.sub(r"[\U0001F300-\U0001FAFF\u2600-\u27BF]", "", clean).strip(" .!?,")
