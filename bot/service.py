"""The conversation service: glue between the pure engine and storage.

It routes a participant's message (join keywords, erasure requests, global words) to their
session, runs the engine on that session pinned to its flow version, and writes what came
out (answers, fields, session state, outbox rows, flags, due tasks) in the caller's
transaction. How stored webhook messages reach it, in batches and exactly once, is in
bot/inbound.py; safeguarding inside conversations in bot/concerns.py; writing what a sprint
produced in bot/sprint_writes.py; erasure requests in bot/erasure_requests.py; and what the
voice pipeline asks in bot/voice_replies.py (all part of this class, as mixins); :meth:`ConversationService.receive` (web simulator,
``chorus chat``) stores and processes one message in one transaction. The scheduler,
the voice pipeline and the dispatcher use the methods at the end. See ARCHITECTURE.md
section 2.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection

from bot.concerns import Concerns, names_options
from bot.dispatch_rules import WhatsAppConfig, keyboards_on
from bot.edit_notices import EditNotices
from bot.erasure_requests import ErasureRequests
from bot.inbound import InboundBatches, ReceiveResult, awaits_transcript, describe
from bot.locks import ParticipantLocks
from bot.population import PopulationSource
from bot.safeguarding import (
    BackgroundChecks,
    SafetyChecks,
    checks_from_env,
    may_name_a_risk,
)
from bot.sprint_writes import (
    SprintWrites,
    Target,
    Writes,
    after_the_end,
    collect_event,
    outbound_row,
    plain_event,
)
from bot.studies import JoinMatch, StudyRegistry, invitation
from bot.tap_checks import STALE_TAP, TapChecks
from bot.voice_replies import VoiceReplies, store_transcript
from channels.base import InboundMessage
from flows.engine import (
    Engine,
    Resume,
    SessionState,
    Sprint,
    TextInput,
    Timeout,
    global_word,
    spoken_as_typed,
)
from flows.engine_opt_out import WRONG_NUMBER
from flows.events import (
    ErasureConfirmed,
)
from flows.inputs import Keyboard
from flows.loader import load_flow
from flows.model import Study
from flows.opt_out_phrases import wrong_number_language
from flows.replies import written_in_welsh
from flows.session_state import tapped_elsewhere
from flows.words import Words
from storage import batching, due_tasks, outbox, quiet_holds, repository, window_holds
from storage.database import Database
from storage.driver import INTEGRITY_ERRORS
from storage.due_tasks import ClaimedTask
from storage.held_questions import asks_unseen
from storage.outbox import OutboxEntry, PendingMessage, TranscriptLine
from storage.repository import ContactRef, EnrolmentRef, ParticipantRef, SessionRef

log = logging.getLogger("chorus.service")
VOICE_CHANNELS = frozenset({"telegram", "whatsapp"})
NO_WHATSAPP = WhatsAppConfig()
"""No WhatsApp templates: what :func:`keyboards_on` is given for the other channels, which never read it."""
"""Channels a participant can send voice notes on (transcribed as answers)."""
STOPPED_BEFORE_JOINING = "opted_out_at"
"""The participant field that keeps the STOP of someone in no study (when they said it): an
enrolment keeps a participant's STOP, and they have none. Dropped by START."""
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class NotResumed(Exception):
    """A due task the session moved past, found under the participant's lock: the message says
    why it did not fire (kept on the task)."""




