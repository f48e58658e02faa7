"""The tables. Addresses (phone numbers, chat ids) live only in ``contacts``, encrypted
(storage/crypto.py); every other table names a participant by a pseudonymous id such as
``p-3f9c0a1b2c3d4e5f``. (One exception, as briefly as it can be: ``farewells``, the
confirmation of an erasure, keeps the erased address, encrypted, until it is sent.)

Times are stored as UTC and always read back as timezone-aware UTC datetimes, on
SQLite as on PostgreSQL. JSON columns use the portable ``sqlalchemy.JSON`` type.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, Index, LargeBinary, Table, Text, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database (SQLite keeps no time zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _when(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


def _json(nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=JSON(none_as_null=True), nullable=True)
    return Field(default_factory=dict, sa_type=JSON, nullable=False)


def _text() -> Any:
    return Field(default="", sa_type=Text, nullable=False)


class Participant(SQLModel, table=True):
    __tablename__ = "participants"

    id: str = Field(primary_key=True, max_length=40)
    """Pseudonymous: 'p-' and random hex. Safe to show, log and export."""
    language: str | None = None
    fields: dict[str, Any] = _json()
    created_at: datetime = _when()


class Contact(SQLModel, table=True):
    """How to reach a participant. The only table that holds an address."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("address_hash", name="uq_contacts_address_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    participant_id: str = Field(foreign_key="participants.id", index=True)
    channel: str
    address_hash: str = Field(max_length=64)
    """HMAC-SHA256 of channel and address with the deployment's secret key."""
    address_sealed: str = _text()
    """The address encrypted with the newest data key (a Fernet token; storage/crypto.py)."""
    created_at: datetime = _when()


class StudyRow(SQLModel, table=True):
    __tablename__ = "studies"

    id: str = Field(primary_key=True)
    title: str = ""
    content: dict[str, Any] = _json()
    published_at: datetime = _when()


class FlowVersion(SQLModel, table=True):
    """One published version of a flow; immutable, so a session can stay pinned to it."""

    __tablename__ = "flow_versions"
    __table_args__ = (UniqueConstraint("study_id", "flow_id", "version", name="uq_flow_versions_version"),)

    id: int | None = Field(default=None, primary_key=True)
    study_id: str = Field(foreign_key="studies.id")
    flow_id: str
    version: str
    content: dict[str, Any] = _json()
    published_at: datetime = _when()


class Enrolment(SQLModel, table=True):
    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("participant_id", "study_id", name="uq_enrolments_participant_study"),)

    id: int | None = Field(default=None, primary_key=True)
    participant_id: str = Field(foreign_key="participants.id", index=True)
    study_id: str = Field(foreign_key="studies.id", index=True)
    group: str | None = None
    language: str
    channel: str
    status: str = "active"
    opted_out: bool = False
    enrolled_at: datetime = _when()
    opted_out_at: datetime | None = _when(nullable=True)


class ConversationSession(SQLModel, table=True):
    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_participant_latest", "participant_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    participant_id: str = Field(foreign_key="participants.id")
    study_id: str = Field(foreign_key="studies.id")
    flow_id: str
    flow_version_id: int = Field(foreign_key="flow_versions.id")
    state: dict[str, Any] = _json()
    """A :class:`flows.engine.SessionState` as JSON."""
    status: str
    started_at: datetime = _when()
    updated_at: datetime = _when()


class Inbound(SQLModel, table=True):
    """Every message received, written before anything else happens to it."""

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("channel", "provider_id", name="uq_inbound_channel_provider"),
                      Index("ix_inbound_status", "status", "id"))

    id: int | None = Field(default=None, primary_key=True)
    channel: str
    provider_id: str
    participant_id: str | None = Field(default=None, foreign_key="participants.id", index=True)
    text: str = _text()
    button: str | None = None
    media: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON, nullable=False)
    start_param: str | None = None
    received_at: datetime = _when()
    status: str = "received"
    """received, processed, joined, not_enrolled, edited (a Telegram edit: kept without its words), awaiting_transcript,
    stale_tap (a tap on buttons of a question answered already: it answered nothing, bot/tap_checks.py), failed."""
    error: str | None = None
    processed_at: datetime | None = _when(nullable=True)
    claimed_by: str | None = None
    """The process transcribing a voice note (``host:pid:token``, bot/voice.py): one that is no
    longer running left it behind, and it is picked up again at the next start."""


