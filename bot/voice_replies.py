"""What the voice pipeline (bot/voice.py) asks of the conversation service: who sent a voice
note and what their question allows, and telling them something without running the flow
(part of :class:`bot.service.ConversationService`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, or_, update

from bot.concerns import flag_text
from bot.safeguarding import SafetyChecks, concern_in_unheard
from flows.engine import (
    Engine,
)
from flows.model import Study
from flows.session_state import LIVE
from flows.words import LANGUAGE_COMMAND, LANGUAGE_NAMES, LANGUAGE_WORDS, Words
from storage import outbox, repository
from storage.database import Database
from storage.repository import ContactRef
from storage.tables import INBOUND

log = logging.getLogger("chorus.service")
ACKNOWLEDGED = "acknowledged: voice_listening sent"
"""Kept on a voice note's inbound row (``error``, empty until then) once "Thanks, listening to your
voice note…" was queued for it, so that a note picked up again (its worker was killed while it
transcribed) is not acknowledged twice; replaced by the note's outcome when it is done."""


@dataclass(frozen=True)
class VoiceContext:
    """What the voice pipeline needs to know about a voice note before transcribing it."""

    inbound_id: int
    participant_id: str
    channel: str
    media: tuple[dict[str, Any], ...]
    study_id: str | None = None
    accepts_voice: bool = True
    """False when the question being asked wants a typed answer (``accept`` lacks voice)."""
    keep_audio: bool = False
    """The study's ``retention: {audio: keep}``; otherwise audio is deleted once transcribed."""



class VoiceReplies:
    """The service's side of voice notes (a mixin of :class:`bot.service.ConversationService`)."""

    database: Database
    clock: Callable[[], datetime]
    safety: SafetyChecks
    _words: Words

    if TYPE_CHECKING:  # provided by ConversationService (bot/service.py)
        def _sender(self, inbound_id: int) -> ContactRef: ...

        def _exclusive(self, participant_id: str) -> AbstractContextManager[Connection]: ...

        def _study(self, connection: Connection, study_id: str) -> Study: ...

        def _engine(self, connection: Connection, flow_version_id: int, study_id: str) -> tuple[Engine, str]: ...

    def voice_context(self, inbound_id: int) -> VoiceContext:
        """Who sent a voice note, what it holds, and what their study and question allow."""
        with self.database.transaction() as connection:
            found = repository.inbound_media(connection, inbound_id)
            pid = found[0] if found else None
            if found is None or pid is None:
                raise KeyError(f"inbound message {inbound_id} has no participant")
            channel, media = found[1], found[2]
            session = repository.latest_session(connection, pid)
            enrolments = repository.enrolments_of(connection, pid)
            study_id = session.study_id if session else (enrolments[0].study_id if enrolments else None)
            if study_id is None:
                return VoiceContext(inbound_id, pid, channel, tuple(media))
            keep = self._study(connection, study_id).keeps_audio()
            accepts = True
            if session is not None and session.status in LIVE and session.state.get("step"):
                engine, _ = self._engine(connection, session.flow_version_id, session.study_id)
                accept = getattr(engine.flow.step(session.state["step"]), "accept", None)
                accepts = accept is None or "voice" in accept
        return VoiceContext(inbound_id, pid, channel, tuple(media), study_id, accepts, keep)

    def voice_reply(
        self, inbound_id: int, key: str, *, status: str | None = None, error: str | None = None,
        flag: tuple[str, str] | None = None, transcript: dict[str, Any] | None = None, once: bool = False,
        offer: tuple[str, ...] = (),
    ) -> tuple[int, ...]:
        """Tell the sender of a voice note something without running the flow: that we are
        listening, or why it gave no answer (``key`` names a text in flows/words.py, which a
        study may override). Optionally set the inbound message's status, raise a flag for the
        coordinator and store a (failed) transcript row, all in one transaction. ``once`` (the
        acknowledgement): nothing is said if it already was for this note (:data:`ACKNOWLEDGED`).
        ``offer``: languages the note may have been in (the study's, which the model cannot hear):
        after the text, each says in its own language that we could not understand the note and
        how to switch to it (:func:`offered_languages`).

        A transcript with words (a language the model cannot hear) gives no answer, so the
        conversation's safeguarding never reads it: the phrase patterns read it here, and a risk
        they see raises a ``safeguarding`` flag for the coordinator (not the signposting: the
        participant may not have said those words, and is asked to type instead)."""
        now, contact = self.clock(), self._sender(inbound_id)
        heard = str(transcript.get("text") or "") if transcript is not None else ""
        concern = concern_in_unheard(self.safety.quick, heard)
        pid = contact.participant_id
        with self._exclusive(pid) as connection:
            if once and not _first_acknowledgement(connection, inbound_id):
                return ()
            session = repository.latest_session(connection, pid)
            enrolments = repository.enrolments_of(connection, pid)
            enrolment = next((e for e in enrolments if session is None or e.study_id == session.study_id), None)
            study_id = enrolment.study_id if enrolment else None
            words = Words(self._study(connection, study_id)) if study_id else self._words
            language = (session.state.get("language") if session else None) or (enrolment.language if enrolment else "en")
            live = session is not None and session.status in LIVE
            step_id = session.state.get("step") if session is not None and live else None
            where = {"participant_id": pid, "study_id": study_id, "flow_id": session.flow_id if session else None}
            if transcript is not None:
                store_transcript(connection, pid, inbound_id, transcript, now)
            flags = [flag] if flag is not None else []
            if concern is not None:
                log.warning("safeguarding flag (%s) from an unheard voice note %s", concern.category, inbound_id)
                flags.append(("safeguarding", flag_text(concern, inbound_id, heard)))  # their words, masked
            if flags:
                repository.add_flags(connection, [{**where, "kind": kind, "message": message, "step_id": step_id,
                                                   "acknowledged": False, "created_at": now} for kind, message in flags])
            if status is not None:
                repository.set_inbound_status(connection, inbound_id, status, now, error)
            if enrolment is not None and enrolment.opted_out:
                return ()
            row: dict[str, Any] = {"participant_id": pid, "contact_id": contact.contact_id, "channel": contact.channel, "study_id": study_id,
                   "session_id": session.id if session else None, "buttons": [],
                   "text": offered_languages(words, words.text(key, language), language, offer),
                   "multiple": False, "kind": "info", "step_id": step_id, "created_at": now}
            return tuple(outbox.queue(connection, [row]))


