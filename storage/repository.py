"""Reading and writing participants, inbound messages, enrolments, sessions and studies.

Every function takes an open Core :class:`Connection` so the caller decides what goes
into one transaction. Core statements (not ORM objects) keep the per-message cost low.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, insert, select, update

from storage.crypto import Sealer
from storage.database_clock import database_time
from storage.driver import Driver, sqlite_time
from storage.tables import (
    ANSWERS,
    COMMENTS,
    CONTACTS,
    ENROLMENTS,
    FLOW_VERSIONS,
    INBOUND,
    SESSIONS,
    STUDIES,
    TRANSCRIPTS,
)


def when(driver: Driver, moment: datetime) -> Any:
    """``driver.when(moment)``, remembered for UTC moments on SQLite: one message stores the
    same moment several times (received, processed, answered, created), and formatting it
    costs more than the statement that stores it."""
    if moment.tzinfo is UTC and not driver.postgres:
        return _sqlite_time(moment)
    return driver.when(moment)


@lru_cache(maxsize=256)
def _sqlite_time(moment: datetime) -> str:
    return sqlite_time(moment)


def new_participant_id() -> str:
    """A pseudonymous id: safe to log, show on the dashboard and export."""
    return "p-" + secrets.token_hex(8)


def address_hash(key: bytes, channel: str, address: str) -> str:
    """HMAC-SHA256 of (channel, address): find a participant without looking up the address itself."""
    message = f"{channel}\x1f{address.strip()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def keys_problem(connection: Connection, sealer: Sealer, key: bytes) -> str | None:
    """Whether these keys are the ones the database's addresses were sealed and hashed with
    (one contact is opened and hashed again): a key file lost and silently made anew would
    leave every address unreadable, or every returning participant a stranger. None if fine."""
    row = connection.execute(
        select(CONTACTS.c.channel, CONTACTS.c.address_hash, CONTACTS.c.address_sealed).limit(1)
    ).first()
    if row is None:
        return None
    try:
        address = sealer.open(row.address_sealed)
    except Exception:
        return ("the data keys (CHORUS_DATA_KEYS or CHORUS_DATA_KEY_FILE) cannot open the participants' addresses "
                "in this database: restore the key file they were sealed with from your backup")
    if not hmac.compare_digest(address_hash(key, row.channel, address), row.address_hash):
        return ("the hash key (CHORUS_HASH_KEY or CHORUS_KEY_FILE) is not the one this database's addresses were "
                "hashed with: restore it from your backup, or returning participants would not be recognised")
    return None


@dataclass(frozen=True)
class ContactRef:
    """Which participant an address belongs to, and the contact row to reply through."""

    participant_id: str
    contact_id: int
    channel: str


@dataclass
class ParticipantRef:
    id: str
    language: str | None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class EnrolmentRef:
    id: int
    study_id: str
    group: str | None
    language: str
    channel: str
    opted_out: bool


@dataclass
class SessionRef:
    id: int
    study_id: str
    flow_id: str
    flow_version_id: int
    state: dict[str, Any]
    status: str


# ----------------------------------------------------------------------------- participants

_CONTACT_COLUMNS = (CONTACTS.c.participant_id, CONTACTS.c.id, CONTACTS.c.channel)


def find_contact(connection: Connection, hashed: str) -> ContactRef | None:
    return find_contacts(connection, [hashed]).get(hashed)


def find_contacts(connection: Connection, hashes: Sequence[str]) -> dict[str, ContactRef]:
    """The contacts with these addresses' hashes (those found), in one statement."""
    if not hashes:
        return {}
    return {row[0]: ContactRef(row[1], row[2], row[3]) for row in Driver.of(connection).execute(*finding_contacts(hashes)).fetchall()}


def finding_contacts(hashes: Sequence[str]) -> tuple[str, list[Any]]:
    """The statement of :func:`find_contacts`: rows of (address hash, participant id, contact id, channel)."""
    return f"SELECT address_hash, participant_id, id, channel FROM contacts WHERE address_hash IN ({', '.join('?' for _ in hashes)})", list(hashes)


@dataclass(frozen=True)
class SealedContact:
    channel: str
    address_sealed: str


