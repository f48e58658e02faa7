"""Messages held because WhatsApp's 24-hour window had closed, when their participant writes.

Writing opens the window again, so what was held goes (:func:`release`), as what quiet hours
held does when someone writes at night (storage/quiet_holds.py); the questions among it are
weighed the same way (storage/held_questions.py). What they wrote is read as an answer unless
the question their conversation waits on is among what was held and has never reached them
(:func:`storage.held_questions.asks_unseen`): a held reminder of a question they were sent
before, a thank-you or a results message does not keep their answer from being read. When it
is read, what was held goes after it, less the question it answered or the reply asked again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set

from sqlalchemy import Connection

from storage import held_questions
from storage.held_questions import HeldRow
from storage.outbox import NO_LONGER_ASKED_AFTER_WINDOW, WINDOW_CLOSED, settle_window_held

ASKED_IN_REPLY_AFTER_WINDOW = "cancelled: the reply to the participant's message asked this question again"
"""Why a question held for WhatsApp's 24-hour window was never sent: the participant wrote, and
the reply to them (a retry, HELP's) asked it again."""
_REASONS = held_questions.Reasons(NO_LONGER_ASKED_AFTER_WINDOW, ASKED_IN_REPLY_AFTER_WINDOW)


def held_for(connection: Connection, participant_id: str, channel: str) -> list[HeldRow]:
    """The participant's messages on ``channel`` held because the window had closed, in order,
    once those that must never go are cancelled (:func:`storage.outbox.settle_window_held`)."""
    if not settle_window_held(connection, participant_id, channel):
        return []
    return held_questions.held_rows(connection, participant_id, WINDOW_CLOSED, channel)


def release(connection: Connection, held: Sequence[HeldRow], waiting: Mapping[int, str | None],
            asked_now: Set[tuple[int, str]] = frozenset()) -> list[int]:
    """Queue the held rows again, in order; their ids. Cancelled instead: a question its session
    no longer waits on (``waiting``: the sessions this message changed), and one the reply to the
    participant asked again (``asked_now``)."""
    return held_questions.release(connection, held, waiting, _REASONS, asked_now)
