"""The conversation service: glue between the pure engine and storage.

One inbound message: the inbox row is written first (a retried webhook is a no-op),
then, holding the participant's lock, the service runs the engine on the session
pinned to its flow version and writes answers, fields, session state, outbox rows,
flags and due tasks in one transaction. See ARCHITECTURE.md section 2.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.studies import JoinMatch, StudyRegistry
from channels.base import InboundMessage
from flows.engine import Engine, Resume, SessionState, Sprint, TextInput, Timeout
from flows.events import (
    LanguageChanged,
    OptedIn,
    OptedOut,
    RaiseFlag,
    RecordAnswer,
    ScheduleTask,
    SendMessage,
    SetField,
)
from flows.loader import load_flow
from flows.model import Study
from flows.words import Words
from storage import outbox, repository
from storage.database import Database
from storage.outbox import PendingMessage, TranscriptLine
from storage.repository import ContactRef
from storage.tables import (
    AnswerRow,
    ConversationSession,
    DueTask,
    Enrolment,
    FlagRow,
    FlowVersion,
    Inbound,
    Outbound,
    Participant,
    StudyRow,
)

log = logging.getLogger("chorus.service")
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class _Lock:
    __slots__ = ("lock", "__weakref__")

    def __init__(self) -> None:
        self.lock = threading.RLock()


class ParticipantLocks:
    """One re-entrant lock per participant id, forgotten once nobody holds or waits on it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: weakref.WeakValueDictionary[str, _Lock] = weakref.WeakValueDictionary()

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            entry = self._locks.get(key)
            if entry is None:
                entry = self._locks[key] = _Lock()
        with entry.lock:
            yield


@dataclass(frozen=True)
class ReceiveResult:
    status: str
    """duplicate, joined, processed, not_enrolled, awaiting_transcript or failed."""
    inbound_id: int | None = None
    participant_id: str | None = None
    outbox_ids: tuple[int, ...] = ()


@dataclass
class _Target:
    """Where one sprint's events are written."""

    participant: Participant
    contact: ContactRef
    enrolment: Enrolment
    row: ConversationSession
    version: str
    inbound_id: int | None = None


