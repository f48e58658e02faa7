"""The dispatcher's confirmations of erasure (``farewells``, storage/outbox.py): each belongs to
no participant any more, so it is claimed on its own, sent once, and deleted with its address."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot import metrics
from channels.base import OutboundMessage, SendError
from channels.errors import Throttled
from storage import outbox
from storage.database import Database

if TYPE_CHECKING:
    from bot.dispatcher import DispatchStats, SendingChannel

log = logging.getLogger("chorus.dispatcher")


class FarewellSending:
    """Part of :class:`bot.dispatcher.Dispatcher`; what it uses of the rest is declared here."""

    database: Database
    channels: Mapping[str, SendingChannel]
    stats: DispatchStats
    clock: Callable[[], datetime]
    stale_after: timedelta
    poll_interval: float
    _farewells_after: float

    if TYPE_CHECKING:
        def _start(self, key: str, channel: str, work: Coroutine[Any, Any, None]) -> None: ...

        async def _pace_to(self, channel_name: str, address: str) -> None: ...

        async def _record_sent(self, record: Callable[[], None], what: str) -> None: ...

        def _backoff(self, attempts: int) -> float: ...


    async def _start_farewells(self) -> int:
        """Claim the erasure confirmations due and send each once, on its own. No participant is
        left to hold them for, and none of :func:`decide`'s rules applies: it answers the request
        just made (after STOP too, at any hour, inside WhatsApp's window). Rare, so looked for at
        most once a poll interval unless the last look found some. Returns how many were claimed."""
        if time.monotonic() < self._farewells_after:
            return 0
        farewells = await asyncio.to_thread(self._claim_farewells)
        if not farewells:
            self._farewells_after = time.monotonic() + self.poll_interval
        for farewell in farewells:
            # in flight beside the participants: drain() and stop() wait for it
            self._start(f"farewell-{farewell.id}", farewell.channel, self._send_farewell(farewell))
        return len(farewells)

    def _claim_farewells(self) -> list[outbox.FarewellMessage]:
        with self.database.transaction() as connection:
            return outbox.claim_farewells(connection, self.database.sealer, list(self.channels), self.clock(), self.stale_after)

    async def _send_farewell(self, farewell: outbox.FarewellMessage) -> None:
        message = OutboundMessage(farewell.channel, farewell.address, farewell.text, delivery_key=farewell.delivery_key)
        await self._pace_to(farewell.channel, farewell.address)
        try:
            await self.channels[farewell.channel].send(message)
        except SendError as error:
            await asyncio.to_thread(self._farewell_failed, farewell, error)
            return
        except Exception as error:  # a bug or an unexpected library error: retry, but say so
            log.exception("farewell %s: unexpected error from %s", farewell.id, farewell.channel)
            await asyncio.to_thread(self._farewell_failed, farewell, SendError(type(error).__name__, retryable=True))
            return
        await self._record_sent(lambda: self._farewell_sent(farewell), f"farewell {farewell.id}")

    def _farewell_sent(self, farewell: outbox.FarewellMessage) -> None:
        with self.database.transaction() as connection:
            outbox.farewell_done(connection, farewell.id)  # and the address with it
        self.stats.sent += 1
        metrics.MESSAGES_OUT.labels(farewell.channel).inc()

    def _farewell_failed(self, farewell: outbox.FarewellMessage, error: SendError) -> None:
        """Retry a retryable error later; otherwise (or after MAX_ATTEMPTS) delete it unsent.
        The error's own words are not logged: a provider's may name the address."""
        delay = error.retry_after if isinstance(error, Throttled) and error.retry_after else self._backoff(farewell.attempts + 1)
        with self.database.transaction() as connection:
            again = outbox.farewell_failed(connection, farewell.id, error.retryable, self.clock() + timedelta(seconds=delay))
        if again:
            self.stats.retried += 1
        else:
            self.stats.failed += 1
        metrics.error("send_failed")
        log.warning("farewell %s on %s: %s%s -> %s", farewell.id, farewell.channel, type(error).__name__,
                    f" (code {error.code})" if error.code else "", "queued again" if again else "deleted unsent",
                    extra={"event": "farewell.send_failed", "farewell_id": farewell.id, "channel": farewell.channel})

