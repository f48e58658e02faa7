"""The outbox: messages waiting to be sent, and what happened when they were.

The dispatcher reads :func:`pending` (which joins in the address from ``contacts``),
sends, then calls :func:`mark_sent` or :func:`mark_failed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.tables import Contact, Inbound, Outbound

MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class PendingMessage:
    """One queued message with the address to send it to."""

    id: int
    participant_id: str
    channel: str
    address: str
    text: str
    buttons: tuple[dict[str, str], ...]
    multiple: bool
    kind: str
    attempts: int


@dataclass(frozen=True)
class TranscriptLine:
    direction: Literal["in", "out"]
    text: str
    at: datetime
    buttons: tuple[dict[str, str], ...] = ()
    status: str = ""


def queue(session: Session, values: dict[str, Any]) -> Outbound:
    row = Outbound(status="queued", attempts=0, **values)
    session.add(row)
    return row


def pending(session: Session, limit: int = 100, channel: str | None = None) -> list[PendingMessage]:
    query = (
        select(Outbound, Contact.address)
        .join(Contact, col(Contact.id) == col(Outbound.contact_id))
        .where(Outbound.status == "queued")
    )
    if channel is not None:
        query = query.where(Outbound.channel == channel)
    rows = session.exec(query.order_by(col(Outbound.id)).limit(limit)).all()
    return [
        PendingMessage(
            id=row.id or 0, participant_id=row.participant_id, channel=row.channel, address=address,
            text=row.text, buttons=tuple(row.buttons), multiple=row.multiple, kind=row.kind, attempts=row.attempts,
        )
        for row, address in rows
    ]


def hold_queued(session: Session, participant_id: str, now: datetime) -> int:
    """Stop anything still queued for someone who said STOP. Returns how many were held."""
    result = session.execute(
        update(Outbound)
        .where(col(Outbound.participant_id) == participant_id, col(Outbound.status) == "queued")
        .values(status="held", error="participant opted out")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def mark_sent(session: Session, outbox_id: int, provider_id: str | None, now: datetime) -> None:
    session.execute(
        update(Outbound)
        .where(col(Outbound.id) == outbox_id)
        .values(status="sent", provider_id=provider_id, sent_at=now, attempts=col(Outbound.attempts) + 1, error=None)
    )


def mark_failed(session: Session, outbox_id: int, error: str, retryable: bool, now: datetime) -> str:
    """Count the attempt; a retryable error goes back in the queue until MAX_ATTEMPTS. Returns the new status."""
    row = session.get(Outbound, outbox_id)
    if row is None:
        raise KeyError(outbox_id)
    row.attempts += 1
    row.error = error[:500]
    row.status = "queued" if retryable and row.attempts < MAX_ATTEMPTS else "failed"
    return row.status


def mark_delivered(session: Session, channel: str, provider_id: str, now: datetime) -> bool:
    result = session.execute(
        update(Outbound)
        .where(col(Outbound.channel) == channel, col(Outbound.provider_id) == provider_id)
        .values(status="delivered", delivered_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


def messages_for(session: Session, participant_id: str) -> list[Outbound]:
    query = select(Outbound).where(Outbound.participant_id == participant_id).order_by(col(Outbound.id))
    return list(session.exec(query))


def transcript(session: Session, participant_id: str) -> list[TranscriptLine]:
    """Everything said both ways, in order: for the web simulator and support."""
    inbound = session.exec(select(Inbound).where(Inbound.participant_id == participant_id)).all()
    lines = [(m.received_at, 0, m.id or 0, TranscriptLine("in", m.text or (m.button or ""), m.received_at, (), m.status)) for m in inbound]
    for row in messages_for(session, participant_id):
        lines.append((row.created_at, 1, row.id or 0, TranscriptLine("out", row.text, row.created_at, tuple(row.buttons), row.status)))
    return [line for *_, line in sorted(lines, key=lambda item: item[:3])]
