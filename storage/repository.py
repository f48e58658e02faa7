"""Reading and writing participants, inbound messages, enrolments, sessions and studies.

Every function takes an open :class:`sqlmodel.Session` so the caller decides what
goes into one transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from storage.tables import (
    AuditEvent,
    Contact,
    ConversationSession,
    Enrolment,
    FlowVersion,
    Inbound,
    Participant,
    StudyRow,
)

LIVE_SESSION = ("waiting", "snoozed", "stopped")


def new_participant_id() -> str:
    """A pseudonymous id: safe to log, show on the dashboard and export."""
    return "p-" + secrets.token_hex(8)


def address_hash(key: bytes, channel: str, address: str) -> str:
    """HMAC-SHA256 of (channel, address): lets us find a participant without indexing the address."""
    message = f"{channel}\x1f{address.strip()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


# ----------------------------------------------------------------------------- participants


@dataclass(frozen=True)
class ContactRef:
    """Which participant an address belongs to, and the contact row to reply through."""

    participant_id: str
    contact_id: int
    channel: str


def find_contact(session: Session, hashed: str) -> ContactRef | None:
    row = session.exec(select(Contact).where(Contact.address_hash == hashed)).first()
    if row is None or row.id is None:
        return None
    return ContactRef(row.participant_id, row.id, row.channel)


def create_participant(session: Session, channel: str, address: str, hashed: str, now: datetime) -> ContactRef:
    participant = Participant(id=new_participant_id(), fields={}, created_at=now)
    session.add(participant)
    session.flush()
    contact = Contact(participant_id=participant.id, channel=channel, address_hash=hashed, address=address, created_at=now)
    session.add(contact)
    session.flush()
    assert contact.id is not None
    return ContactRef(participant.id, contact.id, channel)


def contact_for(session: Session, participant_id: str, channel: str | None = None) -> ContactRef | None:
    """The participant's most recent contact, on ``channel`` when given."""
    query = select(Contact).where(Contact.participant_id == participant_id)
    if channel is not None:
        query = query.where(Contact.channel == channel)
    row = session.exec(query.order_by(col(Contact.id).desc())).first()
    if row is None or row.id is None:
        return None
    return ContactRef(row.participant_id, row.id, row.channel)


def lock_participant(session: Session, participant_id: str, for_update: bool) -> Participant:
    """Load the participant; on PostgreSQL hold its row lock until the transaction ends."""
    query = select(Participant).where(Participant.id == participant_id)
    if for_update:
        query = query.with_for_update()
    return session.exec(query).one()


def enrolments_of(session: Session, participant_id: str) -> list[Enrolment]:
    query = select(Enrolment).where(Enrolment.participant_id == participant_id).order_by(col(Enrolment.id))
    return list(session.exec(query))


def set_opted_out(session: Session, participant_id: str, opted_out: bool, now: datetime) -> None:
    """STOP and START apply to every study the participant is in."""
    session.execute(
        update(Enrolment)
        .where(col(Enrolment.participant_id) == participant_id)
        .values(opted_out=opted_out, opted_out_at=now if opted_out else None)
    )


# ----------------------------------------------------------------------------- inbound


def record_inbound(session: Session, values: dict[str, Any]) -> int | None:
    """Insert an inbound message; None when (channel, provider_id) is already there."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(Inbound)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["channel", "provider_id"])
        .returning(col(Inbound.id))
    )
    return session.execute(statement).scalar_one_or_none()


def set_inbound_status(session: Session, inbound_id: int, status: str, now: datetime, error: str | None = None) -> None:
    session.execute(
        update(Inbound).where(col(Inbound.id) == inbound_id).values(status=status, error=error, processed_at=now)
    )


# ----------------------------------------------------------------------------- sessions


def latest_session(session: Session, participant_id: str, study_id: str | None = None) -> ConversationSession | None:
    query = select(ConversationSession).where(ConversationSession.participant_id == participant_id)
    if study_id is not None:
        query = query.where(ConversationSession.study_id == study_id)
    return session.exec(query.order_by(col(ConversationSession.id).desc()).limit(1)).first()


def replace_live_sessions(session: Session, participant_id: str, study_id: str, now: datetime) -> None:
    """A newly started flow takes over from any conversation still going in the study."""
    session.execute(
        update(ConversationSession)
        .where(col(ConversationSession.participant_id) == participant_id)
        .where(col(ConversationSession.study_id) == study_id)
        .where(col(ConversationSession.status).in_(("waiting", "snoozed")))
        .values(status="replaced", updated_at=now)
    )


# ----------------------------------------------------------------------------- studies


def publish_study(session: Session, study_id: str, title: str, content: dict[str, Any], now: datetime) -> None:
    row = session.get(StudyRow, study_id)
    if row is None:
        session.add(StudyRow(id=study_id, title=title, content=content, published_at=now))
    elif row.content != content or row.title != title:
        row.title, row.content, row.published_at = title, content, now
    session.flush()


def publish_flow(session: Session, study_id: str, flow_id: str, version: str, content: dict[str, Any], now: datetime) -> tuple[int, bool]:
    """The id of this flow version, inserting it if new; and whether it was new."""
    query = select(FlowVersion).where(
        FlowVersion.study_id == study_id, FlowVersion.flow_id == flow_id, FlowVersion.version == version
    )
    row = session.exec(query).first()
    created = row is None
    if row is None:
        row = FlowVersion(study_id=study_id, flow_id=flow_id, version=version, content=content, published_at=now)
        session.add(row)
        session.flush()
    assert row.id is not None
    return row.id, created


def flow_versions(session: Session, study_id: str) -> list[FlowVersion]:
    query = select(FlowVersion).where(FlowVersion.study_id == study_id).order_by(col(FlowVersion.id))
    return list(session.exec(query))


def audit(session: Session, actor: str, action: str, now: datetime, subject: str | None = None, **detail: Any) -> None:
    """Record who did what. Never pass an address or a name here."""
    session.add(AuditEvent(at=now, actor=actor, action=action, subject=subject, detail=detail))
