"""Helpers for processing many stored inbound messages in one transaction.

The inbox worker (bot/inbox.py) hands the conversation service a batch of stored messages
(``ConversationService.process_batch``): one transaction claims them (their status still
``received``, re-checked and changed in the same statement), runs each through its flow and
commits everything at once. The statements here run straight on the DBAPI connection (see
storage/driver.py): a savepoint through SQLAlchemy costs several times the statement itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from storage import due_tasks, outbox, repository
from storage.driver import Driver
from storage.quiet_holds import QUIET_HELD, HeldRow
from storage.repository import ContactRef, EnrolmentRef, ParticipantRef, SessionRef, when

_SAVEPOINT = "chorus_message"


@contextmanager
def savepoint(connection: Connection) -> Iterator[None]:
    """Everything written inside is undone if the block raises; the transaction carries on."""
    driver = Driver.of(connection)
    driver.execute(f"SAVEPOINT {_SAVEPOINT}")
    try:
        yield
    except BaseException:
        driver.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
        driver.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
        raise
    driver.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")


def lock_participants(connection: Connection, participant_ids: Sequence[str]) -> None:
    """PostgreSQL: hold the participants' row locks until the transaction ends, taken in id
    order so that two batches never deadlock. (SQLite's write lock already covers it.)
    ``FOR NO KEY UPDATE`` excludes every other batch and ``FOR UPDATE`` (one message at a
    time) but not the key-share locks that storing a new inbox row takes on its participant:
    the inbox writer stores a burst's messages in arrival order, and waiting on a batch while
    holding a key share that the batch waits for would deadlock."""
    driver = Driver.of(connection)
    if driver.postgres and participant_ids:
        driver.execute(*_locking(participant_ids)).fetchall()


def _locking(participant_ids: Sequence[str]) -> tuple[str, Sequence[Any]]:
    return "SELECT id FROM participants WHERE id = ANY(?) ORDER BY id FOR NO KEY UPDATE", (sorted(participant_ids),)


def still_received(connection: Connection, participant_ids: Iterable[str]) -> set[str]:
    """Of these participants, those with a message still waiting: ``received`` (for the inbox
    worker) or a voice note still waiting for its transcript (:data:`repository.PENDING_VOICE`).
    A new message of theirs must wait its turn behind it."""
    people = sorted(set(participant_ids))
    if not people:
        return set()
    return {str(row[0]) for row in Driver.of(connection).execute(*_still_received(people)).fetchall()}


def _still_received(people: Sequence[str]) -> tuple[str, list[Any]]:
    waiting = ("received", *repository.PENDING_VOICE)
    sql = (f"SELECT DISTINCT participant_id FROM inbound_messages WHERE status IN ({', '.join('?' for _ in waiting)})"
           f" AND participant_id IN ({', '.join('?' for _ in people)})")
    return sql, [*waiting, *people]


def find_senders(connection: Connection, hashes: Sequence[str], participant_ids: Iterable[str]) -> tuple[dict[str, ContactRef], set[str]]:
    """In one round trip to PostgreSQL: the contacts with these addresses' hashes (those
    found, as :func:`repository.find_contacts`), and which of these participants have a
    message still waiting (:func:`still_received`)."""
    people = sorted(set(participant_ids))
    statements = [repository.finding_contacts(hashes)] if hashes else []
    statements += [_still_received(people)] if people else []
    results = Driver.of(connection).fetch_together(statements)
    found = {row[0]: ContactRef(row[1], row[2], row[3]) for row in results[0]} if hashes else {}
    return found, {str(row[0]) for row in results[-1]} if people else set()


@dataclass(frozen=True)
class Claimed:
    """A stored message this transaction has taken to process."""

    participant_id: str
    channel: str
    text: str
    button: str | None
    start_param: str | None


def claim(connection: Connection, inbound_ids: Sequence[int], participant_ids: Sequence[str], now: datetime,
          lock: bool = False) -> dict[int, Claimed]:
    """Exactly once: of these messages, those still ``received`` (and still from one of these
    participants, whose locks the caller holds) are marked ``processed`` in one statement and
    returned. The caller writes another status for those that end otherwise; if its
    transaction rolls back, they are ``received`` again. Another transaction that claims the
    same ids waits for this one (a row lock, or SQLite's write lock) and then finds none.

    With ``lock``, the participants' rows are locked first (:func:`lock_participants`), in the
    same round trip to PostgreSQL: the claim runs once the locks are held."""
    if not inbound_ids:
        return {}
    driver = Driver.of(connection)
    ids, people = list(dict.fromkeys(inbound_ids)), sorted(set(participant_ids))
    sql = (f"UPDATE inbound_messages SET status = ?, processed_at = ? WHERE id IN ({', '.join('?' for _ in ids)})"
           f" AND status = ? AND participant_id IN ({', '.join('?' for _ in people)})"
           " RETURNING id, participant_id, channel, text, button, start_param")
    locking = [_locking(people)] if lock and driver.postgres and people else []
    rows = driver.fetch_together([*locking, (sql, ["processed", when(driver, now), *ids, "received", *people])])[-1]
    return {int(r[0]): Claimed(r[1], r[2], r[3] or "", r[4], r[5]) for r in rows}


@dataclass(frozen=True)
class Known:
    """What a batch read ahead about one participant (see :class:`Preloaded`)."""

    enrolments: list[EnrolmentRef]
    session: SessionRef | None
    """Their latest session; None: they have none at all."""
    participant: ParticipantRef | None
    last_sent: str | None
    """The kind of the last message queued for them, read only for those without a session
    (whose reply may answer a question asked before any conversation: DELETE MY DATA)."""
    quiet_held: list[HeldRow] = field(default_factory=list)
    """Their messages held through quiet hours (:func:`storage.quiet_holds.held_for`)."""


@dataclass
class Preloaded:
    """Each participant's contacts, enrolments, latest session and profile (and, without a
    session, the kind of the last message sent them), read for a whole batch in a few
    statements instead of several per message. What is known of a participant is used once
    (:meth:`take`): a second message from them reads again, after the first one's writes."""

    contacts: dict[tuple[str, str], ContactRef] = field(default_factory=dict)
    enrolments: dict[str, list[EnrolmentRef]] = field(default_factory=dict)
    sessions: dict[str, SessionRef | None] = field(default_factory=dict)
    participants: dict[str, ParticipantRef] = field(default_factory=dict)
    last_sent: dict[str, str] = field(default_factory=dict)
    quiet_held: dict[str, list[HeldRow]] = field(default_factory=dict)
    reserved: dict[str, list[int]] = field(default_factory=dict)
    """PostgreSQL: ids taken from the enrolments' and sessions' sequences for the batch's joins
    (see :class:`Deferred`)."""

    def merge(self, other: Preloaded | None) -> None:
        """What ``other`` read (later, of some of the same participants) replaces what this held
        of them; the ids reserved here stay."""
        if other is not None:
            self.contacts.update(other.contacts)
            self.enrolments.update(other.enrolments)
            self.sessions.update(other.sessions)
            self.participants.update(other.participants)
            self.last_sent.update(other.last_sent)
            self.quiet_held.update(other.quiet_held)

    def take(self, participant_id: str) -> Known | None:
        if participant_id not in self.enrolments:
            return None
        return Known(self.enrolments.pop(participant_id), self.sessions.pop(participant_id, None),
                     self.participants.pop(participant_id, None), self.last_sent.pop(participant_id, None),
                     self.quiet_held.pop(participant_id, []))


