"""Erasing a participant, redacting old messages, and re-sealing addresses with a new key.

Every function takes an open Core connection so the caller decides the transaction.
Nothing here logs or returns personal data: only pseudonymous ids and counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, Table, and_, delete, exists, func, or_, select, update

from storage.crypto import Sealer
from storage.tables import (
    ANSWERS,
    COMMENTS,
    CONTACTS,
    DUE_TASKS,
    ENROLMENTS,
    FLAGS,
    INBOUND,
    MEDIA,
    OUTBOUND,
    PARTICIPANTS,
    SESSIONS,
    SUBMISSIONS,
    TRANSCRIPTS,
)

ERASED_TABLES: tuple[Table, ...] = (
    TRANSCRIPTS, ANSWERS, COMMENTS, OUTBOUND, SUBMISSIONS, FLAGS, DUE_TASKS, SESSIONS, INBOUND, ENROLMENTS, CONTACTS,
)
"""Every table that names a participant, children before parents (foreign keys)."""


@dataclass
class Erased:
    """What erasing one participant removed: counts by table, and the audio files to delete."""

    participant_id: str
    counts: dict[str, int] = field(default_factory=dict)
    audio_paths: list[str] = field(default_factory=list)
    inbound_ids: list[int] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return self.counts.get("participants", 0) > 0


def erase_participant(connection: Connection, participant_id: str) -> Erased:
    """Delete every row about the participant: contact details, fields, answers, comments, audio
    references, transcripts, inbox and outbox messages, sessions, flags and timers. The
    audit log (pseudonymous ids only) is kept."""
    erased = Erased(participant_id)
    erased.audio_paths = [path for path in connection.execute(
        select(TRANSCRIPTS.c.audio_path).where(TRANSCRIPTS.c.participant_id == participant_id, TRANSCRIPTS.c.audio_path.is_not(None))
    ).scalars() if path]
    erased.inbound_ids = list(connection.execute(select(INBOUND.c.id).where(INBOUND.c.participant_id == participant_id)).scalars())
    # transcripts of their voice notes, even if the row lost its participant link
    if erased.inbound_ids:
        extra = connection.execute(delete(TRANSCRIPTS).where(TRANSCRIPTS.c.inbound_id.in_(erased.inbound_ids)))
        erased.counts["transcripts"] = extra.rowcount or 0
    for table in ERASED_TABLES:
        result = connection.execute(delete(table).where(table.c.participant_id == participant_id))
        erased.counts[table.name] = erased.counts.get(table.name, 0) + (result.rowcount or 0)
    result = connection.execute(delete(PARTICIPANTS).where(PARTICIPANTS.c.id == participant_id))
    erased.counts["participants"] = result.rowcount or 0
    return erased


def participant_exists(connection: Connection, participant_id: str) -> bool:
    return connection.execute(select(PARTICIPANTS.c.id).where(PARTICIPANTS.c.id == participant_id)).first() is not None


# ----------------------------------------------------------------------------- retention


def redact_messages_before(connection: Connection, participant_ids: list[str] | None, study_id: str, before: datetime) -> int:
    """Blank the bodies of inbox and outbox messages older than ``before`` for the study's
    participants (the answers they gave stay). Returns how many rows were redacted."""
    pids = _study_participants(connection, study_id) if participant_ids is None else participant_ids
    if not pids:
        return 0
    count = 0
    for chunk in _chunks(pids):
        i = INBOUND.c
        result = connection.execute(
            update(INBOUND).where(i.participant_id.in_(chunk), i.received_at < before, or_(i.text != "", i.button.is_not(None)))
            .values(text="", button=None, media=[], start_param=None)
        )
        count += result.rowcount or 0
        o = OUTBOUND.c
        result = connection.execute(
            update(OUTBOUND).where(o.participant_id.in_(chunk), o.created_at < before, o.status != "queued", o.text != "")
            .values(text="", buttons=[])
        )
        count += result.rowcount or 0
    return count


def flags_quoting_before(connection: Connection, study_id: str, before: datetime, openers: Mapping[str, str]) -> list[tuple[int, str, str]]:
    """The study's participants' flags raised before ``before`` that still quote what the
    participant wrote: of a kind in ``openers`` and holding its words that open the quote
    (kind -> opener). As (id, kind, message), for the caller to take the quote out: message
    retention must not leave a participant's words in an alert (bot/retention.py)."""
    pids = _study_participants(connection, study_id)
    if not pids or not openers:
        return []
    f = FLAGS.c
    quoting = or_(*(and_(f.kind == kind, f.message.contains(opener, autoescape=True)) for kind, opener in openers.items()))
    found: list[tuple[int, str, str]] = []
    for chunk in _chunks(pids):
        rows = connection.execute(select(f.id, f.kind, f.message).where(f.participant_id.in_(chunk), f.created_at < before, quoting))
        found.extend((row.id, row.kind, row.message) for row in rows)
    return found


def set_flag_messages(connection: Connection, messages: Mapping[int, str]) -> int:
    """Replace the messages of these flags (by id), leaving the rest of each flag as it was."""
    for flag_id, message in messages.items():
        connection.execute(update(FLAGS).where(FLAGS.c.id == flag_id).values(message=message))
    return len(messages)


