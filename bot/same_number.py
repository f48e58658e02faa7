"""SMS and WhatsApp from one phone number: one person, whom Chorus knows as two participants
(one per channel). A STOP on one stops the other, and an erasure request erases both."""

from __future__ import annotations

from sqlalchemy import Connection

from storage import repository
from storage.crypto import Sealer

SAME_NUMBER = {"sms": "whatsapp", "whatsapp": "sms"}
"""Channels that reach the same phone number."""


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
