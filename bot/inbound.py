"""Stored messages: what a webhook's message becomes, and how stored messages are processed.

A webhook's message is stored first (the inbox, unique by the provider's message id, so a
retried webhook is a no-op). Under ordinary load the transaction that stores a batch also
processes it (:meth:`InboundBatches.accept_many` with ``process``); otherwise the inbox
worker (bot/inbox.py) hands stored messages to :meth:`InboundBatches.process_batch`: ONE
transaction, holding the participants' locks, claims them (still ``received``: exactly
once) and runs each through its conversation. Safeguarding runs after the commit.

:class:`InboundBatches` is part of :class:`bot.service.ConversationService`; what it uses
of the rest of the service is declared below for the type checker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from bot import metrics
from bot.edit_notices import forget_words_of_edit
from bot.locks import ParticipantLocks
from bot.studies import StudyRegistry
from channels.base import InboundMessage
from flows.engine import TextInput
from storage import batching, repository
from storage.database import Database
from storage.driver import INTEGRITY_ERRORS, Driver
from storage.repository import ContactRef

log = logging.getLogger("chorus.service")

VOICE_HOLD = timedelta(minutes=10)
"""How long a voice note still waiting for its transcript holds its sender's later messages
back: one that no worker transcribes (a broker down, a crash) lets them through after this."""
_IN_TURN_LIMIT = 200


@dataclass(frozen=True)
class ReceiveResult:
    status: str
    """duplicate, joined, processed, not_enrolled, awaiting_transcript, stale_tap (bot/tap_checks.py), erased or failed."""
    inbound_id: int | None = None
    participant_id: str | None = None
    outbox_ids: tuple[int, ...] = ()


class MessageFailed(Exception):
    """A message failed on the quick way (no savepoint): the batch is rolled back and redone."""


def awaits_transcript(message: InboundMessage) -> bool:
    """A voice note (audio, with a caption or without): it waits for its transcript (bot/voice.py),
    and a caption, kept in ``text``, goes with it (its answer is the caption, then what was said).
    A tapped button (a typed "done" under ticked options) or a /start with a code is what it says."""
    if message.button is not None or message.start_param is not None:
        return False
    return any(m.content_type.startswith("audio/") for m in message.media)


def describe(error: Exception) -> str:
    """The error's kind and first line, without SQL parameters (which may hold what someone typed)."""
    first = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {first.split('[SQL')[0].strip()}"[:300]


@dataclass
class Senders:
    """Who sent a batch's messages."""

    hashes: list[str]
    """Each message's address hash."""
    ids: dict[str, str]
    """Each hash's participant id: for an address never seen, a new one (not yet created)."""
    contacts: dict[str, ContactRef]
    """The contacts of those already known."""
    new: dict[str, InboundMessage]
    """Addresses never seen, by hash, with the first message from each."""
    waiting: set[str]
    """Participants with a message still waiting (``received``, for the inbox worker, or a voice
    note for its transcript): a new one must wait its turn."""


Done = list[tuple[ReceiveResult, ContactRef | None, TextInput | None]]
"""Each message's outcome, with its sender and what they wrote when it ran through a flow
(for the safeguarding check after the commit), in the batch's order."""