def contacts_of(connection: Connection, participant_id: str) -> list[SealedContact]:
    """Every contact of the participant, its address still sealed."""
    rows = connection.execute(select(CONTACTS.c.channel, CONTACTS.c.address_sealed).where(CONTACTS.c.participant_id == participant_id))
    return [SealedContact(str(row[0]), str(row[1])) for row in rows]


def sealed_address(connection: Connection, contact_id: int) -> str | None:
    """One contact's address, still sealed: what an erasure's confirmation is queued to."""
    found = connection.execute(select(CONTACTS.c.address_sealed).where(CONTACTS.c.id == contact_id)).scalar()
    return None if found is None else str(found)


def contact_for(connection: Connection, participant_id: str, channel: str | None = None) -> ContactRef | None:
    """The participant's most recent contact, on ``channel`` when given."""
    query = select(*_CONTACT_COLUMNS).where(CONTACTS.c.participant_id == participant_id)
    if channel is not None:
        query = query.where(CONTACTS.c.channel == channel)
    row = connection.execute(query.order_by(CONTACTS.c.id.desc()).limit(1)).first()
    return ContactRef(row[0], row[1], row[2]) if row else None


def create_participant(connection: Connection, channel: str, sealed: str, hashed: str, now: datetime) -> ContactRef:
    """A new participant and their contact; ``sealed`` is the address encrypted (storage/crypto.py)."""
    return create_participants_later(connection, [(new_participant_id(), channel, sealed, hashed)], now)()[0]


def create_participants_later(connection: Connection, newcomers: Sequence[tuple[str, str, str, str]],
                              now: datetime) -> Callable[[], list[ContactRef]]:
    """Participants with the ids given, each with a contact, from (participant id, channel,
    sealed address, hash): sent now, their contacts read when the returned function is
    called (inside :meth:`Driver.pipelined`, after the block: one round trip with the rest)."""
    if not newcomers:
        return list
    driver = Driver.of(connection)
    stamp = when(driver, now)
    driver.insert_rows("participants", [{"id": pid, "language": None, "fields": "{}", "created_at": stamp} for pid, *_ in newcomers])
    contacts = [{"participant_id": pid, "channel": channel, "address_hash": hashed, "address_sealed": sealed, "created_at": stamp}
                for pid, channel, sealed, hashed in newcomers]
    contact_ids = driver.insert_rows_later("contacts", contacts, returning_id=True)
    return lambda: [ContactRef(pid, contact_id, channel) for (pid, channel, _, _), contact_id in zip(newcomers, contact_ids(), strict=True)]


def load_participant(connection: Connection, participant_id: str, for_update: bool = False) -> ParticipantRef:
    """The participant; with ``for_update`` (PostgreSQL) hold its row lock until the transaction ends."""
    driver = Driver.of(connection)
    lock = " FOR UPDATE" if for_update and driver.postgres else ""
    row = driver.execute(f"SELECT id, language, fields FROM participants WHERE id = ?{lock}", (participant_id,)).fetchone()
    if row is None:
        raise KeyError(f"no participant {participant_id}")
    return ParticipantRef(row[0], row[1], dict(driver.from_json(row[2]) or {}))


