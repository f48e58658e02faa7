"""The safeguarding safety net inside conversations (not a clinical tool).

Every free-text message a participant sends, typed or transcribed from a voice note, is
checked by :mod:`nlp.safety`. When it suggests a risk of harm or a medical emergency, the
participant gets the study's signposting text at once (NHS 111, 999, Samaritans) and the
coordinator gets a ``safeguarding`` flag to acknowledge on the dashboard. The check runs after
the message's own transaction, so a slow model never holds the participant's lock, and it
never changes the answer that was stored.

``CHORUS_SAFEGUARDING`` chooses the check: ``full`` (patterns and embedding similarity, the
default), ``patterns`` (patterns only: no model, for small machines) or ``off``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("chorus.safeguarding")
MIN_WORDS = 2


@dataclass(frozen=True)
class Concern:
    category: str
    reason: str


Check = Callable[[str], Concern | None]


def _full(text: str) -> Concern | None:
    from nlp.safety import assess

    result = assess(text)
    return Concern(result.category or "risk", result.reason) if result.flagged else None


def _patterns(text: str) -> Concern | None:
    from nlp.safety import lexicon_match

    found = lexicon_match(text)
    return Concern(found[0], f"matched '{found[1]}'") if found else None


def check_from_env(environ: dict[str, str] | None = None) -> Check | None:
    mode = (environ if environ is not None else os.environ).get("CHORUS_SAFEGUARDING", "full").lower()
    if mode in ("off", "0", "false", "no"):
        return None
    if mode == "patterns":
        return _patterns
    return _full


def worth_checking(text: str) -> bool:
    """Free text of a few words; not a tapped button, a number or a one-word reply."""
    return len(text.split()) >= MIN_WORDS


def concern_about(check: Check | None, text: str) -> Concern | None:
    if check is None or not worth_checking(text):
        return None
    try:
        return check(text)
    except Exception:  # the safety net must never break a conversation
        log.exception("the safeguarding check failed; falling back to patterns")
        return _patterns(text)