class Outbound(SQLModel, table=True):
    """The outbox: what the dispatcher sends, and what happened when it did."""

    __tablename__ = "outbound_messages"
    __table_args__ = (Index("ix_outbound_status", "status", "id"), Index("ix_outbound_provider", "channel", "provider_id"),
                      Index("ix_outbound_channel_queue", "status", "channel", "id"))
    """``ix_outbound_channel_queue``: each channel's claim of its oldest queued rows (bot/dispatcher.py)."""

    id: int | None = Field(default=None, primary_key=True)
    participant_id: str = Field(foreign_key="participants.id", index=True)
    contact_id: int = Field(foreign_key="contacts.id")
    study_id: str | None = None
    session_id: int | None = None
    channel: str
    text: str = _text()
    buttons: list[dict[str, str]] = Field(default_factory=list, sa_type=JSON, nullable=False)
    multiple: bool = False
    kind: str = "prompt"
    step_id: str | None = None
    status: str = "queued"
    """queued, sending, sent, delivered, failed, held, cancelled (a held question the session moved past)."""
    provider_id: str | None = None
    delivery_key: str | None = Field(default=None, max_length=64)
    """The idempotency key every attempt to send this row carries (set when first claimed)."""
    attempts: int = 0
    error: str | None = None
    created_at: datetime = _when()
    sent_at: datetime | None = _when(nullable=True)
    delivered_at: datetime | None = _when(nullable=True)
    media_id: int | None = Field(default=None, foreign_key="media.id")
    """An image shown with the text (the caption) on channels with images; SMS sends the text alone."""


