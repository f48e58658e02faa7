"""SMS and WhatsApp from one phone number: one person, whom Chorus knows as two participants
(one per channel). A STOP on one stops the other (typed, or a provider's opt-out), and an
erasure request erases both."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Connection

from storage import outbox, repository
from storage.crypto import Sealer

SAME_NUMBER = {"sms": "whatsapp", "whatsapp": "sms"}
"""Channels that reach the same phone number."""

log = logging.getLogger("chorus.service")


def other_channel_participants(connection: Connection, sealer: Sealer, address_key: bytes, participant_id: str) -> list[tuple[str, str]]:
    """(the channel this participant used, the other participant) for each participant Chorus
    knows at one of this participant's phone numbers on the other channel."""
    found: list[tuple[str, str]] = []
    for contact in repository.contacts_of(connection, participant_id):
        other = SAME_NUMBER.get(contact.channel)
        if other is None:
            continue
        address = sealer.open(contact.address_sealed)
        match = repository.find_contact(connection, repository.address_hash(address_key, other, address))
        if match is not None and match.participant_id != participant_id and all(match.participant_id != p for _, p in found):
            found.append((contact.channel, match.participant_id))
    return found


def stop_same_number(connection: Connection, sealer: Sealer, address_key: bytes, participant_id: str, now: datetime,
                     actor: str, why: str) -> list[str]:
    """Opt out, as STOP does, the participants at this participant's phone number on the other
    channel: their queued messages are held, and their follow-ups are dropped when due (an
    opted-out enrolment is sent nothing). ``why`` (``STOP``, ``provider error 21610``) is
    audited with the channel it came on. START is never cascaded: it applies only to the
    channel it is sent on. Returns the participants stopped."""
    stopped = []
    for channel, other in other_channel_participants(connection, sealer, address_key, participant_id):
        repository.set_opted_out(connection, other, True, now)
        outbox.hold_queued(connection, other)
        repository.audit(connection, actor, "opted_out", now, other, reason=f"{why} on {channel}")
        log.info("participant %s opted out by %s on %s from the same number", other, why, channel)
        stopped.append(other)
    return stopped