def forget_media_before(connection: Connection, study_id: str, before: datetime) -> int:
    """Images the study's messages showed (Delphi charts) stored before ``before``: detached
    from the messages sent before then, and deleted unless a newer message, or one still to be
    sent, shows them. Returns how many were deleted."""
    m, o = MEDIA.c, OUTBOUND.c
    old = select(m.id).where(m.study_id == study_id, m.created_at < before)
    done = o.status.not_in(["queued", "sending", "held"])
    connection.execute(update(OUTBOUND).where(o.media_id.in_(old), o.created_at < before, done).values(media_id=None))
    result = connection.execute(delete(MEDIA).where(m.study_id == study_id, m.created_at < before, ~exists().where(o.media_id == m.id)))
    return result.rowcount or 0


def audio_before(connection: Connection, study_id: str, before: datetime) -> list[tuple[int, str]]:
    """Transcripts of the study whose kept audio is older than ``before``: (row id, file)."""
    t = TRANSCRIPTS.c
    rows = connection.execute(
        select(t.id, t.audio_path).where(t.study_id == study_id, t.audio_path.is_not(None), t.created_at < before)
    ).all()
    return [(row[0], row[1]) for row in rows]


def forget_audio(connection: Connection, transcript_ids: list[int]) -> None:
    for chunk in _chunks(transcript_ids):
        connection.execute(update(TRANSCRIPTS).where(TRANSCRIPTS.c.id.in_(chunk)).values(audio_path=None))


def idle_participants(connection: Connection, study_id: str, before: datetime, after: str = "", limit: int = 500) -> list[str]:
    """The study's participants whose last message and enrolment are both older than
    ``before``, in id order after ``after``: candidates for erasure under its retention."""
    e, i = ENROLMENTS.c, INBOUND.c
    last_message = select(func.max(i.received_at)).where(i.participant_id == e.participant_id).scalar_subquery()
    query = (
        select(e.participant_id)
        .where(e.study_id == study_id, e.enrolled_at < before, e.participant_id > after)
        .where(or_(last_message.is_(None), last_message < before))
        .order_by(e.participant_id).limit(limit)
    )
    return list(connection.execute(query).scalars())


def activity(connection: Connection, participant_ids: list[str]) -> dict[str, tuple[datetime | None, dict[str, datetime]]]:
    """For each participant: when they last wrote (None if never) and their studies with the
    time they enrolled in each."""
    found: dict[str, tuple[datetime | None, dict[str, datetime]]] = {pid: (None, {}) for pid in participant_ids}
    for chunk in _chunks(participant_ids):
        i, e = INBOUND.c, ENROLMENTS.c
        for pid, last in connection.execute(select(i.participant_id, func.max(i.received_at)).where(i.participant_id.in_(chunk))
                                            .group_by(i.participant_id)):
            found[pid] = (_aware(last), found[pid][1])
        for pid, study_id, enrolled in connection.execute(select(e.participant_id, e.study_id, e.enrolled_at).where(e.participant_id.in_(chunk))):
            found[pid][1][study_id] = enrolled
    return found


def _aware(moment: datetime | str | None) -> datetime | None:
    """A grouped MAX() comes back from SQLite as text, without the column's type."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _study_participants(connection: Connection, study_id: str) -> list[str]:
    return list(connection.execute(select(ENROLMENTS.c.participant_id).where(ENROLMENTS.c.study_id == study_id)).scalars())


def _chunks(items: list[str] | list[int], size: int = 500) -> list[list[str] | list[int]]:
    return [items[n:n + size] for n in range(0, len(items), size)]


# ----------------------------------------------------------------------------- key rotation


def reseal_contacts(connection: Connection, sealer: Sealer, batch: int = 1000) -> tuple[int, int]:
    """Re-encrypt every address not sealed with the newest key. Returns (re-sealed, total)."""
    c = CONTACTS.c
    done = total = 0
    last = 0
    while True:
        rows = connection.execute(select(c.id, c.address_sealed).where(c.id > last).order_by(c.id).limit(batch)).all()
        if not rows:
            return done, total
        for row_id, sealed in rows:
            total += 1
            fresh = sealer.reseal(sealed)
            if fresh is not None:
                connection.execute(update(CONTACTS).where(c.id == row_id).values(address_sealed=fresh))
                done += 1
        last = rows[-1][0]


def rehash_contacts(connection: Connection, sealer: Sealer, hash_key: bytes, batch: int = 1000) -> tuple[int, int]:
    """Recompute every address's keyed hash with ``hash_key`` (the addresses are decrypted to
    do it, so the old hash key is not needed). Returns (changed, total)."""
    from storage.repository import address_hash

    c = CONTACTS.c
    done = total = 0
    last = 0
    while True:
        rows = connection.execute(select(c.id, c.channel, c.address_sealed, c.address_hash).where(c.id > last).order_by(c.id).limit(batch)).all()
        if not rows:
            return done, total
        for row_id, channel, sealed, old in rows:
            total += 1
            fresh = address_hash(hash_key, channel, sealer.open(sealed))
            if fresh != old:
                connection.execute(update(CONTACTS).where(c.id == row_id).values(address_hash=fresh))
                done += 1
        last = rows[-1][0]