def load_participants(connection: Connection, participant_ids: Sequence[str]) -> dict[str, ParticipantRef]:
    """Many participants at once, by id (those that do not exist are left out)."""
    driver, found = Driver.of(connection), {}
    ids = sorted(set(participant_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        sql = f"SELECT id, language, fields FROM participants WHERE id IN ({', '.join('?' for _ in chunk)})"
        for row in driver.execute(sql, chunk).fetchall():
            found[row[0]] = ParticipantRef(row[0], row[1], dict(driver.from_json(row[2]) or {}))
    return found


def save_participant(connection: Connection, participant: ParticipantRef) -> None:
    save_participants(connection, [participant])


def save_participants(connection: Connection, participants: Sequence[ParticipantRef]) -> None:
    """Participants' language and fields, in one statement on PostgreSQL."""
    driver = Driver.of(connection)
    rows = [{"id": p.id, "language": p.language, "fields": driver.to_json(p.fields)} for p in participants]
    driver.update_many("participants", rows, {"id": "text", "language": "text", "fields": "json"})


# ----------------------------------------------------------------------------- enrolments

def enrolments_of(connection: Connection, participant_id: str) -> list[EnrolmentRef]:
    sql = 'SELECT id, study_id, "group", language, channel, opted_out FROM enrolments WHERE participant_id = ? ORDER BY id'
    rows = Driver.of(connection).execute(sql, (participant_id,)).fetchall()
    return [EnrolmentRef(r[0], r[1], r[2], r[3], r[4], bool(r[5])) for r in rows]


def enrol(connection: Connection, participant_id: str, study_id: str, channel: str, group: str | None, language: str, now: datetime) -> EnrolmentRef:
    driver = Driver.of(connection)
    values = _enrolment_values(participant_id, EnrolmentRef(0, study_id, group, language, channel, False), when(driver, now))
    enrolment_id = driver.insert("enrolments", values, returning_id=True)
    assert enrolment_id is not None
    return EnrolmentRef(enrolment_id, study_id, group, language, channel, False)


def insert_enrolments(connection: Connection, enrolments: Sequence[tuple[str, EnrolmentRef]], now: datetime) -> None:
    """Enrolments of (participant id, enrolment) whose ids were reserved (:func:`reserving`),
    as they are now, in one statement."""
    driver = Driver.of(connection)
    stamp = when(driver, now)
    driver.insert_many("enrolments", [{"id": e.id, **_enrolment_values(pid, e, stamp)} for pid, e in enrolments])


def _enrolment_values(participant_id: str, e: EnrolmentRef, stamp: Any) -> dict[str, Any]:
    return {"participant_id": participant_id, "study_id": e.study_id, "group": e.group, "language": e.language, "channel": e.channel,
            "status": "active", "opted_out": e.opted_out, "opted_out_at": stamp if e.opted_out else None, "enrolled_at": stamp}


def reserving(table: str, count: int) -> tuple[str, list[Any]]:
    """PostgreSQL: the statement that takes ``count`` ids from the table's id sequence, for rows
    written later in the transaction (by :func:`insert_enrolments`, :func:`insert_sessions`). An id
    taken and not used is a gap, as a rolled-back insert leaves."""
    return f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, ?)", [count]


def save_enrolment(connection: Connection, enrolment: EnrolmentRef) -> None:
    save_enrolments(connection, [enrolment])


def save_enrolments(connection: Connection, enrolments: Sequence[EnrolmentRef]) -> None:
    """Enrolments' group and language, in one statement on PostgreSQL."""
    rows = [{"id": e.id, "group": e.group, "language": e.language} for e in enrolments]
    Driver.of(connection).update_many("enrolments", rows, {"id": "integer", "group": "text", "language": "text"})


def set_opted_out(connection: Connection, participant_id: str, opted_out: bool, now: datetime) -> None:
    """STOP and START apply to every study the participant is in."""
    connection.execute(
        update(ENROLMENTS)
        .where(ENROLMENTS.c.participant_id == participant_id)
        .values(opted_out=opted_out, opted_out_at=now if opted_out else None)
    )


# ----------------------------------------------------------------------------- inbound


_INBOUND_COLUMNS = ("channel", "provider_id", "participant_id", "text", "button", "media", "start_param", "received_at", "status",
                    "processed_at")


def record_inbound(connection: Connection, values: dict[str, Any]) -> int | None:
    """Insert an inbound message; None when (channel, provider_id) is already there."""
    return record_inbound_many(connection, [values])[0]


def record_inbound_many(connection: Connection, rows: Sequence[dict[str, Any]]) -> list[int | None]:
    """:func:`record_inbound` for several messages in ONE statement (one round trip to the
    server); ids in order, None for each already there (or earlier in ``rows``)."""
    return record_inbound_later(connection, rows)()


def record_inbound_later(connection: Connection, rows: Sequence[dict[str, Any]]) -> Callable[[], list[int | None]]:
    """:func:`record_inbound_many`, sent now, the ids read when the returned function is called
    (inside :meth:`Driver.pipelined`, after the block)."""
    if not rows:
        return list
    driver = Driver.of(connection)
    marks = "(" + ", ".join("?" for _ in _INBOUND_COLUMNS) + ")"
    sql = (f"INSERT INTO inbound_messages ({', '.join(_INBOUND_COLUMNS)}) VALUES {', '.join(marks for _ in rows)}"
           " ON CONFLICT (channel, provider_id) DO NOTHING RETURNING id, channel, provider_id")
    params: list[Any] = []
    for values in rows:
        processed = values.get("processed_at")
        encoded = {**values, "media": driver.to_json(values.get("media", [])), "received_at": when(driver, values["received_at"]),
                   "processed_at": when(driver, processed) if processed is not None else None}
        params.extend(encoded.get(name) for name in _INBOUND_COLUMNS)
    read = driver.rows_later(sql, params)

    def ids() -> list[int | None]:
        made = {(row[1], row[2]): int(row[0]) for row in read()}
        # a second copy of one message in the same batch is the duplicate
        return [made.pop((values["channel"], values["provider_id"]), None) for values in rows]
    return ids


def set_inbound_status(connection: Connection, inbound_id: int, status: str, now: datetime, error: str | None = None) -> None:
    driver = Driver.of(connection)
    sql = "UPDATE inbound_messages SET status = ?, error = ?, processed_at = ? WHERE id = ?"
    driver.execute(sql, (status, error, when(driver, now), inbound_id))


def set_inbound_statuses(connection: Connection, statuses: Mapping[int, str], now: datetime) -> None:
    """:func:`set_inbound_status` (no error) for several messages: one statement per status."""
    driver = Driver.of(connection)
    for status in sorted(set(statuses.values())):
        ids = [inbound_id for inbound_id, given in statuses.items() if given == status]
        sql = f"UPDATE inbound_messages SET status = ?, error = NULL, processed_at = ? WHERE id IN ({', '.join('?' for _ in ids)})"
        driver.execute(sql, [status, when(driver, now), *ids])


@dataclass(frozen=True)
class StoredInbound:
    participant_id: str | None
    text: str
    button: str | None
    start_param: str | None


def inbound_to_process(connection: Connection, inbound_id: int) -> StoredInbound | None:
    """A message still waiting to be processed (status ``received``), or None."""
    sql = "SELECT participant_id, text, button, start_param FROM inbound_messages WHERE id = ? AND status = ?"
    row = Driver.of(connection).execute(sql, (inbound_id, "received")).fetchone()
    return StoredInbound(row[0], row[1] or "", row[2], row[3]) if row else None


PENDING_VOICE = ("awaiting_transcript", "transcribing")
"""The statuses of a voice note still waiting for its transcript: its sender's later messages wait behind it."""


def messages_in_turn(connection: Connection, held_since: datetime, limit: int, busy: Sequence[str] = (),
                     participant_id: str | None = None, before: int | None = None) -> list[tuple[int, str]]:
    """Messages still ``received`` whose turn has come, oldest first, as (id, participant id):
    not behind an earlier voice note of their sender's still waiting for its transcript
    (:data:`PENDING_VOICE`) and received since ``held_since`` (an older one, never to be
    transcribed, holds nothing back). Optionally only one participant's, or those before
    message ``before``; never those of the ``busy`` participants."""
    mine, voice = INBOUND.alias("mine"), INBOUND.alias("voice")
    behind_voice = select(voice.c.id).where(
        voice.c.participant_id == mine.c.participant_id, voice.c.id < mine.c.id,
        voice.c.status.in_(PENDING_VOICE), voice.c.received_at >= held_since,
    ).exists()
    query = select(mine.c.id, mine.c.participant_id).where(
        mine.c.status == "received", mine.c.participant_id.is_not(None), ~behind_voice)
    if busy:
        query = query.where(mine.c.participant_id.not_in(busy))
    if participant_id is not None:
        query = query.where(mine.c.participant_id == participant_id)
    if before is not None:
        query = query.where(mine.c.id < before)
    rows = connection.execute(query.order_by(mine.c.id).limit(limit)).all()
    return [(int(row[0]), str(row[1])) for row in rows]


def voice_note_before(connection: Connection, inbound_id: int, held_since: datetime) -> bool:
    """Whether an earlier voice note of this message's sender, received since ``held_since``,
    still waits for its transcript (this message's turn has not come)."""
    mine, voice = INBOUND.alias("mine"), INBOUND.alias("voice")
    query = select(voice.c.id).join(mine, mine.c.participant_id == voice.c.participant_id).where(
        mine.c.id == inbound_id, voice.c.id < inbound_id, voice.c.status.in_(PENDING_VOICE),
        voice.c.received_at >= held_since,
    ).limit(1)
    return connection.execute(query).first() is not None


def inbound_participant(connection: Connection, inbound_id: int) -> tuple[str | None, str] | None:
    row = connection.execute(select(INBOUND.c.participant_id, INBOUND.c.channel).where(INBOUND.c.id == inbound_id)).first()
    return (row[0], row[1]) if row else None


# ----------------------------------------------------------------------------- sessions

_SESSION_COLUMNS = (
    SESSIONS.c.id, SESSIONS.c.study_id, SESSIONS.c.flow_id, SESSIONS.c.flow_version_id, SESSIONS.c.state, SESSIONS.c.status,
)


def latest_session(connection: Connection, participant_id: str) -> SessionRef | None:
    driver = Driver.of(connection)
    sql = "SELECT id, study_id, flow_id, flow_version_id, state, status FROM sessions WHERE participant_id = ? ORDER BY id DESC LIMIT 1"
    row = driver.execute(sql, (participant_id,)).fetchone()
    return SessionRef(row[0], row[1], row[2], row[3], driver.from_json(row[4]), row[5]) if row else None


def get_session(connection: Connection, session_id: int) -> tuple[str, SessionRef] | None:
    row = connection.execute(select(SESSIONS.c.participant_id, *_SESSION_COLUMNS).where(SESSIONS.c.id == session_id)).first()
    return (row[0], SessionRef(*row[1:])) if row else None


def create_session(connection: Connection, participant_id: str, study_id: str, flow_id: str, flow_version_id: int, now: datetime) -> SessionRef:
    driver = Driver.of(connection)
    session = SessionRef(0, study_id, flow_id, flow_version_id, {}, "waiting")
    session_id = driver.insert("sessions", _session_values(driver, participant_id, session, when(driver, now)), returning_id=True)
    assert session_id is not None
    session.id = session_id
    return session


def insert_sessions(connection: Connection, sessions: Sequence[tuple[str, SessionRef]], now: datetime) -> None:
    """Sessions of (participant id, session) whose ids were reserved (:func:`reserving`), in
    the state they are in now, in one statement."""
    driver = Driver.of(connection)
    stamp = when(driver, now)
    driver.insert_many("sessions", [{"id": s.id, **_session_values(driver, pid, s, stamp)} for pid, s in sessions])


def _session_values(driver: Driver, participant_id: str, s: SessionRef, stamp: Any) -> dict[str, Any]:
    return {"participant_id": participant_id, "study_id": s.study_id, "flow_id": s.flow_id, "flow_version_id": s.flow_version_id,
            "state": driver.to_json(s.state), "status": s.status, "started_at": stamp, "updated_at": stamp}


def save_session(connection: Connection, session: SessionRef, now: datetime) -> None:
    save_sessions(connection, [session], now)


def save_sessions(connection: Connection, sessions: Sequence[SessionRef], now: datetime) -> None:
    """Sessions' state and status, in one statement on PostgreSQL."""
    driver = Driver.of(connection)
    stamp = when(driver, now)
    rows = [{"id": s.id, "state": driver.to_json(s.state), "status": s.status, "updated_at": stamp} for s in sessions]
    driver.update_many("sessions", rows, {"id": "integer", "state": "json", "status": "text", "updated_at": "timestamptz"})


def replace_live_sessions(connection: Connection, participant_id: str, study_id: str, now: datetime) -> None:
    """A newly started flow takes over from any conversation still going in the study."""
    driver = Driver.of(connection)
    sql = ("UPDATE sessions SET status = 'replaced', updated_at = ?"
           " WHERE participant_id = ? AND study_id = ? AND status IN ('waiting', 'snoozed')")
    driver.execute(sql, (when(driver, now), participant_id, study_id))


def replace_live_sessions_many(connection: Connection, pairs: Iterable[tuple[str, str]], now: datetime) -> None:
    """:func:`replace_live_sessions` for many (participant, study) pairs, a few statements per study."""
    driver, by_study = Driver.of(connection), dict[str, set[str]]()
    for participant_id, study_id in pairs:
        by_study.setdefault(study_id, set()).add(participant_id)
    for study_id, pids in by_study.items():
        ordered = sorted(pids)
        for start in range(0, len(ordered), 500):
            chunk = ordered[start:start + 500]
            sql = (f"UPDATE sessions SET status = 'replaced', updated_at = ? WHERE study_id = ?"
                   f" AND participant_id IN ({', '.join('?' for _ in chunk)}) AND status IN ('waiting', 'snoozed')")
            driver.execute(sql, (when(driver, now), study_id, *chunk))


def add_sessions(connection: Connection, rows: Sequence[dict[str, Any]], now: datetime) -> list[int]:
    """New sessions (participant_id, study_id, flow_id, flow_version_id, state, status) at once;
    their ids in order. PostgreSQL takes the ids from the sequence first and inserts them in one
    go; SQLite, in process, inserts row by row."""
    driver = Driver.of(connection)
    if not rows:
        return []
    sessions = [(r["participant_id"], SessionRef(0, r["study_id"], r["flow_id"], r["flow_version_id"], r["state"], r["status"]))
                for r in rows]
    if not driver.postgres:
        stamp = when(driver, now)
        return [int(driver.insert("sessions", _session_values(driver, pid, s, stamp), returning_id=True) or 0) for pid, s in sessions]
    ids = [int(row[0]) for row in driver.execute(*reserving("sessions", len(rows))).fetchall()]
    for (_, session), session_id in zip(sessions, ids, strict=True):
        session.id = session_id
    insert_sessions(connection, sessions, now)
    return ids


# ----------------------------------------------------------------------------- what a sprint writes


def add_answers(connection: Connection, rows: list[dict[str, Any]]) -> None:
    driver = Driver.of(connection)
    driver.insert_many("answers", [
        {**row, "value": driver.to_json(row["value"], null=True), "answered_at": when(driver, row["answered_at"])} for row in rows
    ])


def withdraw_answers(
    connection: Connection, session_id: int, step_ids: Sequence[str], now: datetime, items: Sequence[str] = (),
    from_position: int = 0, own_answer: bool = False,
) -> None:
    """The session's standing answers to these steps, given from ``from_position`` of its path
    on, no longer count: the participant went BACK past them. All of them; or, for the last
    part of a many-item step asked again, the latest of each of ``items`` (a Delphi item's
    reason, not the score before it) and with ``own_answer`` the step's own (item NULL).
    (An answer stored before positions were kept has none, and counts as given after.)"""
    if not step_ids:
        return
    driver = Driver.of(connection)
    standing = (f"session_id = ? AND withdrawn_at IS NULL AND step_id IN ({', '.join('?' * len(step_ids))})"
                " AND (path_position IS NULL OR path_position >= ?)")
    chosen = ([f"item IN ({', '.join('?' * len(items))})"] if items else []) + (["item IS NULL"] if own_answer else [])
    if chosen:  # (one statement on both databases: the latest id of each step's item)
        standing = (f"id IN (SELECT MAX(id) FROM answers WHERE {standing} AND ({' OR '.join(chosen)})"
                    " GROUP BY step_id, item)")
    driver.execute(f"UPDATE answers SET withdrawn_at = ? WHERE {standing}",
                   (when(driver, now), session_id, *step_ids, from_position, *items))


def add_flags(connection: Connection, rows: list[dict[str, Any]]) -> None:
    driver = Driver.of(connection)
    driver.insert_many("flags", [{**row, "created_at": when(driver, row["created_at"])} for row in rows])


def add_comments(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Asides kept as comments on their steps (storage/tables.py ``CommentRow``)."""
    driver = Driver.of(connection)
    driver.insert_many("comments", [{**row, "created_at": when(driver, row["created_at"])} for row in rows])


def add_due_tasks(connection: Connection, rows: list[dict[str, Any]]) -> None:
    driver = Driver.of(connection)
    driver.insert_many("due_tasks", [
        {**row, "payload": driver.to_json(row["payload"]), "due_at": when(driver, row["due_at"]),
         "created_at": when(driver, row["created_at"])}
        for row in rows
    ])


def audit(connection: Connection, actor: str, action: str, now: datetime, subject: str | None = None, **detail: Any) -> None:
    """Record who did what. Never pass an address or a name here."""
    add_audit_events(connection, [audit_event(actor, action, now, subject, **detail)])


def audit_event(actor: str, action: str, now: datetime, subject: str | None = None, **detail: Any) -> dict[str, Any]:
    """An audit event to record later (:func:`add_audit_events`): see :func:`audit`."""
    return {"at": now, "actor": actor, "action": action, "subject": subject, "detail": detail}


def add_audit_events(connection: Connection, events: Sequence[dict[str, Any]]) -> None:
    driver = Driver.of(connection)
    driver.insert_many("audit_events", [{**event, "at": when(driver, event["at"]), "detail": driver.to_json(event["detail"])}
                                        for event in events])


# ----------------------------------------------------------------------------- studies


def publish_study(connection: Connection, study_id: str, title: str, content: dict[str, Any], now: datetime) -> None:
    row = connection.execute(select(STUDIES.c.title, STUDIES.c.content).where(STUDIES.c.id == study_id)).first()
    if row is None:
        connection.execute(insert(STUDIES).values(id=study_id, title=title, content=content, published_at=now))
    elif row[0] != title or row[1] != content:
        connection.execute(update(STUDIES).where(STUDIES.c.id == study_id).values(title=title, content=content, published_at=now))


def study_content(connection: Connection, study_id: str) -> dict[str, Any] | None:
    row = connection.execute(select(STUDIES.c.content).where(STUDIES.c.id == study_id)).first()
    return dict(row[0]) if row else None


def publish_flow(connection: Connection, study_id: str, flow_id: str, version: str, content: dict[str, Any], now: datetime) -> tuple[int, bool]:
    """The id of this flow version, inserting it if new; and whether it was new."""
    found = connection.execute(
        select(FLOW_VERSIONS.c.id).where(
            FLOW_VERSIONS.c.study_id == study_id, FLOW_VERSIONS.c.flow_id == flow_id, FLOW_VERSIONS.c.version == version
        )
    ).scalar_one_or_none()
    if found is not None:
        return found, False
    values = {"study_id": study_id, "flow_id": flow_id, "version": version, "content": content, "published_at": now}
    return connection.execute(insert(FLOW_VERSIONS).values(**values).returning(FLOW_VERSIONS.c.id)).scalar_one(), True


@dataclass(frozen=True)
class PublishedVersion:
    id: int
    study_id: str
    flow_id: str
    version: str
    content: dict[str, Any]
    published_at: datetime


def flow_version(connection: Connection, flow_version_id: int) -> PublishedVersion | None:
    row = connection.execute(select(FLOW_VERSIONS).where(FLOW_VERSIONS.c.id == flow_version_id)).first()
    return PublishedVersion(*row) if row else None


def flow_versions(connection: Connection, study_id: str) -> list[PublishedVersion]:
    query = select(FLOW_VERSIONS).where(FLOW_VERSIONS.c.study_id == study_id).order_by(FLOW_VERSIONS.c.id)
    return [PublishedVersion(*row) for row in connection.execute(query)]


# ----------------------------------------------------------------------------- transcripts


def add_transcript(connection: Connection, values: dict[str, Any]) -> int:
    """Store one voice note's transcription (or its failure); its id."""
    return int(connection.execute(insert(TRANSCRIPTS).values(**values).returning(TRANSCRIPTS.c.id)).scalar_one())


def link_voice_answers(connection: Connection, participant_id: str, session_id: int, step_ids: set[str]) -> None:
    """Point each step's latest unlinked transcript at the voice answer just written for it
    (the answer may come a message later, when the participant confirms what was heard)."""
    for step_id in step_ids:
        answer_id = connection.execute(
            select(ANSWERS.c.id).where(
                ANSWERS.c.participant_id == participant_id, ANSWERS.c.session_id == session_id, ANSWERS.c.step_id == step_id,
                ANSWERS.c.source == "voice", ANSWERS.c.skipped.is_(False),
            ).order_by(ANSWERS.c.id.desc()).limit(1)
        ).scalar_one_or_none()
        transcript_id = connection.execute(
            select(TRANSCRIPTS.c.id).where(
                TRANSCRIPTS.c.participant_id == participant_id, TRANSCRIPTS.c.session_id == session_id,
                TRANSCRIPTS.c.step_id == step_id, TRANSCRIPTS.c.status == "heard", TRANSCRIPTS.c.answer_id.is_(None),
                TRANSCRIPTS.c.comment_id.is_(None),
            ).order_by(TRANSCRIPTS.c.id.desc()).limit(1)
        ).scalar_one_or_none()
        if answer_id is not None and transcript_id is not None:
            connection.execute(update(TRANSCRIPTS).where(TRANSCRIPTS.c.id == transcript_id).values(answer_id=answer_id))


def link_voice_comments(connection: Connection, participant_id: str, session_id: int, step_ids: set[str]) -> None:
    """Point each step's latest unlinked transcript at the comment just kept from it (a story
    said at a question that takes no free text; on YES, when it was read back first), as
    :func:`link_voice_answers` does for answers."""
    c, t = COMMENTS.c, TRANSCRIPTS.c
    for step_id in step_ids:
        comment_id = connection.execute(
            select(c.id).where(c.participant_id == participant_id, c.session_id == session_id, c.step_id == step_id,
                               c.source == "voice").order_by(c.id.desc()).limit(1)
        ).scalar_one_or_none()
        transcript_id = connection.execute(
            select(t.id).where(t.participant_id == participant_id, t.session_id == session_id, t.step_id == step_id,
                               t.status == "heard", t.answer_id.is_(None), t.comment_id.is_(None))
            .order_by(t.id.desc()).limit(1)
        ).scalar_one_or_none()
        if comment_id is not None and transcript_id is not None:
            connection.execute(update(TRANSCRIPTS).where(t.id == transcript_id).values(comment_id=comment_id))


def inbound_media(connection: Connection, inbound_id: int) -> tuple[str | None, str, list[dict[str, Any]]] | None:
    """An inbound message's participant, channel and media list."""
    row = connection.execute(
        select(INBOUND.c.participant_id, INBOUND.c.channel, INBOUND.c.media).where(INBOUND.c.id == inbound_id)
    ).first()
    return (row[0], row[1], list(row[2] or [])) if row else None


def claim_voice_note(connection: Connection, inbound_id: int, lease: timedelta, claimer: str | None = None,
                     abandoned: Sequence[str | None] = ()) -> bool:
    """Mark a voice note as being transcribed by ``claimer``, unless another worker has it
    (claim by update). A claim older than ``lease``, or made by one of the ``abandoned`` claimers
    (processes known to be gone; None: a claim that names no process), may be taken over. The
    claim is stamped (``processed_at``) and its age judged by the database's clock
    (storage/database_clock.py), so a process whose clock is off neither takes over a note another
    is transcribing nor leaves a dead one's waiting past the lease. (Once the note is dealt with,
    ``processed_at`` is overwritten with when, by the service's clock.)"""
    claimed = connection.execute(
        update(INBOUND).where(INBOUND.c.id == inbound_id, _voice_to_take(connection, lease, abandoned))
        .values(status="transcribing", processed_at=database_time(connection), claimed_by=claimer)
    )
    return claimed.rowcount == 1


def voice_backlog(connection: Connection, received_since: datetime, lease: timedelta, limit: int = 100,
                  abandoned: Sequence[str | None] = ()) -> list[int]:
    """Voice notes received since ``received_since`` still waiting for a transcript (e.g. after a
    restart), oldest first: never claimed, or claimed longer ago than ``lease`` or by an
    ``abandoned`` claimer (:func:`claim_voice_note`)."""
    query = select(INBOUND.c.id).where(_voice_to_take(connection, lease, abandoned), INBOUND.c.received_at >= received_since)
    return list(connection.execute(query.order_by(INBOUND.c.id).limit(limit)).scalars())


def voice_claimers(connection: Connection) -> list[str | None]:
    """Who holds the claims on voice notes being transcribed now (None: a claim naming no process)."""
    query = select(INBOUND.c.claimed_by).where(INBOUND.c.status == "transcribing").distinct()
    return list(connection.execute(query).scalars())


def _voice_to_take(connection: Connection, lease: timedelta, abandoned: Sequence[str | None]) -> Any:
    free = INBOUND.c.processed_at < database_time(connection, -lease)
    named = [claimer for claimer in abandoned if claimer is not None]
    if named:
        free = free | INBOUND.c.claimed_by.in_(named)
    if None in abandoned:
        free = free | INBOUND.c.claimed_by.is_(None)
    return (INBOUND.c.status == "awaiting_transcript") | ((INBOUND.c.status == "transcribing") & free)
