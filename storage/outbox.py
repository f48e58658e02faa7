"""The outbox: messages waiting to be sent, and what happened when they were.

The dispatcher reads :func:`pending` (which joins in the address from ``contacts`` and decrypts it),
sends, then calls :func:`mark_sent` or :func:`mark_failed`. Nothing queued for a
participant who said STOP is ever sent: :func:`hold_queued` parks it as ``held``. A question
held through quiet hours that its session has moved past is ``cancelled`` when the hold ends
(:func:`questions_no_longer_asked`, :func:`cancel_held`), never sent.

Messages that failed for good (bad provider credentials on the first day, say) can be queued
again in order, once: :func:`failed_messages` says what decides it, :func:`queue_again` does it
(``chorus outbox retry``, bot/commands/outbox.py).

The confirmation of an erasure is no participant's: they are gone. It waits in ``farewells``
with the address it goes to, sealed as contacts are (:func:`queue_farewell`); a dispatcher
claims it (:func:`claim_farewells`) and deletes it once sent or given up on, and the web
simulator takes its own (:func:`take_farewells`). None is kept longer than :data:`FAREWELL_EXPIRY`.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update

from storage.crypto import DataKeyError, Sealer
from storage.database_clock import database_time
from storage.driver import Driver
from storage.repository import when
from storage.tables import (
    AUDIT_EVENTS,
    CONTACTS,
    ENROLMENTS,
    FAREWELLS,
    INBOUND,
    OUTBOUND,
    PARTICIPANTS,
    SESSIONS,
)

MAX_ATTEMPTS = 12
"""Sends of one row before it fails for good: a retryable error (a timeout, a 5xx, throttling) is
tried again after 1, 2, 4 ... seconds, at most 5 minutes apart (the dispatcher's back-off), so
a provider's outage of about 20 minutes loses nothing; what fails after that goes again with
``chorus outbox retry``."""
STOPPED_BEFORE_JOINING = "opted_out_at"
"""The participant field keeping the STOP of someone in no study (bot.service.STOPPED_BEFORE_JOINING)."""
FAREWELL_EXPIRY = timedelta(days=1)
"""An erasure's confirmation not sent within this long (its channel not configured here, the
simulator's page closed, the provider down for a day) is deleted unsent, address and all."""
QUESTION_KINDS = frozenset({"prompt", "reminder"})
"""Messages that ask their session's current question: worth sending only while it still is."""
_QUEUE_COLUMNS = (
    "participant_id", "contact_id", "study_id", "session_id", "channel", "text", "buttons", "multiple", "kind", "step_id",
    "status", "attempts", "created_at", "media_id",
)


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
    media_id: int | None = None


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    participant_id: str
    channel: str
    text: str
    buttons: tuple[dict[str, str], ...]
    multiple: bool
    kind: str
    step_id: str | None
    status: str
    provider_id: str | None
    attempts: int
    created_at: datetime
    media_id: int | None = None
    """An image sent with the text (see :mod:`storage.media`)."""


@dataclass(frozen=True)
class TranscriptLine:
    direction: Literal["in", "out"]
    text: str
    at: datetime
    buttons: tuple[dict[str, str], ...] = ()
    status: str = ""


def queue(connection: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Queue messages in order, in one statement; returns their ids in the same order."""
    return queue_later(connection, rows)()


def queue_later(connection: Connection, rows: list[dict[str, Any]]) -> Callable[[], list[int]]:
    """:func:`queue`, the ids read when the returned function is called (inside
    :meth:`Driver.pipelined`, after the block)."""
    driver = Driver.of(connection)
    return driver.insert_rows_later("outbound_messages", [_queued(driver, row) for row in rows], returning_id=True)


def queue_many(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Queue many messages in one bulk insert (no ids back): for the scheduler's batch starts."""
    driver = Driver.of(connection)
    driver.insert_many("outbound_messages", [_queued(driver, row) for row in rows])


def _queued(driver: Driver, row: dict[str, Any]) -> dict[str, Any]:
    """An outbox row as stored: every column, status ``queued``."""
    return {**{name: row.get(name) for name in _QUEUE_COLUMNS}, "status": "queued", "attempts": 0,
            "buttons": driver.to_json(row.get("buttons", [])), "created_at": when(driver, row["created_at"])}


def pending(connection: Connection, sealer: Sealer, limit: int = 100, channel: str | None = None) -> list[PendingMessage]:
    o = OUTBOUND.c
    query = (
        select(o.id, o.participant_id, o.channel, CONTACTS.c.address_sealed, o.text, o.buttons, o.multiple, o.kind, o.attempts, o.media_id)
        .join(CONTACTS, CONTACTS.c.id == o.contact_id)
        .where(o.status == "queued")
    )
    if channel is not None:
        query = query.where(o.channel == channel)
    rows = connection.execute(query.order_by(o.id).limit(limit))
    return [PendingMessage(r[0], r[1], r[2], sealer.open(r[3]), r[4], tuple(r[5]), r[6], r[7], r[8], r[9]) for r in rows]


def hold_queued(connection: Connection, participant_id: str) -> int:
    """Park anything still queued for someone who said STOP. Returns how many were held."""
    result = connection.execute(
        update(OUTBOUND)
        .where(OUTBOUND.c.participant_id == participant_id, OUTBOUND.c.status == "queued")
        .values(status="held", error="participant opted out")
    )
    return int(result.rowcount or 0)


WINDOW_CLOSED = "whatsapp 24-hour window closed"
"""How the dispatcher's hold of a WhatsApp message outside the 24-hour window begins (bot/dispatch_rules.py)."""
WAITING_FOR_REPLY = WINDOW_CLOSED + ": waiting for the participant to reply to the template"
"""Why the dispatcher holds a participant's WhatsApp message while the one template it sent them
outside the window awaits their reply: one template for what is due together, not one each.
Left unanswered, another goes a while later (storage/template_resends.py), a few times at most."""
RESENDS_USED_UP = WINDOW_CLOSED + ": no reply to the templates sent, and no more are sent until the participant writes"
"""Why a WhatsApp message outside the window is held once the participant has left the first
template and every one sent again after it unanswered (storage/template_resends.py): it goes
when they write, as one held :data:`WAITING_FOR_REPLY` does."""
BEHIND_A_TEMPLATE = (WAITING_FOR_REPLY, RESENDS_USED_UP)
STOPPED_WHILE_HELD = "cancelled: the participant opted out (STOP) while it waited for WhatsApp's 24-hour window"
ASKED_ALREADY = "cancelled: its question was asked by the template the participant replied to, or just before it"
NO_LONGER_ASKED_AFTER_WINDOW = "cancelled: the session moved past this question while it waited for WhatsApp's 24-hour window"
SENT = ("sent", "delivered")


def settle_window_held(connection: Connection, participant_id: str, channel: str) -> bool:
    """The participant wrote, so WhatsApp's 24-hour window is open again: of their messages held
    because it was closed (no approved template, error 63016, or waiting behind the template
    sent for them), those that must never go are ``cancelled``; the rest stay held for
    storage/window_holds.py to queue once what they wrote has been read (or not). Whether any do.

    Cancelled: those queued before a STOP of theirs (a provider's opt-out leaves them held; a
    START since does not send them), a question the session has moved past
    (:func:`questions_no_longer_asked`), and a question asked already by the template they
    reply to (the last one sent) or by an earlier one held with it (a reminder after its prompt)."""
    o = OUTBOUND.c
    held = connection.execute(
        select(o.id, o.created_at, o.error, o.kind, o.session_id, o.step_id)
        .where(o.participant_id == participant_id, o.channel == channel, o.status == "held", o.error.startswith(WINDOW_CLOSED))
        .order_by(o.id)).all()
    if not held:
        return False
    stopped = queued_before_a_stop(connection, participant_id, held)
    left = [row for row in held if row[0] not in stopped]
    stale = set(questions_no_longer_asked(connection, [row[0] for row in left])) if left else set()
    repeated = _asked_already(connection, participant_id, channel, [row for row in left if row[0] not in stale])
    cancel_held(connection, sorted(stopped), STOPPED_WHILE_HELD)
    cancel_held(connection, sorted(stale), NO_LONGER_ASKED_AFTER_WINDOW)
    cancel_held(connection, repeated, ASKED_ALREADY)
    return len(stopped) + len(stale) + len(repeated) < len(held)


def queued_before_a_stop(connection: Connection, participant_id: str, held: Sequence[Any]) -> set[int]:
    """Of these held rows (id, created_at first), those queued before the participant's last STOP."""
    a = AUDIT_EVENTS.c
    stop = connection.execute(select(func.max(a.at)).where(a.action == "opted_out", a.subject == participant_id)).scalar()
    return {int(row[0]) for row in held if stop is not None and row[1] <= stop}


def _asked_already(connection: Connection, participant_id: str, channel: str, held: Sequence[Any]) -> list[int]:
    """Of these held rows (id, created_at, error, kind, session_id, step_id, in order), the
    questions asked already: by the template those waiting behind it wait for (the message sent
    last before the first of them), or by an earlier row among these."""
    o = OUTBOUND.c
    behind = [row[0] for row in held if row[2] in BEHIND_A_TEMPLATE]
    asked: set[tuple[int, str]] = set()
    if behind:
        template = connection.execute(
            select(o.kind, o.session_id, o.step_id)
            .where(o.participant_id == participant_id, o.channel == channel, o.status.in_(SENT), o.id < behind[0])
            .order_by(o.id.desc()).limit(1)).first()
        if template is not None and template[0] in QUESTION_KINDS and template[1] is not None and template[2] is not None:
            asked.add((int(template[1]), str(template[2])))
    repeated = []
    for row_id, _, _, kind, session_id, step_id in held:
        if kind not in QUESTION_KINDS or session_id is None or step_id is None:
            continue
        if (int(session_id), str(step_id)) in asked:
            repeated.append(int(row_id))
        asked.add((int(session_id), str(step_id)))
    return repeated


def questions_no_longer_asked(connection: Connection, outbox_ids: Sequence[int]) -> list[int]:
    """Of these rows, the questions (prompts, reminders) that are no longer their session's
    current one: it has moved to another step, been snoozed, or finished. Other messages
    (information, help, signposting) are never among them."""
    o = OUTBOUND.c
    asked = connection.execute(
        select(o.id, o.session_id, o.step_id)
        .where(o.id.in_(list(outbox_ids)), o.kind.in_(sorted(QUESTION_KINDS)), o.session_id.is_not(None), o.step_id.is_not(None))
    ).all()
    return moved_past(connection, {int(row[0]): (int(row[1]), str(row[2])) for row in asked})


def moved_past(connection: Connection, questions: Mapping[int, tuple[int, str]],
               waiting: Mapping[int, str | None] | None = None) -> list[int]:
    """Of these questions (outbox id: the session and step each asks), those their session no
    longer waits on. ``waiting`` (by session id: the step each waits on) gives the sessions a
    message has just changed, perhaps not yet written; the others are read."""
    if not questions:
        return []
    waiting = waiting or {}
    unknown = sorted({session_id for session_id, _ in questions.values() if session_id not in waiting})
    s = SESSIONS.c
    current = {**{int(r[0]): waiting_at(r[1], r[2])
                  for r in connection.execute(select(s.id, s.status, s.state).where(s.id.in_(unknown)))}, **waiting} if unknown else waiting
    return [row_id for row_id, (session_id, step) in questions.items() if current.get(session_id) != step]


def waiting_at(status: str, state: Any) -> str | None:
    """The step a session is waiting for an answer to, or None when it waits for none."""
    if isinstance(state, str):
        state = json.loads(state)
    step = (state or {}).get("step")
    return str(step) if status == "waiting" and step is not None else None


def cancel_held(connection: Connection, outbox_ids: Sequence[int], reason: str) -> None:
    """Never send these held rows: ``cancelled``, with the reason kept in ``error``."""
    if outbox_ids:
        connection.execute(
            update(OUTBOUND).where(OUTBOUND.c.id.in_(list(outbox_ids)), OUTBOUND.c.status == "held")
            .values(status="cancelled", error=reason)
        )


def mark_sent(connection: Connection, outbox_id: int, provider_id: str | None, now: datetime) -> None:
    connection.execute(
        update(OUTBOUND)
        .where(OUTBOUND.c.id == outbox_id)
        .values(status="sent", provider_id=provider_id, sent_at=now, attempts=OUTBOUND.c.attempts + 1, error=None)
    )


def mark_failed(connection: Connection, outbox_id: int, error: str, retryable: bool) -> str:
    """Count the attempt; a retryable error goes back in the queue until MAX_ATTEMPTS. Returns the new status."""
    attempts = connection.execute(select(OUTBOUND.c.attempts).where(OUTBOUND.c.id == outbox_id)).scalar_one() + 1
    status = "queued" if retryable and attempts < MAX_ATTEMPTS else "failed"
    connection.execute(
        update(OUTBOUND).where(OUTBOUND.c.id == outbox_id).values(attempts=attempts, error=error[:500], status=status)
    )
    return status


def mark_delivered(connection: Connection, channel: str, provider_id: str, now: datetime) -> bool:
    result = connection.execute(
        update(OUTBOUND)
        .where(OUTBOUND.c.channel == channel, OUTBOUND.c.provider_id == provider_id)
        .values(status="delivered", delivered_at=now)
    )
    return bool(result.rowcount)


def messages_for(connection: Connection, participant_id: str) -> list[OutboxEntry]:
    o = OUTBOUND.c
    query = (
        select(o.id, o.participant_id, o.channel, o.text, o.buttons, o.multiple, o.kind, o.step_id, o.status, o.provider_id,
               o.attempts, o.created_at, o.media_id)
        .where(o.participant_id == participant_id)
        .order_by(o.id)
    )
    return [
        OutboxEntry(r[0], r[1], r[2], r[3], tuple(r[4]), bool(r[5]), r[6], r[7], r[8], r[9], r[10], r[11], r[12])
        for r in connection.execute(query)
    ]


def transcript(connection: Connection, participant_id: str) -> list[TranscriptLine]:
    """Everything said both ways, in order: for the web simulator and support."""
    i = INBOUND.c
    query = select(i.id, i.text, i.button, i.received_at, i.status).where(i.participant_id == participant_id)
    lines = [(r[3], 0, r[0], TranscriptLine("in", r[1] or (r[2] or ""), r[3], (), r[4])) for r in connection.execute(query)]
    for entry in messages_for(connection, participant_id):
        lines.append((entry.created_at, 1, entry.id, TranscriptLine("out", entry.text, entry.created_at, entry.buttons, entry.status)))
    return [line for *_, line in sorted(lines, key=lambda item: item[:3])]


def last_kind(connection: Connection, participant_id: str) -> str | None:
    """The kind of the last message queued for a participant (e.g. 'erase_confirm')."""
    return last_kinds(connection, [participant_id]).get(participant_id)


def last_kinds(connection: Connection, participant_ids: Sequence[str]) -> dict[str, str]:
    """:func:`last_kind` for several participants (those sent anything), in one statement."""
    if not participant_ids:
        return {}
    sql = ("SELECT participant_id, kind FROM outbound_messages WHERE id IN (SELECT max(id) FROM outbound_messages"
           f" WHERE participant_id IN ({', '.join('?' for _ in participant_ids)}) GROUP BY participant_id)")
    return {str(row[0]): str(row[1]) for row in Driver.of(connection).execute(sql, list(participant_ids)).fetchall()}


# ----------------------------------------------------------------------------- sending again what failed


@dataclass(frozen=True)
class FailedMessage:
    """A message that failed for good, with what decides whether it may be sent again."""

    id: int
    participant_id: str
    channel: str
    kind: str
    error: str | None
    session_id: int | None
    step_id: str | None
    stopped: bool
    """Its participant is opted out, or opted out (STOP, or the provider's word) after it was queued."""
    blank: bool
    """Its text was removed by retention (storage/privacy.py): nothing is left to send."""


def failed_messages(connection: Connection, since: datetime | None = None, study_id: str | None = None,
                    channel: str | None = None) -> list[FailedMessage]:
    """The ``failed`` rows queued since ``since`` (of the study, on the channel), oldest first.
    An erased participant's rows are gone with them."""
    o, p = OUTBOUND.c, PARTICIPANTS.c
    query = (select(o.id, o.participant_id, o.channel, o.kind, o.error, o.session_id, o.step_id, o.created_at, o.text, o.media_id,
                    p.fields)
             .join(PARTICIPANTS, p.id == o.participant_id).join(CONTACTS, CONTACTS.c.id == o.contact_id)
             .where(o.status == "failed"))
    if since is not None:
        query = query.where(o.created_at >= since)
    if study_id is not None:
        query = query.where(o.study_id == study_id)
    if channel is not None:
        query = query.where(o.channel == channel)
    rows = connection.execute(query.order_by(o.id)).all()
    pids = sorted({row[1] for row in rows})
    if not pids:
        return []
    e, a = ENROLMENTS.c, AUDIT_EVENTS.c
    opted_out = set(connection.execute(select(e.participant_id).where(e.participant_id.in_(pids), e.opted_out.is_(True))).scalars())
    last_stop = dict(connection.execute(
        select(a.subject, func.max(a.at)).where(a.action == "opted_out", a.subject.in_(pids)).group_by(a.subject)).all())
    found = []
    for row_id, pid, on, kind, error, session_id, step_id, created_at, text, media_id, fields in rows:
        stopped = (pid in opted_out or STOPPED_BEFORE_JOINING in (fields if isinstance(fields, dict) else {})
                   or (pid in last_stop and last_stop[pid] >= created_at))
        found.append(FailedMessage(row_id, pid, on, kind, error, session_id, step_id, stopped, not text and media_id is None))
    return found


def asked_again(connection: Connection, messages: Sequence[FailedMessage]) -> set[int]:
    """Of these questions (prompts, reminders), those whose question went out, or waits to,
    in a later message of the same session (a reminder that got through, say)."""
    questions = [m for m in messages if m.kind in QUESTION_KINDS and m.session_id is not None and m.step_id is not None]
    if not questions:
        return set()
    o = OUTBOUND.c
    latest = {(session_id, step_id): last for session_id, step_id, last in connection.execute(
        select(o.session_id, o.step_id, func.max(o.id))
        .where(o.session_id.in_(sorted({m.session_id for m in questions if m.session_id is not None})),
               o.kind.in_(sorted(QUESTION_KINDS)), o.status.in_(("queued", "sending", "sent", "delivered", "held")))
        .group_by(o.session_id, o.step_id))}
    return {m.id for m in questions if latest.get((m.session_id, m.step_id), 0) > m.id}


def queue_again(connection: Connection, outbox_ids: Sequence[int]) -> list[int]:
    """Queue these failed rows again as if new: no attempts yet, and a new delivery key when
    claimed (the old one's send may be remembered by the provider), no provider id (a late
    report on the failed send must not touch it). Only rows still ``failed`` (so a row is
    queued again once however many do this at the same time). Returns those queued again."""
    if not outbox_ids:
        return []
    o = OUTBOUND.c
    done = connection.execute(
        update(OUTBOUND).where(o.id.in_(list(outbox_ids)), o.status == "failed")
        .values(status="queued", attempts=0, error=None, provider_id=None, delivery_key=None, sent_at=None, delivered_at=None)
        .returning(o.id)
    ).scalars().all()
    return sorted(done)


# ----------------------------------------------------------------------------- farewells


@dataclass(frozen=True)
class FarewellMessage:
    """An erasure's confirmation claimed for sending, its address opened."""

    id: int
    channel: str
    address: str
    text: str
    attempts: int
    delivery_key: str


def queue_farewell(connection: Connection, channel: str, address_sealed: str, text: str, now: datetime) -> int:
    """Queue the confirmation of an erasure to an address (still sealed: it is never opened
    here). Returns its id in ``farewells``."""
    row = {"channel": channel, "address_sealed": address_sealed, "text": text, "status": "queued", "attempts": 0,
           "due_at": now, "created_at": now}
    return int(connection.execute(insert(FAREWELLS).values(**row).returning(FAREWELLS.c.id)).scalar_one())


def claim_farewells(connection: Connection, sealer: Sealer, channels: Sequence[str], now: datetime, stale_after: timedelta,
                    limit: int = 50) -> list[FarewellMessage]:
    """Delete the farewells older than :data:`FAREWELL_EXPIRY` (on any channel), then claim
    those of ``channels`` due now: queued, or left ``sending`` longer than ``stale_after`` by a
    dispatcher that died (sent again with the same delivery key). Each gets a key when first claimed.
    The claim is stamped, and its lease measured, by the database's clock (storage/database_clock.py)."""
    f = FAREWELLS.c
    connection.execute(delete(FAREWELLS).where(f.created_at < now - FAREWELL_EXPIRY))
    lapsed = f.claimed_at < database_time(connection, -stale_after)
    due = or_(and_(f.status == "queued", f.due_at <= now), and_(f.status == "sending", lapsed))
    query = select(f.id).where(f.channel.in_(list(channels)), due).order_by(f.id).limit(limit)
    if Driver.of(connection).postgres:
        query = query.with_for_update(skip_locked=True)
    ids = list(connection.execute(query).scalars())
    if not ids:
        return []
    connection.execute(update(FAREWELLS).where(f.id.in_(ids)).values(status="sending", claimed_at=database_time(connection)))
    for row_id in connection.execute(select(f.id).where(f.id.in_(ids), f.delivery_key.is_(None))).scalars().all():
        connection.execute(update(FAREWELLS).where(f.id == row_id).values(delivery_key="chorus-" + secrets.token_hex(16)))
    rows = connection.execute(select(f.id, f.channel, f.address_sealed, f.text, f.attempts, f.delivery_key)
                              .where(f.id.in_(ids)).order_by(f.id)).all()
    found = [FarewellMessage(r[0], r[1], address, r[3], r[4], r[5]) for r in rows if (address := _opened(sealer, r[2])) is not None]
    unreadable = [r[0] for r in rows if r[0] not in {farewell.id for farewell in found}]
    if unreadable:  # sealed with a data key no longer configured: it can never go
        connection.execute(delete(FAREWELLS).where(f.id.in_(unreadable)))
    return found


def farewell_done(connection: Connection, farewell_id: int) -> None:
    """Sent, or given up on: the row, and the address with it, goes."""
    connection.execute(delete(FAREWELLS).where(FAREWELLS.c.id == farewell_id))


def farewell_failed(connection: Connection, farewell_id: int, retryable: bool, retry_at: datetime) -> bool:
    """Count a failed attempt: queued again for ``retry_at`` when retryable and attempts are
    left (True), otherwise deleted (False)."""
    f = FAREWELLS.c
    attempts = connection.execute(select(f.attempts).where(f.id == farewell_id)).scalar()
    if attempts is None:
        return False
    if retryable and attempts + 1 < MAX_ATTEMPTS:
        connection.execute(update(FAREWELLS).where(f.id == farewell_id)
                           .values(status="queued", attempts=attempts + 1, due_at=retry_at, claimed_at=None))
        return True
    farewell_done(connection, farewell_id)
    return False


def take_farewells(connection: Connection, sealer: Sealer, channel: str, address: str) -> list[str]:
    """The farewells queued to ``address`` on ``channel``, deleted as they are taken: for a
    channel with no dispatcher that shows them itself (the web simulator)."""
    f = FAREWELLS.c
    rows = connection.execute(select(f.id, f.address_sealed, f.text).where(f.channel == channel).order_by(f.id)).all()
    mine = [(row_id, text) for row_id, sealed, text in rows if _opened(sealer, sealed) == address]
    if mine:
        connection.execute(delete(FAREWELLS).where(f.id.in_([row_id for row_id, _ in mine])))
    return [text for _, text in mine]


def _opened(sealer: Sealer, sealed: str) -> str | None:
    try:
        return sealer.open(sealed)
    except DataKeyError:
        return None