def preload(connection: Connection, participant_ids: Sequence[str], lock: Sequence[str] = (), joining: int = 0) -> Preloaded:
    """What :func:`repository.contact_for` (per channel), :func:`repository.enrolments_of`,
    :func:`repository.latest_session`, :func:`repository.load_participant` and (for those
    without a session) :func:`outbox.last_kind` would say for each participant.

    With ``lock``, those participants are locked first (:func:`lock_participants`) in the
    same round trip to PostgreSQL: the reads run once the locks are held, so they see what
    a batch that held them before committed. With ``joining`` (PostgreSQL), as many
    enrolment and session ids are reserved in that round trip too, for :class:`Deferred` to
    write the joins with the batch's other writes."""
    return preload_later(connection, participant_ids, lock, (), joining)(())


def preload_later(connection: Connection, participant_ids: Sequence[str], lock: Sequence[str] = (),
                  created: Sequence[str] = (), joining: int = 0) -> Callable[[Sequence[ContactRef]], Preloaded]:
    """:func:`preload`, sent now (inside :meth:`Driver.pipelined`, with the block's other
    statements), read when the returned function is called with the contacts of those
    ``created`` in this transaction (after the block, once their contacts' ids are known):
    they have nothing but their contact yet, so nothing is read about them."""
    driver = Driver.of(connection)
    ids = sorted(set(participant_ids) - set(created))
    marks = ", ".join("?" for _ in ids)
    reads = [
        (f"SELECT participant_id, id, channel FROM contacts WHERE participant_id IN ({marks}) ORDER BY id", ids),
        ('SELECT p.id, p.language, p.fields, e.id, e.study_id, e."group", e.language, e.channel, e.opted_out'
         f" FROM participants p LEFT JOIN enrolments e ON e.participant_id = p.id WHERE p.id IN ({marks}) ORDER BY e.id", ids),
        ("SELECT participant_id, id, study_id, flow_id, flow_version_id, state, status FROM sessions WHERE id IN"
         f" (SELECT max(id) FROM sessions WHERE participant_id IN ({marks}) GROUP BY participant_id)", ids),
        ("SELECT participant_id, id, session_id, step_id, kind FROM outbound_messages WHERE status = ? AND error LIKE ?"
         f" AND participant_id IN ({marks}) ORDER BY id", ["held", QUIET_HELD + "%", *ids]),
    ] if ids else []
    locking = [_locking(lock)] if lock and driver.postgres else []
    reserving = [repository.reserving(table, joining) for table in _RESERVED] if joining and driver.postgres else []
    sent = driver.send_together([*locking, *reads, *reserving])

    def read(new: Sequence[ContactRef]) -> Preloaded:
        found = Preloaded()
        for contact in new:
            found.contacts[(contact.participant_id, contact.channel)] = contact
            found.enrolments[contact.participant_id] = []
            found.sessions[contact.participant_id] = None
            found.participants[contact.participant_id] = ParticipantRef(contact.participant_id, None, {})
        results = sent()[len(locking):]
        if reserving:
            found.reserved = {table: [int(row[0]) for row in rows] for table, rows in zip(_RESERVED, results[len(reads):], strict=True)}
        if ids:
            _known(driver, found, ids, *results[:3])
            for row in results[3]:
                found.quiet_held.setdefault(row[0], []).append(HeldRow(int(row[1]), row[2], row[3], str(row[4])))
            found.last_sent = outbox.last_kinds(connection, [pid for pid in ids if found.sessions[pid] is None])
        return found
    return read


