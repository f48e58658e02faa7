"""What a provider says of a message after it was sent: its delivery report, and an opt-out
(STOP sent to the provider, or the bot blocked) that it reports as an error. An opt-out on SMS
or WhatsApp stops the same phone number on the other channel too, as a typed STOP does
(bot/same_number.py); a blocked Telegram bot stops that chat alone."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, select, update

from bot.same_number import stop_same_number
from channels.twilio import OUTSIDE_WINDOW, STOPPED_CODES, StatusReport
from storage import outbox, repository
from storage.crypto import Sealer
from storage.database import Database
from storage.tables import OUTBOUND

WINDOW_CLOSED_LATE = outbox.WINDOW_CLOSED + " (provider error 63016, reported after sending)"
"""How a WhatsApp message Twilio accepted and then failed with 63016 is held: as one the
dispatcher held, so it goes when the participant next writes (storage.window_holds)."""

log = logging.getLogger("chorus.dispatcher")


def opt_out(connection: Connection, participant_id: str, now: datetime, reason: str, sealer: Sealer, address_key: bytes) -> None:
    """The provider says the participant unsubscribed or blocked us: treat it as STOP, on the
    other channel to the same phone number too (``address_key``: the one addresses are hashed with)."""
    repository.set_opted_out(connection, participant_id, True, now)
    outbox.hold_queued(connection, participant_id)
    repository.audit(connection, "provider", "opted_out", now, participant_id, reason=reason)
    log.info("participant %s opted out by the provider (%s)", participant_id, reason)
    stop_same_number(connection, sealer, address_key, participant_id, now, "provider", reason)


def env_address_key() -> bytes:
    """CHORUS_HASH_KEY, else the key file: the conversation service's own default (bot/service.py)."""
    from bot.settings import Settings

    return Settings.from_env().address_key()


def record_status(database: Database, report: StatusReport, now: datetime | None = None,
                  address_key: Callable[[], bytes] = env_address_key) -> str | None:
    """Apply a provider's delivery report to the outbox row it names; returns the new status.

    delivered/read -> delivered; failed/undelivered -> failed with the provider's code (and
    the participant opted out when the code says they unsubscribed or blocked us, with the
    same number on the other channel: ``address_key`` gives the key addresses are hashed
    with, asked for only then). On WhatsApp, 63016 (the 24-hour window had closed) holds the
    row for the participant's next message instead, with a new delivery key for that send."""
    now = now or datetime.now(UTC)
    o = OUTBOUND.c
    with database.transaction() as connection:
        found = connection.execute(
            select(o.id, o.participant_id).where(o.channel == report.channel, o.provider_id == report.provider_id)
        ).first()
        if found is None:
            return None
        if report.status in ("delivered", "read"):
            outbox.mark_delivered(connection, report.channel, report.provider_id, now)
            return "delivered"
        if report.status not in ("failed", "undelivered"):
            return None  # queued, sending, sent: nothing new
        code = report.error_code or "unknown"
        if report.channel == "whatsapp" and code == OUTSIDE_WINDOW:  # how Twilio usually says it: after accepting the message
            connection.execute(update(OUTBOUND).where(o.id == found[0]).values(status="held", error=WINDOW_CLOSED_LATE, delivery_key=None))
            log.info("outbox %s for %s held: WhatsApp's 24-hour window had closed (code %s)", found[0], found[1], code)
            return "held"
        connection.execute(update(OUTBOUND).where(o.id == found[0]).values(status="failed", error=f"{report.status} (code {code})"))
        if code in STOPPED_CODES:
            opt_out(connection, found[1], now, f"provider error {code}", database.sealer, address_key())
        log.info("outbox %s for %s %s (code %s)", found[0], found[1], report.status, code)
        return "failed"
