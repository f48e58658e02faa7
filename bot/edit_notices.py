"""Telegram edits: a participant who edits a message they sent (say "7" to "3") is told that
edits are not read and how to change an answer; what the message said at first stands.

channels/telegram.py stores an edit as a message with no words and the edit mark
(:data:`channels.base.EDITED`), so the inbox keeps it, retries of the same update are duplicates,
and it is never read as an answer. The mark carries what the edit says, which is read here once,
as the same words in a new message would be, for what must not be missed (:meth:`EditNotices._read_edit`):

* an opt-out or opt-in word (STOP, /stop, STOPIO, START...: the study's global words) is
  honoured as if typed, with the same reply and the same cascade, and kept as a typed one is;
* words the safeguarding check sees risk in raise the same flag and signposting as in a new
  message: the patterns with the notice (:meth:`EditNotices._edit_notice`), the model after
  the commit (``_finish`` in bot/service.py). Only the flag quotes them (masked, as every alert).

The mark is then stripped of the words, in the transaction that answers the edit: nothing else of
what an edit said is kept. :class:`EditNotices` is part of :class:`bot.service.ConversationService`;
what it uses of the rest of the service is declared below for the type checker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from sqlalchemy import Connection, update

from bot.concerns import names_options
from bot.safeguarding import may_name_a_risk
from bot.sprint_writes import Target
from channels.base import EDITED, is_edit
from flows.engine import Engine, SessionState, Sprint, TextInput, global_word
from flows.events import SendMessage
from flows.model import Study
from flows.session_state import LIVE
from flows.words import Words
from storage import repository
from storage.repository import ContactRef, EnrolmentRef, ParticipantRef, SessionRef
from storage.tables import INBOUND

EDITING_CHANNELS = frozenset({"telegram"})
"""Channels that tell us when a participant edits a message (channels/telegram.py)."""
AS_TYPED = frozenset({"stop", "start"})
"""The global words an edit is honoured as if typed: opting out, and back in."""
BARE_MARK = {"url": "telegram:edited", "content_type": EDITED, "size": None}
"""An edit's mark as stored once read: nothing of what the edit said."""
_REMEMBERED = 10_000


@dataclass(frozen=True)
class Edit:
    """An edit, as read (:meth:`EditNotices._read_edit`)."""

    said: str
    """What it says now ("" for an edit with no words: a photo swapped)."""
    as_typed: bool = False
    """An opt-out or opt-in word: routed as the same word typed."""


class EditNotices:
    _words: Words

    if TYPE_CHECKING:  # provided by ConversationService (bot/service.py), SprintWrites and Concerns
        def _engine(self, connection: Connection, flow_version_id: int, study_id: str) -> tuple[Engine, str]: ...

        def _apply(self, connection: Connection, target: Target, sprint: Sprint, now: datetime) -> list[int]: ...

        def _population(self, connection: Connection, study_id: str, participant_id: str) -> object: ...

        def _study(self, connection: Connection, study_id: str) -> Study: ...

        def _safeguarded(self, connection: Connection, participant_id: str, sprint: Sprint, given: TextInput, inbound_id: int,
                         study: Study, language: str, opted_out: bool, step_id: str | None, now: datetime) -> Sprint: ...

    @cached_property
    def _said_in_edits(self) -> dict[int, str]:
        """What each edit just read says, by inbox id, until ``_finish`` takes it back after the
        commit for the safeguarding check (in memory only: the inbox keeps none of it)."""
        return {}

    def _read_edit(self, connection: Connection, channel: str, inbound_id: int, session: SessionRef | None) -> Edit | None:
        """A stored message with no words, if it is an edit (None otherwise; only channels that
        report edits are looked up): what it says, read once and stripped from its mark. An
        opt-out or opt-in word (the study's, or the built-in ones outside a conversation) is
        kept as the typed word is, to be routed as typed; other words are remembered for the
        safeguarding check after the commit (none for another global word: no risk in those)."""
        if channel not in EDITING_CHANNELS:
            return None
        found = repository.inbound_media(connection, inbound_id)
        if found is None or not is_edit(found[2]):
            return None
        said = words_of_edit(found[2])
        if not said:
            return Edit("")
        words = self._engine(connection, session.flow_version_id, session.study_id)[0].words if session else self._words
        command = global_word(words, TextInput(said))
        _keep(connection, inbound_id, said if command in AS_TYPED else "")
        if command is None:
            self._remember_edit(inbound_id, said)
        return Edit(said, as_typed=command in AS_TYPED)

    def _remember_edit(self, inbound_id: int, said: str) -> None:
        remembered = self._said_in_edits
        while len(remembered) >= _REMEMBERED:  # what a failed message left behind
            remembered.pop(next(iter(remembered)), None)
        remembered[inbound_id] = said

    def _edit_notice(
        self, connection: Connection, contact: ContactRef, inbound_id: int, now: datetime, enrolments: list[EnrolmentRef],
        session: SessionRef | None, participant: ParticipantRef | None, said: str = "",
    ) -> list[int] | None:
        """An edit of a message sent in a conversation still going: the edit is not read (the
        answer the message gave stands, and the question asked now waits as it was), and the
        participant is told, in their language, how to change an answer (nothing, after STOP).
        What the edit says (``said``) is checked as the same words in a new message would be:
        risk the patterns see puts the flag and the signposting before the notice.
        None (nothing done) outside such a conversation."""
        enrolment = next((e for e in enrolments if session is not None and e.study_id == session.study_id), None)
        if session is None or enrolment is None or session.status not in LIVE:
            return None
        if enrolment.opted_out:
            return []
        engine, version = self._engine(connection, session.flow_version_id, session.study_id)
        state = SessionState.model_validate(session.state)
        language = state.language or enrolment.language or engine.words.default_language
        notice = SendMessage(engine.words.text("edit.not_read", language), state.step, kind="info")
        sprint = Sprint([notice], state)
        if said and inbound_id in self._said_in_edits and may_name_a_risk(said):
            if names_options(engine, state, said, now, self._population(connection, session.study_id, contact.participant_id)):
                self._said_in_edits.pop(inbound_id)  # the question's own options: words of no risk, as in a reply
            else:
                sprint = self._safeguarded(connection, contact.participant_id, sprint, TextInput(said), inbound_id,
                                           self._study(connection, session.study_id), language, False, state.step, now)
        target = Target(contact.participant_id, contact, enrolment, session, version, inbound_id, participant)
        return self._apply(connection, target, sprint, now)


def words_of_edit(media: list[dict[str, Any]]) -> str:
    """What a stored edit's mark says it now says (:func:`channels.telegram.edit_mark`): a
    ``data:`` URL's words; "" when it carries none (read already, or an edit with no words)."""
    url = next((str(m.get("url") or "") for m in media if m.get("content_type") == EDITED), "")
    return unquote(url.partition(",")[2]).replace("\x00", "") if url.startswith("data:") else ""


def _keep(connection: Connection, inbound_id: int, text: str) -> None:
    """The edit as it is kept once read: its mark with no words, and as its text only an opt-out
    or opt-in word (``text``; "" otherwise), as the same word typed is kept."""
    connection.execute(update(INBOUND).where(INBOUND.c.id == inbound_id).values(text=text, media=[BARE_MARK]))


def forget_words_of_edit(connection: Connection, inbound_id: int) -> None:
    """A stored message that failed: if it is an edit, its words are dropped from its mark
    (it is never read again)."""
    found = repository.inbound_media(connection, inbound_id)
    if found is not None and is_edit(found[2]) and words_of_edit(found[2]):
        _keep(connection, inbound_id, "")