def _known(driver: Driver, found: Preloaded, ids: Sequence[str], contacts: list[Any], people: list[Any], sessions: list[Any]) -> None:
    for row in contacts:
        found.contacts[(row[0], row[2])] = ContactRef(row[0], row[1], row[2])  # the latest per channel wins
    found.enrolments.update({pid: [] for pid in ids})
    found.sessions.update(dict.fromkeys(ids))
    for row in people:
        if row[0] not in found.participants:
            found.participants[row[0]] = ParticipantRef(row[0], row[1], dict(driver.from_json(row[2]) or {}))
        if row[3] is not None:
            found.enrolments[row[0]].append(EnrolmentRef(row[3], row[4], row[5], row[6], row[7], bool(row[8])))
    for row in sessions:
        found.sessions[row[0]] = SessionRef(row[1], row[2], row[3], row[4], driver.from_json(row[5]), row[6])


_RESERVED = ("enrolments", "sessions")


@dataclass
class Deferred:
    """The common writes of a batch's messages, held back and written together (:meth:`write`)
    in the batch's transaction: its answers in one statement, its sessions' new states in one,
    its replies in one, its messages' statuses in one per status and its changed profiles in
    two, instead of three to five statements for each message (each a round trip to PostgreSQL).

    Whatever reads these rows must have them written first: the batch writes them before a
    participant's second message in it (the first one's session and answers are then read)."""

    now: datetime
    answers: list[dict[str, Any]] = field(default_factory=list)
    sessions: dict[int, SessionRef] = field(default_factory=dict)
    replies: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    """(inbound id, outbox row) in the order they were queued."""
    statuses: dict[int, str] = field(default_factory=dict)
    participants: dict[str, ParticipantRef] = field(default_factory=dict)
    """Profiles changed (a field set, a language chosen), with their enrolments."""
    enrolments: dict[int, EnrolmentRef] = field(default_factory=dict)
    audit_events: list[dict[str, Any]] = field(default_factory=list)
    """What joining and starting recorded (:func:`repository.audit_event`)."""
    reserved: dict[str, list[int]] = field(default_factory=dict)
    """Ids reserved for new enrolments and sessions (:func:`preload`), taken by :meth:`reserve`."""
    new_enrolments: list[tuple[str, EnrolmentRef]] = field(default_factory=list)
    new_sessions: list[tuple[str, SessionRef]] = field(default_factory=list)
    """Enrolments and sessions made with reserved ids, by participant id: inserted as they are
    when the batch writes (so the changes made to them since are in the insert)."""
    outbox_ids: dict[int, list[int]] = field(default_factory=dict)
    """Each message's replies' outbox ids, in order, once written."""
    ended: set[str] = field(default_factory=set)
    """Participants whose conversation one of these messages ended: their held follow-ups look
    again at once (:func:`due_tasks.release_held`), written with the rest; a batch in which no
    conversation ended writes nothing more."""

    def reserve(self, table: str) -> int | None:
        """An id reserved for a new row of ``table`` (enrolments, sessions), or None if none is left."""
        ids = self.reserved.get(table)
        return ids.pop(0) if ids else None

    def enrol(self, participant_id: str, enrolment: EnrolmentRef) -> None:
        self.new_enrolments.append((participant_id, enrolment))

    def start(self, participant_id: str, session: SessionRef) -> None:
        self.new_sessions.append((participant_id, session))

    def hold(self, inbound_id: int, answers: list[dict[str, Any]], session: SessionRef, replies: list[dict[str, Any]]) -> None:
        self.answers.extend(answers)
        self.sessions[session.id] = session
        self.replies.extend((inbound_id, row) for row in replies)

    def hold_profile(self, participant: ParticipantRef, enrolment: EnrolmentRef) -> None:
        self.participants[participant.id] = participant
        self.enrolments[enrolment.id] = enrolment

    def write(self, connection: Connection, commit: bool = False, reread: Sequence[str] = ()) -> Preloaded | None:
        """On PostgreSQL in one round trip (:meth:`Driver.pipelined`): none of these statements
        reads what another writes, and only the last one's result (the replies' ids) is read.
        With ``commit`` (the transaction's last writes; PostgreSQL) the COMMIT goes with them:
        the transaction then ends at once, and the caller's commit finds nothing left to do.
        With ``reread``, those participants are read again (:func:`preload`) after the writes,
        in the same round trip: what a participant's next message in the batch needs."""
        created = {session.id for _, session in self.new_sessions}
        driver = Driver.of(connection)
        with driver.pipelined():
            repository.save_participants(connection, list(self.participants.values()))
            repository.insert_enrolments(connection, self.new_enrolments, self.now)
            repository.save_enrolments(connection, list(self.enrolments.values()))
            repository.insert_sessions(connection, self.new_sessions, self.now)
            repository.add_answers(connection, self.answers)
            repository.save_sessions(connection, [s for s in self.sessions.values() if s.id not in created], self.now)
            repository.set_inbound_statuses(connection, self.statuses, self.now)
            repository.add_audit_events(connection, self.audit_events)
            due_tasks.release_held(connection, sorted(self.ended), self.now)
            sent = outbox.queue_later(connection, [row for _, row in self.replies])
            read_again = preload_later(connection, reread) if reread else None
            if commit and driver.postgres:
                driver.execute("COMMIT")
        ids = sent()
        for (inbound_id, _), outbox_id in zip(self.replies, ids, strict=True):
            self.outbox_ids.setdefault(inbound_id, []).append(outbox_id)
        self.answers, self.replies, self.audit_events, self.new_enrolments, self.new_sessions = [], [], [], [], []
        self.sessions, self.statuses, self.participants, self.enrolments, self.ended = {}, {}, {}, {}, set()
        return read_again(()) if read_again is not None else None