class ConversationService(InboundBatches, Concerns, EditNotices, SprintWrites, ErasureRequests, VoiceReplies, TapChecks):
    def __init__(
        self, database: Database, studies: StudyRegistry, clock: Clock = utc_now, address_key: bytes | None = None,
        safety: SafetyChecks | Literal["from_env"] = "from_env", publish: bool = True,
    ) -> None:
        """``publish=False``: the studies are not published here (a serving process that started
        without its database publishes them once it answers: bot/degraded.py)."""
        if address_key is None:
            from bot.settings import Settings

            address_key = Settings.from_env().address_key()
        self.database = database
        self.studies = studies
        self.clock = clock
        self.population = PopulationSource()
        self.safety: SafetyChecks = checks_from_env() if safety == "from_env" else safety
        self._background: BackgroundChecks | None = None
        self._background_lock = threading.Lock()
        self._key = address_key
        self._locks = ParticipantLocks()
        self._uncommitted = threading.local()  # flags and deferred writes of the batch being written on this thread
        self._contacts: dict[str, ContactRef] = {}
        self._checked_inline: dict[int, bool] = {}
        self._engines: dict[int, tuple[Engine, str]] = {}
        self._whatsapp_keyboards: dict[str, tuple[Study, tuple[Keyboard, ...]]] = {}
        self._words = Words()
        if publish:
            studies.publish(database, clock(), starting=True)

    # ------------------------------------------------------------------ inbound

    def receive(self, message: InboundMessage) -> ReceiveResult:
        """Store and process one message in ONE transaction (the web simulator, ``chorus chat``;
        webhooks use :meth:`accept` and the inbox worker). A flow error is rolled back alone (a
        savepoint) and the message kept as ``failed``."""
        now, hashed = self.clock(), repository.address_hash(self._key, message.channel, message.address)
        for attempt in (1, 2):
            known = self._contacts.get(hashed)
            try:
                with ExitStack() as held:
                    if known is not None:  # locks first, then the database
                        held.enter_context(self._locks.hold(known.participant_id))
                    # An address not in memory is looked up inside the transaction: SQLite's write
                    # lock (BEGIN IMMEDIATE) or PostgreSQL's row lock below keeps every other
                    # writer of that participant out, and a new one is seen by nobody before the commit.
                    connection = held.enter_context(self.database.transaction())
                    contact = self._find_or_create(connection, message.channel, message.address, hashed, now)
                    batching.lock_participants(connection, [contact.participant_id])
                    inbound_id = self._store_inbound(connection, message, contact, now)
                    given = TextInput.received(message.text, message.button)
                    if inbound_id is None:
                        result = ReceiveResult("duplicate", None, contact.participant_id)
                    elif awaits_transcript(message):
                        result = ReceiveResult("awaiting_transcript", inbound_id, contact.participant_id)
                    else:
                        status, ids = self._process_in(connection, contact, inbound_id, given, message.start_param, now)
                        result = ReceiveResult(status, inbound_id, contact.participant_id, tuple(ids))
            except INTEGRITY_ERRORS:  # the same new address arrived twice at once (the retry finds it),
                self._contacts.pop(hashed, None)  # or another process erased the one remembered here
                if attempt == 2:
                    raise
                continue
            if result.status != "erased":  # (an erased sender's contact is gone)
                self._contacts[hashed] = contact
            return self._finish(result, contact, given, now)
        raise AssertionError("unreachable")

    def _finish(self, result: ReceiveResult, contact: ContactRef, given: TextInput, now: datetime) -> ReceiveResult:
        """After the commit: a WAL checkpoint after an erasure, the safeguarding check on what a
        participant wrote (never after 'erased': nothing is left to flag; nor on a global word,
        which :meth:`_route` marked as checked)."""
        if result.status == "erased":
            self.database.checkpoint()
        checked = self._checked_inline.pop(result.inbound_id, None) if result.inbound_id is not None else None
        said = self._said_in_edits.pop(result.inbound_id, None) if result.inbound_id is not None else None
        if said is not None and result.status == "edited":  # what an edit says: checked as in a new message
            given = TextInput(said)
        elif result.status != "processed":
            return result
        if given.button is not None or result.inbound_id is None:
            return result
        ids = (*result.outbox_ids, *self._safeguard(contact, result.inbound_id, given.text, now, checked))
        return ReceiveResult(result.status, result.inbound_id, result.participant_id, ids)

    def receive_transcript(
        self, inbound_id: int, text: str, confidence: float | None = None, record: dict[str, Any] | None = None
    ) -> ReceiveResult:
        """Carry on with a voice note once ``nlp`` has transcribed it. ``record`` (the
        transcript's metadata: language, duration, avg_logprob...) is stored in ``transcripts``
        in the same transaction, and linked to the answer the voice note gives.

        In its place: what the sender sent before it and still waits is processed first (what
        came after waits for the voice pipeline, :meth:`process_in_turn`). A note that says
        only STOP or DELETE MY DATA, in any of the study's words for them, is honoured as if
        typed (:func:`flows.engine.spoken_as_typed`: the global word read here is not read again)."""
        contact = self._sender(inbound_id)
        self.process_in_turn(contact.participant_id, before=inbound_id)
        heard = TextInput(text, source="voice", confidence=confidence)
        given = spoken_as_typed(heard, self._words_of(contact.participant_id).command(text))
        return self._process(contact, inbound_id, given, None, self.clock(), record)

    def _words_of(self, participant_id: str) -> Words:
        """The global words of the study this participant is talking to (the built-in ones in
        every language, and the study's own synonyms); the built-in ones if there is none."""
        with self.database.read_transaction() as connection:
            session = repository.latest_session(connection, participant_id)
            return self._engine(connection, session.flow_version_id, session.study_id)[0].words if session else self._words

    def _sender(self, inbound_id: int) -> ContactRef:
        with self.database.transaction() as connection:
            found = repository.inbound_participant(connection, inbound_id)
            contact = repository.contact_for(connection, found[0], found[1]) if found and found[0] else None
        if contact is None:
            raise KeyError(f"inbound message {inbound_id} has no participant")
        return contact

    def _find_or_create(self, connection: Connection, channel: str, address: str, hashed: str, now: datetime) -> ContactRef:
        found = self._contacts.get(hashed) or repository.find_contact(connection, hashed)
        return found or repository.create_participant(connection, channel, self.database.sealer.seal(address), hashed, now)

    def _process(
        self, contact: ContactRef, inbound_id: int, given: TextInput, start_param: str | None, now: datetime,
        transcript: dict[str, Any] | None = None,
    ) -> ReceiveResult:
        """A transcribed voice note: its transcript and its processing in one transaction."""
        try:
            with self._exclusive(contact.participant_id) as connection:
                if transcript is not None:
                    store_transcript(connection, contact.participant_id, inbound_id, transcript, now)
                status, ids = self._route(connection, contact, given, start_param, inbound_id, now)
                repository.set_inbound_status(connection, inbound_id, status, now)
        except Exception as error:
            log.exception("message %s from %s failed", inbound_id, contact.participant_id)
            with self.database.transaction() as connection:
                repository.set_inbound_status(connection, inbound_id, "failed", now, describe(error))
            return ReceiveResult("failed", inbound_id, contact.participant_id)
        return self._finish(ReceiveResult(status, inbound_id, contact.participant_id, tuple(ids)), contact, given, now)

    def _route(
        self, connection: Connection, contact: ContactRef, given: TextInput, start_param: str | None, inbound_id: int, now: datetime,
        preloaded: batching.Preloaded | None = None,
    ) -> tuple[str, list[int]]:
        pid = contact.participant_id
        known = preloaded.take(pid) if preloaded is not None else None
        enrolments = known.enrolments if known is not None else repository.enrolments_of(connection, pid)
        session = known.session if known is not None else repository.latest_session(connection, pid)
        participant = known.participant if known is not None else None
        edited = False
        if not given.text.strip() and given.button is None:  # nothing to read: the reply says what can be
            given = replace(given, voice_notes=contact.channel in VOICE_CHANNELS)
            edit = self._read_edit(connection, contact.channel, inbound_id, session)
            if edit is not None and edit.as_typed:  # STOP or START, edited in: honoured as typed
                given = TextInput(edit.said)
            elif edit is not None:
                edited = True
                notice = self._edit_notice(connection, contact, inbound_id, now, enrolments, session, participant, edit.said)
                if notice is not None:
                    return "edited", notice
        early: list[int] = []
        if session is None:  # no conversation: the engine is not there to read STOP or DELETE MY DATA
            command = global_word(self._words, given)
            if command is not None:
                self._checked_inline[inbound_id] = True  # no risk in a global word: no safeguarding check
            last_sent = known.last_sent if known is not None else outbox.last_kind(connection, pid)
            erasure = self._erasure_without_session(connection, contact, given, command, now, last_sent)
            if erasure is not None and erasure[0] is not None:
                return erasure[0], erasure[1]
            early = erasure[1] if erasure is not None else []
            if not enrolments:
                participant = participant or repository.load_participant(connection, pid)
                stopped = self._stays_stopped(connection, contact, participant, given, command, now)
                if stopped is not None:
                    return "not_enrolled", early + stopped
        first = session is None and known is not None  # no conversation yet, so none to replace
        match = self.studies.match_join(contact.channel, given.text, start_param)
        if match is not None and all(e.study_id != match.study_id for e in enrolments) and _may_join(enrolments, start_param):
            return "joined", early + self._join(connection, contact, match, inbound_id, now, participant, first)
        if not enrolments:
            return "not_enrolled", early or self._join_help(connection, contact, now, participant, given.text)
        if edited:  # an edit outside a conversation still going: answered as a photo is ('that's all for now' after the end)
            ids = self._converse(connection, contact, given, inbound_id, now, enrolments, session, participant)[1] if session else []
            return "edited", early + ids
        if session is None:
            enrolment = enrolments[0]
            flow_id = self.studies.get(enrolment.study_id).study.join.start_flow
            return "processed", early + self._start(connection, contact, enrolment, flow_id, inbound_id, now, participant, first)
        # writing opens WhatsApp's 24-hour window, and shows someone is awake in quiet hours: what
        # either held goes. If it holds the question asked now, never seen, what they wrote answers
        # no question they have seen and is not read (a STOP or the like still is). Otherwise it is
        # read first, and what was held goes after it, less a question it answered or asked again
        window = window_holds.held_for(connection, pid, contact.channel) if contact.channel == "whatsapp" else []
        quiet = known.quiet_held if known is not None else quiet_holds.held_for(connection, pid)
        waiting = {session.id: outbox.waiting_at(session.status, session.state)}
        command = global_word(self._words, given) if window or quiet else None  # (read here only when something was held)
        given = replace(given, command=command) if command is not None else given  # (and not read again)
        if (window or quiet) and command is None and asks_unseen(connection, pid, [*window, *quiet], session.id, waiting[session.id]):
            released = window_holds.release(connection, window, waiting) + quiet_holds.release(connection, quiet, waiting)
            log.info("participant %s wrote: %d held message(s) queued, what they wrote not read as an answer", pid, len(released))
            return "processed", released
        ahead = window_holds.release(connection, window, waiting) if command is not None else []  # (a STOP holds them again)
        status, ids = self._converse(connection, contact, given, inbound_id, now, enrolments, session, participant)
        if status not in ("processed", STALE_TAP):
            return status, ahead + ids
        after = window_holds.release(connection, window, *self._asked(session, now)) if window and command is None else []
        return status, ahead + ids + after + self._release_quiet(connection, quiet, session, enrolments, now)

    def _converse(
        self, connection: Connection, contact: ContactRef, given: TextInput, inbound_id: int, now: datetime,
        enrolments: list[EnrolmentRef], session: SessionRef, participant: ParticipantRef | None,
    ) -> tuple[str, list[int]]:
        """A message in a conversation: the engine's sprint on it, checked for safeguarding
        (unless it was a global word, which the engine read: :attr:`Sprint.command`), written."""
        pid = contact.participant_id
        enrolment = next(e for e in enrolments if e.study_id == session.study_id)
        engine, version = self._engine(connection, session.flow_version_id, session.study_id)
        population = self._population(connection, session.study_id, pid)
        before = SessionState.model_validate(session.state)
        given = replace(given, keyboards=self._keyboards(connection, contact.channel, session.study_id))
        sprint = engine.handle(before, given, now, population=population)
        command = sprint.command
        if command is not None:  # STOP, DELETE MY DATA ('forget me'): no risk in those
            self._checked_inline[inbound_id] = True
        elif given.button is None and may_name_a_risk(given.text):
            if names_options(engine, before, given.text, now, population):  # 'Can't decide', 'feet, eyes and diet': answers, not worries
                self._checked_inline[inbound_id] = True
            else:
                language = sprint.state.language or enrolment.language or engine.words.default_language
                sprint = self._safeguarded(connection, pid, sprint, given, inbound_id, self._study(connection, session.study_id),
                                           language, enrolment.opted_out or sprint.state.status == "stopped", before.step, now)
        sprint = after_the_end(engine, before, sprint, given, command)  # words the ended conversation cannot take
        if any(isinstance(event, ErasureConfirmed) for event in sprint.events):
            farewell = next((message.text for message in sprint.messages() if message.kind == "erased"), None)
            self._erase_on_request(connection, contact, farewell, now)
            return "erased", []
        target = Target(pid, contact, enrolment, session, version, inbound_id, participant)
        status = STALE_TAP if tapped_elsewhere(given.at, before) else "processed"  # (the engine answered it nothing)
        return status, self._apply(connection, target, sprint, now)

    @staticmethod
    def _asked(session: SessionRef, now: datetime) -> tuple[dict[int, str | None], set[tuple[int, str]]]:
        """After the engine read a message: the step the session waits on now, and the question
        the reply to it asked (none, or the session's step if asked just now)."""
        state = SessionState.model_validate(session.state)
        asked_now = {(session.id, state.step)} if state.step is not None and state.asked_at == now else set()
        return {session.id: outbox.waiting_at(session.status, session.state)}, asked_now

    @classmethod
    def _release_quiet(cls, connection: Connection, held: list[quiet_holds.HeldRow], session: SessionRef,
                       enrolments: list[EnrolmentRef], now: datetime) -> list[int]:
        """After the engine read a message: what quiet hours held for its writer goes now, but not
        to someone who just opted out, nor a question the reply asked again or the session moved past."""
        if not held or any(e.opted_out for e in enrolments if e.study_id == session.study_id):
            return []
        return quiet_holds.release(connection, held, *cls._asked(session, now))

    # ------------------------------------------------------------------ joining and starting

    def _join(self, connection: Connection, contact: ContactRef, match: JoinMatch, inbound_id: int, now: datetime,
              participant: ParticipantRef | None = None, first: bool = False) -> list[int]:
        participant = participant or repository.load_participant(connection, contact.participant_id)
        enrolment = self._enrol(connection, participant, match.study_id, contact.channel, match.group, match.language, now)
        # DEBUG, as each message is: at the rates a study reaches, the audit trail and the desk count joins
        log.debug("participant %s joined %s (group %s)", participant.id, match.study_id, match.group)
        return self._start(connection, contact, enrolment, match.flow_id, inbound_id, now, participant, first,
                           offer_languages=match.language is None)

    def _stays_stopped(self, connection: Connection, contact: ContactRef, participant: ParticipantRef, given: TextInput,
                       command: str | None, now: datetime) -> list[int] | None:
        """What someone in no study who said STOP (and not START since), now or before, is sent:
        nothing, but to the STOP that says the number is not theirs ('wrong number', 'rhif
        anghywir'), the apology once, in the language of the words, as a participant's is; None
        when they did not say STOP. Their STOP is kept as a participant's is (the time it was
        said, on them: :data:`STOPPED_BEFORE_JOINING`, as an enrolment keeps it; the audit event,
        with the reason 'wrong number' if so; anything still queued for them held), for every
        channel they write on."""
        stopped = STOPPED_BEFORE_JOINING in participant.fields
        if command == "stop" and not stopped:
            participant.fields[STOPPED_BEFORE_JOINING] = now.isoformat()
        elif command == "start" and stopped:  # answered as usual: how to join, or the join a Telegram link asks
            del participant.fields[STOPPED_BEFORE_JOINING]
        else:
            return [] if stopped or command == "stop" else None
        repository.save_participant(connection, participant)
        wrong_number = wrong_number_language(given.text) if command == "stop" and given.button is None else None
        self._set_opted_out(connection, participant.id, command == "stop", now, WRONG_NUMBER if wrong_number else "")
        if command != "stop":
            return None
        if wrong_number is None:  # (the provider confirms a STOP itself)
            return []
        return self._queue_plain(connection, contact, self._words.text("wrong_number", wrong_number), "stopped", now)

    def _join_help(self, connection: Connection, contact: ContactRef, now: datetime, participant: ParticipantRef | None = None,
                   said: str = "") -> list[int]:
        """How to join, to someone in no study: in their language if it is known (a study they
        left chose it), else in both with the one their message was written in first ('Helo':
        Welsh; :func:`flows.replies.written_in_welsh`)."""
        participant = participant or repository.load_participant(connection, contact.participant_id)
        language = participant.language
        said_in = "cy" if written_in_welsh(said) else None
        text = invitation(self.studies.join_keywords(language), language, said_in)
        return self._queue_plain(connection, contact, text, "help", now)

    @staticmethod
    def _queue_plain(connection: Connection, contact: ContactRef, text: str, kind: str, now: datetime) -> list[int]:
        """One message with no options to someone in no conversation."""
        row = {"participant_id": contact.participant_id, "contact_id": contact.contact_id, "channel": contact.channel,
               "text": text, "buttons": [], "multiple": False, "kind": kind, "created_at": now}
        return outbox.queue(connection, [row])

    def _enrol(
        self, connection: Connection, participant: ParticipantRef, study_id: str, channel: str,
        group: str | None, language: str | None, now: datetime,
    ) -> EnrolmentRef:
        study = self._study(connection, study_id)
        language = language or participant.language
        language = language if language in study.languages else study.default_language
        held = self._held_writes()
        reserved = held.reserve("enrolments") if held is not None else None
        if held is not None and reserved is not None:  # a quick batch: inserted with its other writes
            enrolment = EnrolmentRef(reserved, study_id, group, language, channel, False)
            held.enrol(participant.id, enrolment)
        else:
            enrolment = repository.enrol(connection, participant.id, study_id, channel, group, language, now)
        if group:
            participant.fields["group"] = group
            repository.save_participant(connection, participant)
        event = repository.audit_event("participant", "enrolled", now, participant.id, study=study_id, group=group)
        if held is not None:  # a quick batch: written with its answers and replies
            held.audit_events.append(event)
        else:
            repository.add_audit_events(connection, [event])
        return enrolment

    def _held_writes(self) -> batching.Deferred | None:
        """The writes a quick batch on this thread holds back (None outside one)."""
        held: batching.Deferred | None = getattr(self._uncommitted, "deferred", None)
        return held

    def _start(
        self, connection: Connection, contact: ContactRef, enrolment: EnrolmentRef, flow_id: str,
        inbound_id: int | None, now: datetime, participant: ParticipantRef | None = None, first: bool = False,
        offer_languages: bool = False,
    ) -> list[int]:
        """A new conversation in ``flow_id``, replacing any still going in the study (``first``:
        the participant has never had one, so there is none to replace; ``offer_languages``: they
        joined by a way in that names no language, so the study's others are offered)."""
        pid = contact.participant_id
        participant = participant or repository.load_participant(connection, pid)
        published = self.studies.current(enrolment.study_id, flow_id)
        if not first:
            repository.replace_live_sessions(connection, pid, enrolment.study_id, now)
        engine, version = self._engine(connection, published.id, enrolment.study_id)
        fields = dict(participant.fields)
        fields.setdefault("channel", contact.channel)  # texts may say what the channel allows: a voice note, not on SMS
        if enrolment.group:
            fields.setdefault("group", enrolment.group)
        population = self._population(connection, enrolment.study_id, pid)
        sprint = engine.start(now, language=enrolment.language, fields=fields, seed=secrets.randbits(31), population=population,
                              offer_languages=offer_languages)
        held = self._held_writes() if inbound_id is not None else None
        reserved = held.reserve("sessions") if held is not None else None
        if held is not None and reserved is not None:  # a quick batch: inserted, as it then is, with its other writes
            session = SessionRef(reserved, enrolment.study_id, flow_id, published.id, {}, "waiting")
            held.start(pid, session)
        else:
            session = repository.create_session(connection, pid, enrolment.study_id, flow_id, published.id, now)
        target = Target(pid, contact, enrolment, session, version, inbound_id, participant)
        return self._apply(connection, target, sprint, now)

    # ------------------------------------------------------------------ writing a sprint
    # ------------------------------------------------------------------ flows, studies, locks

    def _engine(self, connection: Connection, flow_version_id: int, study_id: str) -> tuple[Engine, str]:
        """The engine for a published flow version, loaded from the database once (versions never change)."""
        cached = self._engines.get(flow_version_id)
        if cached is None:
            row = repository.flow_version(connection, flow_version_id)
            if row is None:
                raise KeyError(f"flow version {flow_version_id} is not published")
            flow = load_flow(f"{study_id}/{row.flow_id}@{row.version}", raw=row.content).flow
            cached = self._engines[flow_version_id] = (Engine(flow, self._study(connection, study_id), row.version), row.version)
        return cached

    def _keyboards(self, connection: Connection, channel: str, study_id: str) -> tuple[Keyboard, ...]:
        """How the channel shows options as buttons (:func:`bot.dispatch_rules.keyboards_on`), for
        the engine's hints; on WhatsApp, as the study's content templates allow."""
        if channel != "whatsapp":
            return keyboards_on(channel, NO_WHATSAPP)
        study = self._study(connection, study_id)
        known = self._whatsapp_keyboards.get(study_id)
        if known is None or known[0] is not study:  # read once per publication of the study, not per message
            known = self._whatsapp_keyboards[study_id] = (study, keyboards_on(channel, WhatsAppConfig.from_dict(study.whatsapp)))
        return known[1]

    def _study(self, connection: Connection, study_id: str) -> Study:
        if study_id in self.studies:
            return self.studies.get(study_id).study
        content = repository.study_content(connection, study_id)
        if content is None:
            raise KeyError(f"study '{study_id}' is not published")
        return Study.model_validate(content)

    @contextmanager
    def _exclusive(self, participant_id: str) -> Iterator[Connection]:
        """One participant, one message at a time: a lock in this process, a row lock on PostgreSQL."""
        with self._locks.hold(participant_id), self.database.transaction() as connection:
            if self.database.is_postgres:
                repository.load_participant(connection, participant_id, for_update=True)
            yield connection

    # ------------------------------------------------------------------ for the scheduler, web simulator and dispatcher

    def join(
        self, channel: str, address: str, study_id: str, flow_id: str | None = None,
        group: str | None = None, language: str | None = None,
    ) -> ReceiveResult:
        """Enrol an address straight into a study (no keyword needed) and start a flow: for the
        web simulator and for coordinators adding people. Status 'opted_out' if they said STOP."""
        now, hashed = self.clock(), repository.address_hash(self._key, channel, address)
        with self.database.transaction() as connection:
            contact = self._find_or_create(connection, channel, address, hashed, now)
        self._contacts[hashed] = contact
        with self._exclusive(contact.participant_id) as connection:
            participant = repository.load_participant(connection, contact.participant_id)
            enrolment = next((e for e in repository.enrolments_of(connection, participant.id) if e.study_id == study_id), None)
            if enrolment is None:
                enrolment = self._enrol(connection, participant, study_id, channel, group, language, now)
                if participant.fields.pop(STOPPED_BEFORE_JOINING, None) is not None:  # their STOP holds in the study
                    repository.save_participant(connection, participant)
                    repository.set_opted_out(connection, participant.id, True, now)
                    enrolment.opted_out = True
            if enrolment.opted_out:
                return ReceiveResult("opted_out", None, participant.id)
            flow_id = flow_id or self.studies.get(study_id).study.join.start_flow
            ids = self._start(connection, contact, enrolment, flow_id, None, now, participant)
        return ReceiveResult("joined", None, participant.id, tuple(ids))

    def session_status(self, participant_id: str) -> str | None:
        """The status of the participant's latest session: waiting, snoozed, stopped, ended or replaced."""
        with self.database.transaction() as connection:
            session = repository.latest_session(connection, participant_id)
        return session.status if session else None

    @contextmanager
    def holding(self, participant_ids: Iterable[str]) -> Iterator[Connection]:
        """Several participants' locks, taken in a stable order, and one transaction: for batch
        work such as the scheduler starting many follow-ups at once."""
        with ExitStack() as held:
            for pid in sorted(set(participant_ids)):
                held.enter_context(self._locks.hold(pid))
            with self.database.transaction() as connection:
                yield connection

    def start_within(self, connection: Connection, contact: ContactRef, enrolment: EnrolmentRef, flow_id: str,
                     now: datetime) -> list[int]:
        """Start a flow inside the caller's transaction, which must come from :meth:`holding`."""
        return self._start(connection, contact, enrolment, flow_id, None, now)

    def start_many_within(self, connection: Connection, starts: Sequence[tuple[ContactRef, EnrolmentRef, str]],
                          now: datetime) -> list[int]:
        """Start a flow for each (contact, enrolment, flow) inside the caller's transaction, which
        must come from :meth:`holding` for all of them; returns the new session ids in order.

        Set-based: the participants are read, their live sessions replaced and the engine run for
        each in memory, then sessions, answers, flags, tasks and messages are written with one bulk
        insert per table. A start whose first sprint does more than that (changes the profile or
        the opt-out, holds a submission) is started on its own as :meth:`start_within` does."""
        participants = repository.load_participants(connection, [contact.participant_id for contact, _, _ in starts])
        repository.replace_live_sessions_many(connection, [(c.participant_id, e.study_id) for c, e, _ in starts], now)
        plain: list[tuple[int, Target, Sprint]] = []
        alone: list[int] = []
        for index, (contact, enrolment, flow_id) in enumerate(starts):
            participant = participants.get(contact.participant_id)
            if participant is None:
                raise KeyError(f"no participant {contact.participant_id}")
            published = self.studies.current(enrolment.study_id, flow_id)
            engine, version = self._engine(connection, published.id, enrolment.study_id)
            fields = dict(participant.fields)
            fields.setdefault("channel", contact.channel)
            if enrolment.group:
                fields.setdefault("group", enrolment.group)
            population = self._population(connection, enrolment.study_id, participant.id)
            sprint = engine.start(now, language=enrolment.language, fields=fields, seed=secrets.randbits(31), population=population)
            if not all(plain_event(event) for event in sprint.events):
                alone.append(index)
                continue
            session = SessionRef(0, enrolment.study_id, flow_id, published.id, sprint.state.model_dump(mode="json"), sprint.state.status)
            plain.append((index, Target(participant.id, contact, enrolment, session, version, None, participant), sprint))
        rows = [{"participant_id": t.participant_id, "study_id": t.session.study_id, "flow_id": t.session.flow_id,
                 "flow_version_id": t.session.flow_version_id, "state": t.session.state, "status": t.session.status}
                for _, t, _ in plain]
        session_ids = [0] * len(starts)
        writes, messages = Writes(), []
        for (index, target, sprint), session_id in zip(plain, repository.add_sessions(connection, rows, now), strict=True):
            target.session.id = session_ids[index] = session_id
            for event in sprint.events:
                collect_event(target, event, now, writes)
            messages += [outbound_row(target, m, now) for m in writes.sends if not target.enrolment.opted_out or m.kind == "stopped"]
            writes.sends = []
        repository.add_answers(connection, writes.answers)
        repository.add_flags(connection, writes.flags)
        repository.add_due_tasks(connection, writes.tasks)
        outbox.queue_many(connection, messages)
        for index in alone:
            contact, enrolment, flow_id = starts[index]
            self._start(connection, contact, enrolment, flow_id, None, now, participants[contact.participant_id])
            latest = repository.latest_session(connection, contact.participant_id)
            session_ids[index] = latest.id if latest else 0
        return session_ids

    def enrol(self, participant_id: str, study_id: str, channel: str, group: str | None = None, language: str | None = None) -> int:
        with self._exclusive(participant_id) as connection:
            participant = repository.load_participant(connection, participant_id)
            return self._enrol(connection, participant, study_id, channel, group, language, self.clock()).id

    def start_flow(self, participant_id: str, study_id: str, flow_id: str) -> tuple[int, ...] | None:
        """Start a flow for an enrolled participant (e.g. a follow-up). None if they opted out or are not enrolled."""
        now = self.clock()
        with self._exclusive(participant_id) as connection:
            enrolment = next((e for e in repository.enrolments_of(connection, participant_id) if e.study_id == study_id), None)
            contact = repository.contact_for(connection, participant_id, enrolment.channel) if enrolment else None
            if enrolment is None or enrolment.opted_out or contact is None:
                return None
            return tuple(self._start(connection, contact, enrolment, flow_id, None, now))

    def _population(self, connection: Connection, study_id: str, participant_id: str) -> object:
        """What the group said, for steps that show it (loaded lazily, cached per study)."""
        return self.population.view(connection, study_id, participant_id, self._study(connection, study_id))

    def resume(self, session_id: int, given: Timeout | Resume, snooze: ClaimedTask | None = None) -> tuple[int, ...]:
        """Hand a due timeout or reminder to the session's engine. Nothing for opted-out or replaced sessions.

        ``snooze``: the due snooze being fired, checked here, under the participant's lock and in
        the transaction that asks again (:func:`_check_snooze`), so that a reply or a new snooze
        at the same moment wins; :class:`NotResumed` says why it did not fire."""
        now = self.clock()
        with self.database.transaction() as connection:
            found = repository.get_session(connection, session_id)
        if found is None and snooze is not None:
            raise NotResumed("the session no longer exists")
        if found is None:
            raise KeyError(f"no session {session_id}")
        with self._exclusive(found[0]) as connection:
            pid, session = repository.get_session(connection, session_id) or found
            if snooze is not None:
                _check_snooze(connection, session, snooze)
            enrolment = next(e for e in repository.enrolments_of(connection, pid) if e.study_id == session.study_id)
            contact = repository.contact_for(connection, pid, enrolment.channel)
            if enrolment.opted_out or contact is None or session.status == "replaced":
                return ()
            engine, version = self._engine(connection, session.flow_version_id, session.study_id)
            population = self._population(connection, session.study_id, pid)
            sprint = engine.handle(SessionState.model_validate(session.state), given, now, population=population)
            return tuple(self._apply(connection, Target(pid, contact, enrolment, session, version), sprint, now))

    # ------------------------------------------------------------------ for the voice pipeline and the dispatcher

    def answer_stranger(self, inbound_id: int) -> tuple[int, ...]:
        """A voice note from someone in no study (yet): it is not fetched, so no voice of theirs
        is transcribed or kept; they are told how to join, as a typed message would be."""
        now, contact = self.clock(), self._sender(inbound_id)
        with self._exclusive(contact.participant_id) as connection:
            repository.set_inbound_status(connection, inbound_id, "not_enrolled", now, None)
            if STOPPED_BEFORE_JOINING in repository.load_participant(connection, contact.participant_id).fields:
                return ()  # they said STOP: nothing until START
            return tuple(self._join_help(connection, contact, now))  # (a voice note: no words to tell its language by)

    def participant_for(self, channel: str, address: str) -> str | None:
        with self.database.transaction() as connection:
            found = repository.find_contact(connection, repository.address_hash(self._key, channel, address))
        return found.participant_id if found else None

    def outbox_for(self, participant_id: str) -> list[OutboxEntry]:
        with self.database.transaction() as connection:
            return outbox.messages_for(connection, participant_id)

    def pending_outbox(self, limit: int = 100, channel: str | None = None) -> list[PendingMessage]:
        with self.database.transaction() as connection:
            return outbox.pending(connection, self.database.sealer, limit, channel)

    def mark_sent(self, outbox_id: int, provider_id: str | None) -> None:
        with self.database.transaction() as connection:
            outbox.mark_sent(connection, outbox_id, provider_id, self.clock())

    def mark_failed(self, outbox_id: int, error: str, retryable: bool) -> str:
        with self.database.transaction() as connection:
            return outbox.mark_failed(connection, outbox_id, error, retryable)

    def mark_delivered(self, channel: str, provider_id: str) -> bool:
        with self.database.transaction() as connection:
            return outbox.mark_delivered(connection, channel, provider_id, self.clock())

    def transcript(self, participant_id: str) -> list[TranscriptLine]:
        with self.database.transaction() as connection:
            return outbox.transcript(connection, participant_id)


def _check_snooze(connection: Connection, session: SessionRef, task: ClaimedTask) -> None:
    """Only a session's latest snooze fires, and only while the session is still snoozed at the
    question it was made at: an earlier one (left pending before snoozing again replaced it)
    would ask before the time the participant was last told. Raises :class:`NotResumed`. The
    session is the one just read under the lock; only the last check reads (snoozes alone)."""
    if session.status != "snoozed":
        raise NotResumed("the participant carried on before the snooze ended")
    if task.payload.get("step") not in (None, session.state.get("step")):
        raise NotResumed("the session moved on since the snooze was made")
    if due_tasks.snoozed_again(connection, task):
        raise NotResumed("replaced by a later snooze")


def _may_join(enrolments: Sequence[EnrolmentRef], start_param: str | None) -> bool:
    """Someone who said STOP joins no other study by its keyword until START: nothing is sent
    them till then (a Telegram link's /start is a START, and joins)."""
    return start_param is not None or not any(e.opted_out for e in enrolments)