def offered_languages(words: Words, text: str, language: str, offer: tuple[str, ...]) -> str:
    """``text`` (in the conversation's ``language``) and, for each language in ``offer`` but that
    one, in that language: we could not understand the voice note, please type, and how to switch
    ("Mae'n ddrwg gennym, doedden ni ddim... Am Gymraeg, atebwch CYMRAEG."). A language the study
    has no such words in (they would be its default language's again) is left out."""
    parts = [text]
    for code in offer:
        if code == language:
            continue
        name = LANGUAGE_NAMES.get(code, {}).get(code)
        reply = LANGUAGE_WORDS[code][0].upper() if code in LANGUAGE_WORDS else f"{LANGUAGE_COMMAND[0].upper()} {code.upper()}"
        switch = words.text("help_language" if name else "help_languages", code).format(name=name, choices=reply)
        sorry = words.text("voice.not_understood", code)
        if code == words.default_language or sorry != words.text("voice.not_understood", words.default_language):
            parts.append(f"{sorry} {switch}")
    return "\n\n".join(parts)


def _first_acknowledgement(connection: Connection, inbound_id: int) -> bool:
    """Record on the note's row that it is acknowledged; False if it already was (claim by update)."""
    error = INBOUND.c.error
    marked = connection.execute(update(INBOUND).where(INBOUND.c.id == inbound_id, or_(error.is_(None), error != ACKNOWLEDGED))
                                .values(error=ACKNOWLEDGED))
    return marked.rowcount == 1


def store_transcript(connection: Connection, participant_id: str, inbound_id: int, record: dict[str, Any], now: datetime) -> None:
    """A transcript row, placed at the question being asked when the voice note came in."""
    session = repository.latest_session(connection, participant_id)
    live = session is not None and session.status in LIVE
    place = {"study_id": session.study_id, "session_id": session.id, "step_id": session.state.get("step") if live else None} if session else {}
    repository.add_transcript(connection, {**record, **place, "inbound_id": inbound_id, "participant_id": participant_id, "created_at": now})