class Farewell(SQLModel, table=True):
    """The confirmation of an erasure on the participant's request, waiting to be sent: the one
    message that outlives its participant. It names no one; it keeps the address it goes to,
    encrypted as ``contacts`` does, and is deleted once sent, given up on, or a day old
    (storage/outbox.py, bot/dispatcher.py)."""

    __tablename__ = "farewells"
    __table_args__ = (Index("ix_farewells_status", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str
    address_sealed: str = _text()
    text: str = _text()
    status: str = "queued"
    """queued, or sending (claimed by a dispatcher: ``claimed_at``)."""
    attempts: int = 0
    delivery_key: str | None = Field(default=None, max_length=64)
    due_at: datetime = _when()
    """When it may be sent (later after a retryable failure)."""
    claimed_at: datetime | None = _when(nullable=True)
    created_at: datetime = _when()


class MediaRow(SQLModel, table=True):
    """Images the bot sends (Delphi feedback charts). Stored once per content (``sha256``):
    every participant who is shown the same chart shares a row. Served to Twilio, which
    fetches a WhatsApp message's media by URL, at ``GET /media/{id}`` with a signed link."""

    __tablename__ = "media"
    __table_args__ = (UniqueConstraint("sha256", name="uq_media_sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64)
    content_type: str
    data: bytes = Field(sa_type=LargeBinary, nullable=False)
    study_id: str | None = None
    created_at: datetime = _when()


class AnswerRow(SQLModel, table=True):
    __tablename__ = "answers"
    __table_args__ = (Index("ix_answers_session", "session_id", "step_id"),)

    id: int | None = Field(default=None, primary_key=True)
    participant_id: str = Field(foreign_key="participants.id", index=True)
    study_id: str = Field(foreign_key="studies.id", index=True)
    flow_id: str
    flow_version_id: int = Field(foreign_key="flow_versions.id")
    flow_version: str
    session_id: int | None = Field(default=None, foreign_key="sessions.id")
    step_id: str
    raw: str = _text()
    value: Any = _json(nullable=True)
    display: str = _text()
    source: str = "text"
    skipped: bool = False
    inbound_id: int | None = Field(default=None, foreign_key="inbound_messages.id")
    answered_at: datetime = _when()
    item: str | None = None
    """For a many-item step (Delphi item, ranking place, statement, pair, choice task): which
    item; NULL for the step's own answer."""
    withdrawn_at: datetime | None = _when(nullable=True)
    """When the participant went BACK past this answer (to change it, or onto another branch):
    kept in the export, left out of results and analyses. NULL while it stands."""
    path_position: int | None = None
    """How many steps the session had entered when this was answered: which pass through the
    step, in a flow that loops back to it (BACK withdraws only the pass it undoes)."""
    language: str | None = None
    """The language the conversation was in when this was given (a study language's code);
    an answer stored before it was kept has its participant's language in the study then."""


class CommentRow(SQLModel, table=True):
    """A participant's own words at a question that could not read them as its answer (an
    aside: flows/asides.py), kept as a comment on the step. Never an answer: results count none;
    the export, the step's results and theme analysis show them."""

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_study_step", "study_id", "step_id"),)

    id: int | None = Field(default=None, primary_key=True)
    participant_id: str = Field(foreign_key="participants.id", index=True)
    study_id: str = Field(foreign_key="studies.id")
    flow_id: str
    flow_version: str
    session_id: int | None = Field(default=None, foreign_key="sessions.id")
    step_id: str
    item: str | None = None
    """The part of a many-item step being asked (a Delphi item, a pair); NULL otherwise."""
    text: str = _text()
    source: str = "text"
    inbound_id: int | None = Field(default=None, foreign_key="inbound_messages.id")
    created_at: datetime = _when()


class SubmissionRow(SQLModel, table=True):
    """A participant's own statement or idea, shown to others only once a coordinator approves it."""

    __tablename__ = "submissions"

    id: int | None = Field(default=None, primary_key=True)
    participant_id: str = Field(foreign_key="participants.id", index=True)
    study_id: str = Field(foreign_key="studies.id", index=True)
    flow_id: str
    step_id: str
    kind: str
    """statement or idea."""
    text: str = _text()
    status: str = "pending"
    """pending, approved or rejected."""
    created_at: datetime = _when()
    moderated_at: datetime | None = _when(nullable=True)
    moderated_by: str | None = None


class FlagRow(SQLModel, table=True):
    __tablename__ = "flags"

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    message: str = _text()
    participant_id: str | None = Field(default=None, foreign_key="participants.id", index=True)
    study_id: str | None = None
    flow_id: str | None = None
    step_id: str | None = None
    acknowledged: bool = False
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = _when(nullable=True)
    created_at: datetime = _when()


class TranscriptRow(SQLModel, table=True):
    """One voice note's transcription: what was heard and how sure the model was, or why
    nothing was (``status`` failed, ``error_kind`` from nlp.audio.FailureKind). Linked to
    the inbound message it came in and, once it counts, to the answer (or the comment) it gave. The audio
    itself is never stored here; ``audio_path`` names a file only when the study's
    retention setting keeps voice notes (``retention: {audio: keep}``)."""

    __tablename__ = "transcripts"
    __table_args__ = (UniqueConstraint("inbound_id", name="uq_transcripts_inbound"),)

    id: int | None = Field(default=None, primary_key=True)
    inbound_id: int = Field(foreign_key="inbound_messages.id")
    participant_id: str = Field(foreign_key="participants.id", index=True)
    study_id: str | None = None
    session_id: int | None = None
    step_id: str | None = None
    """The question being asked when the voice note came in."""
    answer_id: int | None = Field(default=None, foreign_key="answers.id")
    comment_id: int | None = Field(default=None, foreign_key="comments.id")
    """The comment it gave, when it was a story said at a question that takes no free text
    (an aside, flows/asides.py), not an answer."""
    status: str = "heard"
    """heard or failed."""
    error_kind: str | None = None
    text: str = _text()
    language: str | None = None
    duration: float | None = None
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    confidence: float | None = None
    low_confidence: bool = False
    model: str | None = None
    seconds: float | None = None
    """How long fetching and transcribing took."""
    content_type: str | None = None
    audio_bytes: int | None = None
    audio_path: str | None = None
    created_at: datetime = _when()


class DueTask(SQLModel, table=True):
    """A timer as a row: the scheduler claims due rows and hands them to the service."""

    __tablename__ = "due_tasks"
    __table_args__ = (Index("ix_due_tasks_pending", "done", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    participant_id: str | None = Field(default=None, foreign_key="participants.id", index=True)
    study_id: str | None = None
    flow_id: str | None = None
    session_id: int | None = None
    payload: dict[str, Any] = _json()
    due_at: datetime = _when()
    claimed_at: datetime | None = _when(nullable=True)
    """When a scheduler claimed it, by that scheduler's clock: what it may have done is looked for from here."""
    leased_at: datetime | None = _when(nullable=True)
    """When it was claimed, by the database's clock: the claim's lease runs from here (storage/due_tasks.py)."""
    claimed_by: str | None = None
    attempts: int = 0
    error: str | None = None
    done: bool = False
    done_at: datetime | None = _when(nullable=True)
    created_at: datetime = _when()


class AuditEvent(SQLModel, table=True):
    """Who did what, when. Names participants only by their pseudonymous id."""

    __tablename__ = "audit_events"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _when(index=True)
    actor: str
    action: str
    subject: str | None = None
    detail: dict[str, Any] = _json()


ALL_TABLES = [
    Participant, Contact, StudyRow, FlowVersion, Enrolment, ConversationSession, Inbound,
    Outbound, AnswerRow, FlagRow, DueTask, AuditEvent, TranscriptRow, SubmissionRow, MediaRow, Farewell,
]


def table(model: type[SQLModel]) -> Table:
    """The Core table behind a model, for fast statements on the hot path."""
    found = model.__table__  # type: ignore[attr-defined]
    assert isinstance(found, Table)
    return found


PARTICIPANTS = table(Participant)
CONTACTS = table(Contact)
STUDIES = table(StudyRow)
FLOW_VERSIONS = table(FlowVersion)
ENROLMENTS = table(Enrolment)
SESSIONS = table(ConversationSession)
INBOUND = table(Inbound)
OUTBOUND = table(Outbound)
ANSWERS = table(AnswerRow)
FLAGS = table(FlagRow)
DUE_TASKS = table(DueTask)
AUDIT_EVENTS = table(AuditEvent)
TRANSCRIPTS = table(TranscriptRow)
SUBMISSIONS = table(SubmissionRow)
COMMENTS = table(CommentRow)
MEDIA = table(MediaRow)
FAREWELLS = table(Farewell)

import storage.auth  # noqa: E402, F401  (coordinator_tokens, dashboard_sessions on SQLModel.metadata)
import storage.peers  # noqa: E402, F401  (dispatchers)