class InboundBatches:
    database: Database
    clock: Callable[[], datetime]
    _key: bytes
    _contacts: dict[str, ContactRef]
    _locks: ParticipantLocks
    _uncommitted: threading.local

    studies: StudyRegistry

    if TYPE_CHECKING:  # provided by ConversationService (bot/service.py)
        def holding(self, participant_ids: Sequence[str]) -> AbstractContextManager[Connection]: ...

        def _route(self, connection: Connection, contact: ContactRef, given: TextInput, start_param: str | None,
                   inbound_id: int, now: datetime, preloaded: batching.Preloaded | None = None) -> tuple[str, list[int]]: ...

        def _finish(self, result: ReceiveResult, contact: ContactRef, given: TextInput, now: datetime) -> ReceiveResult: ...

        def _find_or_create(self, connection: Connection, channel: str, address: str, hashed: str,
                            now: datetime) -> ContactRef: ...

    def process_batch(self, work: Sequence[tuple[int, str]]) -> list[ReceiveResult]:
        """Process stored messages, given as (inbound id, participant id) in order, in ONE
        transaction: the inbox worker's way (bot/inbox.py). Exactly once: only messages still
        ``received`` are claimed, in the same transaction (:func:`storage.batching.claim`);
        the others come back as ``duplicate``. A message that fails is rolled back alone and
        kept as ``failed``. Safeguarding runs after the commit. If this raises, nothing of the
        batch is written and every message is still ``received``."""
        if not work:
            return []
        now = self.clock()
        try:
            return self._process_batch(work, now, careful=False)
        except MessageFailed:  # the quick way had no savepoints: the whole batch again, carefully
            return self._process_batch(work, now, careful=True)

    def _process_batch(self, work: Sequence[tuple[int, str]], now: datetime, careful: bool) -> list[ReceiveResult]:
        """The quick way (``careful`` False) runs each flow without a savepoint, two statements
        fewer per message; if any message fails, the transaction is rolled back and the batch
        redone the careful way, each message in a savepoint so that a failure fails alone."""
        people = sorted({pid for _, pid in work})
        done: Done = []
        flags: list[dict[str, Any]] = []
        self._uncommitted.flags = flags
        try:
            self._write_batch(work, people, now, careful, done)
        finally:
            self._uncommitted.flags = None
        metrics.count_flags(flags)
        return [self._finish(result, contact, given, now) if contact and given else result for result, contact, given in done]

    def _write_batch(self, work: Sequence[tuple[int, str]], people: list[str], now: datetime, careful: bool, done: Done) -> None:
        with self.holding(people) as connection:
            self._process_claimed(connection, work, people, now, careful, done)

    def _process_claimed(
        self, connection: Connection, work: Sequence[tuple[int, str]], people: list[str], now: datetime, careful: bool,
        done: Done,
    ) -> None:
        """Lock the participants' rows and claim the messages still ``received`` (one round trip
        to PostgreSQL), then run each through its flow, in the caller's transaction, which holds
        these participants' locks in this process. On the quick way the COMMIT goes with the
        last writes: three round trips for the batch."""
        order = [inbound_id for inbound_id, _ in work]
        claimed = batching.claim(connection, order, people, now, lock=True)
        self._run_claimed(connection, order, claimed, now, careful, done, commit=True)

    def _run_claimed(self, connection: Connection, order: Sequence[int], claimed: dict[int, batching.Claimed],
                     now: datetime, careful: bool, done: Done, preloaded: batching.Preloaded | None = None,
                     commit: bool = False) -> None:
        """Run the claimed messages through their flows, in ``order`` (an id not claimed is a
        duplicate), with what was ``preloaded`` of their senders (read now if not). The quick
        way holds their common writes back, joins included, and writes them together
        (:class:`storage.batching.Deferred`; with ``commit``, the COMMIT with the last of them);
        the careful way writes each message's at once."""
        if preloaded is None:
            joining = 0 if careful else self._joining(claimed.values())
            preloaded = batching.preload(connection, [c.participant_id for c in claimed.values()], joining=joining)
        deferred = None if careful else batching.Deferred(now, reserved=preloaded.reserved)
        ran: list[int] = []  # where the messages that ran are in ``done``
        erased: set[str] = set()
        seen: set[str] = set()
        self._uncommitted.deferred = deferred
        try:
            for inbound_id in order:
                found = claimed.pop(inbound_id, None)
                if found is None or found.participant_id in erased:  # handled already, or gone with its sender
                    done.append((ReceiveResult("duplicate", inbound_id), None, None))
                    continue
                if deferred is not None and found.participant_id in seen:
                    # their next message reads what the last one wrote: written, and read again, in one round trip
                    preloaded.merge(_write(deferred, connection, reread=[found.participant_id]))
                seen.add(found.participant_id)
                ran.append(len(done))
                done.append(self._run_one(connection, inbound_id, found, preloaded, now, careful, deferred))
                if done[-1][0].status == "erased":
                    erased.add(found.participant_id)
            if deferred is not None:
                _write(deferred, connection, commit)
        finally:
            self._uncommitted.deferred = None
        written = deferred.outbox_ids if deferred is not None else {}
        for index in ran:
            result, contact, given = done[index]
            mine = tuple(written.get(result.inbound_id or 0, ()))
            done[index] = replace(result, outbox_ids=result.outbox_ids + mine), contact, given

    def _run_one(self, connection: Connection, inbound_id: int, found: batching.Claimed, preloaded: batching.Preloaded,
                 now: datetime, careful: bool, deferred: batching.Deferred | None) -> tuple[ReceiveResult, ContactRef | None, TextInput | None]:
        contact = preloaded.contacts.get((found.participant_id, found.channel))
        if contact is None:
            repository.set_inbound_status(connection, inbound_id, "failed", now, "no contact for its sender")
            return ReceiveResult("failed", inbound_id, found.participant_id), None, None
        given = TextInput.received(found.text, found.button)
        if careful:
            status, ids = self._process_in(connection, contact, inbound_id, given, found.start_param, now, preloaded)
        else:
            status, ids = self._process_quickly(connection, contact, inbound_id, given, found.start_param, now, preloaded,
                                                deferred)
        return ReceiveResult(status, inbound_id, found.participant_id, tuple(ids)), contact, given

    def _process_in(
        self, connection: Connection, contact: ContactRef, inbound_id: int, given: TextInput, start_param: str | None,
        now: datetime, preloaded: batching.Preloaded | None = None,
    ) -> tuple[str, list[int]]:
        """Run one stored message through its flow inside the caller's transaction (holding the
        participant's lock), in a savepoint: on an error its writes are undone and it is marked failed."""
        try:
            with batching.savepoint(connection):
                status, ids = self._route(connection, contact, given, start_param, inbound_id, now, preloaded)
                repository.set_inbound_status(connection, inbound_id, status, now)
        except Exception as error:
            log.exception("message %s from %s failed", inbound_id, contact.participant_id)
            repository.set_inbound_status(connection, inbound_id, "failed", now, describe(error))
            forget_words_of_edit(connection, inbound_id)  # never read again: nothing of what an edit said is kept
            return "failed", []
        return status, ids

    def _process_quickly(
        self, connection: Connection, contact: ContactRef, inbound_id: int, given: TextInput, start_param: str | None,
        now: datetime, preloaded: batching.Preloaded, deferred: batching.Deferred | None = None,
    ) -> tuple[str, list[int]]:
        """As :meth:`_process_in` without a savepoint: any error fails the whole batch (which is
        then redone carefully). The claim already marked the message 'processed'."""
        try:
            status, ids = self._route(connection, contact, given, start_param, inbound_id, now, preloaded)
            if status != "processed" and deferred is not None:
                deferred.statuses[inbound_id] = status
            elif status != "processed":
                repository.set_inbound_status(connection, inbound_id, status, now)
        except Exception as error:
            raise MessageFailed from error
        return status, ids

    def process_in_turn(self, participant_id: str, before: int | None = None) -> list[ReceiveResult]:
        """Process this participant's stored messages whose turn has come (all, or those before
        message ``before``), oldest first: what waited behind a voice note, once its transcript
        has been applied or it gave none (bot/voice.py). The inbox worker would take them at its
        next poll; exactly once either way (:meth:`process_batch` claims them)."""
        with self.database.read_transaction() as connection:
            work = repository.messages_in_turn(connection, self.clock() - VOICE_HOLD, _IN_TURN_LIMIT,
                                               participant_id=participant_id, before=before)
        return self.process_batch(work)

    def sender_of(self, inbound_id: int) -> str | None:
        """The participant who sent a stored message (None: gone, erased with its sender)."""
        with self.database.read_transaction() as connection:
            found = repository.inbound_participant(connection, inbound_id)
        return found[0] if found else None

    def behind_voice_note(self, inbound_id: int) -> bool:
        """Whether an earlier voice note of this message's sender still waits for its transcript."""
        with self.database.read_transaction() as connection:
            return repository.voice_note_before(connection, inbound_id, self.clock() - VOICE_HOLD)

    def accept(self, message: InboundMessage) -> ReceiveResult:
        """Only store the message (status ``received``) for :meth:`process_inbound` to handle
        later: what a webhook does, so it answers within the provider's timeout whatever the
        backlog (bot/inbox.py). A retried webhook is a no-op (status ``duplicate``)."""
        contact, inbound_id = self._record(message, self.clock())
        return ReceiveResult(_stored_status(message, inbound_id), inbound_id, contact.participant_id)

    def process_inbound(self, inbound_id: int) -> ReceiveResult:
        """Run a stored message through its participant's conversation, exactly once: the
        status is re-checked inside the transaction that writes the outcome, so a message
        already handled (by another worker, or before a crash) is left alone."""
        with self.database.read_transaction() as connection:
            found = repository.inbound_to_process(connection, inbound_id)
        if found is None or found.participant_id is None:
            return ReceiveResult("duplicate", inbound_id)
        return self.process_batch([(inbound_id, found.participant_id)])[0]

    def accept_many(self, messages: Sequence[InboundMessage], process: bool = False, wait: bool = True) -> list[ReceiveResult]:
        """:meth:`accept` for several messages in one transaction: a burst of webhooks, one commit.

        With ``process``, the messages are also run through their flows in that same
        transaction (:meth:`_accept_and_process`), except a sender's whose earlier messages
        still wait for the inbox worker or who is busy in this process: those stay
        ``received`` for the worker, so each participant's messages still go in order.
        If a flow fails, the batch is only stored, and the worker handles it carefully.

        ``wait=False`` (for the event loop, on SQLite) raises :class:`storage.database.WriterBusy`,
        having done nothing, if another writer holds the database."""
        now = self.clock()
        if process:
            try:
                return self._accept_and_process(messages, now, wait)
            except MessageFailed:
                log.info("a message failed in a batch of %d; storing the batch for the inbox worker", len(messages))
            except INTEGRITY_ERRORS:
                self._forget_senders(messages)
        try:
            with self.database.transaction(wait) as connection:
                stored = self._store_many(connection, messages, now)
        except INTEGRITY_ERRORS:
            self._forget_senders(messages)  # one at a time finds them
            return [self.accept(message) for message in messages]
        return self._results(messages, stored, {})

    def _accept_and_process(self, messages: Sequence[InboundMessage], now: datetime, wait: bool) -> list[ReceiveResult]:
        """Store and (where in order) process a batch in ONE transaction: one commit, and the
        reply is in the outbox by the time the webhook is answered. Raises MessageFailed
        (everything rolled back) if a flow fails."""
        done: Done = []
        flags: list[dict[str, Any]] = []
        self._uncommitted.flags = flags
        try:
            # the locks taken are released after the commit (contexts exit in reverse order)
            with ExitStack() as locks, self.database.transaction(wait) as connection:
                senders = self._look_up(connection, messages)
                hopeful = _not_speaking(messages, senders)
                ready = {pid for pid in sorted(hopeful)
                         if pid not in senders.waiting and locks.enter_context(self._locks.try_hold(pid))}
                # Theirs are stored already taken ('processed', as a claim would mark them): nobody else
                # can see them before this transaction commits, and if it rolls back they were never stored.
                taken = [senders.ids[hashed] in ready and not awaits_transcript(message)
                         for message, hashed in zip(messages, senders.hashes, strict=True)]
                stored, preloaded = self._store_and_preload(connection, messages, senders, now, taken, sorted(ready))
                claimed = {inbound_id: batching.Claimed(contact.participant_id, message.channel, message.text, message.button,
                                                        message.start_param)
                           for message, (_, contact, inbound_id), mine in zip(messages, stored, taken, strict=True)
                           if mine and inbound_id is not None}
                if claimed and preloaded is not None:  # the COMMIT goes with the last writes (one round trip)
                    self._run_claimed(connection, list(claimed), claimed, now, False, done, preloaded, commit=True)
        finally:
            self._uncommitted.flags = None
        metrics.count_flags(flags)
        processed = {result.inbound_id: self._finish(result, contact, given, now) if contact and given else result
                     for result, contact, given in done}
        return self._results(messages, stored, processed)

    def _results(self, messages: Sequence[InboundMessage], stored: Sequence[tuple[str, ContactRef, int | None]],
                 processed: Mapping[int | None, ReceiveResult]) -> list[ReceiveResult]:
        """Each stored message's result: its processing's, or what storing made of it. Each
        sender's contact is remembered, except an erased one's (gone with them)."""
        erased = {r.participant_id for r in processed.values() if r.status == "erased"}
        results = []
        for message, (hashed, contact, inbound_id) in zip(messages, stored, strict=True):
            if contact.participant_id not in erased:
                self._contacts[hashed] = contact
            found = processed.get(inbound_id)
            results.append(found or ReceiveResult(_stored_status(message, inbound_id), inbound_id, contact.participant_id))
        return results

    def _forget_senders(self, messages: Sequence[InboundMessage]) -> None:
        """A new address also created (or one erased) by another process: forget what this
        process remembers of these senders, so that they are looked up again."""
        for message in messages:
            self._contacts.pop(repository.address_hash(self._key, message.channel, message.address), None)

    def _record(self, message: InboundMessage, now: datetime) -> tuple[ContactRef, int | None]:
        hashed = repository.address_hash(self._key, message.channel, message.address)
        for attempt in (1, 2):
            try:
                with self.database.transaction() as connection:
                    _, contact, inbound_id = self._store_many(connection, [message], now)[0]
                self._contacts[hashed] = contact
                return contact, inbound_id
            except INTEGRITY_ERRORS:  # the same new address arrived twice at once (the retry finds it),
                self._contacts.pop(hashed, None)  # or another process erased the one remembered here
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _store_many(self, connection: Connection, messages: Sequence[InboundMessage],
                    now: datetime) -> list[tuple[str, ContactRef, int | None]]:
        """Only store messages (none taken): their senders looked up together, the new ones
        created with the inbox rows. (hash of the address, sender, inbox id or None for a
        retried webhook) for each."""
        senders = self._look_up(connection, messages, waiting=False)
        return self._store_and_preload(connection, messages, senders, now, [False] * len(messages), ())[0]

    def _look_up(self, connection: Connection, messages: Sequence[InboundMessage], waiting: bool = True) -> Senders:
        """Who sent these messages (:class:`Senders`). The senders this process has not met and
        (``waiting``) whether those it has still have a message waiting are read in one round trip."""
        hashes = [repository.address_hash(self._key, message.channel, message.address) for message in messages]
        contacts = {hashed: contact for hashed in hashes if (contact := self._contacts.get(hashed)) is not None}
        unknown = sorted({hashed for hashed in hashes if hashed not in contacts})
        asked = {contact.participant_id for contact in contacts.values()} if waiting else set()
        found, behind = batching.find_senders(connection, unknown, asked)
        if found and waiting:  # met before by another process (or before a restart): theirs, once they are known
            behind |= batching.still_received(connection, {contact.participant_id for contact in found.values()})
        contacts.update(found)
        new = {hashed: message for hashed, message in zip(hashes, messages, strict=True) if hashed not in contacts}
        ids = {hashed: contact.participant_id for hashed, contact in contacts.items()}
        ids.update({hashed: repository.new_participant_id() for hashed in new})
        return Senders(hashes, ids, contacts, new, behind)

    def _store_and_preload(
        self, connection: Connection, messages: Sequence[InboundMessage], senders: Senders, now: datetime, taken: Sequence[bool],
        lock: Sequence[str],
    ) -> tuple[list[tuple[str, ContactRef, int | None]], batching.Preloaded | None]:
        """In one round trip: create the new senders, store the inbox rows (those ``taken`` as
        claimed by this transaction), then lock the senders in ``lock`` and read what their
        messages need (:func:`storage.batching.preload_later`; ids reserved for joins). (hash,
        sender, inbox id or None for a retried webhook) for each message, and what was read
        (None if nothing was taken)."""
        rows = [_inbound_row(message, senders.ids[hashed], now, mine)
                for message, hashed, mine in zip(messages, senders.hashes, taken, strict=True)]
        newcomers = [(senders.ids[hashed], message.channel, self.database.sealer.seal(message.address), hashed)
                     for hashed, message in senders.new.items()]
        mine = [(message, senders.ids[hashed]) for message, hashed, wanted in zip(messages, senders.hashes, taken, strict=True) if wanted]
        created = [senders.ids[hashed] for hashed in senders.new]
        with Driver.of(connection).pipelined():
            made = repository.create_participants_later(connection, newcomers, now)
            stored = repository.record_inbound_later(connection, rows)
            preloading = batching.preload_later(connection, [pid for _, pid in mine], lock, created,
                                                self._joining(message for message, _ in mine)) if mine else None
        new = made()
        senders.contacts.update(zip(senders.new, new, strict=True))
        ids = stored()
        found = [(hashed, senders.contacts[hashed], inbound_id) for hashed, inbound_id in zip(senders.hashes, ids, strict=True)]
        return found, preloading(new) if preloading is not None else None

    def _joining(self, messages: Iterable[batching.Claimed | InboundMessage]) -> int:
        """How many of these messages name a study to join: the ids a quick batch reserves for joins."""
        return sum(self.studies.match_join(m.channel, m.text, m.start_param) is not None for m in messages)

    def _store_inbound(self, connection: Connection, message: InboundMessage, contact: ContactRef, now: datetime) -> int | None:
        """The inbox row, status ``received`` (or ``awaiting_transcript``); None for a retried webhook."""
        return repository.record_inbound(connection, _inbound_row(message, contact.participant_id, now))


