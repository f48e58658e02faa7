"""WhatsApp templates sent to participants who have not answered them, and the messages held
behind them (storage/outbox.py ``WAITING_FOR_REPLY``): what the dispatcher's look for a template
to send again reads and changes (bot/dispatcher.py ``_resend_templates``).

A template is a message that went on WhatsApp after the participant's 24-hour window closed
(:func:`templates_sent`): Twilio took it (``sent``, ``delivered``, or ``failed`` in a later
delivery report). Writing opens the window again, so only those sent since they last wrote count.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, and_, func, or_, select, update

from storage.outbox import (
    NO_LONGER_ASKED_AFTER_WINDOW,
    RESENDS_USED_UP,
    SENT,
    STOPPED_BEFORE_JOINING,
    STOPPED_WHILE_HELD,
    WAITING_FOR_REPLY,
    cancel_held,
    questions_no_longer_asked,
    queued_before_a_stop,
)
from storage.tables import ENROLMENTS, INBOUND, OUTBOUND, PARTICIPANTS

CHUNK = 200
"""Participants looked up in one statement."""


@dataclass(frozen=True)
class TemplatesSent:
    """The WhatsApp templates sent to a participant since their 24-hour window closed."""

    count: int = 0
    last: datetime | None = None
    """When the latest of them went."""


@dataclass(frozen=True)
class ResendLook:
    """What a look for templates to send again did."""

    queued: dict[str, list[int]]
    """By participant, the rows queued again so that one goes as another template."""
    used_up: dict[str, list[int]]
    """By participant, the rows held from now on as :data:`RESENDS_USED_UP`."""


def look_for_resends(connection: Connection, channel: str, window: timedelta,
                     hold: Callable[[TemplatesSent], str | None]) -> ResendLook:
    """For each participant (not opted out) with rows held on ``channel`` behind a template,
    ask ``hold`` (bot.dispatch_rules.TemplateResends.hold) about the templates sent to them since
    their window closed: when one may go now, their rows are queued again
    (:func:`queue_for_a_template`); when no more may (:data:`RESENDS_USED_UP`), they are held so."""
    held = waiting_behind_templates(connection, channel)
    if not held:
        return ResendLook({}, {})
    sent = templates_sent(connection, channel, windows_closed(connection, channel, list(held), window))
    queued, used_up = {}, {}
    for pid, row_ids in held.items():
        reason = hold(sent[pid])
        if reason is None and (again := queue_for_a_template(connection, pid, row_ids)):
            queued[pid] = again
        elif reason == RESENDS_USED_UP:
            used_up[pid] = row_ids
    resends_used_up(connection, [row_id for row_ids in used_up.values() for row_id in row_ids])
    return ResendLook(queued, used_up)


def windows_closed(connection: Connection, channel: str, participant_ids: Sequence[str],
                   window: timedelta) -> dict[str, datetime | None]:
    """When each participant's window on ``channel`` closed (``window`` after they last wrote
    there), None for one who never wrote there."""
    i = INBOUND.c
    closed: dict[str, datetime | None] = dict.fromkeys(participant_ids)
    for chunk in _chunks(participant_ids):
        for pid, at in connection.execute(select(i.participant_id, func.max(i.received_at))
                                          .where(i.participant_id.in_(chunk), i.channel == channel).group_by(i.participant_id)):
            closed[str(pid)] = _aware(at) + window if at is not None else None
    return closed


def templates_sent(connection: Connection, channel: str, closed: Mapping[str, datetime | None]) -> dict[str, TemplatesSent]:
    """The templates sent on ``channel`` to each participant since their window closed
    (``closed``, from :func:`windows_closed`; None: ever, as they never wrote there), read by
    their participant's index: never the outbox's whole history."""
    o = OUTBOUND.c
    # By participant (their index): ``|| ''`` keeps the planner from searching every row sent on
    # the channel (ix_outbound_provider) or with the status (ix_outbound_channel_queue) as well.
    status, on = o.status.concat(""), o.channel.concat("")
    took = or_(status.in_(SENT), and_(status == "failed", o.provider_id.is_not(None)))
    found = {pid: TemplatesSent() for pid in closed}
    for chunk in _chunks(list(closed)):
        since = or_(*(o.participant_id == pid if closed[pid] is None else and_(o.participant_id == pid, o.sent_at >= closed[pid])
                      for pid in chunk))
        for pid, count, last in connection.execute(
                select(o.participant_id, func.count(), func.max(o.sent_at))
                .where(o.participant_id.in_(chunk), on == channel, took, since).group_by(o.participant_id)):
            found[str(pid)] = TemplatesSent(int(count), _aware(last) if last is not None else None)
    return found


def waiting_behind_templates(connection: Connection, channel: str) -> dict[str, list[int]]:
    """The rows held on ``channel`` waiting for a reply to a template, by participant, in order;
    not those of a participant who opted out (held as they are until they write, if ever)."""
    o = OUTBOUND.c
    held: dict[str, list[int]] = {}
    for row_id, pid in connection.execute(select(o.id, o.participant_id)
                                          .where(o.status == "held", o.channel == channel, o.error == WAITING_FOR_REPLY)
                                          .order_by(o.id)):
        held.setdefault(str(pid), []).append(int(row_id))
    stopped = _opted_out(connection, list(held)) if held else set()
    return {pid: ids for pid, ids in held.items() if pid not in stopped}


def queue_for_a_template(connection: Connection, participant_id: str, row_ids: Sequence[int]) -> list[int]:
    """Queue the participant's rows held behind a template again, in order, for the dispatcher to
    send the first that has a template as one more (and hold the rest behind it). Those queued
    before a STOP of theirs, and questions the session has moved past, are ``cancelled`` instead,
    as when the participant writes (storage.window_holds). Returns those queued."""
    o = OUTBOUND.c
    held = connection.execute(select(o.id, o.created_at).where(o.id.in_(list(row_ids)), o.status == "held",
                                                               o.error == WAITING_FOR_REPLY)).all()
    stopped = queued_before_a_stop(connection, participant_id, held)
    left = [int(row[0]) for row in held if row[0] not in stopped]
    stale = set(questions_no_longer_asked(connection, left)) if left else set()
    cancel_held(connection, sorted(stopped), STOPPED_WHILE_HELD)
    cancel_held(connection, sorted(stale), NO_LONGER_ASKED_AFTER_WINDOW)
    again = sorted(row_id for row_id in left if row_id not in stale)
    if again:
        connection.execute(update(OUTBOUND).where(o.id.in_(again), o.status == "held", o.error == WAITING_FOR_REPLY)
                           .values(status="queued", error=None))
    return again


def resends_used_up(connection: Connection, row_ids: Sequence[int]) -> None:
    """These rows wait behind templates that were all left unanswered: held as :data:`RESENDS_USED_UP`."""
    if row_ids:
        o = OUTBOUND.c
        connection.execute(update(OUTBOUND).where(o.id.in_(list(row_ids)), o.status == "held", o.error == WAITING_FOR_REPLY)
                           .values(error=RESENDS_USED_UP))


def _opted_out(connection: Connection, participant_ids: list[str]) -> set[str]:
    """Those of these participants who opted out (STOP, or a provider's opt-out), in a study or before joining one."""
    e, p = ENROLMENTS.c, PARTICIPANTS.c
    stopped: set[str] = set()
    for chunk in _chunks(participant_ids):
        stopped.update(connection.execute(select(e.participant_id).where(e.participant_id.in_(chunk), e.opted_out.is_(True))).scalars())
        stopped.update(pid for pid, fields in connection.execute(select(p.id, p.fields).where(p.id.in_(chunk)))
                       if isinstance(fields, dict) and STOPPED_BEFORE_JOINING in fields)
    return stopped


def _chunks(items: Sequence[str]) -> list[list[str]]:
    return [list(items[start:start + CHUNK]) for start in range(0, len(items), CHUNK)]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
