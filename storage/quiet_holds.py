"""Messages held through quiet hours, when their participant writes before the hours end.

The dispatcher holds what is not a reply during a study's quiet hours (bot/dispatch_rules.py)
and queues it again when they end. Quiet hours keep people from being woken, not from
replies: someone who writes at night is awake, so what was held for them goes at once
(:func:`release`; the dispatcher sends it, as they wrote moments ago). Before that, the
service asks :func:`asks_unseen` (storage/held_questions.py, shared with the WhatsApp window's
hold): if the question their conversation waits on is among what was held, they have never seen
it, and what they wrote is not read as its answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set

from sqlalchemy import Connection

from storage import held_questions
from storage.held_questions import OUT, HeldRow, asks_unseen

__all__ = ["ASKED_IN_REPLY", "NO_LONGER_ASKED", "OUT", "QUIET_HELD", "HeldRow", "asks_unseen", "held_for", "release"]

QUIET_HELD = "quiet hours: held until "
"""How the error of a row held through quiet hours begins (the release time follows)."""
NO_LONGER_ASKED = "quiet hours: cancelled, the session moved past this question before the hold ended"
"""Why a question held through quiet hours was never sent: its session answered, snoozed or ended it."""
ASKED_IN_REPLY = "quiet hours: cancelled, the reply to the participant's message asked this question again"
"""Why a question held through quiet hours was never sent: the participant wrote, and the reply
to them (HELP's, say) asked it again."""
_REASONS = held_questions.Reasons(NO_LONGER_ASKED, ASKED_IN_REPLY)


def held_for(connection: Connection, participant_id: str) -> list[HeldRow]:
    """The participant's messages held through quiet hours, in order."""
    return held_questions.held_rows(connection, participant_id, QUIET_HELD)


def release(connection: Connection, held: Sequence[HeldRow], waiting: Mapping[int, str | None],
            asked_now: Set[tuple[int, str]] = frozenset()) -> list[int]:
    """Queue the held rows again, in order; their ids. Cancelled instead: a question its session
    no longer waits on (``waiting``, by session id, says what the sessions this message changed
    wait on; the rest are read), and one the reply to the participant asked again (``asked_now``)."""
    return held_questions.release(connection, held, waiting, _REASONS, asked_now)
