"""What a dispatcher's claim reads (bot/dispatcher.py): which of the rows found may go now
(a participant's earlier row waiting goes first), the claimed rows loaded with what deciding
and sending them needs, and each row's delivery key (an idempotency key, given in the claim's
commit, before any provider is called, and kept for good)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, select, update

from bot.dispatch_rules import Candidate
from channels.base import Attachment
from flows.events import Button
from flows.words import OptionTexts
from storage.crypto import Sealer
from storage.tables import CONTACTS, ENROLMENTS, INBOUND, MEDIA, OUTBOUND, PARTICIPANTS


def queued_on(channel: str, limit: int, busy: Collection[str], postgres: bool) -> Select[int, str]:
    """The claim's query on one channel: its oldest ``limit`` queued rows, but none of a ``busy``
    participant's nor of one with a row 'sending' (in doubt after a crash, or being sent by
    another dispatcher: theirs go first, so their messages keep their order). SKIP LOCKED on
    PostgreSQL, so dispatchers sharing the outbox never wait for each other's claims.

    The channel is matched as a range of one name (``>=`` and ``<=`` it: equality) and the rows
    ordered by channel, then id, so that only an index on (status, channel, id) gives the order
    asked for and the planner searches it (``ix_outbound_channel_queue``) whatever it believes.
    Matched as ``channel = ?`` and ordered by id, the order is the primary key's too, and
    PostgreSQL walked the primary key from the first row ever sent, filtering, whenever its
    statistics counted many queued rows (a broadcast's backlog): it takes them to be spread
    evenly through the table, and with ``random_page_cost`` at 4 that walk is priced below the
    search (tests/test_outbox_claim_plan.py)."""
    o = OUTBOUND.c
    in_doubt = select(o.participant_id).where(o.status == "sending")
    query = select(o.id, o.participant_id).where(o.status == "queued", o.channel >= channel, o.channel <= channel,
                                                 o.participant_id.not_in(in_doubt))
    if busy:
        query = query.where(o.participant_id.not_in(list(busy)))
    query = query.order_by(o.channel, o.id).limit(limit)
    return query.with_for_update(skip_locked=True) if postgres else query


def in_turn(connection: Connection, found: Mapping[int, str], channels: Iterable[str]) -> list[int]:
    """Of the rows found, those whose participant has no earlier row waiting (queued, or
    'sending' by another dispatcher) that was not found with them: that one goes first."""
    if not found:
        return []
    o = OUTBOUND.c
    # By participant (their index): ``status || ''`` keeps SQLite from scanning every queued
    # row by status instead (a broadcast's backlog: 18 ms a claim against 1 ms).
    first_left = dict(connection.execute(
        select(o.participant_id, func.min(o.id))
        .where(o.participant_id.in_(sorted(set(found.values()))), o.status.concat("").in_(("queued", "sending")),
               o.channel.concat("").in_(list(channels)), o.id.not_in(list(found)))
        .group_by(o.participant_id)
    ).all())
    return sorted(row_id for row_id, pid in found.items() if pid not in first_left or row_id < first_left[pid])

def load_candidates(connection: Connection, ids: list[int], sealer: Sealer,
                    option_texts_for: Callable[[str | None, str | None], OptionTexts]) -> list[Candidate]:
    """The claimed rows ``ids``, each with what deciding and sending it needs: its address
    (opened), its participant's fields and language, whether they opted out, when they last
    wrote (on any channel and on this one) and how options read for them."""
    if not ids:
        return []
    o = OUTBOUND.c
    rows = connection.execute(
        select(o.id, o.participant_id, o.channel, CONTACTS.c.address_sealed, o.text, o.buttons, o.multiple, o.kind,
               o.step_id, o.study_id, o.created_at, PARTICIPANTS.c.fields, o.media_id, MEDIA.c.content_type, MEDIA.c.data, o.delivery_key,
               PARTICIPANTS.c.language)
        .join(CONTACTS, CONTACTS.c.id == o.contact_id)
        .join(PARTICIPANTS, PARTICIPANTS.c.id == o.participant_id)
        .outerjoin(MEDIA, MEDIA.c.id == o.media_id)
        .where(o.id.in_(ids)).order_by(o.id)
    ).all()
    pids = sorted({r[1] for r in rows})
    e = ENROLMENTS.c
    enrolled = connection.execute(select(e.participant_id, e.study_id, e.opted_out, e.language).where(e.participant_id.in_(pids))).all()
    stopped = {pid for pid, _, opted_out, _ in enrolled if opted_out}
    languages = {(pid, study_id): language for pid, study_id, _, language in enrolled}
    last_any: dict[str, datetime] = {}
    last_here: dict[tuple[str, str], datetime] = {}
    i = INBOUND.c
    for pid, channel, at in connection.execute(
        select(i.participant_id, i.channel, func.max(i.received_at)).where(i.participant_id.in_(pids)).group_by(i.participant_id, i.channel)
    ):
        at = _aware(at)
        last_here[(pid, channel)] = at
        last_any[pid] = max(at, last_any.get(pid, at))
    found = []
    for r in rows:
        buttons = tuple(Button(b["label"], b["value"], b.get("at", "")) for b in _json_list(r[5]))
        fields = r[11] if isinstance(r[11], dict) else {}
        attachment = Attachment(int(r[12]), str(r[13]), bytes(r[14])) if r[12] is not None and r[14] is not None else None
        language = languages.get((r[1], r[9])) or r[16]
        found.append(Candidate(
            r[0], r[1], r[2], sealer.open(r[3]), r[4], buttons, bool(r[6]), r[7], r[8], r[9], _aware(r[10]),
            r[1] in stopped, last_any.get(r[1]), last_here.get((r[1], r[2])), fields.get("timezone"), attachment, r[15],
            option_texts_for(r[9], language),
        ))
    return found


def give_keys(connection: Connection, ids: list[int]) -> None:
    """A delivery key for each claimed row that has none yet (a row keeps its key for good)."""
    o = OUTBOUND.c
    missing = list(connection.execute(select(o.id).where(o.id.in_(ids), o.delivery_key.is_(None))).scalars())
    if missing:
        statement = update(OUTBOUND).where(o.id == bindparam("row_id")).values(delivery_key=bindparam("key"))
        connection.execute(statement, [{"row_id": row_id, "key": new_delivery_key()} for row_id in missing])


def new_delivery_key() -> str:
    return "chorus-" + secrets.token_hex(16)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _json_list(value: Any) -> list[dict[str, str]]:
    if isinstance(value, str):
        value = json.loads(value)
    return list(value or [])