class ConversationService:
    def __init__(self, database: Database, studies: StudyRegistry, clock: Clock = utc_now, address_key: bytes | None = None) -> None:
        if address_key is None:
            from bot.settings import Settings

            address_key = Settings.from_env().address_key()
        self.database = database
        self.studies = studies
        self.clock = clock
        self._key = address_key
        self._locks = ParticipantLocks()
        self._contacts: dict[str, ContactRef] = {}
        self._engines: dict[int, tuple[Engine, str]] = {}
        self._words = Words()
        studies.publish(database, clock())

    # ------------------------------------------------------------------ inbound

    def receive(self, message: InboundMessage) -> ReceiveResult:
        now = self.clock()
        contact, inbound_id = self._record(message, now)
        if inbound_id is None:
            return ReceiveResult("duplicate", None, contact.participant_id)
        if _awaits_transcript(message):
            return ReceiveResult("awaiting_transcript", inbound_id, contact.participant_id)
        given = TextInput(message.text, button=message.button, source="button" if message.button else "text")
        return self._process(contact, inbound_id, given, message.start_param, now)

    def receive_transcript(self, inbound_id: int, text: str, confidence: float | None = None) -> ReceiveResult:
        """Carry on with a voice note once ``nlp`` has transcribed it."""
        with self.database.reading() as session:
            row = session.get(Inbound, inbound_id)
            contact = repository.contact_for(session, row.participant_id, row.channel) if row and row.participant_id else None
        if contact is None:
            raise KeyError(f"inbound message {inbound_id} has no participant")
        given = TextInput(text, source="voice", confidence=confidence)
        return self._process(contact, inbound_id, given, None, self.clock())

    def _record(self, message: InboundMessage, now: datetime) -> tuple[ContactRef, int | None]:
        hashed = repository.address_hash(self._key, message.channel, message.address)
        values = {
            "channel": message.channel, "provider_id": message.provider_id, "text": message.text,
            "button": message.button, "start_param": message.start_param, "received_at": message.received_at or now,
            "media": [{"url": m.url, "content_type": m.content_type, "size": m.size} for m in message.media],
            "status": "awaiting_transcript" if _awaits_transcript(message) else "received",
        }
        for attempt in (1, 2):
            try:
                with self.database.transaction() as session:
                    contact = self._contacts.get(hashed) or repository.find_contact(session, hashed)
                    if contact is None:
                        contact = repository.create_participant(session, message.channel, message.address, hashed, now)
                    inbound_id = repository.record_inbound(session, {**values, "participant_id": contact.participant_id})
                self._contacts[hashed] = contact
                return contact, inbound_id
            except IntegrityError:  # the same new address arrived twice at once: find it next time
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _process(self, contact: ContactRef, inbound_id: int, given: TextInput, start_param: str | None, now: datetime) -> ReceiveResult:
        try:
            with self._exclusive(contact.participant_id) as (session, participant):
                status, rows = self._route(session, participant, contact, given, start_param, inbound_id, now)
                repository.set_inbound_status(session, inbound_id, status, now)
                session.flush()
        except Exception as error:
            log.exception("message %s from %s failed", inbound_id, contact.participant_id)
            with self.database.transaction() as session:
                repository.set_inbound_status(session, inbound_id, "failed", now, _describe(error))
            return ReceiveResult("failed", inbound_id, contact.participant_id)
        return ReceiveResult(status, inbound_id, contact.participant_id, tuple(r.id for r in rows if r.id))

    def _route(
        self, session: Session, participant: Participant, contact: ContactRef, given: TextInput,
        start_param: str | None, inbound_id: int, now: datetime,
    ) -> tuple[str, list[Outbound]]:
        enrolments = repository.enrolments_of(session, participant.id)
        match = self.studies.match_join(contact.channel, given.text, start_param)
        if match is not None and all(e.study_id != match.study_id for e in enrolments):
            return "joined", self._join(session, participant, contact, match, inbound_id, now)
        if not enrolments:
            return "not_enrolled", self._join_help(session, participant, contact, given, now)
        row = repository.latest_session(session, participant.id)
        if row is None:
            enrolment = enrolments[0]
            flow_id = self.studies.get(enrolment.study_id).study.join.start_flow
            return "processed", self._start(session, participant, enrolment, contact, flow_id, inbound_id, now)
        enrolment = next(e for e in enrolments if e.study_id == row.study_id)
        engine, version = self._engine(session, row.flow_version_id, row.study_id)
        sprint = engine.handle(SessionState.model_validate(row.state), given, now)
        target = _Target(participant, contact, enrolment, row, version, inbound_id)
        return "processed", self._apply(session, target, sprint, now)

    # ------------------------------------------------------------------ joining and starting

    def _join(self, session: Session, participant: Participant, contact: ContactRef, match: JoinMatch, inbound_id: int, now: datetime) -> list[Outbound]:
        enrolment = self._enrol(session, participant, match.study_id, contact.channel, match.group, None, now)
        log.info("participant %s joined %s (group %s)", participant.id, match.study_id, match.group)
        return self._start(session, participant, enrolment, contact, match.flow_id, inbound_id, now)

    def _join_help(self, session: Session, participant: Participant, contact: ContactRef, given: TextInput, now: datetime) -> list[Outbound]:
        if self._words.command(given.text) == "stop":
            return []  # never answer a stranger's STOP with anything
        keywords = self.studies.join_keywords()
        if not keywords:
            text = "Sorry, there is nothing to take part in here at the moment."
        elif len(keywords) == 1:
            text = f"Hello. To take part in {keywords[0][1]}, reply {keywords[0][0]}."
        else:
            text = "Hello. To take part, reply with one of these words: " + ", ".join(f"{k} ({t})" for k, t in keywords) + "."
        values = {"participant_id": participant.id, "contact_id": contact.contact_id, "channel": contact.channel,
                  "text": text, "kind": "help", "created_at": now}
        return [outbox.queue(session, values)]

    def _enrol(
        self, session: Session, participant: Participant, study_id: str, channel: str,
        group: str | None, language: str | None, now: datetime,
    ) -> Enrolment:
        study = self._study(session, study_id)
        language = language or participant.language
        language = language if language in study.languages else study.default_language
        enrolment = Enrolment(participant_id=participant.id, study_id=study_id, group=group, language=language,
                              channel=channel, status="active", opted_out=False, enrolled_at=now)
        session.add(enrolment)
        if group:
            participant.fields = {**participant.fields, "group": group}
        repository.audit(session, "participant", "enrolled", now, participant.id, study=study_id, group=group)
        session.flush()
        return enrolment

    def _start(
        self, session: Session, participant: Participant, enrolment: Enrolment, contact: ContactRef,
        flow_id: str, inbound_id: int | None, now: datetime,
    ) -> list[Outbound]:
        published = self.studies.current(enrolment.study_id, flow_id)
        repository.replace_live_sessions(session, participant.id, enrolment.study_id, now)
        engine, version = self._engine(session, published.id, enrolment.study_id)
        fields = dict(participant.fields)
        if enrolment.group:
            fields.setdefault("group", enrolment.group)
        sprint = engine.start(now, language=enrolment.language, fields=fields)
        row = ConversationSession(participant_id=participant.id, study_id=enrolment.study_id, flow_id=flow_id,
                                  flow_version_id=published.id, state={}, status="waiting", started_at=now, updated_at=now)
        session.add(row)
        session.flush()
        return self._apply(session, _Target(participant, contact, enrolment, row, version, inbound_id), sprint, now)

    # ------------------------------------------------------------------ writing a sprint

    def _apply(self, session: Session, target: _Target, sprint: Sprint, now: datetime) -> list[Outbound]:
        sends: list[SendMessage] = []
        opted_out = target.enrolment.opted_out
        for event in sprint.events:
            if isinstance(event, SendMessage):
                sends.append(event)
            elif isinstance(event, OptedOut | OptedIn):
                opted_out = isinstance(event, OptedOut)
                self._set_opted_out(session, target, opted_out, now)
            else:
                self._record_event(session, target, event, now)
        target.row.state = sprint.state.model_dump(mode="json")
        target.row.status = sprint.state.status
        target.row.updated_at = now
        if opted_out:
            sends = [m for m in sends if m.kind == "stopped"]
        return [outbox.queue(session, _outbound(target, message, now)) for message in sends]

    def _record_event(self, session: Session, target: _Target, event: object, now: datetime) -> None:
        row, participant = target.row, target.participant
        if isinstance(event, RecordAnswer):
            session.add(AnswerRow(
                participant_id=participant.id, study_id=row.study_id, flow_id=row.flow_id,
                flow_version_id=row.flow_version_id, flow_version=target.version, session_id=row.id,
                step_id=event.step_id, raw=event.raw, value=event.value, display=event.display,
                source=event.source, skipped=event.skipped, inbound_id=target.inbound_id, answered_at=now,
            ))
        elif isinstance(event, SetField):
            participant.fields = {**participant.fields, event.name: event.value}
            if event.name == "group":
                target.enrolment.group = None if event.value is None else str(event.value)
        elif isinstance(event, LanguageChanged):
            participant.language = target.enrolment.language = event.language
        elif isinstance(event, RaiseFlag):
            session.add(FlagRow(kind=event.kind, message=event.message, participant_id=participant.id,
                                study_id=row.study_id, flow_id=row.flow_id, step_id=event.step_id, created_at=now))
        elif isinstance(event, ScheduleTask):
            session.add(DueTask(kind=event.kind, participant_id=participant.id, study_id=row.study_id, flow_id=row.flow_id,
                                session_id=row.id, payload=event.payload, due_at=event.at, created_at=now))

    def _set_opted_out(self, session: Session, target: _Target, opted_out: bool, now: datetime) -> None:
        pid = target.participant.id
        repository.set_opted_out(session, pid, opted_out, now)  # also updates loaded Enrolment objects
        if opted_out:
            outbox.hold_queued(session, pid, now)
        repository.audit(session, "participant", "opted_out" if opted_out else "opted_in", now, pid)
        log.info("participant %s %s", pid, "opted out" if opted_out else "opted back in")

    # ------------------------------------------------------------------ flows and studies

    def _engine(self, session: Session, flow_version_id: int, study_id: str) -> tuple[Engine, str]:
        """The engine for a published flow version, loaded from the database once."""
        cached = self._engines.get(flow_version_id)
        if cached is None:
            row = session.get(FlowVersion, flow_version_id)
            if row is None:
                raise KeyError(f"flow version {flow_version_id} is not published")
            flow = load_flow(f"{study_id}/{row.flow_id}@{row.version}", raw=row.content).flow
            cached = self._engines[flow_version_id] = (Engine(flow, self._study(session, study_id), row.version), row.version)
        return cached

    def _study(self, session: Session, study_id: str) -> Study:
        if study_id in self.studies:
            return self.studies.get(study_id).study
        row = session.get(StudyRow, study_id)
        if row is None:
            raise KeyError(f"study '{study_id}' is not published")
        return Study.model_validate(row.content)

    @contextmanager
    def _exclusive(self, participant_id: str) -> Iterator[tuple[Session, Participant]]:
        """One participant, one message at a time: a lock in this process, a row lock on PostgreSQL."""
        with self._locks.hold(participant_id), self.database.transaction() as session:
            yield session, repository.lock_participant(session, participant_id, self.database.is_postgres)

    # ------------------------------------------------------------------ helpers for the scheduler, web and dispatcher

    def enrol(self, participant_id: str, study_id: str, channel: str, group: str | None = None, language: str | None = None) -> int:
        with self._exclusive(participant_id) as (session, participant):
            enrolment = self._enrol(session, participant, study_id, channel, group, language, self.clock())
        assert enrolment.id is not None
        return enrolment.id

    def start_flow(self, participant_id: str, study_id: str, flow_id: str) -> tuple[int, ...] | None:
        """Start a flow for an enrolled participant (e.g. a follow-up). None if they opted out or are not enrolled."""
        now = self.clock()
        with self._exclusive(participant_id) as (session, participant):
            enrolment = next((e for e in repository.enrolments_of(session, participant_id) if e.study_id == study_id), None)
            contact = repository.contact_for(session, participant_id, enrolment.channel) if enrolment else None
            if enrolment is None or enrolment.opted_out or contact is None:
                return None
            rows = self._start(session, participant, enrolment, contact, flow_id, None, now)
            session.flush()
        return tuple(r.id for r in rows if r.id)

    def resume(self, session_id: int, given: Timeout | Resume) -> tuple[int, ...]:
        """Hand a due timeout or reminder to the session's engine."""
        now = self.clock()
        with self.database.reading() as reader:
            found = reader.get(ConversationSession, session_id)
        if found is None:
            raise KeyError(f"no session {session_id}")
        with self._exclusive(found.participant_id) as (session, participant):
            row = session.get(ConversationSession, session_id)
            assert row is not None
            enrolment = session.exec(select(Enrolment).where(Enrolment.participant_id == participant.id,
                                                              Enrolment.study_id == row.study_id)).one()
            contact = repository.contact_for(session, participant.id, enrolment.channel)
            if enrolment.opted_out or contact is None or row.status == "replaced":
                return ()
            engine, version = self._engine(session, row.flow_version_id, row.study_id)
            sprint = engine.handle(SessionState.model_validate(row.state), given, now)
            rows = self._apply(session, _Target(participant, contact, enrolment, row, version), sprint, now)
            session.flush()
        return tuple(r.id for r in rows if r.id)

    def participant_for(self, channel: str, address: str) -> str | None:
        with self.database.reading() as session:
            found = repository.find_contact(session, repository.address_hash(self._key, channel, address))
        return found.participant_id if found else None

    def outbox_for(self, participant_id: str) -> list[Outbound]:
        with self.database.reading() as session:
            return outbox.messages_for(session, participant_id)

    def pending_outbox(self, limit: int = 100, channel: str | None = None) -> list[PendingMessage]:
        with self.database.reading() as session:
            return outbox.pending(session, limit, channel)

    def mark_sent(self, outbox_id: int, provider_id: str | None) -> None:
        with self.database.transaction() as session:
            outbox.mark_sent(session, outbox_id, provider_id, self.clock())

    def mark_failed(self, outbox_id: int, error: str, retryable: bool) -> str:
        with self.database.transaction() as session:
            return outbox.mark_failed(session, outbox_id, error, retryable, self.clock())

    def mark_delivered(self, channel: str, provider_id: str) -> bool:
        with self.database.transaction() as session:
            return outbox.mark_delivered(session, channel, provider_id, self.clock())

    def transcript(self, participant_id: str) -> list[TranscriptLine]:
        with self.database.reading() as session:
            return outbox.transcript(session, participant_id)


def _outbound(target: _Target, message: SendMessage, now: datetime) -> dict[str, object]:
    return {
        "participant_id": target.participant.id, "contact_id": target.contact.contact_id, "channel": target.contact.channel,
        "study_id": target.row.study_id, "session_id": target.row.id, "text": message.text,
        "buttons": [{"label": b.label, "value": b.value} for b in message.buttons], "multiple": message.multiple,
        "kind": message.kind, "step_id": message.step_id, "created_at": now,
    }


def _awaits_transcript(message: InboundMessage) -> bool:
    return not message.text.strip() and any(m.content_type.startswith("audio/") for m in message.media)


def _describe(error: Exception) -> str:
    """The error's kind and first line, without SQL parameters (which may hold what someone typed)."""
    first = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {first.split('[SQL')[0].strip()}"[:300]
