"""Telegram edits: a participant who edits a message they sent (say "7" to "3") is told that
edits are not read and how to change an answer; what the message said at first stands.

channels/telegram.py stores an edit as a message with no words and the edit mark
(:data:`channels.base.EDITED`), so the inbox keeps it, retries of the same update are duplicates,
and nothing of what the edit said is kept. :class:`EditNotices` is part of
:class:`bot.service.ConversationService`; what it uses of the rest of the service is declared
below for the type checker.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from bot.sprint_writes import Target
from channels.base import is_edit
from flows.engine import Engine, SessionState, Sprint
from flows.events import SendMessage
from storage import repository
from storage.repository import ContactRef, EnrolmentRef, ParticipantRef, SessionRef

EDITING_CHANNELS = frozenset({"telegram"})
"""Channels that tell us when a participant edits a message (channels/telegram.py)."""


class EditNotices:
    if TYPE_CHECKING:  # provided by ConversationService (bot/service.py) and SprintWrites
        def _engine(self, connection: Connection, flow_version_id: int, study_id: str) -> tuple[Engine, str]: ...

        def _apply(self, connection: Connection, target: Target, sprint: Sprint, now: datetime) -> list[int]: ...

    def _edit_notice(
        self, connection: Connection, contact: ContactRef, inbound_id: int, now: datetime, enrolments: list[EnrolmentRef],
        session: SessionRef | None, participant: ParticipantRef | None,
    ) -> list[int] | None:
        """An edit of a message sent in a conversation still going: the edit is not read (the
        answer the message gave stands, and the question asked now waits as it was), and the
        participant is told, in their language, how to change an answer (nothing, after STOP).
        None (nothing done) outside such a conversation."""
        enrolment = next((e for e in enrolments if session is not None and e.study_id == session.study_id), None)
        if session is None or enrolment is None or session.status not in ("waiting", "snoozed"):
            return None
        if enrolment.opted_out:
            return []
        engine, version = self._engine(connection, session.flow_version_id, session.study_id)
        state = SessionState.model_validate(session.state)
        language = state.language or enrolment.language or engine.words.default_language
        notice = SendMessage(engine.words.text("edit.not_read", language), state.step, kind="info")
        target = Target(contact.participant_id, contact, enrolment, session, version, inbound_id, participant)
        return self._apply(connection, target, Sprint([notice], state), now)


def is_stored_edit(connection: Connection, channel: str, inbound_id: int) -> bool:
    """Whether a stored message with no words is an edit (:data:`channels.base.EDITED`); only
    channels that report edits are looked up."""
    if channel not in EDITING_CHANNELS:
        return False
    found = repository.inbound_media(connection, inbound_id)
    return found is not None and is_edit(found[2])