def _write(deferred: batching.Deferred, connection: Connection, commit: bool = False,
           reread: Sequence[str] = ()) -> batching.Preloaded | None:
    """A quick batch's held-back writes (and ``reread``, :meth:`storage.batching.Deferred.write`);
    if they fail, the batch is redone carefully."""
    try:
        return deferred.write(connection, commit, reread)
    except Exception as error:
        raise MessageFailed from error


def _not_speaking(messages: Sequence[InboundMessage], senders: Senders) -> set[str]:
    """The senders of these messages with no voice note among them: one who sent a voice note
    waits for its transcript before their next message runs (bot/voice.py)."""
    sent = list(zip(messages, senders.hashes, strict=True))
    speaking = {senders.ids[hashed] for message, hashed in sent if awaits_transcript(message)}
    return {senders.ids[hashed] for _, hashed in sent} - speaking


def _stored_status(message: InboundMessage, inbound_id: int | None) -> str:
    return "duplicate" if inbound_id is None else "awaiting_transcript" if awaits_transcript(message) else "received"


def _inbound_row(message: InboundMessage, participant_id: str, now: datetime, taken: bool = False) -> dict[str, Any]:
    return {
        "channel": message.channel, "provider_id": message.provider_id, "participant_id": participant_id,
        "text": message.text, "button": message.button, "start_param": message.start_param,
        "received_at": message.received_at or now,
        "media": [{"url": m.url, "content_type": m.content_type, "size": m.size} for m in message.media],
        "status": "awaiting_transcript" if awaits_transcript(message) else "processed" if taken else "received",
        "processed_at": now if taken else None,
    }
