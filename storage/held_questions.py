"""Messages held for a participant who then writes: the questions among them, and their release.

Two holds end when the participant writes: quiet hours (storage/quiet_holds.py), and WhatsApp's
24-hour window (storage/window_holds.py). Either way the service asks :func:`asks_unseen`
first: if the question their conversation waits on is among what was held and has never
reached them, what they wrote is not read as its answer. Otherwise it is read, and what was held
goes after (:func:`release`), less any question the reply made stale or asked again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from storage.outbox import QUESTION_KINDS, SENT, cancel_held, moved_past
from storage.tables import OUTBOUND

OUT = (*SENT, "sending")
"""A row on its way to the participant, or with them."""


@dataclass(frozen=True)
class HeldRow:
    """A participant's held message."""

    id: int
    session_id: int | None
    step_id: str | None
    kind: str

    @property
    def question(self) -> tuple[int, str] | None:
        """The session and step it asks, if it is a question (a prompt or a reminder)."""
        if self.kind not in QUESTION_KINDS or self.session_id is None or self.step_id is None:
            return None
        return int(self.session_id), str(self.step_id)


def held_rows(connection: Connection, participant_id: str, reason: str, channel: str | None = None) -> list[HeldRow]:
    """The participant's messages held for a ``reason`` (how its ``error`` begins), in order."""
    o = OUTBOUND.c
    query = (select(o.id, o.session_id, o.step_id, o.kind)
             .where(o.participant_id == participant_id, o.status == "held", o.error.startswith(reason)))
    if channel is not None:
        query = query.where(o.channel == channel)
    return [HeldRow(int(r[0]), r[1], r[2], str(r[3])) for r in connection.execute(query.order_by(o.id))]


def asks_unseen(connection: Connection, participant_id: str, held: Sequence[HeldRow], session_id: int, step: str | None) -> bool:
    """Whether the question the session waits on (``step``) has not reached the participant:
    it was last put to them by a prompt (each Delphi item, sharing its step's id, has its own)
    that, with every reminder of it since, is held or never got out. A held reminder of a
    question they were sent before is not that, nor is a held message that asks nothing: what
    they write answers the question they saw."""
    if step is None or (session_id, step) not in {row.question for row in held}:
        return False
    o = OUTBOUND.c
    asked = connection.execute(
        select(o.id, o.kind, o.status)
        .where(o.participant_id == participant_id, o.session_id == session_id, o.step_id == step,
               o.kind.in_(sorted(QUESTION_KINDS)))
        .order_by(o.id)).all()
    prompts = [index for index, row in enumerate(asked) if row[1] == "prompt"]
    since = asked[prompts[-1]:] if prompts else asked
    return not any(row[2] in OUT for row in since)


@dataclass(frozen=True)
class Reasons:
    """Why a held question was cancelled instead of released, as its ``error`` keeps it."""

    no_longer_asked: str
    """Its session no longer waits on it: answered, snoozed or ended."""
    asked_in_reply: str
    """The reply to the participant's message asked it again."""


def release(connection: Connection, held: Sequence[HeldRow], waiting: Mapping[int, str | None], reasons: Reasons,
            asked_now: Set[tuple[int, str]] = frozenset()) -> list[int]:
    """Queue the held rows again, in order; their ids. Cancelled instead: a question its session
    no longer waits on (``waiting``, by session id, says what the sessions this message changed
    wait on; the rest are read), and one the reply to the participant asked again (``asked_now``)."""
    if not held:
        return []
    questions = {row.id: asked for row in held if (asked := row.question) is not None}
    stale = moved_past(connection, questions, waiting)
    again = [row_id for row_id, asked in questions.items() if asked in asked_now and row_id not in stale]
    cancel_held(connection, stale, reasons.no_longer_asked)
    cancel_held(connection, again, reasons.asked_in_reply)
    done = {*stale, *again}
    queued = [row.id for row in held if row.id not in done]
    if queued:
        o = OUTBOUND.c
        connection.execute(update(OUTBOUND).where(o.id.in_(queued), o.status == "held").values(status="queued", error=None))
    return queued
