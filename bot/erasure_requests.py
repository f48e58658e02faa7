"""A participant's erasure request (DELETE MY DATA, then YES) and a coordinator's: everything
about them deleted (bot/erasure.py), with the participant of the same phone number on the other
channel, and one confirmation queued to the address the request came from (part of
:class:`bot.service.ConversationService`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection

from bot.erasure import erase_within
from bot.locks import ParticipantLocks
from bot.population import PopulationSource
from bot.same_number import other_channel_participants
from flows.engine import (
    TextInput,
    read_erasure,
    spoken_yes,
)
from flows.words import Words
from storage import outbox, privacy, repository
from storage.database import Database
from storage.repository import ContactRef


class ErasureRequests:
    """The service's erasure (a mixin of :class:`bot.service.ConversationService`)."""

    database: Database
    clock: Callable[[], datetime]
    population: PopulationSource
    _key: bytes
    _words: Words
    _contacts: dict[str, ContactRef]
    _locks: ParticipantLocks

    def _erasure_without_session(
        self, connection: Connection, contact: ContactRef, given: TextInput, command: str | None, now: datetime,
        last_sent: str | None,
    ) -> tuple[str | None, list[int]] | None:
        """DELETE MY DATA from someone with no conversation yet (``command``: the global word the
        reply is). The question asked is the last message sent them (``last_sent``, its kind).
        (status, ids) when the reply was about erasure: status None when it cancelled, so the
        reply is then handled as usual."""
        pid = contact.participant_id
        pending = last_sent == "erase_confirm"
        erasure = read_erasure(self._words, given, command, pending)
        if erasure is None:
            return None
        language = repository.load_participant(connection, pid).language or "en"
        if erasure == "confirmed":
            self._erase_on_request(connection, contact, self._words.text("erased", language), now)
            return "erased", []
        kind = "erase_confirm" if erasure == "ask" else "erase_cancelled"
        # a spoken yes to the question is asked to type it (a voice note never erases); the kind stays the question's
        text = self._words.text("erase_type_yes" if pending and spoken_yes(given) else kind, language)
        row = {"participant_id": pid, "contact_id": contact.contact_id, "channel": contact.channel, "text": text,
               "buttons": [], "multiple": False, "kind": kind, "created_at": now}
        ids = outbox.queue(connection, [row])
        return ("processed" if erasure == "ask" else None), ids

    def _erase_on_request(self, connection: Connection, contact: ContactRef, farewell: str | None, now: datetime) -> None:
        """DELETE MY DATA, then YES: erase the participant, and the participant of the same
        phone number on the other channel (SMS and WhatsApp: one person, two participants), then
        queue ``farewell`` to the address the request came from. It waits in ``farewells``, which
        names no one, until a dispatcher (or the web simulator) sends it once and deletes it."""
        pid = contact.participant_id
        sealed = repository.sealed_address(connection, contact.contact_id)
        others = self._same_number(connection, pid)
        self._erase_within(connection, pid, "participant", "participant's request", now)
        for other in others:
            self._erase_within(connection, other, "participant", f"participant's request on {contact.channel}, same number", now)
        if farewell and sealed is not None:
            outbox.queue_farewell(connection, contact.channel, sealed, farewell, now)

    def _same_number(self, connection: Connection, participant_id: str) -> list[str]:
        """The participants Chorus knows at the same phone number on the other channel
        (bot/same_number.py), their rows locked (PostgreSQL) to be erased with this one."""
        found = [other for _, other in other_channel_participants(connection, self.database.sealer, self._key, participant_id)]
        if self.database.is_postgres:
            for other_id in sorted(found):
                repository.load_participant(connection, other_id, for_update=True)
        return found

    def _erase_within(self, connection: Connection, participant_id: str, actor: str, reason: str, now: datetime) -> privacy.Erased:
        studies = {e.study_id for e in repository.enrolments_of(connection, participant_id)}
        erased = erase_within(connection, participant_id, actor, reason, now)
        for hashed in [h for h, c in list(self._contacts.items()) if c.participant_id == participant_id]:
            self._contacts.pop(hashed, None)
        for study_id in studies:
            self.population.forget(study_id)
        return erased

    def erase(self, participant_id: str, actor: str, reason: str = "coordinator") -> privacy.Erased | None:
        """Erase everything about a participant, at a coordinator's request or under a study's
        retention. ``actor`` names who asked (a token's holder, 'retention'). None if unknown."""
        erased = self._erase_held(participant_id, actor, reason, same_number=False)
        return erased[0] if erased else None

    def erase_person(self, participant_id: str, actor: str, reason: str = "coordinator",
                     may_erase: Callable[[list[str]], bool] | None = None, left: list[str] | None = None) -> list[privacy.Erased]:
        """:meth:`erase`, and the participant of the same phone number on the other channel too
        (``chorus erase``): all Chorus knows of the person. The one named first; [] if unknown.
        ``may_erase`` (the API: a token's studies) is given the studies of each such other
        participant and says whether it may be erased too; one it may not is left alone, and
        added to ``left``."""
        return self._erase_held(participant_id, actor, reason, same_number=True, may_erase=may_erase, left=left)

    def _erase_held(self, participant_id: str, actor: str, reason: str, same_number: bool,
                    may_erase: Callable[[list[str]], bool] | None = None, left: list[str] | None = None) -> list[privacy.Erased]:
        with self.database.transaction() as connection:
            if not privacy.participant_exists(connection, participant_id):
                return []
        with self._locks.hold(participant_id), self.database.transaction() as connection:
            if not privacy.participant_exists(connection, participant_id):
                return []
            if self.database.is_postgres:
                repository.load_participant(connection, participant_id, for_update=True)
            now = self.clock()
            others = self._same_number(connection, participant_id) if same_number else []
            if may_erase is not None:
                allowed = [other for other in others
                           if may_erase(sorted({e.study_id for e in repository.enrolments_of(connection, other)}))]
                if left is not None:
                    left.extend(other for other in others if other not in allowed)
                others = allowed
            erased = [self._erase_within(connection, participant_id, actor, reason, now)]
            erased += [self._erase_within(connection, other, actor, f"{reason}, same number as {participant_id}", now) for other in others]
        self.database.checkpoint()
        return erased

    def take_farewells(self, channel: str, address: str) -> list[str]:
        """The erasure confirmations waiting for ``address`` on a channel no dispatcher sends
        on (the web simulator shows them itself), deleted as they are taken."""
        with self.database.transaction() as connection:
            return outbox.take_farewells(connection, self.database.sealer, channel, address)
